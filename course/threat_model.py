"""Threat modelling an ML workflow: its stages, the threats that enter at each, and the controls that stop them.

The vocabulary is NIST AI 100-2 E2025 (Vassilev et al., 2025): an attacker has a *goal*
(integrity, availability, privacy), *knowledge* (white-, grey-, black-box) and *capabilities*
(what they control, and whether they act at training or at deployment time). The threats are the
AML ones (evasion, poisoning, backdoors, model extraction, membership inference), the classic ones
(code breach, data breach, denial of service) and one that is both (an unsafe model file).

`draw_workflow` draws the workflow with where each threat enters; `draw_controls` draws which
control stops which threat; `side_by_side` prints two threats that practitioners drew next to each
other (Bieringer et al., SOUPS 2022) with what actually distinguishes them; `PredictionAPI` is a
model behind an access-controlled, logged, rate-limited API, for showing what such an API does not
stop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GOALS = {
    "integrity": "the model does what the attacker wants on chosen inputs (a wrong output that benefits them)",
    "availability": "the model or service becomes useless for everyone (indiscriminate errors, or no service)",
    "privacy": "the attacker learns what should stay confidential: the training data or the model itself",
}
KNOWLEDGE = {
    "white-box": "knows the target model itself: architecture and parameters (and often its training data)",
    "grey-box": "knows part of it (e.g. the architecture, or the base model it was fine-tuned from), not its weights",
    "black-box": "knows nothing inside; sees only what the deployed system answers to queries",
}
# NIST AI 100-2's attacker capabilities (what the attacker controls), and when each acts.
CAPABILITIES = {
    "training data control": "training",
    "label control (label limit)": "training",
    "model control": "training",
    "source code control": "training",
    "testing data control": "deployment",
    "query access": "deployment",
}
TIMES = ("training", "deployment")


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    xy: tuple  # lower-left corner in the drawing


@dataclass(frozen=True)
class Threat:
    id: str
    name: str
    kind: str  # "AML", "classic" or "both"
    goal: str
    time: str  # when it acts: "training", "deployment" or "any"
    stages: tuple  # where it enters the workflow
    route: str  # how it gets in
    capability: str
    atlas: tuple = ()
    owasp: str = ""


STAGES = (
    Stage("sources", "Third-party data\n& pretrained models", (0.2, 5.5)),
    Stage("collection", "Data\ncollection", (0.2, 3.45)),
    Stage("labelling", "Labelling", (3.0, 3.45)),
    Stage("training", "Training", (5.8, 3.45)),
    Stage("evaluation", "Evaluation", (8.6, 3.45)),
    Stage("deployment", "Deployment\n(prediction API)", (8.6, 0.75)),
    Stage("monitoring", "Monitoring", (5.8, 0.75)),
    Stage("retraining", "Retraining on\nfeedback", (3.0, 0.75)),
)
STAGE_IDS = tuple(s.id for s in STAGES)
_BOX = (2.1, 1.0)  # width, height of a stage box

THREATS = (
    Threat("evasion", "evasion", "AML", "integrity", "deployment", ("deployment",),
           "crafted inputs sent through the model's own interface", "testing data control, query access",
           ("AML.CS0004", "AML.CS0017", "AML.CS0003", "AML.CS0032"), "ML01"),
    Threat("poisoning", "poisoning", "AML", "integrity", "training", ("collection", "labelling", "retraining", "sources"),
           "data or labels that the workflow itself collects", "training data control, label control",
           ("AML.CS0009", "AML.CS0002"), "ML02"),
    Threat("backdoor", "backdoor", "AML", "integrity", "training", ("sources",),
           "a trigger learned from third-party data or built into a third-party model", "training data or model control",
           (), "ML10"),
    Threat("extraction", "model extraction", "AML", "privacy", "deployment", ("deployment",),
           "ordinary queries by a legitimate user; a copy trained on the answers", "query access",
           ("AML.CS0005", "AML.CS0008"), "ML05"),
    Threat("membership", "membership inference", "AML", "privacy", "deployment", ("deployment",),
           "a few ordinary queries whose answers reveal whether a record was trained on", "query access",
           (), "ML04"),
    Threat("unsafe_file", "unsafe model file", "both", "integrity", "any", ("sources",),
           "a model file that runs code when loaded (e.g. a pickle)", "model control",
           ("AML.CS0031",), "ML06"),
    Threat("code_breach", "code breach", "classic", "privacy", "any", ("training",),
           "breaking into servers or repositories and copying code and model weights", "source code control", (), ""),
    Threat("data_breach", "data breach", "classic", "privacy", "any", ("collection",),
           "breaking into storage (or stealing a backup) and copying the data", "(access to storage)", (), ""),
    Threat("dos", "denial of service", "classic", "availability", "deployment", ("deployment",),
           "flooding the service until legitimate users get no answer", "(network access)", (), ""),
)
BY_ID = {t.id: t for t in THREATS}

CONTROLS = {
    "access_control": "access control (authentication, authorisation, MFA, API keys)",
    "encryption": "encryption at rest and in transit (disks, backups, TLS)",
    "patching": "patching known vulnerabilities",
    "rate_limit": "rate limits (queries per client per day)",
    "monitoring": "monitoring (traffic, query patterns, data drift, accuracy)",
    "input_validation": "input validation (schema, types, value ranges)",
    "human_review": "human review (of borderline predictions or of new labels)",
    "provenance": "provenance of artefacts (pinned hashes, signatures, formats that do not run code)",
}

# What each control does against each threat, on its own, for a determined attacker:
# "stops" = removes the attack path; "limits" = raises its cost or catches some of it; "no" = no effect.
_S, _L, _N = "stops", "limits", "no"
EFFECT = {
    #                    evasion poison backdoor extract member unsafe  code   data   dos
    "access_control":   (_N,     _N,    _N,      _N,     _N,    _N,     _S,    _S,    _L),
    "encryption":       (_N,     _N,    _N,      _N,     _N,    _N,     _N,    _S,    _N),
    "patching":         (_N,     _N,    _N,      _N,     _N,    _N,     _S,    _L,    _L),
    "rate_limit":       (_L,     _L,    _N,      _L,     _N,    _N,     _N,    _N,    _L),
    "monitoring":       (_L,     _L,    _N,      _L,     _N,    _N,     _L,    _L,    _L),
    "input_validation": (_N,     _N,    _N,      _N,     _N,    _N,     _L,    _N,    _L),
    "human_review":     (_L,     _L,    _N,      _N,     _N,    _N,     _N,    _N,    _N),
    "provenance":       (_N,     _L,    _L,      _N,     _N,    _S,     _N,    _N,    _N),
}
EFFECT = {c: dict(zip(BY_ID, row)) for c, row in EFFECT.items()}
WHY = {
    ("access_control", "extraction"): "the attacker is a legitimate user: every query is authorised",
    ("access_control", "membership"): "a handful of authorised queries is all it takes",
    ("access_control", "evasion"): "the crafted input arrives through the front door, from a customer",
    ("access_control", "poisoning"): "the poisoned data comes from people allowed to give it (users, labellers, a vendor)",
    ("encryption", "membership"): "the model's answers leak membership; the stored data is never touched",
    ("rate_limit", "extraction"): "slows it and raises its cost; a patient attacker or many accounts still get there",
    ("provenance", "backdoor"): "a signature proves who made a model, not what it learned: the vendor's backdoor is signed too",
    ("provenance", "unsafe_file"): "a pinned hash and a format that cannot run code stop a booby-trapped file",
    ("patching", "unsafe_file"): "loading a pickle runs code by design, not through a bug",
}


def classic_controls() -> tuple:
    """The controls of classic IT security that practitioners reach for first."""
    return ("access_control", "encryption", "patching")


def stopped_by(control: str) -> list:
    """The threats a control stops on its own."""
    return [t for t, e in EFFECT[control].items() if e == "stops"]


def through_secured_server() -> list:
    """Threats that none of access control, encryption or patching stops: they use the legitimate interface or data path."""
    return [t.id for t in THREATS if all(EFFECT[c][t.id] != "stops" for c in classic_controls())]


def entry_points(kind: str = "AML") -> list:
    """(threat id, stage id) for every place where a threat of this kind ("AML", "classic", "both") enters."""
    return [(t.id, s) for t in THREATS if t.kind == kind for s in t.stages]


def by_stage() -> dict:
    """stage id -> the threats that enter there."""
    return {s: [t.id for t in THREATS if s in t.stages] for s in STAGE_IDS}


# --------------------------------------------------------------------------- printed tables
def show_vocabulary() -> None:
    """Print the three questions of a threat model in NIST AI 100-2 E2025 terms."""
    for title, table in (("GOAL - what the attacker wants", GOALS), ("KNOWLEDGE - what they know", KNOWLEDGE)):
        print(title)
        for name, text in table.items():
            print(f"  {name:<13}{text}")
        print()
    print("CAPABILITY - what they control, and when it acts")
    for name, when in CAPABILITIES.items():
        print(f"  {name:<30}{when} time")


def show_threats() -> None:
    """Print every threat with its kind, goal, when it acts, where it enters, and real cases (MITRE ATLAS)."""
    print(f"{'threat':<22}{'kind':<9}{'goal':<14}{'acts at':<12}{'enters at':<44}cases")
    for t in THREATS:
        print(f"{t.name:<22}{t.kind:<9}{t.goal:<14}{t.time:<12}{', '.join(t.stages):<44}{', '.join(t.atlas)}")


def side_by_side(a: str, b: str) -> None:
    """Print two threats next to each other: what the attacker needs, where it enters, what stops it."""
    ta, tb = BY_ID[a], BY_ID[b]
    rows = [
        ("kind", ta.kind, tb.kind),
        ("goal", ta.goal, tb.goal),
        ("how it gets in", ta.route, tb.route),
        ("needs", ta.capability, tb.capability),
        ("enters at", ", ".join(ta.stages), ", ".join(tb.stages)),
        ("stopped by", ", ".join(c for c in CONTROLS if EFFECT[c][a] == "stops") or "none of the controls on its own",
         ", ".join(c for c in CONTROLS if EFFECT[c][b] == "stops") or "none of the controls on its own"),
    ]
    import textwrap

    width = 44
    print(f"{'':<16}{ta.name:<{width + 2}}{tb.name}")
    for label, x, y in rows:
        xs, ys = textwrap.wrap(x, width) or [""], textwrap.wrap(y, width) or [""]
        for i in range(max(len(xs), len(ys))):
            print(f"{label if i == 0 else '':<16}{xs[i] if i < len(xs) else '':<{width + 2}}{ys[i] if i < len(ys) else ''}")


# --------------------------------------------------------------------------- drawings
_KIND_STYLE = {  # marker, colour index in plots.PALETTE, label border style, legend text
    "AML": ("^", 5, "-", "AML: enters through a legitimate input (data, labels, queries)"),
    "classic": ("s", 0, "--", "classic: breaks in (servers, storage) or floods"),
    "both": ("D", 3, ":", "both: an ML artefact that runs code"),
}
# Where each threat's label sits, per stage: (dx, dy) from the stage box's lower-left corner.
_BADGES = {
    "sources": [("backdoor", 2.25, 0.72), ("poisoning", 2.25, 0.32), ("unsafe_file", 2.25, -0.08)],
    "collection": [("data_breach", 0.0, -0.45), ("poisoning", 0.0, -0.85)],
    "labelling": [("poisoning", 0.1, 1.1)],
    "training": [("code_breach", 0.1, -0.45)],
    "deployment": [("evasion", 2.6, 0.55), ("extraction", 2.6, 0.15), ("membership", 2.6, -0.25),
                   ("dos", 2.6, -0.65)],
    "retraining": [("poisoning", 0.1, -0.45)],
}
_USERS = (8.6, -1.75)  # lower-left corner of the users' box, outside the perimeter


def draw_workflow(*, ax=None, title=None):
    """Draw an ML workflow as a loop of stages, and mark where each AML and classic threat enters.

    Threat labels differ by marker and hatching as well as by colour (readable in greyscale).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from course import plots

    plt = plots._plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 8.4))
    w, h = _BOX
    pos = {s.id: s.xy for s in STAGES}

    # the classic security perimeter: the organisation's servers, storage and code
    ax.add_patch(FancyBboxPatch((-0.1, 0.1), 11.15, 5.0, boxstyle="round,pad=0.05,rounding_size=0.3",
                                fill=False, linestyle="--", linewidth=1.4, edgecolor="#444444"))
    ax.text(10.95, 4.95, "your organisation's servers, storage and code\n(what classic security protects)",
            ha="right", va="top", fontsize=9, color="#222222", style="italic")

    def box(x, y, label, shaded):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor="#E6E6E6" if shaded else "white", edgecolor="black", linewidth=1.3))
        ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", fontsize=10, weight="bold")

    for s in STAGES:
        box(*s.xy, s.label, s.id == "sources")
    box(*_USERS, "Users - and\nattackers (same API)", True)

    def arrow(p, q, rad=0.0, style="arc3"):
        conn = f"arc3,rad={rad}" if style == "arc3" else style
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=14, linewidth=1.3, color="black",
                                     connectionstyle=conn, zorder=2))

    def side(sid, where, f=0.5):
        x, y = pos[sid]
        return {"left": (x, y + h * f), "right": (x + w, y + h * f), "top": (x + w * f, y + h),
                "bottom": (x + w * f, y)}[where]

    arrow(side("collection", "right"), side("labelling", "left"))
    arrow(side("labelling", "right"), side("training", "left"))
    arrow(side("training", "right"), side("evaluation", "left"))
    arrow(side("evaluation", "bottom"), side("deployment", "top"))
    arrow(side("deployment", "left"), side("monitoring", "right"))
    arrow(side("monitoring", "left"), side("retraining", "right"))
    arrow(side("retraining", "top"), side("labelling", "bottom"))
    arrow(side("sources", "bottom"), side("collection", "top"))
    arrow(side("sources", "right", 0.85), side("training", "top", 0.5), style="angle,angleA=0,angleB=90,rad=0")
    ux, uy = _USERS
    arrow((ux + 0.6, uy + h), side("deployment", "bottom", 0.29))
    arrow(side("deployment", "bottom", 0.71), (ux + 1.5, uy + h))
    ax.text(ux - 0.1, uy + h + 0.35, "queries,\npredictions", ha="right", va="center", fontsize=8.5, style="italic")
    ax.text(pos["retraining"][0] + w / 2 + 0.1, 2.6, "feedback becomes\nnew labelled data", ha="left", va="center",
            fontsize=8.5, style="italic")
    ax.text(4.6, pos["sources"][1] + h * 0.85 + 0.08, "pretrained model", ha="left", va="bottom", fontsize=8.5,
            style="italic")

    for sid, badges in _BADGES.items():
        x0, y0 = pos[sid]
        for tid, dx, dy in badges:
            t = BY_ID[tid]
            marker, ci, border, _ = _KIND_STYLE[t.kind]
            bx, by = x0 + dx, y0 + dy + 0.13
            ax.scatter([bx + 0.12], [by], marker=marker, s=80, color=plots.PALETTE[ci], edgecolors="black",
                       linewidths=0.8, zorder=4)
            ax.text(bx + 0.32, by, t.name, va="center", fontsize=9.5, zorder=4,
                    weight="bold" if t.kind == "AML" else "normal",
                    bbox=dict(boxstyle="round,pad=0.18", facecolor="white", edgecolor=plots.PALETTE[ci],
                              linestyle=border, linewidth=1.4 if t.kind == "AML" else 1.2))
    handles = [Line2D([], [], marker=m, linestyle="", markersize=9, markerfacecolor=plots.PALETTE[ci],
                      markeredgecolor="black", label=text) for m, ci, _, text in _KIND_STYLE.values()]
    ax.legend(handles=handles, loc="upper right", fontsize=9, framealpha=1.0, title="where a threat enters",
              title_fontsize=9.5)
    ax.set_xlim(-0.3, 13.8)
    ax.set_ylim(-2.0, 6.75)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"An ML workflow and where attacks enter ({len(STAGES)} stages, {len(THREATS)} threats)",
                 fontsize=12)
    ax.figure.tight_layout()
    return ax


def draw_controls(*, ax=None, title=None):
    """Draw which control stops (dark, "stops"), limits (hatched, "limits") or does nothing against each threat."""
    from matplotlib.patches import Rectangle

    from course import plots

    plt = plots._plt()
    order = [t.id for t in THREATS if t.kind == "AML"] + [t.id for t in THREATS if t.kind == "both"] + \
            [t.id for t in THREATS if t.kind == "classic"]
    controls = list(CONTROLS)
    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 5.4))
    style = {"stops": (plots.PALETTE[0], "", "stops", "white"),
             "limits": (plots.REGION_TINTS[1], "///", "limits", "black"),
             "no": ("white", "", "-", "#777777")}
    for r, c in enumerate(controls):
        for k, tid in enumerate(order):
            face, hatch, text, colour = style[EFFECT[c][tid]]
            ax.add_patch(Rectangle((k, r), 1, 1, facecolor=face, hatch=hatch, edgecolor="#999999", linewidth=0.8))
            ax.text(k + 0.5, r + 0.5, text, ha="center", va="center", fontsize=8.5, color=colour,
                    weight="bold" if text == "stops" else "normal",
                    bbox=dict(boxstyle="round,pad=0.1", facecolor=face, edgecolor="none") if text == "limits" else None)
    n_aml = sum(t.kind == "AML" for t in THREATS)
    for x in (n_aml, n_aml + 1):
        ax.axvline(x, color="black", linewidth=2)
    ax.set_xlim(0, len(order))
    ax.set_ylim(len(controls), 0)
    ax.set_xticks([k + 0.5 for k in range(len(order))], [BY_ID[t].name for t in order], rotation=30, ha="right")
    ax.set_yticks([r + 0.5 for r in range(len(controls))], [c.replace("_", " ") for c in controls])
    ax.tick_params(length=0)
    ax.text(n_aml / 2, -0.25, "AML threats", ha="center", va="bottom", fontsize=10, weight="bold")
    ax.text(n_aml + 0.5, -0.25, "both", ha="center", va="bottom", fontsize=10, weight="bold")
    ax.text(n_aml + 1 + (len(order) - n_aml - 1) / 2, -0.25, "classic threats", ha="center", va="bottom",
            fontsize=10, weight="bold")
    ax.set_title(title or f"Which control stops which threat ({len(controls)} controls x {len(order)} threats)",
                 pad=22, fontsize=12)
    ax.figure.tight_layout()
    return ax


# --------------------------------------------------------------------------- a perfectly secured API
class PredictionAPI:
    """A model behind an API that does everything classic security asks.

    Every request needs a valid key (access control), is logged, and is counted against a daily
    limit per key (rate limit); we assume TLS and a patched server. Only labels are returned.
    """

    def __init__(self, model, keys, daily_limit: int = 2000):
        self._model = model
        self._keys = set(keys)
        self.daily_limit = int(daily_limit)
        self.log = []  # (day, key, rows, status)
        self._used = {}

    def predict(self, key: str, X, day: int = 0):
        """Labels for the rows of X, if `key` is valid and today's quota allows."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if key not in self._keys:
            self.log.append((day, key, len(X), "rejected: invalid key"))
            raise PermissionError("invalid API key")
        used = self._used.get((day, key), 0)
        if used + len(X) > self.daily_limit:
            self.log.append((day, key, len(X), "rejected: rate limit"))
            raise PermissionError(f"rate limit: {self.daily_limit} predictions per key per day")
        self._used[(day, key)] = used + len(X)
        self.log.append((day, key, len(X), "ok"))
        return self._model.predict(X)

    def audit(self) -> dict:
        """What the security team sees: requests, predictions served, rejections, the busiest key-day."""
        ok = [r for r in self.log if r[3] == "ok"]
        busiest = max(self._used.values(), default=0)
        return {"requests": len(self.log), "predictions_served": sum(r[2] for r in ok),
                "rejected": len(self.log) - len(ok), "busiest_key_day": busiest, "daily_limit": self.daily_limit}


def extract(api: PredictionAPI, key: str, X_pool, *, per_day: int, days: int, kind: str = "logistic", **params):
    """A legitimate user's extraction: query the API with their own data within quota, train a copy on the answers.

    Sends `per_day` rows of `X_pool` a day for `days` days with a valid `key`, then fits a
    `course.models.fit(kind, ..., scale=True)` model on the labels returned. Returns (copy, queries used).
    """
    from course import models

    X_pool = np.asarray(X_pool, dtype=float)
    Xs, ys = [], []
    for day in range(days):
        batch = X_pool[day * per_day:(day + 1) * per_day]
        if len(batch) == 0:
            break
        Xs.append(batch)
        ys.append(api.predict(key, batch, day=day))
    X, y = np.vstack(Xs), np.concatenate(ys)
    return models.fit(kind, X, y, scale=True, **params), len(y)

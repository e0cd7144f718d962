"""Threat modelling an ML workflow: its stages, the threats that enter at each, and the controls that stop them.

The vocabulary is NIST AI 100-2 E2025 (Vassilev et al., 2025): an attacker has a *goal*
(integrity, availability, privacy), *knowledge* (white-, grey-, black-box) and *capabilities*
(what they control, and whether they act at training or at deployment time). The threats are the
AML ones (evasion, poisoning, backdoors, model extraction, membership inference), the classic ones
(code breach, data breach, denial of service) and one that is both (an unsafe model file).

`course.science.plots.workflow` draws the workflow with where each threat enters and
`course.science.plots.controls` which control stops which threat; `side_by_side` prints two threats that practitioners drew next to each
other (Bieringer et al., SOUPS 2022) with what actually distinguishes them; `course.science.services.SecuredAPI` is a
model behind an access-controlled, logged, rate-limited API, for showing what such an API does not
stop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.science import models
from course.science.services import SecuredAPI

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


# --------------------------------------------------------------------------- extraction through a perfectly secured API
def extract(api: SecuredAPI, key: str, X_pool, *, per_day: int, days: int, kind: str = "logistic", **params):
    """A legitimate user's extraction: query the API with their own data within quota, train a copy on the answers.

    Sends `per_day` rows of `X_pool` a day for `days` days with a valid `key`, then fits a
    `course.science.models.fit(kind, ..., scale=True)` model on the labels returned. Returns (copy, queries used).
    """
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

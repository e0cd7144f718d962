"""Checks of exercise 02 (threat modelling the TriageAssist workflow): M5 and M6.

The answers are plain data (dicts) about a fixed scenario, described in the exercise. A visible
check tests the answer's format and a couple of items; the hidden check grades every item. A
failed check names each *kind* of confusion it found and how many items show it, with the reason
- never the list of right answers.
"""
from __future__ import annotations

from collections import Counter

from course.checks import task, variants
from course.checks.keys.threat_modelling import (
    CONTROLS,
    INCIDENT_BANK,
    INCIDENT_VARIANTS,
    THREAT_BANK,
    THREAT_VARIANTS,
)
from course.science import threat_modelling

A = "02-threat-modelling"
THREAT_SALT, INCIDENT_SALT = f"{A}/threats", f"{A}/incidents"

# The visible check grades the items of these slots (the variants released in them); the hidden check grades all.
VISIBLE = {"kinds": ("T2", "T3"), "stages": ("T2", "T6"), "controls": {("access_control", "T2"), ("provenance", "T8")},
           "incidents": ("I1",)}


def released_threats() -> list:
    """The threat ids of the release being checked, in slot order (`course.checks.variants`)."""
    return list(variants.choose(THREAT_BANK, variants.release_seed(), THREAT_SALT).values())


def released_incidents() -> list:
    return list(variants.choose(INCIDENT_BANK, variants.release_seed(), INCIDENT_SALT).values())


def _visible_ids(slots, released, bank) -> list:
    slot = variants.slot_of(bank)
    return [t for t in released if slot[t] in slots]


def _v(t) -> dict:
    return THREAT_VARIANTS[t]


def _aml_of(released) -> list:
    return [t for t in released if _v(t)["kind"] == "aml"]


def _placeholder(name, ids, per_line, value="None") -> str:
    rows = [", ".join(f'"{t}": {value}' for t in ids[i:i + per_line]) + "," for i in range(0, len(ids), per_line)]
    return f"{name} = {{\n" + "\n".join("    " + r for r in rows) + "\n}"


def _listing(ids) -> str:
    return ", ".join(ids[:-1]) + " and " + ids[-1] if len(ids) > 1 else ids[0]


def render(seed: int) -> dict:
    """The released text of the variant cells at a release seed ({grade_id: text}; `course.checks.variants`).

    Each text is the part of its cell that changes with the variants: the release replaces the public one by it.
    """
    threats = list(variants.choose(THREAT_BANK, seed, THREAT_SALT).values())
    incidents = list(variants.choose(INCIDENT_BANK, seed, INCIDENT_SALT).values())
    aml = _aml_of(threats)
    return {
        "scenario": "\n".join(f"| {t} | {_v(t)['text']} |" for t in threats),
        "task1-answer": _placeholder("threat_kinds", threats, 5),
        "task2-text": f"For the AML threats {_listing(aml)}, name",
        "task2-answer": "entry_stages = {" + ", ".join(f'"{t}": None' for t in aml) + "}",
        "task4-text": "\n".join(f"| {i} | {INCIDENT_VARIANTS[i][1]} |" for i in incidents),
        "task4-answer": _placeholder("incident_profiles", incidents, 1, '{"goal": None, "knowledge": None, "time": None}'),
    }


# ---- normalising answers ------------------------------------------------------------------
def _norm(value) -> str:
    if not isinstance(value, str):
        return ""
    v = value.strip().lower().replace("_", "-").replace(" ", "-")
    for suffix in ("-time", "-stage"):
        v = v[: -len(suffix)] if v.endswith(suffix) else v
    return {"greybox": "grey-box", "gray-box": "grey-box", "whitebox": "white-box", "blackbox": "black-box",
            "confidentiality": "privacy", "test": "deployment", "inference": "deployment", "train": "training",
            "deploy": "deployment"}.get(v, v)


def _expect_dict(answer, name, keys, chk, example):
    chk.require(isinstance(answer, dict), expected=f"`{name}` to be a dict like {example}",
                seen=f"{type(answer).__name__}")
    missing = [k for k in keys if k not in answer]
    unknown = sorted(str(k) for k in answer if k not in keys)
    chk.require(not missing and not unknown, expected=f"exactly the keys {', '.join(keys)}",
               seen="; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                            unknown and f"unknown {', '.join(unknown)}"])),
                why="each item is answered under the id your notebook prints (an instructor grades a private release "
                    "with `course grade --release-seed R`)")
    blank = [k for k in keys if answer[k] is None or (isinstance(answer[k], dict) and None in answer[k].values())]
    chk.attempted(not blank, seen=f"not answered yet (None): {', '.join(blank[:6])}{' ...' if len(blank) > 6 else ''}")


def _report(chk, confusions, n_items, what, why):
    """Fail with one line per kind of confusion (with how many items show it), or pass."""
    if confusions:
        counts = Counter(confusions)
        lines = [f"[{n} item{'s' if n > 1 else ''}] {msg}" for msg, n in counts.items()]
        wrong = sum(counts.values())
        chk.expect(False, expected=f"{what}: all {n_items} items right",
                   seen=f"{wrong} of {n_items} wrong, by kind of confusion - " + " | ".join(lines), why=why)


def _shown(value) -> str:
    return "not answered yet (None)" if value is None else repr(value)[:40]


# ---- task 1: AML, classic or both ---------------------------------------------------------
_KINDS = ("aml", "classic", "both")


def _kind_confusion(t, given):
    kind, path = _v(t)["kind"], _v(t)["path"]
    if given == "both" or (kind != "both" and given not in _KINDS):
        return ("'both' is for a threat that needs ML and classic measures at once (an ML artefact that runs "
                "code); the others are one or the other")
    if kind == "both":
        return ("a pickled model file is an ML artefact from the model supply chain (AML.CS0031), and it "
                "executes code like any malware when it is loaded: which measures does that call for?")
    if kind == "classic":
        return ("stealing code, weights or data by breaking in (or finding a lost disk), and flooding a service, "
                "use no ML-specific technique: there the model is just a file and the API just a service - "
                "which kind of threat is that?")
    if path == "api":
        return ("an attack sent through the model's own API by a legitimate user is AML, even though no server is "
                "breached: practitioners drew model stealing beside code breach (Bieringer et al., 2022), but "
                "one needs queries, the other a break-in")
    return ("an attack that enters through data the workflow itself takes in (feedback, a vendor's model, a "
            "broker's data) is AML: nothing is broken into")


@task(f"{A}/threat-kinds", answer="threat_kinds", kind="value", misconceptions=["M5"])
def check_threat_kinds(threat_kinds, seed, chk):
    threats = released_threats()
    _expect_dict(threat_kinds, "threat_kinds", threats, chk, '{"T1": "AML", ...}')
    bad = [t for t in threats if _norm(threat_kinds[t]) not in _KINDS]
    chk.require(not bad, expected='each value "AML", "classic" or "both"',
               seen=", ".join(f"{t}: {_shown(threat_kinds[t])}" for t in bad[:4]))
    items = _visible_ids(VISIBLE["kinds"], threats, THREAT_BANK) if not chk.hidden else threats
    confusions = [_kind_confusion(t, _norm(threat_kinds[t])) for t in items if _norm(threat_kinds[t]) != _v(t)["kind"]]
    _report(chk, confusions, len(items), "threat kinds" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "filed under classic security, an AML threat is handed to controls that cannot stop it (M5)")
    return chk.passed(f"{len(items)} threat kinds right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                           "is graded by the hidden check)"))


# ---- task 2: where each AML threat enters ---------------------------------------------------
def _stage_confusion(t, given):
    if _v(t)["path"] == "api":
        return ("evasion, extraction and membership inference need nothing but the model's interface, as it "
                "serves its users")
    if given == "training":
        return ("poisoning and backdoors take effect when the model trains, but they enter earlier, where the "
                "attacker's data or model gets into the workflow - and that is where a control can stop them")
    if given == "monitoring":
        return "monitoring is where you might notice an attack, not where it gets in"
    if given == "deployment":
        return ("a backdoor or poisoned data acts when the model is used, but it got in with the training data "
                "or the vendor's model: name the stage it came through")
    return ("follow the attacker's data: it enters at the stage that takes it in - third-party sources, "
            "collection, labelling or the feedback loop")


@task(f"{A}/entry-stages", answer="entry_stages", kind="value", misconceptions=["M6"])
def check_entry_stages(entry_stages, seed, chk):
    aml = _aml_of(released_threats())
    _expect_dict(entry_stages, "entry_stages", aml, chk, '{"T1": "deployment", ...}')
    bad = [t for t in aml if _norm(entry_stages[t]) not in threat_modelling.STAGE_IDS]
    chk.require(not bad, expected=f"each value one of the stages {', '.join(threat_modelling.STAGE_IDS)}",
               seen=", ".join(f"{t}: {_shown(entry_stages[t])}" for t in bad[:4]))
    items = _visible_ids(VISIBLE["stages"], aml, THREAT_BANK) if not chk.hidden else aml
    confusions = [_stage_confusion(t, _norm(entry_stages[t])) for t in items
                  if _norm(entry_stages[t]) not in _v(t)["stage"]]
    _report(chk, confusions, len(items), "entry stages" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "a control can only stop an attack where it enters the workflow, and most entry points are not the model (M6)")
    return chk.passed(f"{len(items)} entry stages right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                            "is graded by the hidden check)"))


# ---- task 3: which control stops which threat ------------------------------------------------
def _control_confusion(c, t, listed):
    v = _v(t)
    if not listed:  # a stop the answer missed
        return v["miss"]
    if v["path"] == "artefact":
        return ("the data scientist loaded the file with their own rights, and a pickle runs code by design, not "
                "through a bug: access rules, encryption and patches do not touch that")
    if c in ("access_control", "encryption", "patching"):
        if v["path"] == "api":
            return ("an access-controlled, encrypted, patched API does not stop evasion, extraction or membership "
                    "inference: the attacker is a legitimate user sending valid queries (M5)")
        return ("the poisoned labels, the vendor's model and the broker's data come in through your own workflow, "
                "from people and suppliers you authorised: no access rule is broken (M6)")
    if c == "rate_limit":
        return ("a rate limit raises the cost of query attacks but stops none here: a patient attacker stays under "
                "2,000 a day, membership inference needs a handful of queries, patients ask once; data-path attacks "
                "send no queries")
    if c == "input_validation":
        return ("adversarial answers, poisoned labels and trigger phrases are valid values within range: "
                "validation checks form, not intent")
    if c == "human_review":
        return ("the nurse reviews borderline predictions one at a time: extraction and membership queries look "
                "ordinary, and poisoning or a backdoor make the model confidently wrong, outside the review band")
    if v["path"] == "supply":
        return ("a hash or signature proves who made an artefact, not what it learned: a backdoor the vendor did "
                "not notice is signed too, and the broker's data is the broker's own (M3)")
    return "pinning model files says nothing about the queries or the feedback an attacker sends"


def _as_set(value):
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        return None
    return {v.strip().upper() for v in value if isinstance(v, str)}


@task(f"{A}/control-stops", answer="control_stops", kind="value", misconceptions=["M5", "M6"])
def check_control_stops(control_stops, seed, chk):
    threats = released_threats()
    _expect_dict(control_stops, "control_stops", CONTROLS, chk, '{"access_control": ["T3"], ...}')
    sets = {c: _as_set(control_stops[c]) for c in CONTROLS}
    bad = [c for c in CONTROLS if sets[c] is None]
    chk.require(not bad, expected="each value a list of threat ids, e.g. [\"T3\", \"T4\"] (or [] for none)",
               seen=", ".join(f"{c}: {_shown(control_stops[c])}" for c in bad[:3]))
    canon = {t.upper(): t for t in threats}  # ids are read case-insensitively
    sets = {c: {canon.get(t, t) for t in sets[c]} for c in CONTROLS}
    unknown = sorted({t for c in CONTROLS for t in sets[c]} - set(threats))
    chk.require(not unknown, expected=f"threat ids among those of your notebook, {threats[0]} ... {threats[-1]}",
                seen=f"unknown {unknown}")
    stops = {(c, t) for t in threats for c in _v(t)["stops"]}
    graded = stops | {(c, t) for t in threats for c in _v(t)["graded_not"]}
    slot = variants.slot_of(THREAT_BANK)
    pairs = graded if chk.hidden else {(c, t) for c, t in graded if (c, slot[t]) in VISIBLE["controls"]}
    confusions = []
    for c, t in sorted(pairs):
        listed = t in sets[c]
        if listed != ((c, t) in stops):
            confusions.append(_control_confusion(c, t, listed))
    _report(chk, confusions, len(pairs), "control/threat pairs" + ("" if chk.hidden else " of the visible check"),
            "a threat model that credits a control with stopping what it cannot stop leaves that threat unguarded")
    return chk.passed(f"{len(pairs)} control/threat pairs right" + ("" if chk.hidden else " (the rest is graded by the "
                                                                  "hidden check)"))


# ---- task 4: the attacker profile an incident needed -----------------------------------------
_VALUES = {"goal": tuple(threat_modelling.GOALS), "knowledge": tuple(threat_modelling.KNOWLEDGE), "time": threat_modelling.TIMES}


def _profile_confusion(field, want, given):
    if field == "goal":
        if want == "privacy":
            return ("learning whether a record was trained on, or copying a model, changes nothing about the model's "
                    "outputs or its service: what does it take from the owner?")
        if want == "availability":
            return ("this attacker wants the model useless for everyone, indiscriminately - not wrong in the "
                    "attacker's favour, and not to learn its secrets")
        return ("this attacker wants the model to give *their* wrong answer (on their inputs, or to chosen users), "
                "even if the owner later takes the model down: that is neither learning its secrets nor "
                "breaking it for everyone")
    if field == "knowledge":
        if want == "black-box":
            return ("this attacker sees only the outputs - even a copy trained on them is the attacker's own model, "
                    "not knowledge of the target's parameters or data")
        if want == "grey-box":
            return ("knowing the public base model but not the fine-tuned weights is partial knowledge: more than "
                    "the outputs, less than everything")
        return "an insider with the model's weights and training data: how much of the model is hidden from them?"
    if want == "training":
        return ("what counts is when the attacker's data acts on the model, not where it arrives: here it goes "
                "into (re)training, even though it arrives through the deployed app")
    return ("the model was trained and fixed; the attacker only chose its inputs or read its outputs: when does "
            "that act on the model?")


@task(f"{A}/incident-profiles", answer="incident_profiles", kind="value", misconceptions=["M5", "M6"])
def check_incident_profiles(incident_profiles, seed, chk):
    ids = tuple(released_incidents())
    _expect_dict(incident_profiles, "incident_profiles", ids, chk,
                 '{"I1": {"goal": "integrity", "knowledge": "black-box", "time": "deployment"}, ...}')
    for i in ids:
        entry = incident_profiles[i]
        chk.require(isinstance(entry, dict) and set(entry) == set(_VALUES),
                   expected=f"{i} to be a dict with the keys goal, knowledge, time",
                   seen=f"{entry!r}"[:80])
        for field, allowed in _VALUES.items():
            chk.require(_norm(entry[field]) in allowed, expected=f"{i}[{field!r}] one of {', '.join(allowed)}",
                       seen=_shown(entry[field]))
    items = ids if chk.hidden else _visible_ids(VISIBLE["incidents"], ids, INCIDENT_BANK)
    key = {i: INCIDENT_VARIANTS[i][0] for i in items}
    confusions = [_profile_confusion(f, key[i][f], _norm(incident_profiles[i][f]))
                  for i in items for f in _VALUES if _norm(incident_profiles[i][f]) != key[i][f]]
    _report(chk, confusions, len(items) * len(_VALUES), "incident profiles" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "the attacker's goal, knowledge and capability decide which defences and which evaluations are relevant")
    return chk.passed(f"{len(items)} incident profile(s) right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                                   "is graded by the hidden check)"))

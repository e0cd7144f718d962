"""Checks of exercise 02 (threat modelling the TriageAssist workflow): M5 and M6.

The answers are plain data (dicts) about a fixed scenario, described in the exercise. A visible
check tests the answer's format and a couple of items; the hidden check grades every item. A
failed check names each *kind* of confusion it found and how many items show it, with the reason
- never the list of right answers.
"""
from __future__ import annotations

from collections import Counter

from course.checks import task
from course.checks.keys.threat_modelling import (
    AML_THREATS,
    CONTROLS,
    INCIDENTS,
    KIND,
    NOT_STOPS,
    STAGE,
    STOPS,
    THREATS,
)
from course.science import threat_modelling

A = "02-threat-modelling"

VISIBLE = {"kinds": ("T2", "T3"), "stages": ("T2", "T6"), "controls": {("access_control", "T2"), ("provenance", "T8")},
           "incidents": ("I1",)}

API = {"T1", "T2", "T5"}
DATA_PATH = {"T6", "T7", "T10"}


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
    chk.expect(isinstance(answer, dict), expected=f"`{name}` to be a dict like {example}",
               seen=f"{type(answer).__name__}")
    missing = [k for k in keys if k not in answer]
    unknown = sorted(str(k) for k in answer if k not in keys)
    chk.expect(not missing and not unknown, expected=f"exactly the keys {', '.join(keys)}",
               seen="; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                            unknown and f"unknown {', '.join(unknown)}"])))


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
    if given == "both" or (KIND[t] != "both" and given not in _KINDS):
        return ("'both' is for a threat that needs ML and classic measures at once (an ML artefact that runs "
                "code); the others are one or the other")
    if KIND[t] == "both":
        return ("a pickled model file is both: an ML artefact from the model supply chain (AML.CS0031) that "
                "executes code like any malware when it is loaded")
    if KIND[t] == "classic":
        return ("stealing code, weights or data by breaking in (or finding a lost disk), and flooding a service, "
                "use no ML-specific technique: there the model is just a file and the API just a service")
    if t in API:
        return ("an attack sent through the model's own API by a legitimate user is AML, even though no server is "
                "breached: practitioners drew model stealing beside code breach (Bieringer et al., 2022), but "
                "one needs queries, the other a break-in")
    return ("an attack that enters through data the workflow itself takes in (feedback, a vendor's model, a "
            "broker's data) is AML: nothing is broken into")


@task(f"{A}/threat-kinds", answer="threat_kinds", kind="value", misconceptions=["M5"])
def check_threat_kinds(threat_kinds, seed, chk):
    _expect_dict(threat_kinds, "threat_kinds", THREATS, chk, '{"T1": "AML", ...}')
    bad = [t for t in THREATS if _norm(threat_kinds[t]) not in _KINDS]
    chk.expect(not bad, expected='each value "AML", "classic" or "both"',
               seen=", ".join(f"{t}: {_shown(threat_kinds[t])}" for t in bad[:4]))
    items = VISIBLE["kinds"] if not chk.hidden else THREATS
    confusions = [_kind_confusion(t, _norm(threat_kinds[t])) for t in items if _norm(threat_kinds[t]) != KIND[t]]
    _report(chk, confusions, len(items), "threat kinds" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "filed under classic security, an AML threat is handed to controls that cannot stop it (M5)")
    return chk.passed(f"{len(items)} threat kinds right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                           "is graded by the hidden check)"))


# ---- task 2: where each AML threat enters ---------------------------------------------------
def _stage_confusion(t, given):
    if t in API:
        return ("evasion, extraction and membership inference need nothing but the deployed model's interface: "
                "they enter at deployment")
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
    _expect_dict(entry_stages, "entry_stages", AML_THREATS, chk, '{"T1": "deployment", ...}')
    bad = [t for t in AML_THREATS if _norm(entry_stages[t]) not in threat_modelling.STAGE_IDS]
    chk.expect(not bad, expected=f"each value one of the stages {', '.join(threat_modelling.STAGE_IDS)}",
               seen=", ".join(f"{t}: {_shown(entry_stages[t])}" for t in bad[:4]))
    items = VISIBLE["stages"] if not chk.hidden else AML_THREATS
    confusions = [_stage_confusion(t, _norm(entry_stages[t])) for t in items if _norm(entry_stages[t]) not in STAGE[t]]
    _report(chk, confusions, len(items), "entry stages" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "a control can only stop an attack where it enters the workflow, and most entry points are not the model (M6)")
    return chk.passed(f"{len(items)} entry stages right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                            "is graded by the hidden check)"))


# ---- task 3: which control stops which threat ------------------------------------------------
def _control_confusion(c, t, listed):
    if not listed:  # a stop the answer missed
        return {
            "T3": "patching closes the known flaw the intruder exploited: classic controls still matter for classic threats",
            "T4": "an encrypted backup is useless to whoever finds it: encryption stops that data breach",
            "T8": ("loading only pinned files in a format that cannot run code stops a booby-trapped model file "
                   "(take care of ML and non-ML security together)"),
        }[t]
    if t == "T8":
        return ("the data scientist loaded the file with their own rights, and a pickle runs code by design, not "
                "through a bug: only refusing formats that run code (and pinning hashes) stops it")
    if c in ("access_control", "encryption", "patching"):
        if t in API:
            return ("an access-controlled, encrypted, patched API does not stop evasion, extraction or membership "
                    "inference: the attacker is a legitimate user sending valid queries (M5)")
        return ("the poisoned labels, the vendor's model and the broker's data come in through your own workflow, "
                "from people and suppliers you authorised: no access rule is broken (M6)")
    if c == "rate_limit":
        return ("a rate limit raises the cost of query attacks but stops none here: "
                "150,000 queries in three months stay under 2,000 a day, "
                "membership inference needs a handful of queries, patients ask once; data-path attacks send no queries")
    if c == "input_validation":
        return ("adversarial answers, poisoned labels and trigger phrases are valid values within range: "
                "validation checks form, not intent")
    if c == "human_review":
        return ("the nurse reviews borderline predictions one at a time: extraction and membership queries look "
                "ordinary, and poisoning or a backdoor make the model confidently wrong, outside the review band")
    if t in ("T7", "T10"):
        return ("a hash or signature proves who made an artefact, not what it learned: a backdoor the vendor did "
                "not notice is signed too, and the broker's data is the broker's own (M3)")
    return "pinning model files says nothing about the queries or the feedback an attacker sends"


def _as_set(value):
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        return None
    return {v.strip().upper() for v in value if isinstance(v, str)}


@task(f"{A}/control-stops", answer="control_stops", kind="value", misconceptions=["M5", "M6"])
def check_control_stops(control_stops, seed, chk):
    _expect_dict(control_stops, "control_stops", CONTROLS, chk, '{"access_control": ["T3"], ...}')
    sets = {c: _as_set(control_stops[c]) for c in CONTROLS}
    bad = [c for c in CONTROLS if sets[c] is None]
    chk.expect(not bad, expected="each value a list of threat ids, e.g. [\"T3\", \"T4\"] (or [] for none)",
               seen=", ".join(f"{c}: {_shown(control_stops[c])}" for c in bad[:3]))
    unknown = sorted({t for c in CONTROLS for t in sets[c]} - set(THREATS))
    chk.expect(not unknown, expected=f"threat ids among {THREATS[0]} ... {THREATS[-1]}", seen=f"unknown {unknown}")
    pairs = STOPS | NOT_STOPS if chk.hidden else VISIBLE["controls"]
    confusions = []
    for c, t in sorted(pairs):
        listed = t in sets[c]
        if listed != ((c, t) in STOPS):
            confusions.append(_control_confusion(c, t, listed))
    _report(chk, confusions, len(pairs), "control/threat pairs" + ("" if chk.hidden else " access_control/T2 and provenance/T8"),
            "a threat model that credits a control with stopping what it cannot stop leaves that threat unguarded")
    return chk.passed(f"{len(pairs)} control/threat pairs right" + ("" if chk.hidden else " (the rest is graded by the "
                                                                  "hidden check)"))


# ---- task 4: the attacker profile an incident needed -----------------------------------------
_VALUES = {"goal": tuple(threat_modelling.GOALS), "knowledge": tuple(threat_modelling.KNOWLEDGE), "time": threat_modelling.TIMES}


def _profile_confusion(field, want, given):
    if field == "goal":
        if want == "privacy":
            return ("learning whether a record was trained on, or copying a model, is a privacy (confidentiality) "
                    "violation: nothing about the model's outputs is changed")
        if want == "availability":
            return ("making the model useless for everyone, indiscriminately, is an availability attack; integrity "
                    "attacks make it wrong in the attacker's favour")
        return ("an attacker who wants the model to give *their* wrong answer (on their inputs, or to chosen users) "
                "attacks its integrity, even if the owner later takes the model down")
    if field == "knowledge":
        if want == "black-box":
            return ("seeing only the outputs - even training a copy on them - is black-box: the copy is the "
                    "attacker's own model, not knowledge of the target's parameters or data")
        if want == "grey-box":
            return ("knowing the public base model but not the fine-tuned weights is partial knowledge: grey-box "
                    "(more than black-box, less than white-box)")
        return "an insider with the model's weights and training data has full knowledge: white-box"
    if want == "training":
        return ("what counts is when the attacker's data acts on the model: data that goes into (re)training makes "
                "a training-time attack, even if it arrives through the deployed app")
    return ("the model was trained and fixed; the attacker only chose its inputs or read its outputs at "
            "deployment time")


@task(f"{A}/incident-profiles", answer="incident_profiles", kind="value", misconceptions=["M5", "M6"])
def check_incident_profiles(incident_profiles, seed, chk):
    ids = tuple(INCIDENTS)
    _expect_dict(incident_profiles, "incident_profiles", ids, chk,
                 '{"I1": {"goal": "integrity", "knowledge": "black-box", "time": "deployment"}, ...}')
    for i in ids:
        entry = incident_profiles[i]
        chk.expect(isinstance(entry, dict) and set(entry) == set(_VALUES),
                   expected=f"{i} to be a dict with the keys goal, knowledge, time",
                   seen=f"{entry!r}"[:80])
        for field, allowed in _VALUES.items():
            chk.expect(_norm(entry[field]) in allowed, expected=f"{i}[{field!r}] one of {', '.join(allowed)}",
                       seen=_shown(entry[field]))
    items = ids if chk.hidden else VISIBLE["incidents"]
    confusions = [_profile_confusion(f, INCIDENTS[i][f], _norm(incident_profiles[i][f]))
                  for i in items for f in _VALUES if _norm(incident_profiles[i][f]) != INCIDENTS[i][f]]
    _report(chk, confusions, len(items) * len(_VALUES), "incident profiles" + ("" if chk.hidden else f" of {', '.join(items)}"),
            "the attacker's goal, knowledge and capability decide which defences and which evaluations are relevant")
    return chk.passed(f"{len(items)} incident profile(s) right" + ("" if chk.hidden else f" ({', '.join(items)}; the rest "
                                                                   "is graded by the hidden check)"))

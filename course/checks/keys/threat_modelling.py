"""The answer key of exercise 02 (threat modelling the TriageAssist workflow)."""
from __future__ import annotations

THREATS = tuple(f"T{i}" for i in range(1, 11))
CONTROLS = ("access_control", "encryption", "patching", "rate_limit", "input_validation", "human_review", "provenance")
KIND = {"T1": "aml", "T2": "aml", "T3": "classic", "T4": "classic", "T5": "aml", "T6": "aml", "T7": "aml",
        "T8": "both", "T9": "classic", "T10": "aml"}
AML_THREATS = tuple(t for t in THREATS if KIND[t] == "aml")
STAGE = {"T1": {"deployment"}, "T2": {"deployment"}, "T5": {"deployment"}, "T6": {"retraining", "labelling"},
         "T7": {"sources"}, "T10": {"sources", "collection"}}
STOPS = {("patching", "T3"), ("encryption", "T4"), ("provenance", "T8")}
GRADED_NOT = {t: set(CONTROLS) for t in ("T1", "T2", "T5", "T6", "T7", "T8", "T10")}
GRADED_NOT["T1"].discard("human_review")  # review of borderline cases catches some evasions: not graded
GRADED_NOT["T8"].discard("provenance")
NOT_STOPS = {(c, t) for t, cs in GRADED_NOT.items() for c in cs}
INCIDENTS = {
    "I1": {"goal": "integrity", "knowledge": "black-box", "time": "deployment"},
    "I2": {"goal": "integrity", "knowledge": "black-box", "time": "training"},
    "I3": {"goal": "integrity", "knowledge": "grey-box", "time": "deployment"},
    "I4": {"goal": "integrity", "knowledge": "white-box", "time": "training"},
    "I5": {"goal": "availability", "knowledge": "black-box", "time": "training"},
    "I6": {"goal": "privacy", "knowledge": "black-box", "time": "deployment"},
}

"""Tests of course.science.threat_modelling (lesson 02's data, drawings and secured API) and of exercise 02's checks."""
from __future__ import annotations

import copy
import re

import matplotlib
import nbformat
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import ROOT  # noqa: E402

from course.checks import evaluate  # noqa: E402
from course.checks import threat_modelling as key  # noqa: E402
from course.checks.feedback import Failure  # noqa: E402
from course.science import datasets, models, plots, services, threat_modelling  # noqa: E402

A = "02-threat-modelling"
SOLUTION = ROOT / "solutions" / A / f"{A}.ipynb"
RELEASE = ROOT / "exercises" / A / f"{A}.ipynb"


def _answers(path):
    env = {}
    for c in nbformat.read(path, as_version=4).cells:
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"):
            try:
                exec(c.source, env)  # noqa: S102 - our own notebook's plain dict literals
            except NotImplementedError:
                pass
    return env


@pytest.fixture(scope="module")
def solution():
    return _answers(SOLUTION)


# --------------------------------------------------------------------------- the model of threats and controls
def test_every_threat_enters_at_known_stages_and_has_a_known_goal_and_kind():
    for t in threat_modelling.THREATS:
        assert t.stages and set(t.stages) <= set(threat_modelling.STAGE_IDS), t.id
        assert t.goal in threat_modelling.GOALS and t.kind in ("AML", "classic", "both"), t.id
        assert all(re.fullmatch(r"AML\.CS\d{4}", c) for c in t.atlas), t.id


def test_the_effect_table_covers_every_control_and_threat():
    assert set(threat_modelling.EFFECT) == set(threat_modelling.CONTROLS)
    for c, row in threat_modelling.EFFECT.items():
        assert set(row) == set(threat_modelling.BY_ID) and set(row.values()) <= {"stops", "limits", "no"}, c


def test_classic_controls_stop_breaches_and_no_aml_threat():
    through = set(threat_modelling.through_secured_server())
    assert {"evasion", "poisoning", "backdoor", "extraction", "membership"} <= through
    assert not {"code_breach", "data_breach"} & through
    for c in threat_modelling.classic_controls():
        assert not [t for t in threat_modelling.stopped_by(c) if threat_modelling.BY_ID[t].kind == "AML"], c
    assert threat_modelling.stopped_by("provenance") == ["unsafe_file"]


def test_most_aml_entry_points_are_not_the_deployed_model():
    points = threat_modelling.entry_points("AML")
    assert sum(s != "deployment" for _, s in points) > len(points) / 2
    assert "retraining" in {s for _, s in points} and "sources" in {s for _, s in points}


def test_the_drawings_have_every_stage_and_every_cell():
    import matplotlib.pyplot as plt

    ax = plots.workflow()
    texts = " ".join(t.get_text() for t in ax.texts)
    for s in threat_modelling.STAGES:
        assert s.label in texts
    for t in threat_modelling.THREATS:
        assert t.name in texts
    ax2 = plots.controls()
    assert len(ax2.patches) == len(threat_modelling.CONTROLS) * len(threat_modelling.THREATS)
    plt.close("all")


# --------------------------------------------------------------------------- the secured API
def _hospital():
    data = datasets.load_breast_cancer()
    order = np.random.default_rng(0).permutation(len(data.y))
    model = models.fit("logistic", data.X[order[:300]], data.y[order[:300]], scale=True)
    return data, order, model


def test_the_api_rejects_outsiders_and_enforces_the_rate_limit():
    data, order, model = _hospital()
    api = services.SecuredAPI(model, keys={"k"}, daily_limit=10)
    with pytest.raises(PermissionError, match="invalid"):
        api.predict("other", data.X[:2])
    assert len(api.predict("k", data.X[:10])) == 10
    with pytest.raises(PermissionError, match="rate limit"):
        api.predict("k", data.X[:1])
    assert len(api.predict("k", data.X[:1], day=1)) == 1
    audit = api.audit()
    assert audit["rejected"] == 2 and audit["predictions_served"] == 11 and audit["busiest_key_day"] == 10


def test_a_legitimate_user_copies_the_model_within_quota():
    data, order, model = _hospital()
    api = services.SecuredAPI(model, keys={"partner"}, daily_limit=50)
    copy_, n = threat_modelling.extract(api, "partner", data.X[order[300:500]], per_day=40, days=5)
    test = order[500:]
    agreement = np.mean(copy_.predict(data.X[test]) == model.predict(data.X[test]))
    assert n == 200 and api.audit()["rejected"] == 0
    assert agreement >= 0.9  # the lesson says "most patients"; it prints the exact number


# --------------------------------------------------------------------------- exercise 02's checks
TASKS = {"threat-kinds": "threat_kinds", "entry-stages": "entry_stages", "control-stops": "control_stops",
         "incident-profiles": "incident_profiles"}


@pytest.mark.parametrize("task", TASKS)
def test_the_solution_passes_visible_and_hidden(solution, task):
    answer = solution[TASKS[task]]
    assert evaluate(f"{A}/{task}", answer).passed
    assert evaluate(f"{A}/{task}", answer, hidden=True).passed


@pytest.mark.parametrize("task", TASKS)
def test_the_blank_fails_as_not_answered(task):
    blank = _answers(RELEASE)[TASKS[task]]
    verdict = evaluate(f"{A}/{task}", blank, hidden=True)
    assert not verdict.passed and "not answered yet" in verdict.seen


def _wrong(solution, name, change):
    answer = copy.deepcopy(solution[name])
    change(answer)
    return answer


@pytest.mark.parametrize("task, name, change, words, visible", [
    ("threat-kinds", "threat_kinds", lambda a: a.update(T2="classic"), "legitimate user", True),
    ("threat-kinds", "threat_kinds", lambda a: a.update(T5="classic"), "legitimate user", False),
    ("threat-kinds", "threat_kinds", lambda a: a.update(T3="AML"), "break", True),
    ("threat-kinds", "threat_kinds", lambda a: a.update(T8="AML"), "pickled", False),
    ("threat-kinds", "threat_kinds", lambda a: a.update(T6="classic"), "data the workflow itself", False),
    ("entry-stages", "entry_stages", lambda a: a.update(T6="training"), "enter earlier", True),
    ("entry-stages", "entry_stages", lambda a: a.update(T2="training"), "interface", True),
    ("entry-stages", "entry_stages", lambda a: a.update(T7="deployment"), "got in with", False),
    ("control-stops", "control_stops", lambda a: a["access_control"].append("T2"), "legitimate user", True),
    ("control-stops", "control_stops", lambda a: a["rate_limit"].append("T2"), "raises the cost", False),
    ("control-stops", "control_stops", lambda a: a["provenance"].append("T7"), "signature", False),
    ("control-stops", "control_stops", lambda a: a["provenance"].remove("T8"), "in what format", True),
    ("control-stops", "control_stops", lambda a: a["patching"].append("T8"), "by design", False),
    ("control-stops", "control_stops", lambda a: a["input_validation"].append("T1"), "form, not intent", False),
    ("control-stops", "control_stops", lambda a: a["encryption"].append("T6"), "authorised", False),
    ("incident-profiles", "incident_profiles", lambda a: a["I1"].update(knowledge="white-box"), "sees only the outputs", True),
    ("incident-profiles", "incident_profiles", lambda a: a["I3"].update(knowledge="white-box"), "partial knowledge", False),
    ("incident-profiles", "incident_profiles", lambda a: a["I2"].update(time="deployment"), "(re)training", False),
    ("incident-profiles", "incident_profiles", lambda a: a["I6"].update(goal="integrity"), "take from the owner", False),
    ("incident-profiles", "incident_profiles", lambda a: a["I5"].update(goal="integrity"), "useless for everyone", False),
])
def test_each_confusion_gets_its_own_explanation(solution, task, name, change, words, visible):
    answer = _wrong(solution, name, change)
    hidden = evaluate(f"{A}/{task}", answer, hidden=True)
    assert not hidden.passed and words in hidden.seen, hidden.seen
    assert evaluate(f"{A}/{task}", answer).passed is (not visible)


@pytest.mark.parametrize("task, name, change, answer_words", [
    ("threat-kinds", "threat_kinds", lambda a: a.update(T8="AML"), ["both"]),
    ("control-stops", "control_stops", lambda a: a["provenance"].remove("T8"), ["provenance"]),
    ("control-stops", "control_stops", lambda a: a["patching"].remove("T3"), ["patching"]),
    ("incident-profiles", "incident_profiles", lambda a: a["I1"].update(knowledge="white-box"), ["black-box"]),
    ("incident-profiles", "incident_profiles", lambda a: a["I3"].update(knowledge="white-box"), ["grey-box"]),
    ("incident-profiles", "incident_profiles", lambda a: a["I6"].update(goal="integrity"), ["privacy"]),
    ("incident-profiles", "incident_profiles", lambda a: a["I5"].update(goal="integrity"), ["availability"]),
])
def test_an_explanation_does_not_give_the_answer_away(solution, task, name, change, answer_words):
    verdict = evaluate(f"{A}/{task}", _wrong(solution, name, change), hidden=True)
    assert not verdict.passed and verdict.failure is Failure.BELIEF
    assert not any(w in verdict.seen.lower() for w in answer_words), verdict.seen


def test_judgement_calls_are_not_graded(solution):
    answer = copy.deepcopy(solution["control_stops"])
    answer["rate_limit"].append("T9")
    answer["access_control"] += ["T3", "T4"]
    answer["human_review"].append("T1")
    assert evaluate(f"{A}/control-stops", answer, hidden=True).passed


def test_feedback_names_kinds_of_confusion_not_the_answer_key(solution):
    answer = dict.fromkeys(key.released_threats(), "classic")
    verdict = evaluate(f"{A}/threat-kinds", answer, hidden=True)
    assert not verdict.passed
    assert not re.search(r"\bT\d+\b", verdict.seen), "feedback must not list items"
    every = {"access_control": list(key.released_threats()), **{c: [] for c in key.CONTROLS if c != "access_control"}}
    assert not re.search(r"\bT\d+\b", evaluate(f"{A}/control-stops", every, hidden=True).seen)
    assert verdict.seen.count("[") == 3  # three kinds of confusion: API attacks, data-path attacks, "both"


def test_answers_are_normalised_but_format_errors_are_explained(solution):
    kinds = {t: v.lower() for t, v in solution["threat_kinds"].items()}
    assert evaluate(f"{A}/threat-kinds", kinds, hidden=True).passed
    profiles = copy.deepcopy(solution["incident_profiles"])
    profiles["I1"]["knowledge"] = "Black box"
    assert evaluate(f"{A}/incident-profiles", profiles, hidden=True).passed
    stages = dict(solution["entry_stages"], T99="sources")
    assert "unknown T99" in evaluate(f"{A}/entry-stages", stages).seen
    assert "missing" in evaluate(f"{A}/entry-stages", {"T1": "deployment"}).seen
    assert "list of threat ids" in evaluate(f"{A}/control-stops", dict(solution["control_stops"], patching="T3")).expected
    assert not evaluate(f"{A}/control-stops", "everything").passed


def test_the_notebook_describes_every_id_the_checks_grade():
    text = "\n".join(c.source for c in nbformat.read(SOLUTION, as_version=4).cells if c.cell_type == "markdown")
    for t in key.released_threats():
        assert f"| {t} |" in text, t
    for i in key.released_incidents():
        assert f"| {i} |" in text, i
    for c in key.CONTROLS:
        assert f"| `{c}` |" in text, c
    from course.checks.keys.threat_modelling import THREAT_VARIANTS  # every variant's stages, not only the public ones

    assert {s for v in THREAT_VARIANTS.values() for s in (v["stage"] or ())} <= set(threat_modelling.STAGE_IDS)

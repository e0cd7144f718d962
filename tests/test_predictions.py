"""Predictions on the record: the lesson helper, the exercises' prediction checks, and the cohort's beliefs report."""
from __future__ import annotations

import json
import math
import re

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

from conftest import ROOT  # noqa: E402

from course.checks import evaluate, predictions  # noqa: E402
from course.grader import beliefs_report  # noqa: E402
from course.ground.misconceptions import MISCONCEPTIONS  # noqa: E402
from course.science import beliefs  # noqa: E402

ASSIGNMENTS = sorted(predictions.PROMPTS)


def key(form="A", flip=()):
    return {i.id: {"answer": i.answer != (i.misconception in flip), "confidence": 3} for i in beliefs.form_items(form)}


# --------------------------------------------------------------------------- the exercises' prediction checks
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_prediction_scores_for_completion_whatever_its_value(assignment):
    prompt = predictions.PROMPTS[assignment]
    task = f"{assignment}/prediction"
    for value in (prompt.low, (prompt.low + prompt.high) / 2, prompt.high):
        assert evaluate(task, value).passed and evaluate(task, value, hidden=True).passed
    blank = evaluate(task, None)
    assert not blank.passed and blank.failure.value == "not attempted"
    for bad in (prompt.high + 1, -1, float("nan"), "half", True):
        verdict = evaluate(task, bad)
        assert not verdict.passed and prompt.unit in verdict.expected, (bad, verdict)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_prediction_cells_open_the_exercise(assignment):
    """Three cells right after the first markdown cell: the prompt, `my_prediction`, a 1-point check."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    assert ids[first + 1:first + 4] == ["prediction-text", "prediction-answer", "prediction-check"]
    answer, test = nb.cells[first + 2], nb.cells[first + 3]
    assert answer.source.startswith("my_prediction = None") and "### BEGIN SOLUTION" in answer.source
    assert test.metadata["nbgrader"]["points"] == 1
    wanted = {f"misconception-{m}" for m in predictions.PROMPTS[assignment].misconceptions}
    assert wanted <= set(test.metadata["tags"])
    assert predictions.PROMPTS[assignment].question in nb.cells[first + 1].source


MEASURED_EXERCISES = [a for a in ASSIGNMENTS if a != "00-welcome"]


def test_every_exercise_prediction_has_a_recorded_measurement_that_is_a_share():
    from course.checks.keys.predictions import MEASURED

    assert sorted(MEASURED) == MEASURED_EXERCISES, "every exercise 01-09 needs its reference measurement"
    for assignment, (value, source) in MEASURED.items():
        assert predictions.PROMPTS[assignment].unit == "a share between 0 and 1"
        assert isinstance(value, float) and 0.0 <= value <= 1.0, (assignment, value)
        assert isinstance(source, str) and len(source) > 40, f"{assignment}: say where the figure comes from"
        assert predictions.reference(assignment) == value


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=pytest.mark.slow) if a == "09-mitigations" else a
                                        for a in MEASURED_EXERCISES])
def test_the_recorded_measurement_is_what_the_course_measures_now(assignment):
    """Drift: re-measure with `python tests/measure_predictions.py --write` after a change to the exercise."""
    import measure_predictions

    value, source = measure_predictions.measure(assignment)
    recorded, recorded_source = predictions.reference(assignment), __import__(
        "course.checks.keys.predictions", fromlist=["MEASURED"]).MEASURED[assignment][1]
    assert value == pytest.approx(recorded, abs=0.01), (
        f"{assignment}: recorded {recorded}, measured now {value}; the cohort report would compare predictions with "
        "a stale figure (re-run tests/measure_predictions.py --write)")
    assert source == recorded_source


def test_reference_measurements_are_kept_with_the_answer_keys_only():
    assert predictions.reference("00-welcome") is None  # compared with each learner's own count
    text = (ROOT / "course" / "science" / "predictions.py").read_text()
    assert "MEASURED" not in text


# --------------------------------------------------------------------------- the cohort's beliefs report
def _write(course_dir, assignment, student, values):
    folder = course_dir / "reports" / assignment / "results"
    folder.mkdir(parents=True, exist_ok=True)
    from course.grader import protocol

    wire = {task: json.loads(protocol.encode(v)) for task, v in values.items()}  # as `course grade` stores them
    (folder / f"{student}.json").write_text(json.dumps({"student": student, "values": wire}))


def _cohort(course_dir, n=12):
    """n learners: before, all hold M2 and M5 (answered wrongly); after, only half still hold M2."""
    for k in range(n):
        before = key("A", flip=("M2", "M5"))
        after = key("B", flip=("M2",) if k % 2 else ())
        half = beliefs.halves("A")
        _write(course_dir, "00-welcome", f"zz_student_{k}", {
            "00-welcome/prediction": 28,
            "00-welcome/first-half": {i: before[i] for i in half["first"]},
            "00-welcome/second-half": {i: before[i] for i in half["second"]}})
        _write(course_dir, "10-wrap-up", f"zz_student_{k}", {"10-wrap-up/first-half": after,
                                                         "10-wrap-up/second-half": after})
        _write(course_dir, "06-poisoning", f"zz_student_{k}", {"06-poisoning/prediction": 0.3 + 0.01 * k})


def test_before_after_gives_shares_holding_and_the_normalised_gain(tmp_path):
    _cohort(tmp_path)
    before = beliefs_report.answer_sets(beliefs_report._once(
        __import__("course.grader.results", fromlist=["x"]).load_results(tmp_path, "00-welcome")), "00-welcome")
    assert len(before) == 12 and all(len(a) == 32 for a in before)
    after = [key("B", flip=("M2",) if k % 2 else ()) for k in range(12)]
    ba = beliefs_report.before_after(before, after)
    assert ba["M5"]["held_before"] == 1.0 and ba["M5"]["held_after"] == 0.0 and ba["M5"]["gain"] == pytest.approx(1.0)
    assert ba["M2"]["held_after"] == pytest.approx(0.5) and ba["M2"]["gain"] == pytest.approx(0.5)
    assert ba["M1"]["held_before"] == 0.0 and math.isnan(ba["M1"]["gain"])  # nothing left to gain
    assert beliefs_report.normalised_gain(0.25, 0.625) == pytest.approx(0.5)


def test_the_section_shows_items_and_predictions_in_aggregate_only(tmp_path):
    import matplotlib.pyplot as plt

    from course.grader.report import _png

    _cohort(tmp_path)
    page = beliefs_report.section(tmp_path, _png)
    plt.close("all")
    assert "Before and after" in page and "data:image/png;base64," in page
    assert "The items of form A (12 learners)" in page and "The items of form B (12 learners)" in page
    assert "Predicted vs measured" in page and "06-poisoning" in page
    measured = predictions.reference("06-poisoning")  # the recorded reference, beside the cohort's median (0.355)
    assert f"<td>0.355</td><td>0.3225 – 0.3875</td><td>{measured:g}</td><td>{measured - 0.355:+g}</td>" in page
    assert "not recorded" not in page
    assert "zz_student" not in page
    # exercise 00: predicted 28 of 32, measured each learner's own count (24: M2 and M5 wrong)
    assert "<td>28</td><td>28 – 28</td><td>24</td><td>-4</td>" in page


def test_item_statistics_wait_for_ten_learners_and_predictions_for_three(tmp_path):
    _cohort(tmp_path, n=2)
    page = beliefs_report.section(tmp_path)
    assert "appear once 10 or more learners" in page and "Predicted vs measured" not in page


def test_item_statistics_are_difficulty_and_discrimination():
    strong = [key("A") for _ in range(5)] + [key("A", flip=tuple(MISCONCEPTIONS)) for _ in range(5)]
    stats = beliefs.item_statistics(strong)
    n, difficulty, discrimination = stats["a01"]
    assert n == 10 and difficulty == 0.5 and discrimination == pytest.approx(1.0)
    assert math.isnan(beliefs.item_statistics([key("A")] * 3)["a01"][2])  # nothing varies


# --------------------------------------------------------------------------- a lesson's loop
@pytest.fixture
def predictions_dir(tmp_path, monkeypatch):
    from course.science import predictions as lesson_predictions

    monkeypatch.setenv(lesson_predictions.DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv("COURSE_NO_SELF_CHECK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return tmp_path


def test_reveal_keeps_the_measurement_and_draws_the_gap(predictions_dir, capsys):
    import matplotlib.pyplot as plt

    from course.science import predictions as lesson_predictions

    lesson_predictions.record("05", "review-band", 0.8)
    assert lesson_predictions.reveal("05", "review-band", 0.1) == pytest.approx(-0.7)
    assert lesson_predictions.gap("05") == {"review-band": pytest.approx(-0.7)}
    assert "you predicted 0.8, the measurement is 0.1 (gap -0.70)" in capsys.readouterr().out
    ax = plt.gca()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["review-band"]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"your prediction", "measured"}
    plt.close("all")


def test_reveal_uses_the_learners_number_when_nothing_may_be_saved(monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from course.science import predictions as lesson_predictions

    monkeypatch.setenv("COURSE_NO_SELF_CHECK", "1")
    assert lesson_predictions.reveal("05", "k", 0.25, predicted=0.5) == pytest.approx(-0.25)
    assert lesson_predictions.reveal("05", "k", 0.25) is None
    assert "no prediction was recorded" in capsys.readouterr().out
    plt.close("all")


# --------------------------------------------------------------------------- the lessons' loops
def _lesson_calls(path):
    """[(cell index, function, lesson, key, node of the value)] for every predictions.record/reveal call."""
    import ast

    nb = nbformat.read(path, as_version=4)
    calls = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code" or "predictions." not in c.source:
            continue
        for node in ast.walk(ast.parse(c.source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "predictions" \
                    and node.func.attr in ("record", "reveal", "measured"):
                args = node.args
                calls.append((i, node.func.attr, ast.literal_eval(args[0]), ast.literal_eval(args[1]), args[2]))
    return calls


LOOP_LESSONS = ["01", "02", "03", "04", "05", "06", "07", "08", "09a", "09b", "09c", "10"]


@pytest.mark.parametrize("lesson", LOOP_LESSONS)
def test_every_lesson_records_a_prediction_before_it_measures_and_reveals_a_measured_gap(lesson):
    import ast

    path = next((ROOT / "lessons").glob(f"lesson-{lesson}-*.ipynb"))
    calls = _lesson_calls(path)
    records = {key: i for i, fn, les, key, _ in calls if fn == "record"}
    reveals = {key: (i, value) for i, fn, les, key, value in calls if fn == "reveal"}
    assert records and set(records) == set(reveals), f"{path.name}: every prediction is revealed, and only those"
    assert all(les == lesson for _, _, les, _, _ in calls), f"{path.name}: predictions are filed under '{lesson}'"
    for key, (i, value) in reveals.items():
        assert records[key] < i, f"{path.name}: '{key}' is measured before it is predicted"
        # the gap shown comes from the run: the measured value is computed, never a number typed in
        assert not isinstance(value, ast.Constant), f"{path.name}: '{key}' reveals a constant, not a measurement"
    cells = nbformat.read(path, as_version=4).cells
    for key, i in records.items():  # the cell before a prediction asks for it and names the belief it tests
        assert cells[i - 1].cell_type == "markdown" and re.search(r"\(M[1-8]\)", cells[i - 1].source), \
            f"{path.name}: the prompt for '{key}' names the belief it tests, as (Mx)"


# --------------------------------------------------------------------------- the learner's own domain
def test_a_domain_is_chosen_once_and_kept(predictions_dir, capsys):
    from course.science import economics
    from course.science import predictions as lesson_predictions

    assert lesson_predictions.choose_domain() == "fraud"  # nothing chosen yet
    assert lesson_predictions.choose_domain("hiring") == "hiring"
    assert lesson_predictions.choose_domain() == "hiring"
    with pytest.raises(ValueError, match="medical-triage"):
        lesson_predictions.choose_domain("banking")
    assert set(economics.DOMAINS) == {"fraud", "hiring", "medical-triage", "content-moderation", "visual-inspection"}


def test_the_domain_account_charges_every_try_and_pays_each_success():
    from course.science import economics

    d = economics.DOMAINS["content-moderation"]
    rows = economics.domain_account("content-moderation", [1, 10], [0.5, 0.9])
    assert rows[0] == (1, 0.5, pytest.approx(0.5 * d.gain - d.attempt_cost))
    assert rows[1][2] == pytest.approx(0.9 * d.gain - 10 * d.attempt_cost)

"""Tests of course.science.beliefs (the mental-model check) and of exercise 00's completion checks."""
from __future__ import annotations

import json
import math
from collections import Counter

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

from conftest import ROOT  # noqa: E402

from course.checks import evaluate  # noqa: E402
from course.ground.misconceptions import MISCONCEPTIONS  # noqa: E402
from course.science import beliefs  # noqa: E402


def key(confidence=3, form="A"):
    """The correct answers to every item of a form."""
    return {i.id: {"answer": i.answer, "confidence": confidence} for i in beliefs.form_items(form)}


def inverted(form="A"):
    return {i.id: {"answer": not i.answer, "confidence": 4} for i in beliefs.form_items(form)}


@pytest.fixture
def beliefs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(beliefs.DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv("COURSE_NO_SELF_CHECK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return tmp_path


# --------------------------------------------------------------------------- the bank
def test_two_forms_of_32_items_four_per_misconception_two_true_two_false():
    assert set(beliefs.FORMS) == {"A", "B"}
    for form, ids in beliefs.FORMS.items():
        assert len(ids) == 32 and ids == tuple(f"{form.lower()}{k:02d}" for k in range(1, 33))
        assert [i.id for i in beliefs.form_items(form)] == list(ids)
        for m in MISCONCEPTIONS:
            its = beliefs.items_of(m, form)
            assert len(its) == 4, f"form {form}: {m} has {len(its)} items"
            assert sorted(i.answer for i in its) == [False, False, True, True], f"form {form}: {m}"
            assert sorted(i.difficulty for i in its) == [1, 1, 2, 2], f"form {form}: {m}"
    assert set(beliefs.BY_ID) == set(beliefs.FORMS["A"]) | set(beliefs.FORMS["B"])
    assert beliefs.CONFIDENCE == {1: "a guess", 2: "leaning", 3: "fairly sure", 4: "certain"}


def test_the_forms_are_parallel_item_by_item_and_never_repeat_a_statement():
    for a, b in zip(beliefs.form_items("A"), beliefs.form_items("B")):
        assert (a.misconception, a.answer, a.difficulty) == (b.misconception, b.answer, b.difficulty), (a.id, b.id)
    statements = [i.statement for i in beliefs.ITEMS]
    assert len(statements) == len(set(statements))


def test_each_half_of_a_form_covers_every_misconception_twice_one_easier_one_harder():
    for form in beliefs.FORMS:
        halves = beliefs.halves(form)
        assert halves["first"] + halves["second"] == beliefs.FORMS[form]
        for ids in halves.values():
            per = Counter(beliefs.BY_ID[i].misconception for i in ids)
            assert per == {m: 2 for m in MISCONCEPTIONS}
            for m in MISCONCEPTIONS:
                assert {beliefs.BY_ID[i].difficulty for i in ids if beliefs.BY_ID[i].misconception == m} == {1, 2}


def test_explanations_agree_with_the_answer_and_cite_evidence():
    for item in beliefs.ITEMS:
        assert item.explanation.startswith("True:" if item.answer else "False:"), item.id
        assert any(s in item.explanation for s in ("AML.CS", "et al", "NIST", "lesson", "Bieringer")), item.id
        assert item.statement.endswith("."), item.id


def test_items_are_about_our_system_not_the_recall_of_a_lesson():
    for item in beliefs.ITEMS:
        assert "lesson" not in item.statement.lower(), f"{item.id} asks to recall a lesson"
        assert any(w in item.statement.lower() for w in ("our ", "we ", "us ", "us,", "ours")) or \
            item.misconception == "M4", f"{item.id} is not about our system"


def test_atlas_exercises_are_never_cited_as_incidents():
    for item in beliefs.ITEMS:
        for case in ("AML.CS0003", "AML.CS0005", "AML.CS0008"):
            assert case not in item.explanation or "exercise" in item.explanation, item.id


def test_form_of_tells_the_forms_apart_and_refuses_a_mix():
    assert beliefs.form_of(key(form="B")) == "B" and beliefs.form_of(key()) == "A" and beliefs.form_of({}) == "A"
    with pytest.raises(ValueError, match="mix"):
        beliefs.form_of({**key(), **key(form="B")})


# --------------------------------------------------------------------------- validation
def test_complete_answers_have_no_problems_and_validate_cleans_them():
    assert beliefs.problems(key()) == []
    clean = beliefs.validate(key())
    assert clean == key() and clean is not key()


@pytest.mark.parametrize("entry, words", [
    ({"answer": None, "confidence": None}, "not answered yet"),
    ({"answer": 1, "confidence": 3}, "True or False"),
    ({"answer": "yes", "confidence": 3}, "True or False"),
    ({"answer": True, "confidence": 5}, "1, 2, 3 or 4"),
    ({"answer": True, "confidence": 2.5}, "1, 2, 3 or 4"),
    ({"answer": True, "confidence": True}, "1, 2, 3 or 4"),
    ({"answer": True, "confidence": 3, "note": "x"}, "unknown key"),
    ((True, 3), "must be a dict"),
])
def test_problems_name_the_item_and_what_is_wrong(entry, words):
    answers = key()
    answers["a05"] = entry
    found = beliefs.problems(answers)
    assert found and any(words in p and "a05" in p for p in found), found
    with pytest.raises(ValueError, match="a05"):
        beliefs.validate(answers)


def test_unknown_and_missing_ids_are_reported():
    answers = key()
    del answers["a07"]
    answers["a99"] = {"answer": True, "confidence": 1}
    found = " ".join(beliefs.problems(answers))
    assert "a99" in found and "a07" in found
    assert beliefs.problems("not a dict")[0].startswith("answers must be a dict")


def test_problems_can_be_limited_to_some_items():
    half = {i: key()[i] for i in beliefs.HALVES["first"]}
    assert beliefs.problems(half, beliefs.HALVES["first"]) == []
    assert beliefs.problems(half)  # the second half is missing


# --------------------------------------------------------------------------- scoring
def test_score_is_the_share_correct_per_misconception():
    assert set(beliefs.score(key()).values()) == {1.0}
    assert set(beliefs.score(inverted()).values()) == {0.0}
    answers = key()
    wrong = beliefs.items_of("M5", "A")[0].id
    answers[wrong]["answer"] = not answers[wrong]["answer"]
    s = beliefs.score(answers)
    assert s["M5"] == pytest.approx(3 / 4) and all(v == 1.0 for m, v in s.items() if m != "M5")


def test_score_is_not_weighted_by_confidence_and_unanswered_counts_as_wrong():
    assert beliefs.score(key(confidence=1)) == beliefs.score(key(confidence=4))
    partial = key()
    del partial[beliefs.items_of("M1", "A")[0].id]
    assert beliefs.score(partial)["M1"] == pytest.approx(3 / 4)
    assert set(beliefs.score(key(form="B")).values()) == {1.0}


def test_summary_lists_firmly_held_wrong_answers():
    answers = key()
    item = beliefs.items_of("M3", "A")[1]
    answers[item.id] = {"answer": not item.answer, "confidence": 4}
    rows = {r[0]: r for r in beliefs.summary(answers)}
    assert rows["M3"][4] == [item.id] and rows["M1"][4] == []
    answers[item.id]["confidence"] = 2
    assert {r[0]: r for r in beliefs.summary(answers)}["M3"][4] == []


# --------------------------------------------------------------------------- saving
def test_save_and_load_round_trip_with_the_documented_format(beliefs_dir):
    path = beliefs.save(key(), phase="before")
    assert path == beliefs_dir / "before.json" and path.is_file()
    record = json.loads(path.read_text())
    assert record["format"] == beliefs.FORMAT and record["phase"] == "before" and record["version"] == 2
    assert record["scores"] == {m: 1.0 for m in MISCONCEPTIONS} and "saved_at" in record
    assert beliefs.load("before") == key()


def test_default_path_is_under_my_work(monkeypatch, tmp_path):
    monkeypatch.delenv(beliefs.DIR_VARIABLE, raising=False)
    monkeypatch.delenv("COURSE_WORKSPACE", raising=False)
    assert beliefs.path_for("after") == ROOT / "my-work" / ".beliefs" / "after.json"
    monkeypatch.setenv("COURSE_WORKSPACE", str(tmp_path))  # run.py's workspace, placed elsewhere
    assert beliefs.path_for("after") == tmp_path / ".beliefs" / "after.json"
    with pytest.raises(ValueError, match="phase"):
        beliefs.path_for("during")


@pytest.mark.parametrize("variable", ["NBGRADER_EXECUTION", "COURSE_NO_SELF_CHECK"])
def test_nothing_is_written_while_grading_or_benchmarking(beliefs_dir, monkeypatch, variable, capsys):
    monkeypatch.setenv(variable, "autograde")
    assert beliefs.save(key(), phase="before") is None
    assert not list(beliefs_dir.iterdir())
    assert "not saved" in capsys.readouterr().out


def test_incomplete_answers_are_not_saved(beliefs_dir):
    answers = key()
    answers["a01"] = {"answer": None, "confidence": None}
    assert beliefs.save(answers) is None
    assert not (beliefs_dir / "before.json").exists()


def test_load_reports_a_missing_or_foreign_file(beliefs_dir):
    with pytest.raises(FileNotFoundError, match="before"):
        beliefs.load("before")
    (beliefs_dir / "before.json").write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a saved answers file"):
        beliefs.load("before")
    (beliefs_dir / "before.json").write_text("{not json")
    with pytest.raises(ValueError):
        beliefs.load("before")


# --------------------------------------------------------------------------- before and after
def test_compare_gives_the_change_per_misconception_across_the_two_forms():
    result = beliefs.compare(inverted("A"), key(form="B"))
    assert all(r == (0.0, 1.0, 1.0) for r in result.values())


def test_after_is_one_call_saving_comparing_and_explaining(beliefs_dir, capsys):
    beliefs.save(inverted("A"), phase="before")
    answers = key(form="B")
    wrong = beliefs.items_of("M8", "B")[0]
    answers[wrong.id]["answer"] = not wrong.answer
    result = beliefs.after(answers)
    assert json.loads((beliefs_dir / "after.json").read_text())["form"] == "B"
    assert result["M1"] == (0.0, 1.0, 1.0) and result["M8"][1] == pytest.approx(3 / 4)
    out = capsys.readouterr().out
    assert wrong.explanation in out and beliefs.items_of("M1", "B")[0].explanation not in out
    assert beliefs.items_of("M1", "A")[0].explanation in out  # form A's wrong answers, explained at last


def test_a_before_saved_by_the_old_bank_is_not_compared(beliefs_dir, capsys):
    (beliefs_dir / "before.json").write_text(json.dumps({
        "format": beliefs.FORMAT, "version": 1, "phase": "before",
        "answers": {"q01": {"answer": True, "confidence": 3}}}))
    with pytest.raises(ValueError, match="older version"):
        beliefs.load("before")
    assert beliefs.after(key(form="B")) == {m: 1.0 for m in MISCONCEPTIONS}


def test_after_without_a_before_still_shows_the_result(beliefs_dir, capsys):
    scores = beliefs.after(key(form="B"))
    assert scores == {m: 1.0 for m in MISCONCEPTIONS}
    assert "No 'before'" in capsys.readouterr().out


def test_plot_draws_one_bar_per_misconception_and_phase():
    import matplotlib.pyplot as plt

    from course.science import plots

    ax = plots.belief_comparison(beliefs.score(inverted()), beliefs.score(key()), n_items=beliefs.n_items())
    assert len(ax.patches) == 2 * len(MISCONCEPTIONS)
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"before", "after"}
    ax1 = plots.belief_comparison(beliefs.score(key()), n_items=beliefs.n_items())
    assert len(ax1.patches) == len(MISCONCEPTIONS)
    plt.close("all")


def test_show_result_does_not_reveal_which_items_were_right(capsys):
    import matplotlib.pyplot as plt

    beliefs.show_result(inverted())
    out = capsys.readouterr().out
    assert not any(i.id in out for i in beliefs.ITEMS) and not any(i.explanation in out for i in beliefs.ITEMS)
    assert beliefs.show_result({}) == {}
    plt.close("all")


# --------------------------------------------------------------------------- a cohort
def test_aggregate_pools_valid_answers_of_a_cohort():
    partial = {i: e for i, e in key().items() if beliefs.BY_ID[i].misconception != "M2"}
    cohort = [key(), inverted(), partial, "garbage", {"q01": {"answer": "maybe", "confidence": 2}}]
    shares = beliefs.aggregate(cohort)
    assert shares["M1"] == pytest.approx(2 / 3) and shares["M2"] == pytest.approx(1 / 2)
    detail = beliefs.aggregate(cohort, detail=True)
    assert detail["M2"]["learners"] == 2 and detail["M1"]["learners"] == 3
    assert detail["M1"]["firmly_wrong"] == pytest.approx(1 / 3)
    assert math.isnan(beliefs.aggregate([])["M4"])


# --------------------------------------------------------------------------- exercise 00
def test_completion_check_passes_complete_answers_even_when_wrong():
    for assignment, form in (("00-welcome", "A"), ("10-wrap-up", "B")):
        for half in ("first-half", "second-half"):
            for answers in (key(form=form), inverted(form), key(confidence=1, form=form)):
                task = f"{assignment}/{half}"
                assert evaluate(task, answers).passed and evaluate(task, answers, hidden=True).passed


def test_a_form_answered_in_the_wrong_exercise_is_not_complete():
    assert not evaluate("10-wrap-up/first-half", key(form="A")).passed
    assert not evaluate("00-welcome/first-half", key(form="B")).passed


def test_completion_check_fails_with_the_missing_items_named():
    answers = key()
    answers["a20"] = {"answer": True, "confidence": None}
    assert evaluate("00-welcome/first-half", answers).passed
    verdict = evaluate("00-welcome/second-half", answers)
    assert not verdict.passed and "a20" in verdict.seen and "completion" in verdict.why
    assert not evaluate("00-welcome/first-half", {}).passed
    assert not evaluate("00-welcome/first-half", [1, 2]).passed


def _answer_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


class _EmptyForm:
    """The widget form of an answer cell, with nothing ticked: `write` gives the typed answers back."""

    def write(self, answers, **_):
        return answers


@pytest.mark.parametrize("assignment, form", [("00-welcome", "A"), ("10-wrap-up", "B")])
def test_the_solution_holds_the_correct_answers_and_the_release_only_blanks(assignment, form):
    env = {"form_first": _EmptyForm(), "form_second": _EmptyForm()}
    for src in _answer_cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb"):
        if "answers" in src:
            exec(src, env)  # noqa: S102 - our own notebook's plain dict literals
    assert env["answers"] == key(confidence=3, form=form)
    blank = {"form_first": _EmptyForm(), "form_second": _EmptyForm()}
    for src in _answer_cells(ROOT / "exercises" / assignment / f"{assignment}.ipynb"):
        if "answers" not in src:
            continue
        try:
            exec(src, blank)  # noqa: S102
        except NotImplementedError:
            pass
    assert set(blank["answers"]) == set(beliefs.FORMS[form])
    assert all(e == {"answer": None, "confidence": None} for e in blank["answers"].values())

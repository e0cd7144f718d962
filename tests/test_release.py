"""nbgrader round trip: exercises/ is what `course release` generates; solutions score full marks, blanks zero."""
from __future__ import annotations

import filecmp

import pytest
from conftest import ROOT, assignment_ids

from course.grader import release, selfcheck

ALLOWED_BLANK_ERRORS = {"NotImplementedError", "NameError", "CheckFailed", "AssertionError"}
PILOT = "01-ml-recap"  # the default tier's full round trip; the slow tier does every assignment


def test_exercises_are_exactly_what_release_generates(tmp_path):
    release.build_release(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "exercises") for p in (ROOT / "exercises").rglob("*") if p.is_file()
                       and ".ipynb_checkpoints" not in p.parts)
    assert committed == generated, "exercises/ holds other files than the release: run `course release`"
    stale = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, ROOT / "exercises" / p, shallow=False)]
    assert not stale, f"exercises/ is stale for {stale}: run `course release` and commit the result"


def _round_trip(assignment):
    solution = selfcheck.check(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    assert solution.tasks, f"{assignment}: no auto-graded tasks"
    assert solution.score == solution.max_score > 0, solution.report()
    blank = selfcheck.check(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    assert blank.max_score == solution.max_score
    assert blank.score == 0, blank.report()
    unexpected = [(i, e) for i, e in blank.errors() if e not in ALLOWED_BLANK_ERRORS]
    assert not unexpected, f"{assignment}: the blank fails in other ways than its stubs: {unexpected}"
    not_run = [i for i, c in enumerate(blank.graded.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not not_run, f"{assignment}: cells {not_run} were never executed (kernel death or timeout?)"


def test_round_trip_of_the_pilot_assignment():
    _round_trip(PILOT)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [a for a in assignment_ids() if a != PILOT])
def test_round_trip(assignment):
    _round_trip(assignment)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 99])
def test_solutions_hold_under_other_grading_seeds(seed):
    for assignment in assignment_ids():
        result = selfcheck.check(ROOT / "solutions" / assignment / f"{assignment}.ipynb", seed=seed)
        assert result.score == result.max_score, result.report()


@pytest.mark.parametrize("assignment", assignment_ids())
def test_answered_types_every_solution_answer_into_the_release_without_markers(assignment):
    import nbformat

    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = release.typed_answers(solution)
    assert answers and not any("### BEGIN SOLUTION" in a or "### END SOLUTION" in a for a in answers.values())
    before = nbformat.writes(blank)
    typed = release.answered(blank, answers)
    gid = lambda c: c.metadata.get("nbgrader", {}).get("grade_id")  # noqa: E731
    assert {gid(c): c.source for c in typed.cells if gid(c) in answers} == answers
    assert [gid(c) for c in typed.cells] == [gid(c) for c in blank.cells], "cells neither added nor lost"
    assert all(c.source == b.source for c, b in zip(typed.cells, blank.cells) if gid(c) not in answers)
    assert nbformat.writes(blank) == before, "the release itself is left as it was (a copy is typed into)"
    with pytest.raises(KeyError, match="no answer cell with grade id nope"):
        release.answered(blank, {"nope": "x = 1"})

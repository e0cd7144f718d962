"""Shared by the red-team tests of exercises 03 and 05: a check's verdict at any data seed, and a `course grade` batch."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from course.checks import CheckFailed, get
from course.checks.feedback import Checker
from course.grader import release

ROOT = Path(__file__).resolve().parents[2]


def passes(task_id: str, answer, seed: int) -> tuple:
    """(passed, what was seen) for an answer, with the check's data drawn from `seed`."""
    t = get(task_id)
    try:
        t.fn(answer, seed, Checker(t.id, t.misconceptions, True))
        return True, ""
    except CheckFailed as e:
        return False, f"{e.verdict.expected} / seen {e.verdict.seen}"
    except NotImplementedError:
        return False, "not attempted"


def sweep(task_id: str, answers: dict, seeds) -> dict:
    """For each answer name, the seeds at which the verdict was not the wanted one (with what was seen)."""
    wrong = {}
    for seed in seeds:
        for name, (answer, wanted) in answers.items():
            ok, seen = passes(task_id, answer, seed)
            if ok != wanted:
                wrong.setdefault(name, []).append((seed, seen[:200]))
    return wrong


def submission(assignment: str, answers: dict):
    """The released notebook with the solution's answers typed in, some replaced by `answers` (grade id -> source)."""
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    return release.answered(blank, {**release.typed_answers(solution), **answers})


def grade_batch(assignment: str, learners: dict, tmp_path: Path, seed: int) -> dict:
    """`course grade` (the cohort path, sandboxed) on notebooks {learner: notebook} with a private seed."""
    from course.grader import cohort

    subs = tmp_path / "subs"
    subs.mkdir()
    for name, nb in learners.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    summary = cohort.grade(assignment, subs, seed=seed, course_dir=course_dir, progress=False)
    shutil.rmtree(subs)
    return {r.student: r for r in summary.graded}

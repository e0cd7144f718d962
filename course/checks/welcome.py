"""Checks of exercise 00 (the mental-model check): graded for completion, never for being right.

Each half of the questionnaire (`course.science.beliefs.HALVES`) is one task: every item of the half must
have an answer (True/False) and a confidence (1-4), and no key may be unknown. The per-misconception
result is shown and kept by the notebook (`beliefs.show_result`, `beliefs.save`), not graded.
Exercise 10 can grade its "after" the same way with `completion(answers, ids, chk)`.
"""
from __future__ import annotations

from course.checks import task
from course.science import beliefs

A = "00-welcome"


def completion(answers, ids, chk):
    """Expect a complete, valid answer for every item in `ids`; a verdict naming every problem otherwise."""
    found = beliefs.problems(answers, ids)
    chk.expect(
        not found,
        expected=f"an answer (True or False) and a confidence (1-4) for each of {ids[0]} ... {ids[-1]}",
        seen="; ".join(found),
        why="this check is graded for completion, not for being right: an honest guess at confidence 1 "
        "scores full marks, and your before/after comparison at the end of the course needs every item",
    )
    return chk.passed(f"{len(ids)} items answered ({ids[0]} ... {ids[-1]}); your result is shown below, not graded")


def register_completion_tasks(assignment: str) -> None:
    """The two completion-graded halves of the mental-model check, for exercise 00 and exercise 10."""
    for half in ("first", "second"):
        ids = beliefs.HALVES[half]

        def check_half(answers, seed, chk, ids=ids):
            return completion(answers, ids, chk)

        task(f"{assignment}/{half}-half", answer="answers", kind="value",
             misconceptions=beliefs.misconceptions_of(ids))(check_half)


register_completion_tasks(A)

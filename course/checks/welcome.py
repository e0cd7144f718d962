"""Checks of exercise 00 (the mental-model check): graded for completion, never for being right.

Each half of the questionnaire (`course.beliefs.HALVES`) is one task: every item of the half must
have an answer (True/False) and a confidence (1-4), and no key may be unknown. The per-misconception
result is shown and kept by the notebook (`beliefs.show_result`, `beliefs.save`), not graded.
Exercise 10 can grade its "after" the same way with `completion(answers, ids, chk)`.
"""
from __future__ import annotations

from course import beliefs
from course.checks import task

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


_FIRST = beliefs.HALVES["first"]
_SECOND = beliefs.HALVES["second"]


@task(f"{A}/first-half", answer="answers", kind="value", misconceptions=beliefs.misconceptions_of(_FIRST))
def check_first_half(answers, seed, chk):
    return completion(answers, _FIRST, chk)


@task(f"{A}/second-half", answer="answers", kind="value", misconceptions=beliefs.misconceptions_of(_SECOND))
def check_second_half(answers, seed, chk):
    return completion(answers, _SECOND, chk)

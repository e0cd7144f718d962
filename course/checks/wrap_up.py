"""Checks of exercise 10 (wrap-up): the mental-model check again, graded for completion only.

The same item bank as exercise 00 (`course.beliefs`), in the same two halves, checked by the same
completion rule (`course.checks.welcome.completion`): every item answered (True/False) with a
confidence (1-4). Being right is never graded; the before/after comparison is shown, not scored.
The threat-model task of the exercise is graded by hand with its rubric.
"""
from __future__ import annotations

from course import beliefs
from course.checks import task
from course.checks.welcome import completion

A = "10-wrap-up"
_FIRST = beliefs.HALVES["first"]
_SECOND = beliefs.HALVES["second"]


@task(f"{A}/first-half", answer="answers", kind="value", misconceptions=beliefs.misconceptions_of(_FIRST))
def check_first_half(answers, seed, chk):
    return completion(answers, _FIRST, chk)


@task(f"{A}/second-half", answer="answers", kind="value", misconceptions=beliefs.misconceptions_of(_SECOND))
def check_second_half(answers, seed, chk):
    return completion(answers, _SECOND, chk)

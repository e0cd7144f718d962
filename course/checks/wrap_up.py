"""Checks of exercise 10 (wrap-up): the mental-model check again, graded for completion only.

Form B of the item bank (`course.science.beliefs`; exercise 00 takes the parallel form A), in two halves, checked by the same
completion rule (`course.checks.welcome.completion`): every item answered (True/False) with a
confidence (1-4). Being right is never graded; the before/after comparison is shown, not scored.
The threat-model task of the exercise is graded by hand with its rubric.
"""
from __future__ import annotations

from course.checks.welcome import register_completion_tasks

register_completion_tasks("10-wrap-up", "B")

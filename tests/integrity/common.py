"""Helpers of the integrity suite: a task's verdict at any data seed, and a sweep over seeds."""
from __future__ import annotations

from course import checks
from course.checks.feedback import Checker, CheckFailed

SEEDS = tuple(range(20))  # issue 13: tolerances hold for correct alternatives at every one of 20 seeds or more


def verdict_at(task_id: str, answer, seed: int, hidden: bool = True):
    """The verdict of a task's check on `answer` with its data drawn from `seed` (what a grading seed would give)."""
    t = checks.get(task_id)
    chk = Checker(task_id, t.misconceptions, hidden)
    try:
        return t.fn(answer, seed, chk) or chk.passed("all expectations met")
    except CheckFailed as e:
        return e.verdict
    except NotImplementedError:
        return checks.not_attempted(t, hidden)


def failing_seeds(task_id: str, answer, seeds=SEEDS) -> list:
    """The seeds at which `answer` fails, with the reason."""
    out = []
    for s in seeds:
        v = verdict_at(task_id, answer, s)
        if not v.passed:
            out.append((s, v.message()[:300]))
    return out

"""What graded cells say: a verdict that names what was expected, what was seen, and why it matters.

Every check in `course.checks` reports through `expect`; a failed expectation raises
`CheckFailed` (an AssertionError, so nbgrader scores the cell 0) whose message has the same
three parts and the misconception it is about, from the catalogue in `MISCONCEPTIONS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from course.ground.misconceptions import MISCONCEPTIONS


class Failure(str, Enum):
    """Why a graded task did not pass: the kinds of failure, defined once.

    The learner's feedback and the cohort's reports both use these. Only a belief error carries
    the task's misconception label: a slip in the arithmetic says nothing about what the learner
    believes, and labelling it would teach the wrong lesson.
    """

    NOT_ATTEMPTED = "not attempted"
    CRASHED = "crashed"
    COMPUTATION = "computation error"
    BELIEF = "belief error"
    WRONG_ASSIGNMENT = "wrong assignment"

    @property
    def meaning(self) -> str:
        return FAILURE_MEANINGS[self]

    @property
    def shows_belief(self) -> bool:
        return self is Failure.BELIEF


FAILURE_MEANINGS = {
    Failure.NOT_ATTEMPTED: "no answer yet: the stub still raises NotImplementedError, or the answer's name is not defined",
    Failure.CRASHED: "the notebook stopped before the check could judge it: a timeout, the kernel died, a limit "
                     "of the grader, or an error outside the learner's answer",
    Failure.COMPUTATION: "the answer ran but its result is not well-formed or not what the task computes: an "
                         "exception, NaN or inf, a wrong shape, type or key, a wrong formula",
    Failure.BELIEF: "a well-formed result that shows the misconception the task targets",
    Failure.WRONG_ASSIGNMENT: "the notebook is not this assignment's (another exercise, or renamed past recognition)",
}


class CheckFailed(AssertionError):
    """A graded check did not pass; the message says what, why, and which belief it tests."""

    def __init__(self, verdict: "Verdict"):
        self.verdict = verdict
        super().__init__(verdict.message())


@dataclass
class Verdict:
    task: str
    passed: bool
    expected: str = ""
    seen: str = ""
    why: str = ""
    misconceptions: list = field(default_factory=list)
    hidden: bool = False

    def message(self) -> str:
        tag = ", ".join(f"{m} ({MISCONCEPTIONS.get(m, '?')})" for m in self.misconceptions)
        scope = "hidden check" if self.hidden else "check"
        if self.passed:
            return f"PASSED {self.task} ({scope}): {self.seen}"
        lines = [
            f"FAILED {self.task} ({scope})",
            f"  expected: {self.expected}",
            f"  seen:     {self.seen}",
        ]
        if self.why:
            lines.append(f"  why it matters: {self.why}")
        if tag:
            lines.append(f"  misconception: {tag}")
        return "\n".join(lines)


def fmt(value) -> str:
    """A short, readable rendering of a value for a feedback message."""
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Checker:
    """Collects the expectations of one check; the first unmet one raises CheckFailed."""

    def __init__(self, task: str, misconceptions, hidden: bool = False):
        self.task = task
        self.misconceptions = list(misconceptions)
        self.hidden = hidden

    def expect(self, condition: bool, *, expected: str, seen: str, why: str = "") -> None:
        if not bool(condition):
            raise CheckFailed(Verdict(self.task, False, expected, seen, why, self.misconceptions, self.hidden))

    def passed(self, summary: str) -> Verdict:
        return Verdict(self.task, True, seen=summary, misconceptions=self.misconceptions, hidden=self.hidden)

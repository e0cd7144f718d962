"""What graded cells say: a verdict that names what was expected, what was seen, and why it matters.

Every check in `course.checks` reports through `expect`; a failed expectation raises
`CheckFailed` (an AssertionError, so nbgrader scores the cell 0) whose message has the same
three parts and the misconception it is about, from the catalogue in `MISCONCEPTIONS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from course.ground.misconceptions import MISCONCEPTIONS


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

"""What graded cells say: a verdict that names what was expected, what was seen, and why it matters.

Every check in `course.checks` reports through a `Checker`; a failed expectation raises
`CheckFailed` (an AssertionError, so nbgrader scores the cell 0) whose message has the same
three parts, the case that failed (by its role), the kind of failure (`Failure`, defined here
once for the feedback and the cohort reports) and, for a belief error only, the misconception
it is about, from the catalogue in `MISCONCEPTIONS`.
"""
from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import NoReturn

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
    """A graded check did not pass; the message says what, why, and (for a belief error) which belief.

    In a notebook, IPython shows the message itself instead of a traceback (`_render_traceback_`):
    the learner sees the feedback, not the checking code's call stack.
    """

    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        super().__init__(verdict.message())

    def _render_traceback_(self) -> list:
        lines = self.verdict.message().splitlines()
        return [f"\x1b[1;31m{lines[0]}\x1b[0m", *lines[1:]]


@dataclass
class Verdict:
    task: str
    passed: bool
    expected: str = ""
    seen: str = ""
    why: str = ""
    misconceptions: list = field(default_factory=list)
    hidden: bool = False
    failure: Failure | None = None  # None when passed; a failed verdict without one is a belief error
    case: str = ""  # the case that failed, named by its role ("the larger budget"), when a check has several

    def __post_init__(self):
        if not self.passed and self.failure is None:
            self.failure = Failure.BELIEF

    def message(self) -> str:
        scope = "hidden check" if self.hidden else "check"
        if self.passed:
            return _wrapped(f"PASSED {self.task} ({scope}): ", self.seen)
        lines = [f"FAILED {self.task} ({scope}): {self.failure.value}"]
        if self.case:
            lines.append(_wrapped("  case:     ", self.case))
        if self.expected:
            lines.append(_wrapped("  expected: ", self.expected))
        lines.append(_wrapped("  seen:     ", self.seen))
        if self.why:
            label = "what to do" if self.failure is Failure.NOT_ATTEMPTED else "why it matters"
            lines.append(_wrapped(f"  {label}: ", self.why))
        if self.failure.shows_belief and self.misconceptions:
            tag = ", ".join(f"{m} ({MISCONCEPTIONS.get(m, '?')})" for m in self.misconceptions)
            lines.append(_wrapped("  misconception: ", tag))
        return "\n".join(lines)


WIDTH = 100  # feedback lines wrap here, under their label, instead of at the notebook's edge


def _wrapped(label: str, text: str) -> str:
    indent = " " * min(len(label), 18)
    return textwrap.fill(f"{label}{text}", WIDTH, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def fmt(value) -> str:
    """A short, readable rendering of a value for a feedback message."""
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Checker:
    """Collects the expectations of one check; the first unmet one raises CheckFailed.

    `expect` states what the task is about: when it fails, the result shows the belief, and the
    message names the misconception. `require` states that the result is well-formed and computed
    as asked (shape, type, finite numbers, the right arithmetic): when it fails, that is a
    computation error, with its "why it matters" but no misconception label. A check that runs
    several cases names the one being checked with `case("the larger budget")`.
    """

    def __init__(self, task: str, misconceptions, hidden: bool = False):
        self.task = task
        self.misconceptions = list(misconceptions)
        self.hidden = hidden
        self.current_case = ""

    @contextmanager
    def case(self, role: str):
        """Name the case the expectations inside are about, by its role (e.g. "the larger budget, 0.75")."""
        outer, self.current_case = self.current_case, role
        try:
            yield self
        finally:
            self.current_case = outer

    def fail(self, failure: Failure, *, expected: str = "", seen: str, why: str = "") -> NoReturn:
        raise CheckFailed(Verdict(self.task, False, expected, seen, why, self.misconceptions, self.hidden,
                                  Failure(failure), self.current_case))

    def expect(self, condition: bool, *, expected: str, seen: str, why: str = "") -> None:
        """The result must show the task's point; if not, a belief error."""
        if not bool(condition):
            self.fail(Failure.BELIEF, expected=expected, seen=seen, why=why)

    def require(self, condition: bool, *, expected: str, seen: str, why: str = "") -> None:
        """The result must be well-formed and computed as the task asks; if not, a computation error."""
        if not bool(condition):
            self.fail(Failure.COMPUTATION, expected=expected, seen=seen, why=why)

    def attempted(self, condition: bool, *, seen: str, why: str = "") -> None:
        """The answer must be there at all (not the stub's None); if not, not attempted."""
        if not bool(condition):
            self.fail(Failure.NOT_ATTEMPTED, seen=seen, why=why or "replace the placeholder with your answer and run its cell")

    def passed(self, summary: str) -> Verdict:
        return Verdict(self.task, True, seen=summary, misconceptions=self.misconceptions, hidden=self.hidden)

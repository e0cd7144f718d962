"""`course check`: self-check one saved learner notebook on the same trusted path as `course grade`.

The notebook runs in a fresh kernel inside the grading sandbox (`course.grader.sandbox`), and the checks,
visible and hidden, judge its answers *outside* the learner's kernel (`course.grader.cohort.run_and_judge`),
exactly as cohort grading does. So rebinding `check`, patching a check or numpy inside the notebook changes
nothing: the learner sees the verdict the instructor will see (the instructor's private grading seed aside).
Where bubblewrap is missing or does not work (macOS, Windows, a container without user namespaces), the
notebook runs without the sandbox, and the report says so loudly; the judging is still outside the kernel.
"""
from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from course.checks.feedback import Failure
from course.grader.course_dir import GradingError, assignments, read_notebook

# --------------------------------------------------------------------------- self-check
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader_config.py's ClearSolutions.text_stub: an unanswered text task


@dataclass
class TaskResult:
    grade_id: str
    score: float
    max_score: float
    feedback: str


@dataclass
class PendingTask:
    """A task graded by hand: the self-check cannot score it, only say so and show its rubric."""

    grade_id: str
    max_score: float
    rubric: str
    answered: bool


@dataclass
class CheckResult:
    notebook: Path
    assignment: str
    tasks: list = field(default_factory=list)
    graded: object = None  # the autograded notebook (nbformat), for tests and tools
    pending: list = field(default_factory=list)  # PendingTask: graded by hand, not scored here
    flags: list = field(default_factory=list)  # what the grader would flag (tampered cells, timeouts, ...)
    unsandboxed: str = ""  # the loud note when the notebook ran without the sandbox

    def errors(self) -> list:
        """(cell index, error name) of every code cell that raised while grading."""
        return [
            (i, out.get("ename", ""))
            for i, c in enumerate(self.graded.cells if self.graded is not None else [])
            for out in c.get("outputs", [])
            if out.get("output_type") == "error"
        ]

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tasks)

    @property
    def max_score(self) -> float:
        """The auto-graded points (what the self-check can score)."""
        return sum(t.max_score for t in self.tasks)

    @property
    def pending_points(self) -> float:
        """The points graded by hand: not part of `score`, never claimed."""
        return sum(t.max_score for t in self.pending)

    def report(self) -> str:
        lines = [f"Self-check of {self.notebook} (assignment {self.assignment})", ""]
        if self.unsandboxed:
            lines[1:1] = ["", "!" * 8 + " " + self.unsandboxed]
        width = max([len(t.grade_id) for t in self.tasks + self.pending] + [4])
        for t in self.tasks:
            lines.append(f"  {t.grade_id:<{width}}  {t.score:g} / {t.max_score:g}")
            for fb in t.feedback.splitlines():
                lines.append(f"      {fb}")
        for t in self.pending:
            state = "answered" if t.answered else "not answered yet"
            lines.append(f"  {t.grade_id:<{width}}  pending / {t.max_score:g}  (graded by hand; {state})")
            if t.rubric:
                lines.append("      assess your answer against the rubric:")
                lines += [f"      {line}" for line in textwrap.wrap(t.rubric, 96)]
        if self.flags:
            lines += ["", "Flags the grader would raise:"] + [f"  - {f}" for f in self.flags]
        lines += ["", f"Score: {self.score:g} / {self.max_score:g} auto-graded points (hidden tests included)"]
        if self.pending:
            total = self.max_score + self.pending_points
            lines.append(f"Pending: {self.pending_points:g} more point(s) graded by hand "
                         f"({', '.join(t.grade_id for t in self.pending)}): {self.score:g} of {total:g} so far")
        return "\n".join(lines)


def recognise(notebook: Path) -> str:
    """The assignment a notebook belongs to, from its file name (e.g. 01-ml-recap-Copy1.ipynb)."""
    known = assignments()
    stem = notebook.stem
    if stem in known:
        return stem
    prefixed = [a for a in known if stem.startswith(a)]
    if prefixed:
        return max(prefixed, key=len)
    m = re.match(r"(\d\d)", stem)
    numbered = [a for a in known if m and a.startswith(m.group(1) + "-")]
    if len(numbered) == 1:
        return numbered[0]
    raise GradingError(
        f"cannot tell which assignment {notebook.name!r} is: its name should start with one of {known}"
    )


WITHOUT_SANDBOX = ("NOTE: this self-check ran your notebook WITHOUT the sandbox ({why}): your code ran as you, "
                   "with your files and network. The verdicts were still judged outside your notebook's kernel.")


def sandbox_for_check():
    """(sandbox, why it is not isolated or ""): bubblewrap when it works here, else the unisolated fallback."""
    from course.grader.sandbox import Sandbox

    sandbox = Sandbox()
    why = sandbox.probe()
    if why:
        sandbox = Sandbox(use_bwrap=False)
    return sandbox, why


def check(notebook, *, seed: int | None = None) -> CheckResult:
    """Grade one saved learner notebook as `course grade` would: sandboxed run, trusted judging, hidden tests."""
    from course import checks
    from course.checks import variants
    from course.grader import cohort

    path = Path(notebook).expanduser().resolve()
    nb = read_notebook(path)
    assignment = recognise(path)
    # The grading seed if one is given, and the release seed that a private release records in the
    # notebook's metadata (its value tasks show that release's variants), unless the caller set one.
    wanted = {checks.SEED_VARIABLE: None if seed is None else str(seed)}
    released = nb.metadata.get("course", {}).get("release_seed")
    if released is not None and variants.RELEASE_SEED_VARIABLE not in os.environ:
        wanted[variants.RELEASE_SEED_VARIABLE] = str(released)
    saved = {name: os.environ.get(name) for name, value in wanted.items() if value is not None}
    os.environ.update({name: value for name, value in wanted.items() if value is not None})
    try:
        checks.grading_seed()  # fails early on a malformed seed
        source = cohort.Source.load(assignment)
        sandbox, why = sandbox_for_check()
        judged = cohort.run_and_judge(source, nb, sandbox)
    finally:
        from course.grader import kernels

        kernels.POOL.close()  # one notebook: its kernel server is not kept for another
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    graded = cohort.with_verdicts(judged.notebook(), {"tests": judged.tests, "cells": judged.cells})
    tasks = [TaskResult(gid, t["score"], t["points"], _feedback(t)) for gid, t in judged.tests.items()]
    pending = []
    for c in source.notebook.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade"):
            gid = meta["grade_id"]
            mine = next((x for x in graded.cells if x.metadata.get("nbgrader", {}).get("grade_id") == gid), {})
            pending.append(PendingTask(gid, float(meta.get("points", 0)), _rubric_before(graded, gid), _answered(mine)))
    return CheckResult(path, assignment, tasks, graded, pending, flags=judged.flags,
                       unsandboxed=WITHOUT_SANDBOX.format(why=why) if why else "")


def _feedback(test: dict) -> str:
    """A test's feedback: the checks' messages, with the kind of failure named when a message does not say it."""
    text = "\n\n".join(test["messages"])
    kind = test.get("failure")
    if kind and kind in (Failure.NOT_ATTEMPTED.value, Failure.CRASHED.value) and kind not in text:
        text = f"{kind}: {text}"
    return text


def _rubric_before(nb, grade_id: str) -> str:
    """The rubric of a manually graded answer: the paragraph starting "Rubric" in the two cells above it."""
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    i = ids.index(grade_id) if grade_id in ids else 0
    for cell in reversed(nb.cells[max(0, i - 2):i]):
        text = cell.source
        at = text.find("Rubric")
        if at >= 0:
            start = text.rfind("\n\n", 0, at) + 2 if text.rfind("\n\n", 0, at) >= 0 else 0
            end = text.find("\n\n", at)
            paragraph = text[start:end if end >= 0 else len(text)]
            return " ".join(paragraph.replace("*", "").split())
    return ""


def _answered(cell) -> bool:
    source = cell.get("source", "").strip() if cell else ""
    return bool(source) and source != TEXT_STUB


def check_from_notebook(notebook: str = "") -> None:
    """Self-check from the notebook's own last cell: grades the *saved* file next to the kernel."""
    if os.environ.get("NBGRADER_EXECUTION"):
        print("(self-check skipped: this notebook is being graded by nbgrader)")
        return
    if os.environ.get("COURSE_NO_SELF_CHECK"):
        print("(self-check skipped: COURSE_NO_SELF_CHECK is set, e.g. by `course bench` or the tests)")
        return
    here = Path.cwd()
    if notebook:
        path = Path(notebook)
    else:
        candidates = sorted(here.glob("[0-9][0-9]-*.ipynb"))
        if len(candidates) != 1:
            raise GradingError("say which notebook to check, e.g. course.check('01-ml-recap.ipynb')")
        path = candidates[0]
    print(f"Grading the saved file {path} (save with Ctrl-S first: unsaved changes are not seen) ...")
    # a separate process: nothing defined or patched in this kernel can reach the checks
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "course", "check", str(path)], capture_output=True, text=True, check=False)
    print(res.stdout.rstrip())
    if res.returncode != 0 or res.stderr.strip():
        print(res.stderr.rstrip())

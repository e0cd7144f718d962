"""nbgrader, run for the course: generate the release, and self-check one learner notebook.

`release` regenerates exercises/ from solutions/ (nbgrader generate_assignment, in a scratch
course folder, so the repository gets no gradebook). `check` grades one saved notebook with
nbgrader's autograder (hidden tests included) in a scratch course folder and reports a score
and feedback per task. Both load the repository's own nbgrader_config.py.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course.grader.course_dir import (
    STUDENT,
    GradingError,
    assignments,
    nbgrader_api,
    quiet_env,
    read_notebook,
    result_or_raise,
    scratch_course,
)
from course.grader.release import generate


# --------------------------------------------------------------------------- self-check
@dataclass
class TaskResult:
    grade_id: str
    score: float
    max_score: float
    feedback: str


@dataclass
class CheckResult:
    notebook: Path
    assignment: str
    tasks: list = field(default_factory=list)
    graded: object = None  # the autograded notebook (nbformat), for tests and tools

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
        return sum(t.max_score for t in self.tasks)

    def report(self) -> str:
        lines = [f"Self-check of {self.notebook} (assignment {self.assignment})", ""]
        width = max([len(t.grade_id) for t in self.tasks] + [4])
        for t in self.tasks:
            lines.append(f"  {t.grade_id:<{width}}  {t.score:g} / {t.max_score:g}")
            for fb in t.feedback.splitlines():
                lines.append(f"      {fb}")
        lines += ["", f"Score: {self.score:g} / {self.max_score:g} (auto-graded points, hidden tests included)"]
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


def _feedback_of(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            name, value = out.get("ename", ""), out.get("evalue", "")
            if name == "NotImplementedError":
                return "not answered yet: the function above still raises NotImplementedError"
            if name == "NameError":
                return f"{value}: answer (and run) the cell that defines it"
            return value if name in ("CheckFailed", "AssertionError") and value else f"{name}: {value}".strip()
    texts = [out.get("text", "") for out in cell.get("outputs", []) if out.get("output_type") == "stream"]
    return "".join(texts).strip()


def check(notebook, *, seed: int | None = None) -> CheckResult:
    """Grade one saved learner notebook with the autograder, hidden tests included."""
    import nbformat

    path = Path(notebook).expanduser().resolve()
    nb = read_notebook(path)
    assignment = recognise(path)
    env_seed = os.environ.get("COURSE_GRADING_SEED")
    if seed is not None:
        os.environ["COURSE_GRADING_SEED"] = str(seed)
    try:
        with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
            root = scratch_course(Path(tmp), [assignment])
            generate(root, assignment)
            sub = root / "submitted" / STUDENT / assignment
            sub.mkdir(parents=True)
            with open(sub / f"{assignment}.ipynb", "w", encoding="utf-8") as f:
                nbformat.write(nb, f)
            api = nbgrader_api(root)
            with quiet_env() as log:
                result = api.autograde(assignment, STUDENT, force=True, create=True)
            result_or_raise(result, f"autograde {path.name}", log.getvalue())
            graded = nbformat.read(root / "autograded" / STUDENT / assignment / f"{assignment}.ipynb", as_version=4)
            return CheckResult(path, assignment, _task_results(root, assignment, graded), graded)
    finally:
        if seed is not None:
            if env_seed is None:
                os.environ.pop("COURSE_GRADING_SEED", None)
            else:
                os.environ["COURSE_GRADING_SEED"] = env_seed


def _task_results(root: Path, assignment: str, graded) -> list:
    from nbgrader.api import Gradebook

    cells = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c
        for c in graded.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }
    results = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(assignment, assignment, STUDENT)
        for g in sorted(nb.grades, key=lambda g: list(cells).index(g.name) if g.name in cells else 0):
            meta = cells.get(g.name, {}).get("metadata", {}).get("nbgrader", {}) if g.name in cells else {}
            if meta.get("solution") or g.auto_score is None:
                continue  # a manually graded answer: not part of the self-check
            results.append(TaskResult(g.name, float(g.auto_score), float(g.max_score), _feedback_of(cells.get(g.name, {}))))
    return results


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
    print(check(path).report())

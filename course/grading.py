"""nbgrader, run for the course: generate the release, and self-check one learner notebook.

`release` regenerates exercises/ from solutions/ (nbgrader generate_assignment, in a scratch
course folder, so the repository gets no gradebook). `check` grades one saved notebook with
nbgrader's autograder (hidden tests included) in a scratch course folder and reports a score
and feedback per task. Both load the repository's own nbgrader_config.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
CONFIG = ROOT / "nbgrader_config.py"
STUDENT = "learner"


class GradingError(Exception):
    """A notebook could not be graded (missing, corrupt, unknown assignment, nbgrader failure)."""


def assignments() -> list:
    """The assignment ids: the folders of solutions/ that hold a notebook of the same name."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file()) if SOLUTIONS.is_dir() else []


@contextlib.contextmanager
def _quiet_env():
    """nbgrader runs a bare `alembic`; the running Python's bin/ must be on PATH. Capture its logs."""
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old_path
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            yield buf
    finally:
        os.environ["PATH"] = old_path


def _api(course_root: Path):
    from traitlets.config.loader import PyFileConfigLoader
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    config.Exchange.root = str(course_root / "exchange")
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _result_or_raise(result: dict, what: str, log: str) -> None:
    if not result.get("success"):
        detail = (result.get("error") or "") + "\n" + (result.get("log") or "") + "\n" + log
        raise GradingError(f"nbgrader could not {what}:\n{detail.strip()[-3000:]}")


def generate(course_root: Path, assignment: str) -> None:
    """Run nbgrader generate_assignment for one assignment inside `course_root`."""
    api = _api(course_root)
    with _quiet_env() as log:
        result = api.generate_assignment(assignment, force=True, create=True)
    _result_or_raise(result, f"generate the release of {assignment}", log.getvalue())


def _scratch_course(tmp: Path, names: list) -> Path:
    root = tmp / "course"
    (root / "solutions").mkdir(parents=True)
    for name in names:
        shutil.copytree(SOLUTIONS / name, root / "solutions" / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def build_release(dest: Path, names: list | None = None) -> list:
    """Generate the release of the given assignments (default: all) into dest/<assignment>/."""
    names = names or assignments()
    unknown = set(names) - set(assignments())
    if unknown:
        raise GradingError(f"unknown assignment(s) {sorted(unknown)}; known: {assignments()}")
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        root = _scratch_course(Path(tmp), names)
        for name in names:
            generate(root, name)
            target = Path(dest) / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "exercises" / name, target)
    return names


def release(names: list | None = None) -> list:
    """Regenerate exercises/ from solutions/ (all assignments by default)."""
    return build_release(EXERCISES, names)


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


def _read_notebook(path: Path):
    import nbformat

    if not path.exists():
        raise GradingError(f"no such notebook: {path}")
    if not path.is_file():
        raise GradingError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise GradingError(f"{path} is empty (0 bytes): was it saved?")
    try:
        with open(path, encoding="utf-8") as f:
            return nbformat.read(f, as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError, ValueError) as e:
        raise GradingError(f"{path} is not a readable notebook ({type(e).__name__}: {str(e)[:200]})") from None


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
    nb = _read_notebook(path)
    assignment = recognise(path)
    env_seed = os.environ.get("COURSE_GRADING_SEED")
    if seed is not None:
        os.environ["COURSE_GRADING_SEED"] = str(seed)
    try:
        with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
            root = _scratch_course(Path(tmp), [assignment])
            generate(root, assignment)
            sub = root / "submitted" / STUDENT / assignment
            sub.mkdir(parents=True)
            with open(sub / f"{assignment}.ipynb", "w", encoding="utf-8") as f:
                nbformat.write(nb, f)
            api = _api(root)
            with _quiet_env() as log:
                result = api.autograde(assignment, STUDENT, force=True, create=True)
            _result_or_raise(result, f"autograde {path.name}", log.getvalue())
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

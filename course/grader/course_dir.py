"""The nbgrader course directory: where the instructor's source and the release live, and nbgrader's API on it.

The repository root is nbgrader's course directory (`nbgrader_config.py` at the root):
`solutions/` is the source, `exercises/` the release. Everything that runs nbgrader - the
release, the self-check, cohort grading, the benchmark - runs it in a *scratch* copy of the
course directory made by `scratch_course`, so the repository never gets a gradebook.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import threading
from pathlib import Path

from course import ROOT

SOLUTIONS = ROOT / "solutions"


EXERCISES = ROOT / "exercises"


CONFIG = ROOT / "nbgrader_config.py"


STUDENT = "learner"


class GradingError(Exception):
    """A notebook could not be graded (missing, corrupt, unknown assignment, nbgrader failure)."""


def assignments() -> list:
    """The assignment ids: the folders of solutions/ that hold a notebook of the same name."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file()) if SOLUTIONS.is_dir() else []


class _ThreadStream:
    """sys.stdout/sys.stderr that send what one thread writes inside `quiet_env` to its buffer, the rest through."""

    def __init__(self, original, local):
        self.original, self.local = original, local

    def write(self, text):
        buf = getattr(self.local, "buffer", None)
        return (buf if buf is not None else self.original).write(text)

    def flush(self):
        buf = getattr(self.local, "buffer", None)
        (buf if buf is not None else self.original).flush()

    def __getattr__(self, name):
        return getattr(self.original, name)


_CAPTURE = threading.local()
_STREAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def quiet_env():
    """Capture nbgrader's logs, in this thread only: the grader's other threads (the progress bar, a message on
    Ctrl-C) still reach the terminal while the writer runs nbgrader. nbgrader runs a bare `alembic`, so the
    running Python's bin/ goes on PATH (and stays: the same for every thread)."""
    bin_dir = str(Path(sys.executable).parent)
    with _STREAMS_LOCK:
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        if not isinstance(sys.stdout, _ThreadStream):
            sys.stdout = _ThreadStream(sys.stdout, _CAPTURE)
        if not isinstance(sys.stderr, _ThreadStream):
            sys.stderr = _ThreadStream(sys.stderr, _CAPTURE)
    outer = getattr(_CAPTURE, "buffer", None)
    buf = io.StringIO()
    _CAPTURE.buffer = buf
    try:
        yield buf
    finally:
        _CAPTURE.buffer = outer


def nbgrader_api(course_root: Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    config.Exchange.root = str(course_root / "exchange")
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def result_or_raise(result: dict, what: str, log: str) -> None:
    """Raise nbgrader's failure with its reason first (its error lines), then the end of its log."""
    if not result.get("success"):
        detail = (result.get("error") or "") + "\n" + (result.get("log") or "") + "\n" + log
        lines = [x.strip() for x in detail.splitlines() if x.strip()]
        reasons = [x for x in lines if ("Error" in x or "ERROR" in x) and not x.startswith(("File ", "Traceback"))]
        reason = reasons[-1] if reasons else (lines[-1] if lines else "no reason given")
        raise GradingError(f"nbgrader could not {what}: {reason[:300]}\n{detail.strip()[-3000:]}")


def scratch_course(tmp: Path, names: list) -> Path:
    root = tmp / "course"
    (root / "solutions").mkdir(parents=True)
    for name in names:
        shutil.copytree(SOLUTIONS / name, root / "solutions" / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def read_notebook(path: Path):
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
    except Exception as e:  # noqa: BLE001 - not JSON, JSON but no notebook (a list, no cells): all unreadable
        raise GradingError(f"{path} is not a readable notebook ({type(e).__name__}: {str(e)[:200]})") from None

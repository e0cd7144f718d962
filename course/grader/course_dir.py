"""The nbgrader course directory: where the instructor's source and the release live, and nbgrader's API on it.

The repository root is nbgrader's course directory (`nbgrader_config.py` at the root):
`solutions/` is the source, `exercises/` the release. Everything that runs nbgrader - the
release, the self-check, cohort grading, the benchmark - runs it in a *scratch* copy of the
course directory made by `scratch_course`, so the repository never gets a gradebook.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
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


@contextlib.contextmanager
def quiet_env():
    """nbgrader runs a bare `alembic`; the running Python's bin/ must be on PATH. Capture its logs."""
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old_path
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            yield buf
    finally:
        os.environ["PATH"] = old_path


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
    if not result.get("success"):
        detail = (result.get("error") or "") + "\n" + (result.get("log") or "") + "\n" + log
        raise GradingError(f"nbgrader could not {what}:\n{detail.strip()[-3000:]}")


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
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError, ValueError) as e:
        raise GradingError(f"{path} is not a readable notebook ({type(e).__name__}: {str(e)[:200]})") from None

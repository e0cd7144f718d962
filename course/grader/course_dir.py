"""The nbgrader course directory: where the instructor's source and the release live, and nbgrader's API on it.

The repository root is nbgrader's course directory (`nbgrader_config.py` at the root):
`solutions/` is the source, `exercises/` the release. Everything that runs nbgrader - the
release, the self-check, cohort grading, the benchmark - runs it in a *scratch* copy of the
course directory made by `scratch_course`, so the repository never gets a gradebook.
"""
from __future__ import annotations

import contextlib
import functools
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


_ENGINES_LOCK = threading.RLock()


@functools.cache
def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read from its migration scripts in this process.

    nbgrader stamps a new gradebook with it, and finds it by running `alembic heads` in a child process: a
    second Python that imports alembic and the migrations, about 2 CPU-s, every time a gradebook is created
    (once per grading run on a new course directory, while the kernel servers start). The head is the one
    revision no other revises; a test checks this equals what `alembic heads` prints.
    """
    import ast

    import nbgrader

    revisions, revised = set(), set()
    for script in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
                node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None  # `revision: str = ...`
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                value = ast.literal_eval(node.value)  # a string, None, or a merge's tuple or list of strings
                values = set(value) if isinstance(value, (tuple, list)) else {value} - {None}
                (revisions if target.id == "revision" else revised).update(values)
    heads = revisions - revised
    if len(heads) != 1:
        raise GradingError(f"nbgrader's gradebook migrations have {len(heads)} heads ({sorted(heads)}), not one")
    return heads.pop()


@contextlib.contextmanager
def one_engine():
    """nbgrader's gradebooks opened in this block share one database engine per URL.

    nbgrader opens the gradebook afresh for each step of each notebook (about ten times per learner in an
    autograde run). Each time it makes a new SQLAlchemy engine, reads the schema and compiles its queries
    again: about a third of what recording a learner costs. In this block the first gradebook of a URL does
    all that; the next ones the same thread opens reuse its engine (queries compiled once) and skip the
    schema check. The database file cannot change under the block: the writer makes every nbgrader call of a
    run. Same database, same rows, same transactions (each gradebook still has its own session and commits
    as nbgrader does). The attributes set here are those nbgrader 0.9.6's own `__init__` sets (a test checks).
    A gradebook created in the block is stamped with `alembic_head`, not with nbgrader's child `alembic heads`.
    """
    from nbgrader import api
    from sqlalchemy.orm import scoped_session, sessionmaker

    with _ENGINES_LOCK:
        original = api.Gradebook.__init__
        if getattr(original, "shared_engines", None) is not None:  # nested: the outer block's engines
            yield
            return
        engines: dict = {}
        owner = threading.get_ident()

        def init(self, db_url: str, course_id: str = "default_course", authenticator=None):
            mine = threading.get_ident() == owner  # a gradebook another thread opens meanwhile is its own
            if not mine or db_url not in engines:
                original(self, db_url, course_id, authenticator)  # creates the tables of a new gradebook
                if mine:
                    engines[db_url] = self.engine
                return
            self.engine = engines[db_url]  # close() disposes its pooled connections; the engine stays usable
            self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
            self.check_course(course_id=course_id)
            self.course_id, self.authenticator = course_id, authenticator

        init.shared_engines = engines
        api.Gradebook.__init__ = init
        own_head, api.get_alembic_version = api.get_alembic_version, alembic_head  # a new gradebook: no child Python
        try:
            yield
        finally:
            api.Gradebook.__init__ = original
            api.get_alembic_version = own_head
            for engine in engines.values():
                engine.dispose()


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

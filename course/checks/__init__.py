"""The checks behind every graded task: the answer in, a verdict out.

One pattern for every graded task. The task names the learner's answer (a variable or a
function); a check function registered here takes that answer as plain data (arrays,
numbers, strings, dicts; a function is only *called* on inputs and judged by its outputs),
draws its own data (visible: a public seed; hidden: the grading seed), and returns a
verdict or raises `CheckFailed` with what was expected, what was seen and why it matters.
The notebook's test cell calls `check(task_id, answer)`; a cohort grader can call the same
function in a separate, trusted process on answers exported from a sandboxed kernel, since
no check depends on anything in the learner's kernel beyond the answer it is handed.

    from course.checks import check
    check("01-ml-recap/fraud-report", fraud_report)               # visible
    check("01-ml-recap/fraud-report", fraud_report, hidden=True)  # hidden tests (grading seed)
"""
from __future__ import annotations

import hashlib
import importlib
import os
import pkgutil
from dataclasses import dataclass
from typing import Callable

from course.checks.feedback import Checker, CheckFailed, Verdict

PUBLIC_SEED = 0
DEFAULT_GRADING_SEED = 2022  # the year of the study; instructors set their own, privately
SEED_VARIABLE = "COURSE_GRADING_SEED"


@dataclass(frozen=True)
class Task:
    id: str
    answer: str  # the name of the learner's variable or function
    kind: str  # "value" or "function"
    misconceptions: tuple
    fn: Callable


REGISTRY: dict = {}


def task(id: str, *, answer: str, kind: str = "function", misconceptions=()):
    """Register a check function `fn(answer, seed, chk)` as the grader of a task."""
    if kind not in ("value", "function"):
        raise ValueError(f"kind must be 'value' or 'function'; got {kind!r}")
    if not misconceptions:
        raise ValueError(f"task {id} must name the misconceptions it targets")

    def register(fn):
        if id in REGISTRY and REGISTRY[id].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"task {id} is registered twice")
        REGISTRY[id] = Task(id, answer, kind, tuple(misconceptions), fn)
        return fn

    return register


def grading_seed() -> int:
    """The instructor's private seed for hidden data ($COURSE_GRADING_SEED), or the default."""
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_GRADING_SEED
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be an integer; got {raw!r}") from None


def seed_for(task_id: str, hidden: bool) -> int:
    """The data seed of one task: public for visible checks, derived from the grading seed for hidden ones."""
    if not hidden:
        return PUBLIC_SEED
    digest = hashlib.sha256(f"{grading_seed()}:{task_id}".encode()).hexdigest()
    return int(digest[:8], 16)


BROKEN: dict = {}  # module name -> the error that stopped it from importing


def _load_all() -> None:
    """Import every check module of this package (each registers its tasks with @task).

    A module that fails to import is remembered in BROKEN and does not stop the others.
    """
    for info in pkgutil.iter_modules(__path__):
        name = f"{__name__}.{info.name}"
        if name in BROKEN:
            continue
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - one broken module must not take every check down
            BROKEN[name] = f"{type(e).__name__}: {e}"


def assignments() -> list:
    """The assignments that have registered checks."""
    _load_all()
    return sorted({t.split("/", 1)[0] for t in REGISTRY})


def get(task_id: str) -> Task:
    """The registered task with this id ("<assignment>/<task>")."""
    _load_all()
    if task_id not in REGISTRY:
        assignment = task_id.split("/", 1)[0]
        known = sorted(t for t in REGISTRY if t.startswith(assignment + "/")) or assignments()
        broken = f"; check modules that failed to import: {BROKEN}" if BROKEN else ""
        raise KeyError(f"unknown task {task_id!r}; known: {known}{broken}")
    return REGISTRY[task_id]


def tasks_of(assignment: str) -> list:
    """All registered tasks of an assignment."""
    _load_all()
    return [t for i, t in REGISTRY.items() if i.startswith(assignment + "/")]


def evaluate(task_id: str, answer, *, hidden: bool = False) -> Verdict:
    """Run a task's check on an answer and return the verdict (never raises for a wrong answer)."""
    t = get(task_id)
    chk = Checker(task_id, t.misconceptions, hidden)
    if t.kind == "function" and not callable(answer):
        return Verdict(task_id, False, f"`{t.answer}` to be a function", f"{type(answer).__name__}: {answer!r:.60}",
                       "the task is graded by calling your function on new data", list(t.misconceptions), hidden)
    try:
        return t.fn(answer, seed_for(task_id, hidden), chk) or chk.passed("all expectations met")
    except CheckFailed as e:
        return e.verdict


def check(task_id: str, answer, *, hidden: bool = False) -> None:
    """Check an answer in a graded cell: print the verdict; raise CheckFailed if it failed.

    Returns nothing, so that a test cell shows only the verdict (use `evaluate` for the Verdict).
    """
    verdict = evaluate(task_id, answer, hidden=hidden)
    if not verdict.passed:
        raise CheckFailed(verdict)
    print(verdict.message())


def call(chk: Checker, fn, *args, what: str = "your function"):
    """Call a learner's function; an exception other than NotImplementedError becomes a failed check."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except CheckFailed:
        raise
    except Exception as e:  # noqa: BLE001 - any error in learner code is feedback, not a crash
        chk.expect(False, expected=f"{what} to return a result", seen=f"it raised {type(e).__name__}: {e}",
                   why="a check can only judge what the function returns")

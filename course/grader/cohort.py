"""Grade a cohort: `course grade ASSIGNMENT SUBMISSIONS`. Sandboxed, parallel, resumable.

For every submission:

1. **Prepare (trusted).** The notebook is read as data. The notebook that will run is rebuilt from the
   instructor's source: every locked cell and every test cell comes from `solutions/` (so edited, deleted,
   duplicated or re-pointed test cells change nothing), the learner's answer cells and added cells are kept,
   and each test cell is replaced by an *export* cell that only remembers the learner's answer. Hidden tests
   never leave the grading process. Tampering is detected and flagged.
2. **Run (untrusted, `course.grader.sandbox`).** The rebuilt notebook runs in a fresh kernel process forked for it by a
   kernel server in a sandbox (`course.grader.kernels`, `course.grader.kernel`), in namespaces of its own: no network,
   a scratch folder holding only that notebook, limits on time, CPU, memory, processes and output.
3. **Judge (trusted).** The grading process calls the same checks as the notebook's test cells
   (`course.checks`), visible and hidden, with the instructor's grading seed. A function answer is called in
   the sandbox on the inputs the check sends, and only its outputs come back, as plain data (`course.grader.protocol`);
   a value answer comes back as plain data. So nothing the learner's code does inside its kernel (redefined
   asserts, patched numpy or course, objects equal to everything, an early exit) can change a verdict.
4. **Record (trusted, one writer).** nbgrader's own autograde runs on the submissions with the verdicts
   injected instead of executing anything, so the gradebook, formgrader and `nbgrader export` work as usual.
   One writer thread does it (`Writer`), for whatever has been judged since its last nbgrader run, while the
   workers go on; then nbgrader's feedback pages (hidden tests cleared), several learners per nbgrader run.
   A result file per learner, written once it is in the gradebook, makes reruns skip finished work.
"""
from __future__ import annotations

import builtins
import concurrent.futures as cf
import contextlib
import copy
import datetime as dt
import hashlib
import json
import os
import queue
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

import course
from course import checks, science
from course.checks.feedback import Failure
from course.grader import course_dir as nbcourse
from course.grader import integrity, protocol, remote, submissions
from course.grader.results import Result, atomic_write
from course.grader.sandbox import Limits, Sandbox
from course.ground import maths
from course.ground.misconceptions import MISCONCEPTIONS

ROOT = nbcourse.ROOT
CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']\s*,""")
BLANK_ERRORS = {"NotImplementedError"}
FAILED = "grading failed"  # the flag of a submission whose grading broke: graded again by the next run


# --------------------------------------------------------------------------- the instructor's source
@dataclass
class Source:
    assignment: str
    notebook: object  # the solutions/ notebook (with hidden tests)
    release: object  # the exercises/ notebook (what learners received)
    tests: dict  # grade_id -> {"points", "tasks": [task ids], "misconceptions": [...]}

    @classmethod
    def load(cls, assignment: str) -> "Source":
        src_path = nbcourse.SOLUTIONS / assignment / f"{assignment}.ipynb"
        rel_path = nbcourse.EXERCISES / assignment / f"{assignment}.ipynb"
        if not src_path.exists():
            raise nbcourse.GradingError(f"unknown assignment {assignment!r}; known: {nbcourse.assignments()}")
        if not rel_path.exists():
            raise nbcourse.GradingError(f"{rel_path} is missing: run `course release {assignment}`")
        nb = nbformat.read(src_path, as_version=4)
        tests = {}
        for c in nb.cells:
            m = c.metadata.get("nbgrader", {})
            if m.get("grade") and not m.get("solution"):
                ids = list(dict.fromkeys(CHECK_CALL.findall(c.source)))
                tags = [t.split("-", 1)[1] for t in c.metadata.get("tags", []) if t.startswith("misconception-")]
                tests[m["grade_id"]] = {"points": float(m.get("points", 0)), "tasks": ids, "misconceptions": tags}
        return cls(assignment, nb, nbformat.read(rel_path, as_version=4), tests)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _copy_cell(cell, source=None, keep_nbgrader=True):
    """A fresh cell with the given source; nbgrader metadata kept (from a trusted cell) or dropped."""
    make = nbformat.v4.new_code_cell if cell.get("cell_type") == "code" else nbformat.v4.new_markdown_cell
    new = make(cell.get("source", "") if source is None else source)
    if keep_nbgrader and cell.get("metadata", {}).get("nbgrader"):
        new.metadata["nbgrader"] = copy.deepcopy(dict(cell["metadata"]["nbgrader"]))
        if cell["metadata"].get("tags"):
            new.metadata["tags"] = list(cell["metadata"]["tags"])
    return new


def _points(meta: dict):
    """A learner's `points` as a number, or as written when it is none (then it differs from the release's)."""
    try:
        return float(meta.get("points", 0) or 0)
    except (TypeError, ValueError):
        return meta.get("points")


def prepare(source: Source, submitted) -> tuple:
    """(notebook to run in the sandbox, repaired notebook for nbgrader, flags).

    Both follow the instructor's cell sequence: read-only and test cells from the source, the learner's
    answer cells, and the learner's own added cells after the known cell they followed. In the notebook
    that runs, each test cell becomes an export cell; in the repaired notebook it is the released test cell.
    """
    flags = []
    learner, counts = {}, {}
    for c in submitted.cells:
        gid = _meta(c).get("grade_id")
        if gid:
            counts[gid] = counts.get(gid, 0) + 1
            learner.setdefault(gid, c)
    released = {_meta(c)["grade_id"]: c for c in source.release.cells if _meta(c).get("grade_id")}
    authored = {_meta(c)["grade_id"]: c.source for c in source.notebook.cells if _meta(c).get("grade_id")}
    for gid, n in counts.items():
        if n > 1:
            flags.append(f"duplicated cell {gid} ({n} copies): one graded, from the instructor's source")
    for gid, rc in released.items():
        lc, rm = learner.get(gid), _meta(rc)
        if lc is None:
            if rm.get("locked") or rm.get("grade"):
                flags.append(f"deleted cell {gid}: restored from the instructor's source")
            continue
        lm = _meta(lc)
        if rm.get("locked") and lc.get("source", "") not in (rc.source, authored.get(gid)):  # the solution's own is no edit
            flags.append(f"edited read-only cell {gid}: restored from the instructor's source")
        if rm.get("grade") and _points(lm) != float(rm.get("points", 0)):
            flags.append(f"changed points of {gid} ({lm.get('points')} instead of {rm.get('points')}): ignored")
        if any(bool(lm.get(k)) != bool(rm.get(k)) for k in ("grade", "solution", "locked")):
            flags.append(f"changed the grading role of cell {gid}: ignored")
    extras, last = {}, None
    for c in submitted.cells:
        gid = _meta(c).get("grade_id")
        if gid in released:
            last = gid
        elif c.get("cell_type") in ("code", "markdown"):
            if gid:
                flags.append(f"cell with unknown id {gid}: run as the learner's own code, not graded")
            extras.setdefault(last, []).append(c)
    run_cells, repaired_cells = [], []

    def add_extras(key):
        for c in extras.get(key, []):
            run_cells.append(_copy_cell(c, keep_nbgrader=False))
            repaired_cells.append(_copy_cell(c, keep_nbgrader=False))

    add_extras(None)
    for sc in source.notebook.cells:
        m = _meta(sc)
        gid = m.get("grade_id")
        rc = released.get(gid, sc)
        if m.get("grade") and not m.get("solution"):
            lines = [f"__course_export__({t!r}, lambda: {checks.get(t).answer})" for t in source.tests[gid]["tasks"]]
            run = nbformat.v4.new_code_cell("\n".join(lines) or "pass")
            repaired = _copy_cell(rc)
        elif m.get("solution") and gid in learner:
            answer = learner[gid].get("source", "")
            run, repaired = _copy_cell(rc, answer, keep_nbgrader=False), _copy_cell(rc, answer)
        else:
            run, repaired = _copy_cell(rc, keep_nbgrader=False), _copy_cell(rc)
        run.metadata["course_grade_id"] = gid or ""
        run_cells.append(run)
        repaired_cells.append(repaired)
        add_extras(gid)
    kernelspec = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}
    run_nb = nbformat.v4.new_notebook(cells=run_cells, metadata=copy.deepcopy(kernelspec))
    repaired_nb = nbformat.v4.new_notebook(cells=repaired_cells, metadata=copy.deepcopy(kernelspec))
    return run_nb, repaired_nb, flags


# --------------------------------------------------------------------------- the sandboxed run
class SandboxSession:
    """One submission's kernel, forked by a kernel server in its sandbox (`course.grader.kernels`), spoken to
    over a socket of its own."""

    def __init__(self, sandbox: Sandbox, server, scratch: Path, notebook_name: str, code_cells: int):
        self.limits = sandbox.limits
        self.server, self.code_cells = server, code_cells
        self.deadline = time.monotonic() + self.limits.wall_seconds
        (scratch / ".rpc").mkdir(exist_ok=True)
        os.chmod(scratch / ".rpc", 0o777)
        self.services = remote.Server(scratch / ".rpc")  # services (prediction APIs) stay on this side
        self.scratch = scratch
        self.lines: "queue.Queue" = queue.Queue()
        self.stopped = ""
        self.received = 0
        self._next = 0
        spec = {"notebook": notebook_name, "cell_timeout": self.limits.cell_seconds, "output_bytes": self.limits.output_bytes,
                "tmp_bytes": min(self.limits.file_bytes * 4, 1024 * 2**20),
                "limits": {"cpu_seconds": self.limits.cpu_seconds, "address_space_bytes": self.limits.address_space_bytes,
                           "file_bytes": self.limits.file_bytes}}
        self.sock = server.start_kernel(scratch, spec)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        cap = self.limits.output_bytes * 16
        stream = self.sock.makefile("rb")
        try:
            for raw in iter(lambda: stream.readline(cap + 1), b""):
                self.lines.put(raw)
        except OSError:
            pass
        self.lines.put(None)

    def _write(self, obj):
        try:
            self.sock.sendall((json.dumps(obj) + "\n").encode())
        except OSError:
            pass

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def receive(self):
        """The next message from the kernel, or None when it is gone or the wall-clock limit passed."""
        while True:
            left = self.remaining()
            if left <= 0:
                self.stopped = self.stopped or "time"
                return None
            try:
                raw = self.lines.get(timeout=min(left, 5))
            except queue.Empty:
                continue
            if raw is None:
                self.lines.put(None)  # gone for good: every later receive says so too
                self.stopped = self.stopped or "gone"
                return None
            try:
                return json.loads(raw.decode("utf-8", "replace"))
            except json.JSONDecodeError:
                continue  # not a protocol line: ignore it

    def executed(self):
        """The cells as they ran: {"event": "executed", "cells": [...], "kernel_alive", "timings"}. A kernel that
        dies mid-notebook gives its cell "dead" and the rest "not-run"; `received` counts the cells it reported."""
        cells, timings, alive = [], {}, True
        while True:
            msg = self.receive()
            if msg is None or msg.get("event") == "stopped":
                alive = False
                if msg is not None:
                    self.stopped = "runaway"
                break
            if msg.get("event") == "cell" and msg.get("index") == len(cells):
                cells.append({k: msg.get(k) for k in ("index", "status", "ename", "evalue", "outputs")})
            elif msg.get("event") == "executed":
                timings = msg.get("timings") or {}
                break
        self.received = len(cells)
        if not alive:
            if len(cells) < self.code_cells:
                status = "timeout" if self.stopped in ("time", "runaway") else "dead"
                cells.append({"index": len(cells), "status": status, "ename": "", "evalue": "", "outputs": []})
            while len(cells) < self.code_cells:
                cells.append({"index": len(cells), "status": "not-run", "ename": "", "evalue": "", "outputs": []})
        return {"event": "executed", "cells": cells, "kernel_alive": alive, "timings": timings}

    def request(self, op: str, task: str, args=None, **extra):
        self._next += 1
        rid = self._next
        msg = {"op": op, "id": rid, "task": task, **extra}
        if args is not None:
            msg["args"] = protocol.encode(list(args), remote=self.services.register, files=remote.send_file)
        self._write(msg)
        try:
            while True:
                reply = self.receive()
                if reply is None:
                    return {"ok": False, "ename": "SandboxGone", "evalue": "the sandbox stopped (time, memory or process limit)"}
                if reply.get("id") == rid:
                    return reply
        finally:
            self.services.forget_all()  # a service lives for one call only

    def oom_killed(self) -> bool:
        return self.server.oom_since_start()

    def stderr_tail(self) -> str:
        try:
            return (self.scratch / ".stderr").read_text(errors="replace")[-300:].strip()
        except OSError:
            return ""

    def close(self) -> bool:
        """Stop the kernel and everything it started; True when the server can take the next submission."""
        self.services.close()
        self._write({"op": "quit"})
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        return self.server.finish_kernel()


class Unanswered(NotImplementedError):
    """The answer's name is not defined in the learner's kernel.

    A NotImplementedError, so that the checks' `call` lets it through (as it does a stub's) instead of
    turning it into a failed expectation: a missing answer is "not attempted", not a belief.
    """


class SandboxStopped(NotImplementedError):
    """The sandbox stopped (time, memory, process limit, a dead kernel) before the check could judge.

    A NotImplementedError for the same reason as `Unanswered`: the checks' `call` lets it through.
    """


def _reply_value(session: "SandboxSession", reply: dict):
    """The plain data (or sandbox-object proxies) of a reply, or the learner's error, re-raised."""
    if reply.get("ok"):
        return protocol.decode(reply["result"], remote=lambda spec: SandboxObject(session, spec))
    ename, evalue = reply.get("ename", "Error"), reply.get("evalue", "")
    if ename == "NotImplementedError":
        raise NotImplementedError(evalue)
    if ename == "NameError":
        raise Unanswered(evalue)
    if ename in ("SandboxGone", "KernelDied", "Timeout"):
        raise SandboxStopped(evalue)
    builtin = getattr(builtins, ename, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin.__module__ == "builtins":
        raise builtin(evalue)  # the same kind of error the learner's code raised (e.g. ValueError), with its text
    raise RuntimeError(f"{ename}: {evalue}")


class RemoteFunction:
    """The learner's function, as the trusted checks see it: calls go to the sandbox, plain data comes back."""

    def __init__(self, session: "SandboxSession", task: str):
        self.session, self.task = session, task

    def __call__(self, *args):
        return _reply_value(self.session, self.session.request("call", self.task, args))


class SandboxObject:
    """An object a learner's function returned (a model, say), left in the sandbox.

    The checks call its public methods and read its public attributes; each call runs in the sandbox and
    only plain data comes back. It deliberately defines no comparison or conversion methods.
    """

    def __init__(self, session: "SandboxSession", spec: dict):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_spec", spec)

    def _method(self, name):
        def call(*args):
            return _reply_value(self._session, self._session.request("method", "", args, handle=self._spec["handle"], name=name))
        return call

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._spec.get("methods", []):
            return self._method(name)
        reply = self._session.request("method", "", [], handle=self._spec["handle"], name=name, getattr=True)
        if reply.get("ok") and reply.get("callable"):
            return self._method(name)
        return _reply_value(self._session, reply)  # a missing attribute raises AttributeError, as hasattr expects

    def __call__(self, *args):
        if not self._spec.get("callable"):
            raise TypeError(f"{self._spec.get('cls')} object is not callable")
        return self._method("__call__")(*args)

    def __repr__(self):
        return f"<{self._spec.get('cls', 'object')} in the sandbox>"


# --------------------------------------------------------------------------- judging
def _defines(task, source_text: str) -> bool:
    """Whether a cell's source defines the task's answer (a function or a variable of that name)."""
    return bool(re.search(rf"(^|\n)\s*(def\s+{re.escape(task.answer)}\b|{re.escape(task.answer)}\s*=)", source_text))


def _answer_error(task, answer_errors: dict) -> str:
    """The error an answer cell defining this task's answer raised when it ran, if any."""
    for source_text, error in answer_errors.values():
        if error.startswith("NotImplementedError"):
            continue  # the stub: not attempted
        if _defines(task, source_text):
            return error
    return ""


def judge(source: Source, session: SandboxSession | None, executed: dict | None, answer_errors: dict | None = None,
          wrong_assignment: bool = False, stubs: list | None = None) -> dict:
    """grade_id -> {"passed", "score", "points", "messages", "tasks", "misconceptions", "failure"} (trusted).

    `failure` is None for a passed test, else one of `Failure`'s values (the first failing check's):
    the reports count them apart, so that a blank or a crash is never taken for a belief.
    `answer_errors`: grade_id -> (learner's source, "SyntaxError: ...") of answer cells that raised.
    `stubs`: the sources of answer cells the learner left as released: a task answered by one of them
    and failed is "not attempted", whatever the check made of the stub's placeholder values.
    """
    answer_errors = answer_errors or {}
    stubs = stubs or []
    results = {}
    cache = {}
    for gid, test in source.tests.items():
        messages, passed, failure = [], True, None
        for task_id in test["tasks"]:
            task = checks.get(task_id)
            for hidden in (False, True):
                kind = None
                try:
                    if session is None or executed is None:
                        raise SandboxStopped("the notebook could not be run")
                    error = _answer_error(task, answer_errors)
                    if error.startswith(("SyntaxError", "IndentationError", "TabError")):
                        raise Unanswered(error)  # the cell never ran: the answer cannot exist
                    if task.kind == "value":
                        if task_id not in cache:
                            reply = session.request("value", task_id)
                            if not reply.get("ok") and reply.get("ename") in ("SandboxGone", "KernelDied", "Timeout"):
                                cache[task_id] = SandboxStopped(f"{reply.get('ename')}: {reply.get('evalue')}")
                            elif not reply.get("ok"):
                                cache[task_id] = Unanswered(f"{reply.get('ename')}: {reply.get('evalue')}")
                            else:
                                cache[task_id] = _reply_value(session, reply)
                        answer = cache[task_id]
                        if isinstance(answer, Exception):
                            raise answer
                    else:
                        answer = RemoteFunction(session, task_id)
                    verdict = checks.evaluate(task_id, answer, hidden=hidden)
                    ok, text = verdict.passed, (verdict.message() if verdict.passed or not hidden else criterion_only(verdict))
                    kind = None if ok else Failure(getattr(verdict, "failure", None) or Failure.BELIEF)
                except Unanswered as e:
                    error = _answer_error(task, answer_errors)
                    if error:  # a syntax error in the answer cell is not a missing answer
                        ok, kind = False, Failure.COMPUTATION
                        text = f"{task_id}: your answer cell failed when it ran ({error}), so `{task.answer}` was never defined"
                    else:
                        ok, text, kind = False, f"{task_id}: no answer ({e})", Failure.NOT_ATTEMPTED
                except SandboxStopped as e:
                    ok, text, kind = False, f"{task_id}: not judged ({e})", Failure.CRASHED
                except NotImplementedError:
                    ok, kind = False, Failure.NOT_ATTEMPTED
                    text = f"{task_id}: not answered yet (the stub still raises NotImplementedError)"
                except protocol.WireError as e:
                    ok, text, kind = False, f"{task_id}: the answer is not plain data ({e})", Failure.COMPUTATION
                except Exception as e:  # noqa: BLE001 - a broken answer is feedback, never a crashed batch
                    ok, kind = False, Failure.COMPUTATION
                    text = f"{task_id}: could not be checked ({type(e).__name__}: {str(e)[:300]})"
                    if type(e).__name__ == "RuntimeError" and str(e).startswith(("SandboxGone", "KernelDied", "Timeout")):
                        kind = Failure.CRASHED
                if not ok and kind in (Failure.BELIEF, Failure.COMPUTATION) and any(_defines(task, t) for t in stubs):
                    kind = Failure.NOT_ATTEMPTED  # the released placeholder (e.g. a dict of None), judged
                if wrong_assignment and not ok:
                    kind = Failure.WRONG_ASSIGNMENT
                passed &= ok
                failure = failure or (kind.value if kind else None)
                messages.append(text)
                if not ok:
                    break  # the hidden check of a failed visible check adds nothing
        results[gid] = {"passed": passed, "score": test["points"] if passed else 0.0, "points": test["points"],
                        "messages": messages, "tasks": test["tasks"], "misconceptions": test["misconceptions"],
                        "failure": None if passed else (failure or Failure.BELIEF.value)}
    return results


def criterion_only(verdict) -> str:
    """A failed hidden check as the learner sees it: its criterion and why it matters, not its data.

    What was *seen* on hidden data names the hidden inputs' values (the dataset, n, a budget); the
    criterion (*expected*) and the case's role say what failed without them.
    """
    failure = Failure(getattr(verdict, "failure", None) or Failure.BELIEF)
    lines = [f"FAILED {verdict.task} (hidden check): {failure.value}"]
    if getattr(verdict, "case", ""):
        lines.append(f"  case:     {verdict.case}")
    if verdict.expected:
        lines.append(f"  expected: {verdict.expected}")
    lines.append("  seen:     not shown: a hidden check states its criterion, not its data")
    if verdict.why:
        lines.append(f"  why it matters: {verdict.why}")
    if failure.shows_belief and verdict.misconceptions:
        lines.append("  misconception: " + ", ".join(f"{m} ({MISCONCEPTIONS.get(m, '?')})" for m in verdict.misconceptions))
    return "\n".join(lines)


# --------------------------------------------------------------------------- recording in nbgrader
_NBGRADER_LOCK = threading.Lock()


def with_verdicts(nb, data: dict):
    """The notebook with outputs as graded: cells' outputs from the sandbox, test cells' from the trusted verdicts.

    `data` holds "tests" (judge's verdicts), "cells" (the cells as they ran) and an optional "note" appended
    as a last Markdown cell. A code cell that ran gets an execution count; a test cell that failed shows
    a `CheckFailed` error, as an in-kernel autograde would.
    """
    tests, ran = data["tests"], data["cells"]
    by_id = {c["grade_id"]: c for c in ran if c.get("grade_id")}
    by_source = {}
    for c in ran:
        by_source.setdefault(c.get("source", ""), []).append(c)
    count = 0
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code":
            continue
        if gid in tests:
            t = tests[gid]
            text = "\n\n".join(t["messages"])
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")] if t["passed"] else [
                nbformat.v4.new_output("error", ename="CheckFailed", evalue=text, traceback=text.splitlines())]
            match = by_id.get(gid)
        else:
            match = by_id.get(gid) if gid else None
            if match is None and by_source.get(cell.source):
                match = by_source[cell.source].pop(0)
            cell.outputs = [nbformat.from_dict(o) for o in (match or {}).get("outputs", [])]
        if match is not None and match.get("status", "ok") != "not-run":
            count += 1
            cell.execution_count = count
    note = data.get("note", "")
    if note:
        nb.cells.append(nbformat.v4.new_markdown_cell(note))
    return nb


def _inject_class():
    from nbgrader.preprocessors import NbGraderPreprocessor
    from traitlets import Unicode

    class InjectVerdicts(NbGraderPreprocessor):
        """Autograde without executing: outputs come from the sandbox, test verdicts from the trusted checks."""

        verdicts_file = Unicode("").tag(config=True)

        def preprocess(self, nb, resources):
            verdicts = json.loads(Path(self.verdicts_file).read_text())  # one file per batch: learner -> verdicts
            return with_verdicts(nb, verdicts[resources["nbgrader"]["student"]]), resources

    return InjectVerdicts


def mathml_preprocessor():
    from nbconvert.preprocessors import Preprocessor

    class MathToMathML(Preprocessor):
        """Feedback only: TeX in Markdown cells becomes MathML, so the page needs no MathJax."""

        def __init__(self, **kw):
            super().__init__(**kw)
            self.enabled = True  # nbconvert's preprocessors are off unless enabled

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "markdown":
                cell.source = maths.math_to_mathml(cell.source)
            return cell, resources

    return MathToMathML


def _autograde_api(course_dir: Path, verdicts_file: str = "", submitted_dir: str = ""):
    from nbgrader import preprocessors as pp
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(nbcourse.CONFIG.name, path=str(nbcourse.CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(course_dir)
    config.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    if submitted_dir:  # nbgrader reads a scratch copy: the course's submitted/ is input, never written
        config.CourseDirectory.submitted_directory = submitted_dir
    inject = _inject_class()
    config.InjectVerdicts.verdicts_file = verdicts_file
    # nbgrader's own lists without Execute (the sandbox ran the cells) and without CheckCellMetadata: every
    # cell's nbgrader metadata is the instructor's (`prepare` builds the notebook so, `record` checks it),
    # and nbgrader's check re-validates its schema for every cell (30% of recording's time)
    config.Autograde.sanitize_preprocessors = [pp.ClearOutput, pp.DeduplicateIds, pp.OverwriteKernelspec, pp.OverwriteCells]
    config.Autograde.autograde_preprocessors = [inject, pp.LimitOutput, pp.SaveAutoGrades, pp.AssignLatePenalties]
    config.GenerateFeedback.preprocessors = [*config.GenerateFeedback.get("preprocessors", []), mathml_preprocessor()]
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def register_assignment(course_dir: Path, assignment: str) -> None:
    """Put the assignment's cells into the course's gradebook (generate_assignment in a scratch copy)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    with tempfile.TemporaryDirectory(prefix="course-register-") as tmp:
        root = nbcourse.scratch_course(Path(tmp), [assignment])
        config = PyFileConfigLoader(nbcourse.CONFIG.name, path=str(nbcourse.CONFIG.parent)).load_config()
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        with _NBGRADER_LOCK, nbcourse.one_engine(), nbcourse.quiet_env() as log:
            result = api.generate_assignment(assignment, force=True, create=True)
        nbcourse.result_or_raise(result, f"register {assignment} in the gradebook", log.getvalue())


@dataclass
class Entry:
    """One learner's submission as the writer records it: the repaired notebook with the trusted verdicts."""

    student: str
    notebook: object  # nbformat notebook
    verdicts: dict  # {"tests", "cells", "note"} (`with_verdicts`)
    timestamp: str = ""
    flagged: bool = False


def instructor_metadata(source: Source) -> dict:
    """{grade id: {(cell type, nbgrader metadata as JSON)}}: what `prepare` may copy into a recorded notebook (the
    release's cells, and the solution's where the release lacks a grade id, as when exercises/ is stale)."""
    released = {_meta(c).get("grade_id") for c in source.release.cells}
    allowed: dict = {}
    for c in [*source.release.cells, *(c for c in source.notebook.cells if _meta(c).get("grade_id") not in released)]:
        if gid := _meta(c).get("grade_id"):
            allowed.setdefault(gid, set()).add((c.cell_type, json.dumps(_meta(c), sort_keys=True)))
    return allowed


_ROLES = ("grade", "solution", "locked", "task")


def foreign_metadata(allowed: dict, nb) -> str:
    """Why nbgrader must not record this notebook, or "": each cell with an nbgrader role carries the instructor's
    own metadata for its grade id (`instructor_metadata`), once. `prepare` builds the notebooks so. This stands in
    for nbgrader's CheckCellMetadata, left out of recording: it re-validates its schema for every cell (30% of
    recording's time)."""
    seen = set()
    for cell in nb.cells:
        m = cell.get("metadata", {}).get("nbgrader")
        if m is None or not any(m.get(k) for k in _ROLES):  # no role: nothing nbgrader grades or restores
            continue
        gid = m.get("grade_id")
        if gid in seen or (cell.get("cell_type"), json.dumps(m, sort_keys=True)) not in allowed.get(gid, ()):
            return f"cell {gid!r} has nbgrader metadata that is not the instructor's"
        seen.add(gid)
    return ""


def record(course_dir: Path, assignment: str, entries: list, tmp: Path, source: Source | None = None) -> dict:
    """Write these submissions into nbgrader's autograded/ and gradebook: student -> "" when recorded, else why not.

    One nbgrader autograde run for the whole batch (its converter, template and database set up once); if
    that run fails, one run per learner, so that one notebook nbgrader cannot take costs only that learner.
    nbgrader reads the rebuilt notebooks from a scratch `submitted` folder, with each learner's
    `timestamp.txt` when there is one (so the gradebook has the submission time and nbgrader's late penalties
    work). The course's `submitted/` is never written: it is the instructor's input. A submission with flags
    is marked `flagged` in the gradebook, which formgrader shows. The feedback pages are `write_feedback`'s.
    A notebook whose nbgrader metadata is not the instructor's is refused before nbgrader (`foreign_metadata`);
    `source` is the one the notebooks were judged with (loaded again when not given).
    """
    if not entries:
        return {}
    allowed = instructor_metadata(source or Source.load(assignment))
    out = {e.student: foreign_metadata(allowed, e.notebook) for e in entries}
    entries = [e for e in entries if not out[e.student]]
    scratch = tmp / "nbgrader-submitted"
    if scratch.exists():
        shutil.rmtree(scratch)
    for e in entries:
        sub_dir = scratch / e.student / assignment
        sub_dir.mkdir(parents=True)
        nbformat.write(e.notebook, sub_dir / f"{assignment}.ipynb")
        if e.timestamp:
            (sub_dir / "timestamp.txt").write_text(e.timestamp)
    vfile = tmp / "verdicts.json"
    vfile.write_text(json.dumps({e.student: e.verdicts for e in entries}))

    def run(student_glob: str):
        with _NBGRADER_LOCK, nbcourse.one_engine():
            api = _autograde_api(course_dir, str(vfile), str(scratch))
            with nbcourse.quiet_env() as log:
                result = api.autograde(assignment, student_glob, force=True, create=True)
            nbcourse.result_or_raise(result, f"record {student_glob if student_glob != '*' else 'the'} grades",
                                     log.getvalue())

    try:
        if entries:
            run("*" if len(entries) > 1 else entries[0].student)
    except nbcourse.GradingError as batch_error:
        if len(entries) == 1:
            out[entries[0].student] = str(batch_error)
        else:
            for e in entries:
                try:
                    run(e.student)
                except nbcourse.GradingError as err:
                    out[e.student] = str(err)
    set_flagged(course_dir, assignment, {e.student: e.flagged for e in entries if not out[e.student]})
    return out


def feedback_path(course_dir: Path, assignment: str, student: str) -> Path:
    return course_dir / "feedback" / student / assignment / f"{assignment}.html"


def write_feedback(course_dir: Path, assignment: str, students) -> dict:
    """nbgrader's feedback pages for these learners: student -> path, or -> "error: ..." when nbgrader failed.

    One nbgrader run for all of them (its HTML template is compiled once, not once per learner: that was
    half of the time recording took); if that run fails, one run per learner, so that one broken page
    costs only that learner's.
    """
    students = sorted(set(students))
    autograded = course_dir / "autograded"
    done = {p.name for p in autograded.iterdir() if (p / assignment).is_dir()} if autograded.is_dir() else set()
    students = [s for s in students if s in done]
    if not students:
        return {}
    out = {}

    def run(student_glob: str, exclude: list):
        with _NBGRADER_LOCK, nbcourse.one_engine():
            api = _autograde_api(course_dir)
            api.coursedir.student_id_exclude = ",".join(exclude)
            with nbcourse.quiet_env() as log:
                result = api.generate_feedback(assignment, student_glob, force=True)
            nbcourse.result_or_raise(result, "write the feedback", log.getvalue())

    try:
        run("*", sorted(done - set(students)))
        batch_error = ""
    except nbcourse.GradingError as e:
        batch_error = str(e)
    for student in students:
        if batch_error:
            try:
                run(student, [])
            except nbcourse.GradingError as e:
                out[student] = f"error: {str(e)[:300]}"
                continue
        html = feedback_path(course_dir, assignment, student)
        if html.exists():
            html.write_text(offline_feedback(html.read_text(encoding="utf-8")), encoding="utf-8")
            out[student] = str(html)
    return out


def set_flagged(course_dir: Path, assignment: str, flagged: dict) -> None:
    """nbgrader's own `flagged` mark on these submissions' notebooks, {student: bool} (formgrader lists them)."""
    from nbgrader.api import Gradebook

    if not flagged:
        return
    with _NBGRADER_LOCK, Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student, mark in flagged.items():
            for nb in gb.find_submission(assignment, student).notebooks:
                nb.flagged = mark
        gb.db.commit()


_MATHJAX = re.compile(r"<!-- Loading mathjax macro -->\s*(<script[^>]*>.*?</script>\s*)+", re.S)
_MATHJAX_ANY = re.compile(r"<script[^>]*(mathjax|MathJax)[^>]*>.*?</script>|<!--[^>]*mathjax[^>]*-->\s*", re.S | re.I)


def offline_feedback(page: str) -> str:
    """The feedback page without MathJax from a CDN: the maths was converted to MathML at build time."""
    return _MATHJAX_ANY.sub("", _MATHJAX.sub("", page))


# --------------------------------------------------------------------------- one submission


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seed_fingerprint() -> str:
    """Tells whether two runs used the same grading seed, without revealing it."""
    return hashlib.sha256(f"course-grading-seed:{checks.grading_seed()}".encode()).hexdigest()[:16]


@dataclass
class Judged:
    """What the sandboxed run and the trusted judging of one notebook give, before anything is recorded.

    Plain data only (a Dask worker sends it back to the one writer): the verdicts per test cell, the flags,
    the cells as they ran (outputs kept for the feedback), the value answers, the seconds per phase and the
    repaired notebook (nbformat JSON) that nbgrader records.
    """

    tests: dict
    flags: list
    cells: list
    values: dict
    phases: dict
    repaired: dict
    note: str = ""
    isolation: str = ""  # how this submission's kernel was kept apart from the others (a protection to report)

    @property
    def score(self) -> float:
        return sum(t["score"] for t in self.tests.values())

    @property
    def max_score(self) -> float:
        return sum(t["points"] for t in self.tests.values())

    def notebook(self):
        """The repaired notebook as an nbformat object (its cells' sources joined again)."""
        return nbformat.reads(json.dumps(self.repaired), as_version=4)


def preload(source: Source) -> tuple:
    """The modules the kernel server imports once for this assignment: what its released cells import, and when
    they import the course, the course's checks and science modules, which `check()` and the helpers import on
    first use (about 200 modules with their scikit-learn and SciPy parts: 0.3 s that every kernel paid again)."""
    import pkgutil

    from course.grader import kernel

    names = kernel.preload_list(c.source for c in source.release.cells if c.cell_type == "code")
    if any(n == "course" or n.startswith("course.") for n in names):
        for package in (checks, science):
            names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                      if ".keys" not in m.name and m.name not in names]  # the answer keys: never in a sandbox
    return tuple(names)


def kernel_isolation(server) -> str:
    """The protection the kernel server adds, in words (for the reports)."""
    if server.isolation == "namespaces":
        return ("kernel: a fresh process per submission, forked in its own user, mount, PID and IPC namespaces "
                "(fresh /tmp and /dev/shm, other submissions' folders hidden, no capabilities)")
    if server.sandbox.bwrap:
        return f"kernel: a fresh process in a bubblewrap sandbox of its own per submission ({server.why})"
    return "kernel: a fresh process per submission, forked in its own session (no namespaces without bubblewrap)"


def run_and_judge(source: Source, submitted_nb, sandbox: Sandbox, flags=()) -> Judged:
    """Run one notebook in a fresh kernel in its own sandbox, and judge it on this (trusted) side. Records nothing.

    `submitted_nb` is the learner's notebook as read (None when unreadable). `course grade`, `course check`
    and a Dask worker all come through here, so that the three give the same verdicts.
    """
    from course.grader import kernels

    start = time.perf_counter()
    phases = {}
    flags = list(flags)
    executed, values, session, ran_cells, answer_errors, wrong = None, {}, None, [], {}, ""
    repaired_nb = copy.deepcopy(source.release)  # recorded as the blank release when unreadable
    server, scratch, healthy, isolation = None, None, True, ""
    try:
        if submitted_nb is not None:
            run_nb, repaired_nb, prep_flags = prepare(source, submitted_nb)
            wrong = wrong_assignment(source, submitted_nb)
            if wrong:  # one flag that says what happened, not one per missing cell
                flags.append(f"{wrong} ({len(prep_flags)} cell-level differences not listed)")
            else:
                flags += prep_flags
            code_cells = [x for x in run_nb.cells if x.cell_type == "code"]
            phases["run_prepare"] = round(time.perf_counter() - start, 3)
            try:
                acquired = time.perf_counter()
                server = kernels.POOL.acquire(sandbox, preload(source))
                phases["run_server"] = round(time.perf_counter() - acquired, 3)  # > 0 only when a server started
                scratch = server.new_scratch()
                isolation = kernel_isolation(server)
                nbformat.write(run_nb, scratch / "submission.ipynb")
                session = SandboxSession(sandbox, server, scratch, "submission.ipynb", len(code_cells))
            except kernels.ServerBroken as e:
                healthy = False
                flags.append(f"the notebook could not be run: {e}")
            if session is not None:
                executed = session.executed()
                phases["run"] = round(time.perf_counter() - start, 2)
                for k, v in (executed.get("timings") or {}).items():  # the kernel's own account (untrusted)
                    if isinstance(v, (int, float)) and k in ("fork", "kernel_start", "cells"):
                        phases[f"run_{k}"] = float(v)
                if session.stopped == "time":
                    flags.append(f"stopped at the wall-clock limit of {sandbox.limits.wall_seconds:g} s")
                if session.received == 0 and session.stopped == "gone":
                    flags.append(_why_stopped(session))
                    executed = None
            if executed is not None:
                for c in executed["cells"]:
                    if c["status"] == "timeout" or c.get("ename") in ("KeyboardInterrupt", "CellTimeout"):
                        extra = " and was stopped" if session.stopped == "runaway" and c is executed["cells"][-1] else ""
                        flags.append(f"cell {c['index'] + 1} timed out after {sandbox.limits.cell_seconds} s (interrupted{extra})")
                    elif c["status"] == "dead":
                        flags.append(f"the kernel died in cell {c['index'] + 1} (exit, crash or memory limit); later cells did not run")
                answer_ids = {_meta(c).get("grade_id") for c in source.notebook.cells if _meta(c).get("solution")}
                for c, nc in zip(executed["cells"], code_cells):
                    gid = nc.metadata.get("course_grade_id", "")
                    ran_cells.append({"grade_id": gid, "source": nc.source, "status": c["status"],
                                      "outputs": without_system_noise(c["outputs"])})
                    if c["status"] == "error" and gid in answer_ids:
                        answer_errors[gid] = (nc.source, f"{c.get('ename', '')}: {str(c.get('evalue', ''))[:200]}")
        judged = time.perf_counter()
        try:
            tests = judge(source, session, executed, answer_errors, wrong_assignment=bool(wrong),
                          stubs=unchanged_answers(source, submitted_nb))
            for t in tests.values():
                for task_id in t["tasks"]:
                    if checks.get(task_id).kind == "value" and session is not None and executed is not None:
                        reply = session.request("value", task_id)
                        if reply.get("ok") and len(reply["result"]) < 200_000:
                            values[task_id] = json.loads(reply["result"])
        finally:
            if session is not None:
                if session.stopped and executed is not None and session.oom_killed():
                    flags.append("the sandbox hit its memory limit")
                healthy = session.close() and healthy
        phases["judge"] = round(time.perf_counter() - judged, 2)
    finally:
        if server is not None:
            kernels.POOL.release(server, healthy)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
    judged_nb = Judged(tests, flags, ran_cells, values, phases, json.loads(nbformat.writes(repaired_nb)))
    judged_nb.note = _feedback_note(judged_nb.score, judged_nb.max_score, flags, sandbox)
    judged_nb.isolation = isolation
    return judged_nb


def submission_flags(source: Source, sub: submissions.Submission) -> list:
    flags = list(sub.notes)
    if sub.found_as == "nbgrader tree" and sub.path.stem != source.assignment:  # elsewhere the file name names the learner
        flags.append(f"notebook named {sub.path.name!r}, not {source.assignment}.ipynb: graded as {source.assignment}")
    return flags


def read_submission(sub: submissions.Submission, flags: list):
    """The learner's notebook as data, or None (with a flag) when it cannot be read."""
    try:
        return nbcourse.read_notebook(sub.path)
    except nbcourse.GradingError as e:
        flags.append(f"unreadable notebook: {e}")
        return None


def utf8_safe(x):
    """Plain data whose strings can be written as UTF-8: a lone surrogate a learner printed (or wrote in a cell)
    becomes U+FFFD, so that nbgrader can save the notebook instead of failing the whole submission."""
    if isinstance(x, str):
        return x.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if any(
            "\ud800" <= ch <= "\udfff" for ch in x) else x
    if isinstance(x, dict):
        return {k: utf8_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [utf8_safe(v) for v in x]
    return x


@dataclass
class Graded:
    """One judged submission waiting for the writer: what it needs to record it and make the learner's result."""

    sub: submissions.Submission
    judged: Judged
    protections: list  # the sandbox's
    seconds: float  # reading, running and judging it
    phases: dict = field(default_factory=dict)  # extra facts for the result's phases (the Dask worker's name)


def record_judged(items: list, source: Source, course_dir: Path) -> list:
    """Record judged submissions (the one writer): nbgrader's gradebook in one batch, the originals kept; a Result each.

    A learner nbgrader could not record gets a result with score 0 and a "grading failed" flag, like any
    submission whose grading broke: one broken submission never stops the batch.
    """
    assignment = source.assignment
    started = time.perf_counter()
    originals = course_dir / "reports" / assignment / "originals"
    originals.mkdir(parents=True, exist_ok=True)
    for g in items:
        if g.sub.path.is_file():
            shutil.copy(g.sub.path, originals / f"{g.sub.student}.ipynb")
    entries = [Entry(g.sub.student, nbformat.from_dict(utf8_safe(g.judged.notebook())),
                     utf8_safe({"tests": g.judged.tests, "cells": g.judged.cells, "note": g.judged.note}),
                     g.sub.timestamp, bool(g.judged.flags))
               for g in items]
    with tempfile.TemporaryDirectory(prefix="course-record-") as tmp:
        errors = record(course_dir, assignment, entries, Path(tmp), source)
    share = round((time.perf_counter() - started) / len(items), 2) if items else 0.0
    out = []
    for g in items:
        if errors.get(g.sub.student):
            out.append(failed_result(g.sub, source, nbcourse.GradingError(errors[g.sub.student]), g.protections))
            continue
        phases = {**g.judged.phases, **g.phases, "record": share, "record_batch": len(items),
                  "recorded_at": round(time.time(), 2)}
        protections = g.protections + ([g.judged.isolation] if g.judged.isolation else [])
        out.append(Result(g.sub.student, assignment, g.judged.score, g.judged.max_score, g.judged.tests, g.judged.flags,
                          g.sub.found_as, _sha(g.sub.path) if g.sub.path.exists() else "", seed_fingerprint(),
                          course.__version__, protections, round(g.seconds + share, 2),
                          "",  # the feedback page: written when the writer is idle, or at the end (`finish`)
                          g.judged.values, phases, identity(g.sub), public_seed_used()))
    return out


class Writer:
    """The one writer of a grading run, in a thread beside the grading: gradebook, result files, feedback pages.

    Judged submissions are queued (`put`) and recorded in batches, one nbgrader run for up to `BATCH` learners.
    The writer works when a core is free (`busy()` is false: fewer sandboxes running than cores, for instance
    while a submission sits in a cell until its time limit, or once the last ones are running), and otherwise
    only when `BACKLOG` submissions wait: the sandboxes come first, and the bookkeeping fills the time they
    leave (a run's tail always leaves some: its last submissions run on fewer sandboxes than cores). Each
    result file is written once its submission is in the gradebook, so a run stopped part way grades the
    unrecorded rest next time (about `BACKLOG` learners, if it is killed while the cores are busy).
    With `pages`, the writer also writes feedback pages when a core is free and there is nothing to record;
    `finish` writes the rest.

    Its first job is to register the assignment in the gradebook (under 1 s of nbgrader), at once: a gradebook
    nbgrader cannot use stops the run before much is judged (`put` raises the reason). Every nbgrader call
    of a run is made from this one thread: nbgrader changes the working folder of the whole process while it
    converts, so two of its calls at once break each other (the grading threads use absolute paths only).
    """

    BATCH = 16  # learners per nbgrader run
    BACKLOG = 64  # judged and unrecorded: at this many the writer records a batch even while the cores are busy

    def __init__(self, b: Batch, busy=None, pages: bool = False):
        self.b = b
        self.graded: list = []
        self._busy = busy or (lambda: False)
        self._pages = pages
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="course-grade-writer", daemon=True)
        self._thread.start()

    def put(self, item: "Graded | Result") -> None:
        """Queue a judged submission (recorded, then its result saved), or a finished Result (saved as it is)."""
        if self._error is not None:
            raise self._error  # e.g. nbgrader could not register the assignment: nothing can be recorded
        self._queue.put(item)

    def close(self) -> list:
        """Wait until everything queued is recorded; the results, in the order they were recorded.

        A Ctrl-C while it waits is held until the writer is done (a few seconds per batch), so that what was
        judged is not lost; a second Ctrl-C abandons it (the next run grades those learners again).
        """
        self._queue.put(None)
        interrupted = False
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
                print("course grade: stopping once the submissions judged so far are recorded "
                      "(Ctrl-C again to abandon them; the next run grades them)", file=sys.stderr)
        if self._error is not None:
            raise self._error
        if interrupted:
            raise KeyboardInterrupt
        return self.graded

    def _run(self) -> None:
        pending: list = []  # judged, not yet recorded
        waiting: list = []  # recorded, their feedback pages not yet written
        closing = False
        try:
            # first, whatever the cores are doing: a gradebook nbgrader cannot use stops the run at once
            register_assignment(self.b.course_dir, self.b.source.assignment)
            while True:
                items = []
                with contextlib.suppress(queue.Empty):
                    items.append(self._queue.get(timeout=0.2))
                    while True:
                        items.append(self._queue.get_nowait())
                closing = closing or None in items
                pending += [i for i in items if i is not None]
                while True:
                    free = closing or not self._busy()
                    if not pending or not (free or len(pending) >= self.BACKLOG):
                        break
                    now, pending = pending[: self.BATCH], pending[self.BATCH:]
                    ready = [i for i in now if isinstance(i, Result)]
                    judged = [i for i in now if isinstance(i, Graded)]
                    if judged:
                        ready += record_judged(judged, self.b.source, self.b.course_dir)
                    for res in ready:
                        save_result(self.b, res)
                        self.graded.append(res)
                        waiting.append(res)
                if closing and not pending:
                    return  # the remaining pages: `finish`
                if waiting and self._pages and not self._busy() and self._queue.empty():
                    add_feedback(self.b, waiting)
                    waiting = []
        except BaseException as e:  # noqa: BLE001 - reported by close(); what was not recorded has no result file
            self._error = e


def judge_one(sub: submissions.Submission, source: Source, sandbox: Sandbox) -> Graded:
    """Read, run and judge one submission (a grading worker's part); the writer records it."""
    start = time.perf_counter()
    flags = submission_flags(source, sub)
    submitted_nb = read_submission(sub, flags)
    started_at = round(time.time(), 2)
    judged = run_and_judge(source, submitted_nb, sandbox, flags)
    return Graded(sub, judged, sandbox.protections, time.perf_counter() - start, {"started_at": started_at})


def unchanged_answers(source: Source, submitted_nb) -> list:
    """The learner's answer cells that are still exactly as released (the stub)."""
    if submitted_nb is None:
        return []
    released = {_meta(c).get("grade_id"): c.source.strip() for c in source.release.cells if _meta(c).get("solution")}
    return [c.get("source", "") for c in submitted_nb.cells
            if _meta(c).get("grade_id") in released and c.get("source", "").strip() == released[_meta(c).get("grade_id")]]


def identity(sub: submissions.Submission) -> dict:
    """Who a result belongs to, as found: for the identity report and the audit trail."""
    return {"name_found": sub.name, "on_roster": sub.on_roster, "late": sub.late, "timestamp": sub.timestamp,
            "file": sub.path.name, "not_graded": [p.name for p in sub.not_graded]}


def public_seed_used() -> bool:
    return checks.grading_seed() == checks.DEFAULT_GRADING_SEED


_NOISE = re.compile(r"^(Fontconfig error|Fontconfig warning|Matplotlib is building the font cache).*$\n?", re.M)


def without_system_noise(outputs: list) -> list:
    """Cell outputs without messages of the system (font caches), which are not the learner's."""
    kept = []
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            text = _NOISE.sub("", o.get("text", "") if isinstance(o.get("text"), str) else "".join(o.get("text", [])))
            if not text.strip():
                continue
            o = {**o, "text": text}
        kept.append(o)
    return kept


def _locked_sources(nb) -> list:
    return [c.get("source", "").strip() for c in nb.cells
            if _meta(c).get("locked") and not _meta(c).get("solution") and c.get("source", "").strip()]


def _share_present(locked: list, nb) -> float:
    have = {c.get("source", "").strip() for c in nb.cells}
    return sum(s in have for s in locked) / len(locked) if locked else 1.0


def wrong_assignment(source: Source, submitted_nb) -> str:
    """A flag when the notebook is not this assignment's (too few of its read-only cells), naming the one it is."""
    if _share_present(_locked_sources(source.release), submitted_nb) >= 0.25:
        return ""
    best, share = "", 0.0
    for other in nbcourse.assignments():
        rel = nbcourse.EXERCISES / other / f"{other}.ipynb"
        if other == source.assignment or not rel.exists():
            continue
        got = _share_present(_locked_sources(nbformat.read(rel, as_version=4)), submitted_nb)
        if got > share:
            best, share = other, got
    what = f"it is exercise {best}'s notebook" if share >= 0.5 else "it holds too few of its read-only cells"
    return f"wrong assignment: not {source.assignment}'s notebook ({what})"


def _why_stopped(session: SandboxSession) -> str:
    if session.remaining() <= 0:
        return f"stopped at the wall-clock limit of {session.limits.wall_seconds:g} s"
    if session.oom_killed():
        return "the sandbox hit its memory limit"
    tail = session.stderr_tail()
    return f"the notebook could not be run (its kernel stopped before the first cell){': ' + tail if tail else ''}"


def _feedback_note(score, max_score, flags, sandbox) -> str:
    lines = [f"**Graded by the course's grader** (course {course.__version__}, "
             f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}): {score:g} / {max_score:g} auto-graded points.",
             "Each test cell above shows the checks' verdicts; hidden checks state their criterion, not their data."]
    if flags:
        lines += ["", "**Flags raised while grading:**"] + [f"- {f}" for f in flags]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the batch
def refuse_other_seed(results_dir: Path, fingerprint: str) -> None:
    """Results graded under another grading seed are never overwritten (nor mixed with this seed's)."""
    others = {}
    for p in sorted(results_dir.glob("*.json")):
        try:
            old = json.loads(p.read_text()).get("seed_fingerprint")
        except (OSError, json.JSONDecodeError):
            continue
        if old and old != fingerprint:
            others.setdefault(old, []).append(p.stem)
    if others:
        who = "; ".join(f"seed fingerprint {k}: {len(v)} learner(s), e.g. {', '.join(v[:3])}" for k, v in others.items())
        raise nbcourse.GradingError(
            f"{results_dir} holds results graded under another grading seed ({who}); this seed is {fingerprint}. "
            "Nothing was graded or overwritten. Grade with the seed those results used, or into another "
            "--course-dir, or move that folder away first.")


@dataclass
class Summary:
    assignment: str
    graded: list
    skipped: list
    unrecognised: list
    protections: list
    missing_protections: list
    out_dir: Path
    seconds: float
    unmatched: list = field(default_factory=list)  # (name found, graded as): not on the roster
    missing: list = field(default_factory=list)  # (student_id, name): on the roster, no submission
    layout: str = ""
    public_seed: bool = False
    lost: list = field(default_factory=list)  # (student, why): tasks that did not finish; no result written


@dataclass
class Batch:
    """What a grading run works on: the source, the submissions found, those to grade and those already done."""

    source: Source
    found: object  # submissions.Found
    todo: list
    skipped: list
    results_dir: Path
    course_dir: Path
    start: float


@contextlib.contextmanager
def batch(assignment: str, source_path, *, roster=None, seed: int | None = None, force: bool = False, course_dir=None,
          on_todo=None):
    """Find the submissions, skip finished work and flag copies (once per cohort). The writer registers the assignment.

    Resumable: a learner whose result file matches the submission, the grading seed and the course version
    is not graded again (unless `force`). Results under another grading seed are never mixed in.
    `on_todo(source, todo)` is called as soon as the work is known, before the copies are compared (`grade`
    starts its kernel servers then).
    """
    start = time.perf_counter()
    course_dir = Path(course_dir or ROOT).resolve()
    if seed is not None:
        os.environ[checks.SEED_VARIABLE] = str(int(seed))
    checks.grading_seed()  # fails early on a malformed seed
    source = Source.load(assignment)
    results_dir = course_dir / "reports" / assignment / "results"
    with tempfile.TemporaryDirectory(prefix="course-unpack-") as unpack:
        # absolute paths: the writer's nbgrader calls change the working folder while the submissions are read
        found = submissions.discover(assignment, Path(source_path).resolve(), roster, Path(unpack).resolve())
        fp = seed_fingerprint()
        refuse_other_seed(results_dir, fp)
        results_dir.mkdir(parents=True, exist_ok=True)  # only now: a missing submissions folder leaves no empty one
        notebooks = {}
        for sub in found.submissions:
            try:
                notebooks[sub.student] = nbcourse.read_notebook(sub.path)
            except nbcourse.GradingError:
                notebooks[sub.student] = None
        todo, skipped = [], []
        for sub in found.submissions:
            if not force and is_done(results_dir / f"{sub.student}.json", sub, fp):
                skipped.append(sub.student)
            else:
                todo.append(sub)
        if on_todo is not None:
            on_todo(source, todo)
        copies = integrity.flags(source, notebooks)  # once per cohort: every pair of learners
        for sub in found.submissions:
            sub.notes += copies.get(sub.student, [])
        yield Batch(source, found, todo, skipped, results_dir, course_dir, start)


def is_done(result_file: Path, sub: submissions.Submission, fingerprint: str) -> bool:
    """Whether this learner's result on disk is for this very submission, grading seed and course version,
    and is a grade (a submission whose grading failed is graded again)."""
    if not result_file.exists():
        return False
    try:
        old = json.loads(result_file.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    failed = any(str(f).startswith(FAILED) for f in old.get("flags", []))  # a failure is no grade: try again
    return old.get("submission_sha256") == _sha(sub.path) and old.get("seed_fingerprint") == fingerprint \
        and old.get("course_version") == course.__version__ and not failed


def failed_result(sub: submissions.Submission, source: Source, error: Exception, protections: list) -> Result:
    """A submission whose grading broke (one broken submission never stops the batch)."""
    return Result(sub.student, source.assignment, 0.0, sum(t["points"] for t in source.tests.values()), {},
                  [f"{FAILED}: {type(error).__name__}: {str(error)[:500]}"], sub.found_as,
                  _sha(sub.path) if sub.path.exists() else "", seed_fingerprint(), course.__version__, protections, 0.0)


def save_result(b: Batch, res: Result) -> None:
    atomic_write(b.results_dir / f"{res.student}.json", json.dumps(asdict(res), indent=1))


def add_feedback(b: Batch, results: list, others=()) -> dict:
    """Write the feedback pages of these results (and of `others`, by name) and save the results with them."""
    pages = write_feedback(b.course_dir, b.source.assignment, [r.student for r in results] + list(others))
    for r in results:
        page = pages.get(r.student, "")
        if page.startswith("error: "):
            r.flags.append(f"no feedback page: {page[7:]}")
        r.feedback = page if page and not page.startswith("error: ") else ""
        r.phases["feedback_at"] = round(time.time(), 2)
        save_result(b, r)
    return pages


def finish(b: Batch, graded: list, protections: list, missing_protections: list) -> Summary:
    """The summary, and every report written from the result files (the one writer does this)."""
    out_dir = b.course_dir / "reports" / b.source.assignment
    protections = list(protections) + sorted({p for r in graded for p in (r.protections or []) if p.startswith("kernel:")})
    # the feedback pages, for this run's learners still without one and any an interrupted run left without one
    missing = [s for s in b.skipped if not feedback_path(b.course_dir, b.source.assignment, s).exists()]
    pages = add_feedback(b, [r for r in graded if not r.feedback], missing)
    for student in missing:
        f = b.results_dir / f"{student}.json"
        if pages.get(student, "").startswith("/") and f.exists():
            data = json.loads(f.read_text())
            data["feedback"] = pages[student]
            atomic_write(f, json.dumps(data, indent=1))
    summary = Summary(b.source.assignment, graded, b.skipped, [(str(p), why) for p, why in b.found.unrecognised],
                      protections, missing_protections, out_dir, round(time.perf_counter() - b.start, 2),
                      b.found.unmatched, b.found.missing, b.found.layout, public_seed_used())
    from course.grader import report

    report.write_all(b.course_dir, b.source.assignment, summary)
    return summary


def grade(assignment: str, source_path, *, roster=None, seed: int | None = None, workers: int | None = None,
          force: bool = False, course_dir=None, limits: Limits | None = None, progress: bool = True,
          sandbox: Sandbox | None = None) -> Summary:
    """Grade every submission of an assignment on this machine; see the module docstring."""
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from course.grader import kernels

    sandbox = sandbox or Sandbox(limits or Limits())
    # one more than the cores: the grading process judges and records beside the sandboxes, and a
    # submission stuck in a cell until its time limit should not leave a core idle
    n_workers = max(1, workers or (os.cpu_count() or 1) + 1)

    def start_servers(source, todo):  # the kernel servers import the libraries while the copies are compared
        kernels.POOL.warm(sandbox, preload(source), min(n_workers, len(todo)))

    running, lock = [0], threading.Lock()

    def judge(sub, source):
        with lock:
            running[0] += 1
        try:
            return judge_one(sub, source, sandbox)
        finally:
            with lock:
                running[0] -= 1

    with batch(assignment, source_path, roster=roster, seed=seed, force=force, course_dir=course_dir,
               on_todo=start_servers) as b:
        writer = Writer(b, busy=lambda: running[0] >= (os.cpu_count() or 1), pages=True)
        # the sandboxes use the cores; the grader's own numpy must not start a thread per core as well
        handed = set()

        def hand_over(fut):
            try:
                done = fut.result()
            except Exception as e:  # noqa: BLE001 - one broken submission never stops the batch
                done = failed_result(futures[fut], b.source, e, sandbox.protections)
            writer.put(done)
            handed.add(fut)

        with threadpool_limits(1), cf.ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = {pool.submit(judge, sub, b.source): sub for sub in b.todo}
            try:
                for fut in tqdm(cf.as_completed(futures), total=len(futures), desc=f"grading {assignment}",
                                disable=not progress):
                    hand_over(fut)
            except BaseException:  # Ctrl-C: stop now, and keep what was judged
                # the submissions running finish (each within its limits); the others are left for the next run
                pool.shutdown(wait=True, cancel_futures=True)
                with contextlib.suppress(Exception):  # a writer that failed: its reason is the one raised
                    for fut in futures:
                        if fut.done() and not fut.cancelled() and fut not in handed \
                                and isinstance(fut.exception(), (Exception, type(None))):  # not the interrupt itself
                            hand_over(fut)
                    writer.close()
                raise
        graded = writer.close()
    return finish(b, graded, sandbox.protections, sandbox.missing)

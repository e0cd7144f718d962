"""Execute every notebook of the course and time it (kernel start included): `course bench`."""
from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from course import ROOT


def notebooks(groups=("lessons", "solutions", "exercises")) -> list:
    """The course's notebooks, in course order within each group."""
    found = []
    for group in groups:
        found += sorted(p for p in (ROOT / group).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


# How long one wait for a cell's reply may last before the socket is looked at again (see `_client`)
REPLY_POLL_S = 1.0


def _client(nb, **kwargs):
    """nbclient's NotebookClient whose wait for a cell's execute_reply looks at the socket every REPLY_POLL_S.

    With pyzmq's asyncio poll, the reply to a cell that shows ipywidgets can arrive without waking the wait
    (jupyter/nbclient#312, open): the client then sits idle until the cell's whole timeout (600 s here) and only
    sees the reply in its last look at the socket. Lesson 03's slider cell did so in 3 of 6 runs on this machine,
    and made the site build take 10 minutes. Several short waits end within REPLY_POLL_S of the reply; the cell's
    own timeout is unchanged. Only the shell channel is waited on this way: outputs (iopub) are read as they come
    while the cell runs, and a missed wake-up there would end in nbclient's 4-s iopub timeout, not a stall.
    """
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            kc.shell_channel.get_msg = in_steps(kc.shell_channel.get_msg)
            return kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)  # nbclient binds its own for setup_kernel()

    return Client(nb, **kwargs)


def in_steps(get_msg, step: float | None = None):
    """`get_msg(timeout)` as waits of at most `step` seconds each, until a message comes or `timeout` has passed."""
    from queue import Empty

    async def get_msg_in_steps(timeout=None):
        each = step or REPLY_POLL_S
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = each if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(each, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_steps


def execute(path: Path, timeout: int = 600, allow_errors: bool = False, setup: str | None = None):
    """Run a notebook top to bottom in a fresh kernel, in its own folder; return (notebook, seconds).

    `setup`: code run first, as an extra cell that the returned notebook leaves out (the site's figures).
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if setup:
        nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
    os.environ.setdefault("COURSE_NO_SELF_CHECK", "1")  # an exercise's last cell would grade itself again
    start = time.perf_counter()
    _client(
        nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}}, extra_arguments=["--IPKernelApp.log_level=ERROR"],
    ).execute()
    if setup:
        nb.cells.pop(0)
    return nb, time.perf_counter() - start


def run(paths=None) -> list:
    """Execute notebooks and return [(relative path, seconds, status)]."""
    from tqdm.auto import tqdm

    rows = []
    for path in tqdm(paths or notebooks(), desc="notebooks"):
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        blank = "exercises" in path.parts
        try:
            _, secs = execute(path, allow_errors=blank)
            rows.append((str(rel), secs, "ok"))
        except Exception as e:  # noqa: BLE001 - report and go on with the next notebook
            rows.append((str(rel), float("nan"), f"FAILED: {type(e).__name__}"))
    return rows


def table(rows) -> str:
    width = max([len(r[0]) for r in rows] + [8])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    lines += [f"{name:<{width}}  {secs:8.1f}  {status}" for name, secs, status in rows]
    done = [s for _, s, st in rows if st == "ok"]
    if done:
        done_sorted = sorted(done)
        median = done_sorted[len(done_sorted) // 2]
        summary = f"({len(done)} ok, median {median:.1f} s, max {max(done):.1f} s)"
        lines += ["-" * (width + 20), f"{'total':<{width}}  {sum(done):8.1f}  {summary}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- grading throughput
def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _cohort(assignment: str, n: int, folder: Path) -> dict:
    """n submissions, a realistic mix: ~40% correct, ~30% partly correct, the rest blank, one that hangs."""
    import nbformat

    from course.grader import release

    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = release.typed_answers(solution)
    ids = [gid for gid in answers if _cell(solution, gid).cell_type == "code"]  # the markdown answers stay blank
    kinds = {}
    for i in range(n):
        kind = "timeout" if i == n - 1 else ("correct" if i % 10 < 4 else "partial" if i % 10 < 7 else "blank")
        chosen = ids if kind in ("correct", "timeout") else ids[: len(ids) // 2] if kind == "partial" else []
        nb = release.answered(blank, {gid: answers[gid] for gid in chosen})
        if kind == "timeout":
            nb.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
        student = f"learner{i:03d}"
        (folder / student / assignment).mkdir(parents=True)
        nbformat.write(nb, folder / student / assignment / f"{assignment}.ipynb")
        kinds[student] = kind
    return kinds


@contextlib.contextmanager
def _learner_starts():
    """{student: when nbgrader's batch autograde started them} (perf_counter), for the bench's per-learner figures."""
    from nbgrader.converters.autograde import Autograde

    starts: dict = {}
    original = Autograde.init_assignment

    def init_assignment(self, assignment_id, student_id):
        starts[student_id] = time.perf_counter()
        return original(self, assignment_id, student_id)

    Autograde.init_assignment = init_assignment
    try:
        yield starts
    finally:
        Autograde.init_assignment = original


def grading_throughput(n: int = 40, assignment: str = "01-ml-recap", workers: int | None = None, cell_timeout: int = 30) -> dict:
    """Grade the same n submissions with one batch `nbgrader autograde` and with `course grade`; time both."""
    import tempfile

    from course.grader import cohort, course_dir, release
    from course.grader.sandbox import Limits, Sandbox

    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        tmp = Path(tmp)
        kinds = _cohort(assignment, n, tmp / "submitted")
        # 1. nbgrader, as an instructor runs it: generate, then one `nbgrader autograde` over every student (one
        # batch: its converter and database set up once, about 10% faster than one call per student)
        nbg = course_dir.scratch_course(tmp / "nbg", [assignment])
        shutil.copytree(tmp / "submitted", nbg / "submitted")
        release.generate(nbg, assignment)
        api = course_dir.nbgrader_api(nbg)
        api.config.Execute.timeout = cell_timeout
        with _learner_starts() as starts, course_dir.quiet_env():
            start = time.perf_counter()
            done = api.autograde(assignment, "*", force=True, create=True)
            sequential = time.perf_counter() - start
        if not done.get("success") or sorted(starts) != sorted(kinds):
            raise RuntimeError(f"nbgrader did not autograde every submission: {done.get('error') or done.get('log', '')[-500:]}")
        ends = sorted(starts.values())[1:] + [start + sequential]  # a learner's time: until the next one starts
        per_learner = {k: end - starts[k] for k, end in zip(sorted(starts, key=starts.get), ends)}
        nbgrader_without_hang = sum(v for k, v in per_learner.items() if kinds[k] != "timeout")
        # 2. course grade: sandboxed, parallel, trusted checks, gradebook and feedback
        course_dir = tmp / "cg"
        course_dir.mkdir()
        sandbox = Sandbox(Limits(cell_seconds=cell_timeout))
        start, wall0 = time.perf_counter(), time.time()
        summary = cohort.grade(assignment, tmp / "submitted", course_dir=course_dir, workers=workers, sandbox=sandbox, progress=False)
        parallel = time.perf_counter() - start
        # when the last submission without the hanging cell was recorded
        others_done = max(r.phases.get("recorded_at", 0) for r in summary.graded if kinds[r.student] != "timeout") - wall0
        hang = next((r for r in summary.graded if kinds[r.student] == "timeout"), None)
        hang_started = round(hang.phases.get("started_at", wall0) - wall0, 1) if hang is not None else None
        scores = {}
        for r in summary.graded:
            scores.setdefault(kinds[r.student], []).append(r.score)
    return {
        "submissions": n, "workers": workers or (os.cpu_count() or 1) + 1, "nbgrader_sequential_s": round(sequential, 1),
        "course_grade_s": round(parallel, 1), "speedup": round(sequential / parallel, 2),
        "without_the_hanging_submission": {
            "nbgrader_s": round(nbgrader_without_hang, 1), "course_grade_s": round(others_done, 1),
            "speedup": round(nbgrader_without_hang / others_done, 2),
            "note": "course grade: from the start of the batch until the last submission without the hanging cell was "
                    "recorded in the gradebook (its feedback page may come later); nbgrader: its time on the other "
                    "learners (each from when its batch started that learner until it started the next)"},
        "hanging_submission_started_s": hang_started,  # after the batch started: the others' share of the total
        "per_submission_nbgrader_s": round(sequential / n, 2), "per_submission_course_grade_s": round(parallel / n, 2),
        "mean_phase_s": {k: round(sum(r.phases.get(k, 0) for r in summary.graded) / max(1, len(summary.graded)), 2)
                         for k in ("run", "run_prepare", "run_server", "run_fork", "run_kernel_start", "run_cells", "judge",
                                   "record", "record_batch")},
        "protections": summary.protections, "mean_score_by_kind": {k: round(sum(v) / len(v), 2) for k, v in scores.items()},
        "note": "nbgrader: one `nbgrader autograde` over all the submissions (it grades them one after another), "
                "unsandboxed, writing no feedback; course grade includes the sandbox, the trusted checks, feedback "
                "HTML and reports",
    }


def _per_worker(graded) -> dict:
    counts: dict = {}
    for r in graded:
        who = str(r.phases.get("worker", "?"))
        counts[who] = counts.get(who, 0) + 1
    return dict(sorted(counts.items()))


def dask_scaling(n: int = 200, assignment: str = "01-ml-recap", scheduler: str = "local", cell_timeout: int = 30) -> dict:
    """Grade the same n submissions on a local Dask cluster of 1 worker, then of 2 workers; time both."""
    import tempfile

    from course.grader import dask_grading
    from course.grader.sandbox import Limits

    if scheduler != "local":
        raise ValueError("the scaling benchmark starts its own clusters: use --scheduler local")
    out = {"submissions": n, "assignment": assignment}
    with tempfile.TemporaryDirectory(prefix="course-bench-dask-") as tmp:
        tmp = Path(tmp)
        kinds = _cohort(assignment, n, tmp / "submitted")
        for workers in (1, 2):
            course_dir = tmp / f"cg{workers}"
            course_dir.mkdir()
            start = time.perf_counter()
            summary = dask_grading.grade(assignment, tmp / "submitted", scheduler="local", workers=workers,
                                         course_dir=course_dir, limits=Limits(cell_seconds=cell_timeout), progress=False)
            seconds = time.perf_counter() - start
            scores: dict = {}
            for r in summary.graded:
                scores.setdefault(kinds[r.student], []).append(r.score)
            out[f"{workers}_worker"] = {
                "seconds": round(seconds, 1), "submissions_per_minute": round(60 * len(summary.graded) / seconds, 1),
                "graded": len(summary.graded), "lost": len(summary.lost),
                "submissions_per_worker": _per_worker(summary.graded),
                "mean_phase_s": {k: round(sum(r.phases.get(k, 0) for r in summary.graded) / max(1, len(summary.graded)), 2)
                                 for k in ("run", "judge", "record")},
                "mean_score_by_kind": {k: round(sum(v) / len(v), 2) for k, v in scores.items()}}
    out["speedup_2_vs_1"] = round(out["1_worker"]["seconds"] / out["2_worker"]["seconds"], 2)
    out["note"] = "cluster start included; the one writer records every submission in this process"
    return out

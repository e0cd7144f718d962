"""Grade a cohort on Dask distributed: `course grade ASSIGNMENT SUBMISSIONS --scheduler ADDRESS|local`.

The same grading as `course grade` on one machine (`course.grader.cohort`), spread over Dask's workers:

- **Each worker grades in its own sandbox.** A task is one submission: the worker runs the notebook in a
  fresh sandbox and a fresh kernel and judges it with the trusted checks (`cohort.run_and_judge`), then
  sends back plain data (verdicts, flags, the cells' outputs, the repaired notebook). No process, kernel or
  sandbox is shared between learners. A worker whose bubblewrap does not work refuses the task (unless the
  instructor allowed the weaker isolation), so a misconfigured node never grades unsandboxed quietly.
- **One writer owns the gradebook and the reports.** Only this process (the Dask client) records: nbgrader's
  gradebook, feedback, the result files and the reports (`cohort.Writer`, a thread that records whatever has
  arrived in one nbgrader run while this process goes on collecting results).
- **Resumable, and never recorded twice.** A learner whose result file matches the submission, the seed and
  the course version is skipped (`cohort.batch`). Each task has a key made of the learner and the
  submission's digest; the writer is handed a key at most once, however often Dask reran its task (a worker
  that dies mid-run has its tasks rerun elsewhere). A task that could not finish leaves no result file, so
  the next run grades it.

Dask and distributed are in `requirements/grading.txt`, never in the learner's environment. The workers
need the course environment (the same course version: results from another version are refused),
bubblewrap, and user namespaces, which container platforms often restrict (see the README).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time

from course import checks
from course.grader import cohort
from course.grader.sandbox import Limits, Sandbox


# --------------------------------------------------------------------------- on a worker
@functools.lru_cache(maxsize=16)
def _source(assignment: str) -> cohort.Source:
    return cohort.Source.load(assignment)


def grade_remote(assignment: str, notebook_text: str | None, flags: list, seed: str | None, limits: dict,
                 allow_weak: bool, version: str) -> dict:
    """Run on a Dask worker: judge one submission in a fresh sandbox; plain data back, nothing recorded."""
    import course

    if version != course.__version__:
        raise RuntimeError(f"this worker has course {course.__version__}, the grader {version}: install the same version")
    if seed is None:
        os.environ.pop(checks.SEED_VARIABLE, None)
    else:
        os.environ[checks.SEED_VARIABLE] = seed  # one task at a time per worker process (threads_per_worker=1)
    start = time.perf_counter()
    sandbox = Sandbox(Limits(**limits))
    broken = sandbox.probe() if sandbox.bwrap else "bubblewrap is not installed on this worker"
    if broken:
        if not allow_weak:
            raise RuntimeError(f"refusing to grade without a working sandbox on this worker: {broken}")
        sandbox = Sandbox(Limits(**limits), use_bwrap=False)
    nb = None
    if notebook_text is not None:
        import nbformat

        nb = nbformat.reads(notebook_text, as_version=4)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        judged = cohort.run_and_judge(_source(assignment), nb, sandbox, flags)
    return {"judged": {k: getattr(judged, k) for k in ("tests", "flags", "cells", "values", "phases", "repaired", "note", "isolation")},
            "protections": sandbox.protections, "seed_fingerprint": cohort.seed_fingerprint(),
            "seconds": round(time.perf_counter() - start, 2), "worker": os.uname().nodename + f":{os.getpid()}"}


# --------------------------------------------------------------------------- the one writer
def task_key(assignment: str, sub) -> str:
    digest = hashlib.sha256(sub.path.read_bytes()).hexdigest()[:16] if sub.path.is_file() else "unreadable"
    return f"course-grade-{assignment}-{sub.student}-{digest}"


def client_for(scheduler: str, workers: int | None = None):
    """(client, cluster or None): `local` starts a LocalCluster of `workers` single-threaded processes."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(n_workers=max(1, workers or os.cpu_count() or 1), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        return Client(cluster), cluster
    return Client(scheduler), None


def grade(assignment: str, source_path, *, scheduler: str = "local", client=None, roster=None, seed: int | None = None,
          workers: int | None = None, force: bool = False, course_dir=None, limits: Limits | None = None,
          allow_weak: bool = False, progress: bool = True) -> cohort.Summary:
    """Grade every submission of an assignment on a Dask cluster; this process is the one writer."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    limits = limits or Limits()
    own = None
    if client is None:
        client, own = client_for(scheduler, workers)
    try:
        with cohort.batch(assignment, source_path, roster=roster, seed=seed, force=force, course_dir=course_dir) as b:
            seed_value = os.environ.get(checks.SEED_VARIABLE)
            fingerprint = cohort.seed_fingerprint()
            import course

            futures, subs = [], {}
            for sub in b.todo:
                flags = cohort.submission_flags(b.source, sub)
                notebook = cohort.read_submission(sub, flags)
                text = None if notebook is None else json.dumps(notebook)
                key = task_key(assignment, sub)
                subs[key] = sub
                futures.append(client.submit(grade_remote, assignment, text, flags, seed_value, _limits_dict(limits),
                                             allow_weak, course.__version__, key=key, pure=False))
            writer = cohort.Writer(b)
            handed, protections, lost = set(), [], []
            try:
                for fut in tqdm(as_completed(futures), total=len(futures), desc=f"grading {assignment} on Dask",
                                disable=not progress):
                    key = fut.key
                    sub = subs[key]
                    if key in handed:
                        continue  # a rerun task's second result: recorded once only
                    try:
                        out = fut.result()
                    except Exception as e:  # noqa: BLE001 - a lost task leaves no result file: the next run grades it
                        lost.append((sub.student, f"{type(e).__name__}: {str(e)[:300]}"))
                        continue
                    finally:
                        fut.release()
                    if out["seed_fingerprint"] != fingerprint:
                        lost.append((sub.student, "the worker graded under another grading seed"))
                        continue
                    writer.put(cohort.Graded(sub, cohort.Judged(**out["judged"]), out["protections"], out["seconds"],
                                             {"worker": out["worker"]}))
                    handed.add(key)
                    protections = protections or out["protections"]
            except BaseException:  # Ctrl-C: what was handed over is recorded before stopping
                with contextlib.suppress(Exception):
                    writer.close()
                raise
            graded = writer.close()
            weak = [] if any("bubblewrap" in p for p in protections) else \
                ["no bubblewrap on the workers: learner code ran as the workers' user (--allow-weak-sandbox)"]
            summary = cohort.finish(b, graded, protections, weak if graded else [])
            summary.lost = lost
            return summary
    finally:
        if own is not None:
            client.close()
            own.close()


def _limits_dict(limits: Limits) -> dict:
    from dataclasses import asdict

    return asdict(limits)

"""`course grade --scheduler`: grading on a local Dask cluster of 2 workers, one of them killed mid-run.

Nothing may be lost or doubled: every learner gets exactly one result, recorded once by the one writer
(this process), with the score the sandboxed checks give; a second run grades nothing (resumable).
"""
from __future__ import annotations

import os
import signal
import threading
import time

import nbformat
import pytest
from conftest import ROOT, ensure_extra, require
from test_grade import BLANK, from_solution

from course.grader import cohort

A = "01-ml-recap"


def _auto_points() -> float:
    """The solution's full auto-graded score: the points of the test cells (not of the hand-graded answers)."""
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    return sum(float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(tmp_path, monkeypatch):
    require("bwrap")
    distributed = ensure_extra("grading.txt", "distributed")
    from course.grader import dask_grading

    subs = tmp_path / "subs"
    subs.mkdir()
    expected = {}
    for i in range(4):
        name = f"learner{i}"
        nbformat.write(from_solution() if i % 2 == 0 else BLANK, subs / f"{name}.ipynb")
        expected[name] = _auto_points() if i % 2 == 0 else 0.0
    recorded = []
    real_record = cohort.record_judged

    def counting(items, *args, **kw):
        recorded.extend(g.sub.student for g in items)
        return real_record(items, *args, **kw)

    monkeypatch.setattr(cohort, "record_judged", counting)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=50)
    client = distributed.Client(cluster)
    killed = {}

    def kill_a_busy_worker():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not recorded:  # once the first result is in, while others run
            time.sleep(0.2)
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            killed["tasks"] = client.processing()[busy[0]]
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    try:
        summary = dask_grading.grade(A, subs, client=client, course_dir=course_dir, seed=7, progress=False)
        killer.join(timeout=60)
        assert killed.get("tasks"), "the test must kill a worker while it grades (none was busy after the first result)"
        assert sorted(recorded) == sorted(expected), (
            f"expected each learner recorded exactly once by the one writer; saw {sorted(recorded)} "
            f"(a worker running {killed['tasks']} was killed): a rerun task must not be recorded twice, nor lost")
        assert not summary.lost, summary.lost
        assert {r.student: r.score for r in summary.graded} == expected
        files = sorted(p.stem for p in (course_dir / "reports" / A / "results").glob("*.json"))
        assert files == sorted(expected)
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
            assert sorted(s.student.id for s in gb.assignment_submissions(A)) == sorted(expected)
        # resumable: a second run finds every result and grades nothing
        again = dask_grading.grade(A, subs, client=client, course_dir=course_dir, seed=7, progress=False)
        assert not again.graded and sorted(again.skipped) == sorted(expected)
        assert len(recorded) == len(expected)
    finally:
        client.close()
        cluster.close()

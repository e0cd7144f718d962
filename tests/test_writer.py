"""The one writer of a grading run (`cohort.Writer`, `cohort.record`).

- One nbgrader run records several learners, each with their own verdicts; a notebook nbgrader refuses, or
  whose nbgrader metadata is not the instructor's, costs only its learner.
- The writer leaves the cores to the sandboxes: while every core runs a submission it records a batch only
  once `BACKLOG` learners wait, and it catches up as soon as a core is free.
- A writer that cannot register the assignment stops the run with nbgrader's reason, before much is judged.
- Ctrl-C stops the run at once and keeps what was judged.
"""
from __future__ import annotations

import copy
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import ROOT

from course.grader import cohort
from course.grader import course_dir as nbcourse
from course.grader.results import Result

A = "01-ml-recap"
BLANK = nbformat.read(ROOT / "exercises" / A / f"{A}.ipynb", as_version=4)
TEST_CELLS = [c for c in BLANK.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
              and not c.metadata["nbgrader"].get("solution")]
TESTS = [c.metadata["nbgrader"]["grade_id"] for c in TEST_CELLS]
AUTO_POINTS = sum(float(c.metadata["nbgrader"]["points"]) for c in TEST_CELLS)  # the hand-graded answers aside


def _verdicts(passed: bool) -> dict:
    return {"tests": {g: {"passed": passed, "messages": ["right" if passed else "wrong"]} for g in TESTS},
            "cells": [], "note": ""}


def test_one_batch_records_each_learner_with_their_own_verdicts_and_a_refused_notebook_costs_only_its_own(tmp_path):
    cohort.register_assignment(tmp_path, A)
    refused = copy.deepcopy(BLANK)
    next(c for c in refused.cells if c.metadata.get("nbgrader"))["metadata"]["nbgrader"]["schema_version"] = 99
    entries = [cohort.Entry("ann", copy.deepcopy(BLANK), _verdicts(True)),
               cohort.Entry("bob", refused, _verdicts(True)),
               cohort.Entry("cy", copy.deepcopy(BLANK), _verdicts(False), timestamp="2026-12-01 10:00:00", flagged=True),
               cohort.Entry("dan", copy.deepcopy(BLANK), _verdicts(True), timestamp="not a time")]
    out = cohort.record(tmp_path, A, entries, tmp_path / "scratch")
    assert out["ann"] == "" and out["cy"] == "", f"expected ann and cy recorded despite bob's and dan's; saw {out}"
    # bob's metadata is not the instructor's: refused before nbgrader (which no longer checks it)
    assert "not the instructor's" in out.get("bob", ""), f"expected a reason for bob's notebook (schema version 99); saw {out}"
    # nbgrader itself refuses dan's timestamp: the batch fails, then each learner is recorded alone
    assert "nbgrader could not record dan" in out.get("dan", ""), f"expected nbgrader's refusal of dan; saw {out}"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        ann, cy = gb.find_submission(A, "ann"), gb.find_submission(A, "cy")
        # one verdicts file for the batch: each learner's own verdicts, not the first one's for all
        assert ann.score == AUTO_POINTS > 0, f"ann passed every test: expected {AUTO_POINTS}, saw {ann.score}"
        assert cy.score == 0, f"cy failed every test: expected 0, saw {cy.score} (verdicts mixed up between learners?)"
        assert cy.timestamp is not None and cy.timestamp.year == 2026, "cy's submission time is kept"
        assert all(nb.flagged for nb in cy.notebooks) and not any(nb.flagged for nb in ann.notebooks)
    assert (tmp_path / "autograded" / "ann" / A / f"{A}.ipynb").exists()
    for refused_one in ("bob", "dan"):
        kept = tmp_path / "autograded" / refused_one / A / f"{A}.ipynb"
        assert not kept.exists(), f"expected nothing kept of {refused_one}'s refused notebook; saw {kept}"


def _batch(tmp_path) -> cohort.Batch:
    return cohort.Batch(SimpleNamespace(assignment=A), None, [], [], tmp_path / "results", tmp_path, time.perf_counter())


def _result(student: str) -> Result:
    return Result(student, A, 1.0, 1.0, {}, [], "file", "", "", "", [], 0.0)


def _graded(student: str) -> cohort.Graded:
    return cohort.Graded(SimpleNamespace(student=student), None, [], 0.0)


def _until(condition, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_writer_leaves_the_cores_to_the_sandboxes_and_catches_up_when_one_is_free(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cohort, "register_assignment", lambda *a: calls.append("register"))
    monkeypatch.setattr(cohort, "record_judged", lambda items, *a: calls.append(len(items)) or
                        [_result(g.sub.student) for g in items])
    monkeypatch.setattr(cohort, "add_feedback", lambda *a, **k: calls.append("pages") or {})
    busy = threading.Event()
    busy.set()
    writer = cohort.Writer(_batch(tmp_path), busy=busy.is_set, pages=True)
    for i in range(3):
        writer.put(_graded(f"l{i}"))
    time.sleep(1.0)
    assert calls == ["register"], (
        f"expected the assignment registered at once, and nothing recorded while every core runs a submission "
        f"and 3 wait; saw {calls}")
    for i in range(3, cohort.Writer.BACKLOG - 1):
        writer.put(_graded(f"l{i}"))
    time.sleep(1.0)
    assert calls == ["register"], (
        f"expected nothing recorded while every core runs a submission and fewer than {cohort.Writer.BACKLOG} "
        f"wait ({cohort.Writer.BACKLOG - 1} do); saw {calls}")
    writer.put(_graded(f"l{cohort.Writer.BACKLOG - 1}"))
    assert _until(lambda: cohort.Writer.BATCH in calls), (
        f"expected a batch of {cohort.Writer.BATCH} recorded even while the cores are busy, once "
        f"{cohort.Writer.BACKLOG} wait; saw {calls}")
    time.sleep(1.0)
    assert calls == ["register", cohort.Writer.BATCH], (
        f"expected one batch only: the backlog is below {cohort.Writer.BACKLOG} again, so the rest waits for a free "
        f"core; saw {calls}")
    writer.put(_graded("late"))
    writer.put(_result("broken"))  # a submission whose grading failed: saved as it is
    time.sleep(0.5)
    assert len(calls) == 2, f"expected the last two to wait for a free core as well; saw {calls}"
    busy.clear()
    left = cohort.Writer.BACKLOG - cohort.Writer.BATCH + 1  # judged and unrecorded: 48 learners and 'late'
    assert _until(lambda: "pages" in calls), f"expected the writer to catch up once a core is free; saw {calls}"
    graded = writer.close()
    everyone = [f"l{i}" for i in range(cohort.Writer.BACKLOG)] + ["late", "broken"]
    assert sorted(r.student for r in graded) == sorted(everyone)
    recorded = [c for c in calls if isinstance(c, int)]
    assert recorded[0] == cohort.Writer.BATCH and sum(recorded[1:]) == left and max(recorded) <= cohort.Writer.BATCH, (
        f"expected batches of at most {cohort.Writer.BATCH}, {left} learners after the first; saw {calls}")
    last_record = max(i for i, c in enumerate(calls) if isinstance(c, int))
    last_pages = max(i for i, c in enumerate(calls) if c == "pages")
    assert last_pages > last_record, f"expected feedback pages after the last record; saw {calls}"
    assert len(list((tmp_path / "results").glob("*.json"))) == len(everyone)


def test_a_writer_that_cannot_register_stops_the_run_with_the_reason(tmp_path, monkeypatch):
    def refuse(*a):
        raise nbcourse.GradingError("register 01-ml-recap in the gradebook: database is locked")

    monkeypatch.setattr(cohort, "register_assignment", refuse)
    writer = cohort.Writer(_batch(tmp_path))
    with pytest.raises(nbcourse.GradingError, match="database is locked"):
        for _ in range(40):  # registration is its first job: within 2 s a submission handed over raises its reason
            writer.put(_graded("bob"))
            time.sleep(0.05)
    with pytest.raises(nbcourse.GradingError):
        writer.close()
    assert not list(Path(tmp_path).glob("results/*.json")), "nothing recorded, so no result file says otherwise"


def test_ctrl_c_stops_the_run_now_and_keeps_what_was_judged(tmp_path, monkeypatch):
    """A KeyboardInterrupt in the grading loop: the submissions not started are left for the next run (before,
    the thread pool's exit went on grading every one of them), and those judged are recorded."""
    from course.grader import kernels

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b", "c", "d-stop", "e", "f"):
        nbformat.write(BLANK, subs / f"{name}.ipynb")
    judged = []

    def fake_judge(sub, source, sandbox):
        judged.append(sub.student)
        if sub.student == "d-stop":
            raise KeyboardInterrupt
        time.sleep(0.5)
        return _graded(sub.student)

    monkeypatch.setattr(cohort, "judge_one", fake_judge)
    monkeypatch.setattr(kernels.POOL, "warm", lambda *a: None)
    monkeypatch.setattr(cohort, "register_assignment", lambda *a: None)
    monkeypatch.setattr(cohort, "record_judged", lambda items, *a: [_result(g.sub.student) for g in items])
    monkeypatch.setattr(cohort, "add_feedback", lambda *a, **k: {})
    with pytest.raises(KeyboardInterrupt):
        cohort.grade(A, subs, course_dir=tmp_path / "course", workers=1, seed=1, progress=False)
    # "e" may have started before the interrupt reached the loop (it then finishes); "f" must never start
    assert judged[:4] == ["a", "b", "c", "d-stop"] and "f" not in judged, (
        f"expected grading to stop at the interrupt, the submission running finishing; judged {judged}")
    saved = sorted(p.stem for p in (tmp_path / "course" / "reports" / A / "results").glob("*.json"))
    assert saved == sorted(set(judged) - {"d-stop"}), f"expected every submission judged recorded; saw {saved}"

"""What recording costs per learner: `cohort.record` (nbgrader's autograde with the injected verdicts) on a
batch of learners, timed (not collected by pytest; run it on an idle machine).

    .venv/bin/python tests/measure_recording.py                  # this checkout
    git worktree add /tmp/before c0d1200 && PYTHONPATH=/tmp/before .venv/bin/python tests/measure_recording.py

Each learner's notebook is the released one with verdicts that pass every test: recording's cost hardly
depends on what the learner wrote. The first of the runs also imports nbgrader; the later ones are what a
grading run pays per batch.
"""
from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course import ROOT
from course.grader import cohort

A = "01-ml-recap"


def measure(learners: int = 16, runs: int = 4) -> dict:
    blank = nbformat.read(ROOT / "exercises" / A / f"{A}.ipynb", as_version=4)
    tests = [c.metadata["nbgrader"]["grade_id"] for c in blank.cells
             if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
    verdicts = {"tests": {g: {"passed": True, "messages": ["right"]} for g in tests}, "cells": [], "note": ""}
    entries = [cohort.Entry(f"learner{i:03d}", copy.deepcopy(blank), verdicts) for i in range(learners)]
    with tempfile.TemporaryDirectory(prefix="measure-recording-") as tmp:
        course_dir = Path(tmp)
        start = time.perf_counter()
        cohort.register_assignment(course_dir, A)
        register = time.perf_counter() - start
        walls, cpus = [], []
        for run in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            out = cohort.record(course_dir, A, entries, course_dir / f"scratch{run}")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            if any(out.values()):
                raise SystemExit(f"recording failed: {out}")
    later = walls[1:] or walls
    return {"code": str(Path(cohort.__file__).parents[2]), "learners per batch": learners,
            "register s": round(register, 2), "batch wall s": [round(w, 2) for w in walls],
            "batch cpu s": [round(c, 2) for c in cpus],
            "per learner s (later batches, mean)": round(sum(later) / len(later) / learners, 3)}


if __name__ == "__main__":
    print(json.dumps(measure(*map(int, sys.argv[1:3])), indent=1))

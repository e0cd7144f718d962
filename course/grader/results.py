"""A learner's result on disk: one JSON file per learner and assignment, written atomically.

`course grade` writes them (`grader.cohort`), the reports read them (`grader.report`); a rerun
skips a learner whose file matches the submission and the grading seed.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    student: str
    assignment: str
    score: float
    max_score: float
    tests: dict
    flags: list
    found_as: str
    submission_sha256: str
    seed_fingerprint: str
    course_version: str
    protections: list
    seconds: float
    feedback: str = ""
    values: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)  # seconds spent running, judging and recording


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load_results(course_dir, assignment: str) -> list:
    """Every learner's result file of an assignment (dicts)."""
    folder = Path(course_dir) / "reports" / assignment / "results"
    out = []
    for p in sorted(folder.glob("*.json")) if folder.exists() else []:
        with contextlib.suppress(OSError, json.JSONDecodeError):
            out.append(json.loads(p.read_text()))
    return out

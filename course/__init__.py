"""Adversarial machine learning for industry practitioners: the course's Python package.

Five layers, each importing only from the ones above it in this list (a test checks it):

1. `course.ground` - the threat model (`threat`: norms, bounds, `project`, `ABSTAIN`,
   `ThreatModel`) and the misconception catalogue (`misconceptions`);
2. `course.science` - what the lessons call: `datasets`, `models`, `services` (the counted
   prediction API), `attacks` (gradient, query, transfer), `defences`, `evaluation` (metrics
   and the adaptive harness), one topic module per lesson (`beliefs`, `threat_modelling`,
   `economics`, `poisoning`, `supply_chain`, `privacy`), `plots` (every figure), `widgets`;
3. `course.checks` - what graded cells call: `check(task_id, answer)`, one module per
   exercise, the verdicts (`feedback`), and the answer keys (`keys`, never in the sandbox);
4. `course.grader` - `course release`, `course check` and `course grade`: the course
   directory, self-check, cohort grading, the sandbox and its protocol, results, reports;
5. `course.delivery` - the `course` command, the benchmark, the environment files, the
   workshop kit (agendas, site, offline bundle, hub environment).

Importing `course` prints nothing and imports nothing heavy; secml is loaded only by
`course.science.attacks.evade`, quietly, with its data folder in a writable scratch place.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

__version__ = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent  # the repository: the nbgrader course directory


def _scratch_dir(name: str) -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"{name}-{uid}")


# secml creates $HOME/secml-data on first import (and fails on a read-only home): point it
# at a scratch folder instead, unless the user chose one.
os.environ.setdefault("SECML_HOME_DIR", _scratch_dir("course-secml"))
os.environ.setdefault("SECML_PYTORCH_DIR", os.path.join(os.environ["SECML_HOME_DIR"], "pytorch-data"))


def check(notebook: str = "") -> None:
    """Self-check a saved exercise notebook from its own last cell (see `course.grader.selfcheck.check`)."""
    from course.grader.selfcheck import check_from_notebook

    check_from_notebook(notebook)

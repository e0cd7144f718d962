"""Adversarial machine learning for industry practitioners: the course's Python package.

One module per idea:
- the material: `datasets` (offline data), `models` (small models and their gradients), `attacks`
  (evasion through secml), `api` (a model behind a counted prediction API, query attacks),
  `economics`, `poisoning`, `supply_chain`, `privacy`, `defenses`, `evaluation` (robust accuracy,
  security curves, the adaptive evaluation harness), `threat_model`, `beliefs` (the mental-model check);
- the notebooks' helpers: `plots`, `widgets`;
- grading: `feedback` and `checks` (what graded cells call), `grading` (release, self-check),
  `cohort`, `sandbox`, `runner`, `submissions`, `report` (`course grade`);
- delivery: `workshop` (agendas, site, offline bundle), `bench`, `environment`, and `cli` (`course ...`).
Importing `course` prints nothing and imports nothing heavy; secml is loaded only by
`course.attacks`, quietly, with its data folder in a writable scratch place.
"""
from __future__ import annotations

import os
import tempfile

__version__ = "0.1.0"


def _scratch_dir(name: str) -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"{name}-{uid}")


# secml creates $HOME/secml-data on first import (and fails on a read-only home): point it
# at a scratch folder instead, unless the user chose one.
os.environ.setdefault("SECML_HOME_DIR", _scratch_dir("course-secml"))
os.environ.setdefault("SECML_PYTORCH_DIR", os.path.join(os.environ["SECML_HOME_DIR"], "pytorch-data"))


def check(notebook: str = "") -> None:
    """Self-check a saved exercise notebook from its own last cell (see `course.grading.check`)."""
    from course.grading import check_from_notebook

    check_from_notebook(notebook)

"""The workshop hub under load (slow): two simulated learners, no errors. Never a timing assertion.

The benchmark with more learners is `python tests/loadtest.py N` (see tests/loadtest.py); its
figures are measured, not asserted.
"""
from __future__ import annotations

import json

import pytest
from conftest import ROOT
from loadtest import run_load, sizing
from test_hub import ARTIFACTS, hub_on_loopback


@pytest.mark.slow
def test_two_learners_log_in_open_lesson_01_and_run_every_cell():
    learners = ["amlload-ada", "amlload-bob"]
    with hub_on_loopback(["amlload-teacher"], learners, {"AML_HUB_IDLE_TIMEOUT": "0"}) as h:
        result = run_load(h["url"], h["admin"], learners, ramp=2.0, root=ROOT)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loadtest-2.json").write_text(json.dumps(result, indent=1) + "\n")
    problems = {r["name"]: r["errors"] for r in result["records"] if r["errors"]}
    assert result["errors"] == 0, f"errors under load: {problems}"
    for r in result["records"]:
        assert r["cells_run"] == result["cells"], f"{r['name']} ran {r['cells_run']} of {result['cells']} cells"
        assert r["peak_mb"] > 0 and r["cpu_s"] > 0, f"{r['name']}: nothing measured ({r})"
    assert sizing(result["summary"])["memory_gb_per_learner"] > 0

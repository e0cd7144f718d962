"""Every lesson and solution notebook executes top to bottom, offline, without errors or stderr."""
from __future__ import annotations

import pytest
from conftest import lesson_paths, solution_paths

from course.delivery import bench


def _stderr_or_errors(nb):
    bad = []
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error" or (out.get("output_type") == "stream" and out.get("name") == "stderr"):
                bad.append((i, out.get("ename") or out.get("text", "")[:300]))
    return bad


# A cell's timeout well above any cell's run time (the longest takes under a minute): twice in this project's runs a
# lesson sat for 570-590 s with its kernel and nbclient both idle, then finished; the cause is not found (see the
# README, Tests). A stall then costs time, not a false failure; a real hang still fails.
CELL_TIMEOUT = 1200


@pytest.mark.parametrize("path", lesson_paths() + solution_paths(), ids=lambda p: p.name)
def test_notebook_executes_offline_without_stderr(path):
    nb, seconds = bench.execute(path, timeout=CELL_TIMEOUT)
    assert not _stderr_or_errors(nb), f"{path.name}: errors or stderr output {_stderr_or_errors(nb)}"
    print(f"{path.name}: {seconds:.1f} s")

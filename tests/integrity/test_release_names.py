"""Issue 13, item 9: a released exercise defines every name that its non-answer cells use.

nbgrader replaces an answer cell's solution (or, without BEGIN/END SOLUTION markers, the whole cell)
with a stub; a name the solution defined and a later cell reads is then undefined, and the learner's
notebook raises NameError in a cell they did not write. This reads the released notebooks statically:
each cell, in order, may use only names bound by an earlier cell (as released), by itself, or by Python.
"""
from __future__ import annotations

import ast
import builtins
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASED = sorted((ROOT / "exercises").glob("*/*.ipynb"))
IPYTHON = {"display", "get_ipython", "In", "Out", "_", "__", "___"}


def _code(cell) -> str:
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


def _bound_and_used(tree):
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, used


def undefined_names(nb: dict) -> list:
    """(cell index, name) for each name a non-answer cell reads that nothing before it defines."""
    known, missing = set(dir(builtins)) | IPYTHON, []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        bound, used = _bound_and_used(ast.parse(_code(cell)))
        answer = cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)
        if not answer:
            missing += [(i, n) for n in sorted(used - bound - known)]
        known |= bound
    return missing


def test_the_reader_finds_a_name_lost_in_the_release():
    nb = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"solution": True}},
                     "source": "# YOUR CODE HERE\nraise NotImplementedError()"},
                    {"cell_type": "code", "metadata": {}, "source": "print(my_prediction, [x for x in range(3)])"}]}
    assert undefined_names(nb) == [(1, "my_prediction")]


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.parent.name)
def test_released_notebook_defines_every_name_its_cells_use(path):
    missing = undefined_names(json.loads(path.read_text()))
    assert not missing, (f"{path.parent.name}: cells use names that the released notebook never defines "
                         f"(cell index, name): {missing}; keep their definition outside the solution region")

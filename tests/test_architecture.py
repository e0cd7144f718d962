"""The package's shape, checked: layers import only downward, no cycles, no private names across modules,
notebooks see only `check` of the checks, answer keys stay with the checks, and the code is ruff-clean.

The layers (CONTRIBUTING.md has the package map):
  1 course.ground    the threat model and the misconception catalogue
  2 course.science   what the lessons call
  3 course.checks    what graded cells call (with the answer keys in course.checks.keys)
  4 course.grader    release, self-check, cohort grading, sandbox, reports
  5 course.delivery  the command line, benchmark, environment files, workshop kit
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course"
LAYERS = {"ground": 1, "science": 2, "checks": 3, "grader": 4, "delivery": 5}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def _resolve(name: str) -> str | None:
    """The course module an import names (a package's __init__ for a package), or None if it is not ours."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list:
    """(imported module, imported names, line) for every import of a course module, at any depth."""
    tree = ast.parse(MODULES[module].read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, (), node.lineno) for a in node.names if a.name.split(".")[0] == "course"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "course":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if sub in MODULES:  # `from course.science import plots` imports a module
                    out.append((sub, (), node.lineno))
                else:
                    out.append((node.module, (a.name,), node.lineno))
    return out


def test_every_module_belongs_to_a_layer():
    strays = [m for m in MODULES if m not in ("course", "course.__main__") and _layer(m) == 0]
    assert not strays, f"modules outside the five layers (ground, science, checks, grader, delivery): {strays}"


def test_layers_import_only_downward():
    upward = []
    for module in MODULES:
        if module in ("course", "course.__main__"):
            continue  # the package's facade: `course.check()` hands over to the grader, lazily
        for target, _, line in _imports(module):
            got = _resolve(target)
            if got and _layer(got) > _layer(module):
                upward.append(f"{module}:{line} imports {got} (layer {_layer(got)} > {_layer(module)})")
    assert not upward, "a layer may import only from the layers below it:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m: {_resolve(t) for t, _, _ in _imports(m)} - {None, m, "course"} for m in MODULES}
    # a package's __init__ re-exports its submodules; an edge from a submodule to its own package
    # (e.g. attacks.query -> attacks) would be a cycle through the re-export: also reported
    cycles, state = [], {}

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_crosses_a_module():
    crossing = []
    for module in MODULES:
        tree = ast.parse(MODULES[module].read_text())
        bound = {}  # local name -> course module it is bound to
        for target, names, line in _imports(module):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    crossing.append(f"{module}:{line} imports {target}.{n}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("course"):
                for a in node.names:
                    if f"{node.module}.{a.name}" in MODULES:
                        bound[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                crossing.append(f"{module}:{node.lineno} uses {bound[node.value.id]}.{node.attr}")
    assert not crossing, "private names (a leading underscore) stay in their module:\n" + "\n".join(crossing)


def _notebook_code(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


NOTEBOOKS = sorted(ROOT.glob("lessons/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb")) + sorted(ROOT.glob("exercises/*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebooks_take_only_check_from_the_checks(path):
    tree = ast.parse(_notebook_code(path).replace("%matplotlib inline", ""))
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course.checks"):
            if node.module != "course.checks" or [a.name for a in node.names] != ["check"]:
                wrong.append(f"line {node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import) and any(a.name.startswith("course.checks") for a in node.names):
            wrong.append(f"line {node.lineno}: import {', '.join(a.name for a in node.names)}")
    assert not wrong, (f"{path.name}: a notebook may take only `check` from course.checks; setup data belongs to "
                       f"course.science, keys to the grader's side: {wrong}")


def test_answer_keys_are_imported_only_by_the_checks():
    users = [f"{m}:{line}" for m in MODULES for t, _, line in _imports(m)
             if (_resolve(t) or "").startswith("course.checks.keys") and not m.startswith("course.checks")]
    assert not users, f"only course.checks may import the answer keys: {users}"
    for path in NOTEBOOKS:
        assert "checks.keys" not in _notebook_code(path), f"{path.name} mentions course.checks.keys"


def test_sandbox_hides_the_answer_keys():
    from course.grader.sandbox import KEYS, Sandbox

    assert KEYS == PACKAGE / "checks" / "keys" and KEYS.is_dir()
    sandbox = Sandbox(use_cgroups=False)
    if not sandbox.bwrap:
        pytest.skip("bubblewrap is not installed (the slow tier runs the sandbox itself)")
    cmd = sandbox.command(Path("/tmp"), ["true"])
    i = cmd.index("--tmpfs", cmd.index("--ro-bind"))
    assert cmd[i + 1] == str(KEYS), "the keys' folder must be covered by an empty tmpfs after the package is mounted"


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.fail("ruff is not installed: run `python3 run.py test`, which installs the test tools")
    res = subprocess.run([ruff, "check", "--no-cache", "course", "tests", "run.py", "nbgrader_config.py",
                          "workshop"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, "ruff found problems (fix them, or `ruff check --fix`):\n" + res.stdout[-4000:]

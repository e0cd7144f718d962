"""The figures behind the architecture's before/after table (not collected by pytest).

    .venv/bin/python tests/measure_architecture.py course          # this checkout
    git archive 8903137 course | tar -x -C /tmp/b && .venv/bin/python tests/measure_architecture.py /tmp/b/course

Modules per folder, the largest modules and functions (lines), counted on syntax trees.
"""
from __future__ import annotations

import ast
import collections
import pathlib
import sys


def measure(root: pathlib.Path) -> dict:
    folders, modules, functions = collections.Counter(), [], []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        folders[str(rel.parent)] += 1
        source = path.read_text()
        modules.append((len(source.splitlines()), str(rel)))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((node.end_lineno - node.lineno + 1, f"{rel}:{node.name}"))
    return {"modules per folder": dict(sorted(folders.items())), "modules": len(modules),
            "lines": sum(n for n, _ in modules), "largest modules": sorted(modules, reverse=True)[:5],
            "largest functions": sorted(functions, reverse=True)[:5]}


if __name__ == "__main__":
    for key, value in measure(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "course")).items():
        print(f"{key}: {value}")

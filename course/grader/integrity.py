"""Copy detection for a cohort: identical answers between learners, and copies of the public solution.

Answers are compared as **normalised syntax trees** of the answer cells: comments, docstrings, layout and
the names the learner chose (variables, arguments, helper functions) are ignored; the structure, constants
and the library calls are kept. An answer too short to tell apart (fewer than `MIN_NODES` nodes: a one-line
formula most correct learners write the same way) or still the released stub is never compared, nor are answers that define no function
(a set of choices, such as the mental-model check's, is the same for every learner who chose right).

A match is a **flag for the instructor**, never a penalty: the score stays what the checks gave. A copied
public solution passes under any grading seed, because the checks judge what an answer does, not whose it is.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import re

MIN_NODES = 40
CODE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


class _Names(ast.NodeTransformer):
    """Renames what the learner named, in order of first appearance; keeps modules' and libraries' names."""

    def __init__(self):
        self.names: dict = {}
        self.imported: set = set()

    def _n(self, name):
        if name in self.imported:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Import(self, node):
        for a in node.names:
            self.imported.add((a.asname or a.name).split(".")[0])
        return node

    visit_ImportFrom = visit_Import

    def visit_Name(self, node):
        if not hasattr(builtins, node.id):
            node.id = self._n(node.id)
        return node

    def visit_arg(self, node):
        node.arg, node.annotation = self._n(node.arg), None
        return node

    def visit_FunctionDef(self, node):
        node.name = self._n(node.name)
        node.returns = None
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def fingerprint(code: str) -> str | None:
    """A digest of the normalised syntax tree, or None when the code does not parse or is too short."""
    try:
        tree = ast.parse(_MARKERS.sub("", code))
    except (SyntaxError, ValueError):
        return None
    tree.body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(getattr(s, "value", None), ast.Constant))]
    tree = _Names().visit(tree)
    if sum(1 for _ in ast.walk(tree)) < MIN_NODES or not any(isinstance(n, CODE) for n in ast.walk(tree)):
        return None
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()[:20]


def _answers(nb, gids) -> dict:
    out = {}
    for c in nb.cells:
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in gids and gid not in out:
            out[gid] = c.get("source", "")
    return out


def answer_prints(source, nb) -> dict:
    """grade_id -> fingerprint of each answer cell of `nb` that is long enough and not the released stub."""
    gids = {c.metadata["nbgrader"]["grade_id"] for c in source.notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    stubs = {g: fingerprint(s) for g, s in _answers(source.release, gids).items()}
    prints = {g: fingerprint(s) for g, s in _answers(nb, gids).items()}
    return {g: p for g, p in prints.items() if p is not None and p != stubs.get(g)}


def flags(source, notebooks: dict) -> dict:
    """student -> flags: answers equal to the public solution's, and answers shared with other learners."""
    public = answer_prints(source, source.notebook)
    prints = {s: answer_prints(source, nb) for s, nb in notebooks.items() if nb is not None}
    out: dict = {s: [] for s in notebooks}
    for s, ps in prints.items():
        same = sorted(g for g, p in ps.items() if public.get(g) == p)
        if same:
            out[s].append(f"copy of the public solution? {len(same)} of {len(public)} comparable answers have the "
                          f"solution's syntax tree (names, comments and layout ignored): {', '.join(same)}")
    shared: dict = {}
    for s, ps in prints.items():
        for g, p in ps.items():
            if public.get(g) != p:
                shared.setdefault((g, p), []).append(s)
    pairs: dict = {}
    for (g, _), group in shared.items():
        for s in group:
            for o in group:
                if o != s:
                    pairs.setdefault((s, o), []).append(g)
    for (s, o), gs in sorted(pairs.items()):
        out[s].append(f"same answers as {o}? {len(gs)} answer(s) with the same syntax tree "
                      f"(names, comments and layout ignored): {', '.join(sorted(gs))}")
    return out

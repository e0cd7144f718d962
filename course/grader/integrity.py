"""Copy detection for a cohort: near-copies of the public solution, and of another learner's answer.

Answers are compared as **normalised syntax trees** of the answer cells: comments, docstrings, layout and
the names the learner chose (variables, arguments, helper functions) are ignored; the structure, constants,
attributes and library calls are kept. The tree is read in order as a sequence of tokens, and two answers
are compared by the **Jaccard similarity of their runs of 4 consecutive tokens** (shingles), so that a copy
survives renaming, reformatting, added prints and comments, small edits and swapped lines, while two answers
written independently share few runs. A pair at or above `NEAR` is flagged. The threshold was calibrated on
disguised copies and independent answers of the course's own tasks (`python tests/test_integrity.py`; the test
in tests/test_integrity.py keeps both sides of it).

An answer too short to tell apart (fewer than `MIN_NODES` nodes: a one-line formula most correct learners
write the same way), still the released stub, or defining no function (a set of choices, such as the
mental-model check's, is the same for every learner who chose right) is never compared.

A match is a **flag for the instructor**, never a penalty: the score stays what the checks gave. A copied
public solution passes under any grading seed, because the checks judge what an answer does, not whose it is.
Flags are computed once per cohort (every pair of learners, per answer cell).
"""
from __future__ import annotations

import ast
import builtins
import re

MIN_NODES = 40
NEAR = 0.50  # calibrated: disguised copies >= 0.59, independent answers <= 0.41 (python tests/test_integrity.py)
SHINGLE = 4
CODE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)
_CONTEXT = (ast.expr_context, ast.Load, ast.Store, ast.Del)


class _Names(ast.NodeTransformer):
    """Replaces what the learner named by one placeholder; keeps builtins' and imported modules' names."""

    def __init__(self):
        self.names: dict = {}
        self.imported: set = set()

    def _n(self, name):
        if name in self.imported:
            return name
        return self.names.setdefault(name, "_")  # one token for every chosen name: order and spelling ignored

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


def tokens(code: str) -> list | None:
    """The normalised syntax tree as a token sequence, or None when the code does not parse or is too short."""
    try:
        tree = ast.parse(_MARKERS.sub("", code))
    except (SyntaxError, ValueError):
        return None
    tree.body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(getattr(s, "value", None), ast.Constant))]
    tree = _Names().visit(tree)
    nodes = [n for n in ast.walk(tree) if not isinstance(n, _CONTEXT)]
    if len(nodes) < MIN_NODES or not any(isinstance(n, CODE) for n in nodes):
        return None
    out: list = []

    def walk(node):
        if isinstance(node, _CONTEXT):
            return
        out.append(type(node).__name__)
        if isinstance(node, ast.Name):
            out.append(node.id)
        elif isinstance(node, ast.Attribute):
            out.append("." + node.attr)
        elif isinstance(node, ast.Constant):  # numbers by kind (a copier tunes them), strings by value
            out.append(repr(node.value)[:24] if isinstance(node.value, str) else type(node.value).__name__)
        elif isinstance(node, ast.arg):
            out.append(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(node.name)
        elif isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp)):
            out.append(type(node.op).__name__)
        elif isinstance(node, ast.Compare):
            out.extend(type(o).__name__ for o in node.ops)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return out


def shingles(toks: list) -> frozenset:
    return frozenset(tuple(toks[i:i + SHINGLE]) for i in range(max(1, len(toks) - SHINGLE + 1)))


def similarity(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two answers' shingles."""
    return len(a & b) / len(a | b) if a and b else 0.0


def answer_shingles(code: str) -> frozenset | None:
    toks = tokens(code)
    return None if toks is None else shingles(toks)


def _answers(nb, gids) -> dict:
    out = {}
    for c in nb.cells:
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in gids and gid not in out:
            out[gid] = c.get("source", "")
    return out


def answer_prints(source, nb) -> dict:
    """grade_id -> shingles of each answer cell of `nb` that is long enough and not the released stub."""
    gids = {c.metadata["nbgrader"]["grade_id"] for c in source.notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    stubs = {g: answer_shingles(s) for g, s in _answers(source.release, gids).items()}
    prints = {g: answer_shingles(s) for g, s in _answers(nb, gids).items()}
    return {g: p for g, p in prints.items() if p is not None and p != stubs.get(g)}


def flags(source, notebooks: dict) -> dict:
    """student -> flags: near-copies of the public solution's answers, and of other learners' answers."""
    public = answer_prints(source, source.notebook)
    prints = {s: answer_prints(source, nb) for s, nb in notebooks.items() if nb is not None}
    out: dict = {s: [] for s in notebooks}
    copied: dict = {}  # student -> {grade_id: similarity to the public solution}
    for s, ps in prints.items():
        copied[s] = {g: sim for g, p in ps.items() if g in public and (sim := similarity(p, public[g])) >= NEAR}
        if copied[s]:
            listed = ", ".join(f"{g} ({v:.2f})" for g, v in sorted(copied[s].items()))
            out[s].append(f"near-copy of the public solution? {len(copied[s])} of {len(public)} comparable answers "
                          f"share most of the solution's syntax tree (names, comments and layout ignored; "
                          f"similarity >= {NEAR}): {listed}")
    students = sorted(prints)
    for i, s in enumerate(students):
        for o in students[i + 1:]:
            shared = {}
            for g, p in prints[s].items():
                q = prints[o].get(g)
                if q is None or (g in copied[s] and g in copied[o]):
                    continue  # both copied the public solution: flagged as such, not as each other's
                sim = similarity(p, q)
                if sim >= NEAR:
                    shared[g] = sim
            if shared:
                listed = ", ".join(f"{g} ({v:.2f})" for g, v in sorted(shared.items()))
                for a, b in ((s, o), (o, s)):
                    out[a].append(f"near-copy of {b}'s answers? {len(shared)} answer(s) share most of their syntax "
                                  f"tree (names, comments and layout ignored; similarity >= {NEAR}): {listed}")
    return out

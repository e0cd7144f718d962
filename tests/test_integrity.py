"""Copy flags (`course.grader.integrity`): disguised copies are flagged, independent answers are not, nothing is zeroed.

The corpus: every answer cell of every solution that is long enough to compare, disguised as a copier would
(renamed, commented, reformatted, prints added, lines swapped, constants changed, the return split); and
answers written independently (other ways to solve exercise 01's tasks, and the solutions of other tasks).
`NEAR` must separate the two with a margin on both sides. Run this file as a script for the figures:

    .venv/bin/python tests/test_integrity.py
"""
from __future__ import annotations

import ast
import itertools
import json
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ROOT  # noqa: E402

from course.grader import integrity, release  # noqa: E402
from course.grader.cohort import Source  # noqa: E402

A = "01-ml-recap"
MARGIN = 0.05  # each side stays this far from NEAR


def solution_answers() -> dict:
    """(assignment, grade_id) -> the solution's answer, for every answer cell long enough to compare."""
    out = {}
    for nb_path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        if nb_path.stem != nb_path.parent.name:
            continue
        solution = nbformat.read(nb_path, as_version=4)
        code_cells = {c.metadata.get("nbgrader", {}).get("grade_id") for c in solution.cells if c.cell_type == "code"}
        for gid, code in release.typed_answers(solution).items():
            if gid in code_cells and integrity.tokens(code) is not None:
                out[(nb_path.stem, gid)] = code
    return out


# --------------------------------------------------------------------------- a copier's disguises
def _chosen_names(tree) -> set:
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            names.add(n.name)
    return names


def renamed(code: str) -> str:
    """Every name the author chose renamed, comments and blank lines added."""
    for k, name in enumerate(sorted(_chosen_names(ast.parse(code)), key=len, reverse=True)):
        code = re.sub(rf"\b{re.escape(name)}\b", f"my_{name[::-1]}_{k}", code)
    lines = []
    for i, line in enumerate(code.splitlines()):
        lines.append(line + ("  # my own work" if i % 3 == 0 and line.strip() else ""))
        if i % 4 == 1:
            lines.append("")
    return "\n".join(lines)


class _Prints(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        body = []
        for k, stmt in enumerate(node.body):
            body.append(stmt)
            if k % 2 == 0 and not isinstance(stmt, ast.Return) and k < len(node.body) - 1:
                body.append(ast.parse(f"print('step {k}')").body[0])
        node.body = body
        return node


class _Swaps(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        body = list(node.body)
        for k in range(0, len(body) - 1, 2):
            if isinstance(body[k], ast.Assign) and isinstance(body[k + 1], ast.Assign):
                body[k], body[k + 1] = body[k + 1], body[k]
        node.body = body
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, float) and node.value not in (0.0, 1.0):
            return ast.copy_location(ast.Constant(round(node.value * 1.5, 6)), node)
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value > 1:
            return ast.copy_location(ast.Constant(node.value + 1), node)
        return node


class _SplitReturn(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        last = node.body[-1]
        if isinstance(last, ast.Return) and last.value is not None:
            node.body[-1:] = [ast.parse("result = 0").body[0], ast.parse("return result").body[0]]
            node.body[-2].value = last.value
        return node


def _transform(code: str, *transformers) -> str:
    tree = ast.parse(code)
    for t in transformers:
        tree = ast.fix_missing_locations(t().visit(tree))
    return ast.unparse(tree)


DISGUISES = {
    "renamed and commented": renamed,
    "reformatted, prints added": lambda c: _transform(c, _Prints),
    "lines swapped, constants changed": lambda c: _transform(c, _Swaps),
    "return split, prints added": lambda c: _transform(c, _SplitReturn, _Prints),
    "all of them": lambda c: renamed(_transform(c, _Swaps, _SplitReturn, _Prints)),
}

# --------------------------------------------------------------------------- independent answers to exercise 01
INDEPENDENT = {
    "task1-answer": [
        "def fraud_threshold(y_val, scores_val, cost_missed, cost_false_alarm):\n    import numpy as np\n"
        "    order = np.argsort(-np.asarray(scores_val))\n    s = np.asarray(scores_val)[order]\n"
        "    y = np.asarray(y_val)[order]\n    missed = cost_missed * (y.sum() - np.cumsum(y))\n"
        "    alarms = cost_false_alarm * np.cumsum(1 - y)\n    total = missed + alarms\n"
        "    k = int(np.argmin(total))\n    return s[k] if total[k] < cost_missed * y.sum() else np.inf",
        "def fraud_threshold(y_val, scores_val, cost_missed, cost_false_alarm):\n"
        "    grid = np.quantile(scores_val, np.linspace(0.5, 1.0, 501))\n"
        "    def bank_cost(cut):\n        flagged = scores_val >= cut\n"
        "        return cost_missed * np.sum(y_val[~flagged]) + cost_false_alarm * np.sum(1 - y_val[flagged])\n"
        "    results = {float(cut): bank_cost(cut) for cut in grid}\n"
        "    print('cheapest cost', min(results.values()))\n    return min(results, key=results.get)",
        "def fraud_threshold(y_val, scores_val, cost_missed, cost_false_alarm):\n    best, best_cost = float('inf'), None\n"
        "    pairs = sorted(zip(scores_val, y_val), reverse=True)\n    caught = alarms = 0\n"
        "    n_fraud = sum(label for _, label in pairs)\n    best_cost = cost_missed * n_fraud\n"
        "    for score, label in pairs:\n        if label == 1:\n            caught += 1\n        else:\n"
        "            alarms += 1\n        cost = cost_missed * (n_fraud - caught) + cost_false_alarm * alarms\n"
        "        if cost < best_cost:\n            best, best_cost = score, cost\n    return best",
    ],
    "task2-answer": [
        "def train_and_predict(X_train, y_train, X_test):\n    from sklearn.ensemble import RandomForestClassifier\n"
        "    forest = RandomForestClassifier(n_estimators=200, class_weight='balanced_subsample', random_state=0)\n"
        "    forest.fit(X_train, y_train)\n    scores = forest.predict_proba(X_test)[:, 1]\n"
        "    cut = sorted(forest.predict_proba(X_train[y_train == 0])[:, 1])[int(0.97 * (y_train == 0).sum())]\n"
        "    return [1 if s > cut else 0 for s in scores]",
        "def train_and_predict(X_train, y_train, X_test):\n    mu = X_train.mean(axis=0)\n    sd = X_train.std(axis=0) + 1e-9\n"
        "    clf = LogisticRegression(class_weight={0: 1, 1: 30}, max_iter=5000).fit((X_train - mu) / sd, y_train)\n"
        "    return clf.predict((X_test - mu) / sd)",
    ],
    "task4-answer": [
        "def evade_linear(w, b, X, y, eps):\n    X = np.array(X, dtype=float)\n    norm = np.sqrt(w @ w)\n"
        "    out = X.copy()\n    for i in range(len(X)):\n        score = X[i] @ w + b\n"
        "        step = min(eps, abs(score) / norm + 1e-9)\n        sign = -1.0 if y[i] == 1 else 1.0\n"
        "        out[i] = X[i] + sign * step * w / norm\n    return out",
        "def evade_linear(w, b, X, y, eps):\n    margin = (X @ w + b) / np.linalg.norm(w)\n"
        "    push = np.clip(np.abs(margin) + 1e-6, 0, eps)\n    towards = -np.sign(margin)\n"
        "    return X + (push * towards)[:, None] * (w / np.linalg.norm(w))[None, :]",
    ],
}


def calibration() -> dict:
    """The similarities of disguised copies to their original and of independent answers to each other."""
    answers = solution_answers()
    prints = {k: integrity.answer_shingles(v) for k, v in answers.items()}
    copies = []
    for key, code in answers.items():
        for how, disguise in DISGUISES.items():
            p = integrity.answer_shingles(disguise(code))
            if p is not None:
                copies.append((integrity.similarity(prints[key], p), key, how))
    independent = []
    for (ka, pa), (kb, pb) in itertools.combinations(prints.items(), 2):
        independent.append((integrity.similarity(pa, pb), ka, kb, "solutions of two tasks"))
    for gid, alts in INDEPENDENT.items():
        shingled = [integrity.answer_shingles(a) for a in alts] + [prints[(A, gid)]]
        assert all(s is not None for s in shingled), f"{gid}: an independent answer is too short to compare"
        for (i, pa), (j, pb) in itertools.combinations(enumerate(shingled), 2):
            independent.append((integrity.similarity(pa, pb), (A, gid), i, j))
    return {"copies": sorted(copies, key=lambda x: x[0]), "independent": sorted(independent, key=lambda x: -x[0])}


def test_near_separates_disguised_copies_from_independent_answers():
    figures = calibration()
    lowest_copy, highest_independent = figures["copies"][0], figures["independent"][0]
    assert len(figures["copies"]) >= 4 * len(solution_answers()) >= 4 * 15, "every comparable solution answer, disguised"
    assert lowest_copy[0] >= integrity.NEAR + MARGIN, (
        f"expected every disguised copy at >= {integrity.NEAR + MARGIN:.2f}; saw {lowest_copy}: "
        "a copier who renames and adds prints would go unflagged")
    assert highest_independent[0] <= integrity.NEAR - MARGIN, (
        f"expected independent answers at <= {integrity.NEAR - MARGIN:.2f}; saw {highest_independent}: "
        "honest learners would be flagged as copiers")


def _with_answers(nb, edit: dict):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edit:
            c.source = edit[gid]
    return nb


def test_flags_name_solution_copies_and_learner_pairs_never_short_answers_or_stubs():
    source = Source.load(A)
    sol = {g: code for (a, g), code in solution_answers().items() if a == A}
    disguised = {g: DISGUISES["all of them"](code) for g, code in sol.items()}
    own = {"task1-answer": INDEPENDENT["task1-answer"][2], "task4-answer": INDEPENDENT["task4-answer"][0]}
    friend = {g: renamed(code) for g, code in own.items()}
    short = {"task3-answer": "def budget_for_accuracy(w, b, X, y, target):\n    return abs(b) / (w @ w) ** 0.5"}
    nbs = {"copier": _with_answers(source.release, disguised), "honest": _with_answers(source.release, own),
           "friend": _with_answers(source.release, friend), "short_a": _with_answers(source.release, short),
           "short_b": _with_answers(source.release, short), "blank": source.release,
           "also_blank": source.release, "unreadable": None}
    flags = integrity.flags(source, nbs)
    assert any("near-copy of the public solution" in f and "task2-answer" in f for f in flags["copier"]), flags["copier"]
    assert not any("public solution" in f for f in flags["honest"] + flags["friend"]), flags["honest"]
    assert any("near-copy of friend's answers" in f and "task1-answer" in f and "task4-answer" in f
               for f in flags["honest"]), flags["honest"]
    assert any("near-copy of honest's answers" in f for f in flags["friend"])
    assert not any("copier" in f for f in flags["honest"]), "an honest learner is no copy of a solution copier"
    for who in ("short_a", "short_b", "blank", "also_blank", "unreadable"):
        assert flags[who] == [], f"{who}: too short, the released stub or unreadable, never compared; saw {flags[who]}"
    assert integrity.tokens(short["task3-answer"]) is None


def test_two_copiers_of_the_solution_are_flagged_as_copiers_not_as_each_other():
    source = Source.load(A)
    sol = {g: code for (a, g), code in solution_answers().items() if a == A}
    nbs = {"a": _with_answers(source.release, {g: renamed(c) for g, c in sol.items()}),
           "b": _with_answers(source.release, {g: _transform(c, _Prints) for g, c in sol.items()})}
    flags = integrity.flags(source, nbs)
    for who, other in (("a", "b"), ("b", "a")):
        assert any("public solution" in f for f in flags[who])
        assert not any(f"{other}'s answers" in f for f in flags[who]), flags[who]


if __name__ == "__main__":
    figures = calibration()
    print(f"NEAR = {integrity.NEAR}; {len(figures['copies'])} disguised copies, {len(figures['independent'])} independent pairs")
    print("lowest copies:", *figures["copies"][:5], sep="\n  ")
    print("highest independent pairs:", *figures["independent"][:5], sep="\n  ")

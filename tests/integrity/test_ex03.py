"""Red team of exercise 03 (evasion, white-box): cheap answers score 0, correct answers written otherwise score full.

Cheap answers: the course's own `project` (shrink, then clip) for the projection task; one clipped step, or a
PGD on a third of the budget, for the attack; a running minimum of per-budget accuracies, or the per-budget
accuracies themselves, for the security curve. Swept over 20 data seeds at the level of the checks; one
`course grade` batch with a private seed confirms the end-to-end path (slow).
"""
from __future__ import annotations

import nbformat
import numpy as np
import pytest

from course.ground.threat import project

from .redteam_ex03_ex05 import ROOT, grade_batch, submission, sweep

A = "03-evasion-white-box"
SEEDS = range(20)


def _solution():
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    ns = {"np": np}
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            exec(c.source, ns)  # noqa: S102 - the solution's own answer cells, from the repository
    return ns


SOLUTION = _solution()

# ---------------------------------------------------------------- correct answers, written otherwise
DYKSTRA = '''def project_l2(X_adv, X, eps, lb, ub):
    z, p, q = X_adv.copy(), np.zeros_like(X_adv), np.zeros_like(X_adv)
    for _ in range(100):  # Dykstra's alternating projections: box, then ball, with corrections
        y = np.clip(z + p, lb, ub)
        p = z + p - y
        d = y + q - X
        size = np.linalg.norm(d, axis=1, keepdims=True)
        z_new = X + d * np.minimum(1.0, eps / np.maximum(size, 1e-300))
        q = y + q - z_new
        z = z_new
    return z'''

WATER_FILLING = '''def attack_linear(w, b, X, y, eps, norm, lb, ub):
    direction = np.where(y == 1, -1.0, 1.0)[:, None] * (np.sign(w) if norm == "linf" else w)
    if norm == "linf":
        return np.clip(X + eps * direction, lb, ub)
    room_low, room_high = lb - X, ub - X
    short, long = np.zeros(len(X)), np.full(len(X), 1e6)
    for _ in range(100):  # the longest step along the gradient whose clipped version fits the budget
        t = (short + long) / 2
        fits = np.linalg.norm(np.clip(t[:, None] * direction, room_low, room_high), axis=1) <= eps
        short, long = np.where(fits, t, short), np.where(fits, long, t)
    return X + np.clip(short[:, None] * direction, room_low, room_high)'''

ALL_POINTS_CURVE = '''def security_evaluation_curve(predict, attack, X, y, budgets):
    survived = np.ones(len(y), dtype=bool)
    curve = []
    for eps in budgets:
        adversarial = X if eps == 0 else attack(X, y, eps)
        survived &= np.asarray(predict(adversarial)) == y
        curve.append(survived.mean())
    return np.array(curve)'''

# ---------------------------------------------------------------- cheap answers
COURSE_PROJECT = '''from course.ground.threat import project


def project_l2(X_adv, X, eps, lb, ub):
    return project(X_adv, X, eps, "l2", (lb, ub))'''

ONE_STEP = '''def attack_linear(w, b, X, y, eps, norm, lb, ub):
    g = np.where(y == 1, -1.0, 1.0)[:, None] * w
    return np.clip(X + eps * (g / np.linalg.norm(w) if norm == "l2" else np.sign(g)), lb, ub)'''

RUNNING_MINIMUM = '''def security_evaluation_curve(predict, attack, X, y, budgets):
    plain = [np.mean(np.asarray(predict(X if e == 0 else attack(X, y, e))) == y) for e in budgets]
    return np.minimum.accumulate(plain)'''


def _fn(source, name):
    ns = {"np": np, "project_l2": SOLUTION["project_l2"]}
    exec(source, ns)  # noqa: S102 - answers written in this file
    return ns[name]


def short_bisection(X_adv, X, eps, lb, ub):  # on the multiplier mu of the ball, 20 halvings of a log scale
    low, high = np.full(len(X), -12.0), np.full(len(X), 12.0)
    for _ in range(20):
        mid = (low + high) / 2
        z = np.clip((X_adv + 10**mid[:, None] * X) / (1 + 10**mid[:, None]), lb, ub)
        inside = np.linalg.norm(z - X, axis=1) <= eps
        low, high = np.where(inside, low, mid), np.where(inside, mid, high)
    z = np.clip((X_adv + 10**high[:, None] * X) / (1 + 10**high[:, None]), lb, ub)
    clipped = np.clip(X_adv, lb, ub)
    return np.where((np.linalg.norm(clipped - X, axis=1) <= eps)[:, None], clipped, z)


def clip_then_shrink(X_adv, X, eps, lb, ub):
    return project(np.clip(X_adv, lb, ub), X, eps, "l2")


def weak_pgd(w, b, X, y, eps, norm, lb, ub):
    return SOLUTION["attack_linear"](w, b, X, y, eps / 3, norm, lb, ub)


def course_pgd(w, b, X, y, eps, norm, lb, ub):  # PGD built on the course's projection (allowed in the attack)
    g = np.where(y == 1, -1.0, 1.0)[:, None] * w
    step = eps / 4 * (g / np.linalg.norm(w) if norm == "l2" else np.sign(g))
    X_adv = X.copy()
    for _ in range(30):
        X_adv = project(X_adv + step, X, eps, norm, (lb, ub))
    return X_adv


def plain_curve(predict, attack, X, y, budgets):
    return np.array([np.mean(np.asarray(predict(X if e == 0 else attack(X, y, e))) == y) for e in budgets])


RED_TEAM = {
    "project-l2": {"solution": (SOLUTION["project_l2"], True), "Dykstra's projections": (_fn(DYKSTRA, "project_l2"), True),
                   "20 halvings on the multiplier's log scale": (short_bisection, True),
                   "the course's project (shrink, then clip)": (_fn(COURSE_PROJECT, "project_l2"), False),
                   "clip, then shrink": (clip_then_shrink, False)},
    "attack-linear": {"solution": (SOLUTION["attack_linear"], True),
                      "the best move in closed form": (_fn(WATER_FILLING, "attack_linear"), True),
                      "PGD on the course's project": (course_pgd, True),
                      "one clipped step": (_fn(ONE_STEP, "attack_linear"), False), "PGD on a third of the budget": (weak_pgd, False)},
    "security-curve": {"solution": (SOLUTION["security_evaluation_curve"], True),
                       "every point attacked at every budget": (_fn(ALL_POINTS_CURVE, "security_evaluation_curve"), True),
                       "running minimum of per-budget accuracies": (_fn(RUNNING_MINIMUM, "security_evaluation_curve"), False),
                       "per-budget accuracies": (plain_curve, False)},
}


@pytest.mark.parametrize("task", list(RED_TEAM))
def test_red_team_over_20_seeds(task):
    answers = RED_TEAM[task]
    assert sum(not w for _, w in answers.values()) >= 2 and sum(w for _, w in answers.values()) >= 2
    wrong = sweep(f"{A}/{task}", answers, SEEDS)
    assert not wrong, "\n".join(f"{name}: wanted {'pass' if answers[name][1] else 'fail'}, got the other at seeds "
                                f"{[s for s, _ in v]}; first: {v[0][1]}" for name, v in wrong.items())


@pytest.mark.slow
def test_course_grade_with_a_private_seed(tmp_path):
    """One learner (to keep the slow tier short): two tasks answered otherwise but correctly, one cheaply."""
    from conftest import require

    require("bwrap")
    mixed = submission(A, {"task1-answer": DYKSTRA, "task3-answer": ONE_STEP, "task4-answer": ALL_POINTS_CURVE})
    got = grade_batch(A, {"grace": mixed}, tmp_path, seed=90210)["grace"]
    scores = {g: t["score"] for g, t in got.tests.items() if g.startswith("task")}  # not the prediction
    assert scores == {"task1-project-l2": 4, "task3-attack-linear": 0, "task4-security-curve": 3}, \
        {g: t["messages"][-1] for g, t in got.tests.items()}
    assert "best move" in got.tests["task3-attack-linear"]["messages"][-1]

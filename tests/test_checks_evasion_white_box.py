"""Tests of course.checks.evasion_white_box: right answers pass, each kind of wrong answer fails for its reason."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import evaluate
from course.checks import evasion_white_box as E

A = "03-evasion-white-box"


# ---------------------------------------------------------------- reference answers (as in the solution notebook)
def project_l2(X_adv, X, eps, lb, ub):
    delta = X_adv - X

    def at(t):
        return np.clip(X + t[:, None] * delta, lb, ub)

    low, high = np.zeros(len(X)), np.ones(len(X))
    for _ in range(60):
        mid = (low + high) / 2
        inside = np.linalg.norm(at(mid) - X, axis=1) <= eps
        low, high = np.where(inside, mid, low), np.where(inside, high, mid)
    whole = np.linalg.norm(at(np.ones(len(X))) - X, axis=1) <= eps
    return np.where(whole[:, None], at(np.ones(len(X))), at(low))


def attack_linear(w, b, X, y, eps, norm, lb, ub):
    grad = np.where(y == 1, -1.0, 1.0)[:, None] * w
    step = (eps / 5) * (grad / np.linalg.norm(w) if norm == "l2" else np.sign(grad))
    X_adv = X.copy()
    for _ in range(50):
        if norm == "l2":
            X_adv = project_l2(X_adv + step, X, eps, lb, ub)
        else:
            X_adv = np.clip(np.clip(X_adv + step, X - eps, X + eps), lb, ub)
    return X_adv


def security_evaluation_curve(predict, attack, X, y, budgets):
    still = np.asarray(predict(X)) == y
    out = []
    for eps in budgets:
        if eps > 0 and still.any():
            idx = np.flatnonzero(still)
            still[idx] = np.asarray(predict(attack(X[idx], y[idx], eps))) == y[idx]
        out.append(float(still.mean()))
    return np.array(out)


def plain_curve(predict, attack, X, y, budgets):
    return np.array([np.mean(predict(attack(X, y, e)) == y) for e in budgets])


def verdict(task, fn, hidden=False):
    return evaluate(f"{A}/{task}", fn, hidden=hidden)


# ---------------------------------------------------------------- right answers pass
@pytest.mark.parametrize("task,fn", [("project-l2", project_l2), ("security-curve", security_evaluation_curve)])
@pytest.mark.parametrize("hidden", [False, True])
def test_reference_answers_pass(task, fn, hidden):
    v = verdict(task, fn, hidden)
    assert v.passed, v.message()


def test_reference_attack_passes():
    v = verdict("attack-linear", attack_linear)
    assert v.passed, v.message()


def test_a_running_minimum_of_plain_accuracies_fails():
    v = verdict("security-curve", lambda *a: np.minimum.accumulate(plain_curve(*a)))
    assert not v.passed and "any smaller one" in v.expected


# ---------------------------------------------------------------- wrong answers fail, for the right reason
def test_projection_that_divides_by_zero_fails():
    def nan_l2(X_adv, X, eps, lb, ub):
        d = X_adv - X
        size = np.linalg.norm(d, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return X + d * np.where(size > eps, eps / size, d / d)  # d / d is 0 / 0 on a row that did not move

    v = verdict("project-l2", nan_l2)
    assert not v.passed and "NaN" in v.seen


def test_projection_that_moves_points_inside_the_ball_fails():
    v = verdict("project-l2", lambda X_adv, X, eps, lb, ub: np.clip(X + (X_adv - X) * eps / np.maximum(
        np.linalg.norm(X_adv - X, axis=1, keepdims=True), 1e-12), lb, ub))
    assert not v.passed and "unchanged" in v.expected


def test_projection_without_bounds_fails():
    v = verdict("project-l2", lambda X_adv, X, eps, lb, ub: project_l2(X_adv, X, eps, -np.inf, np.inf))
    assert not v.passed and "bounds" in v.expected


def test_shrink_then_clip_is_not_the_nearest_point():
    from course.ground.threat import project

    v = verdict("project-l2", lambda X_adv, X, eps, lb, ub: project(X_adv, X, eps, "l2", (lb, ub)))
    assert not v.passed and "nearest point" in v.expected


def test_attack_that_ignores_the_bounds_fails():
    def no_clip(w, b, X, y, eps, norm, lb, ub):
        s = np.where(y == 1, -1.0, 1.0)[:, None]
        return X + eps * s * (w / np.linalg.norm(w) if norm == "l2" else np.sign(w))

    v = verdict("attack-linear", no_clip)
    assert not v.passed and "bounds" in v.expected


def test_attack_over_budget_fails():
    v = verdict("attack-linear", lambda w, b, X, y, eps, norm, lb, ub: attack_linear(w, b, X, y, 2 * eps, norm, lb, ub))
    assert not v.passed and "budget" in v.expected


def test_attack_in_the_wrong_direction_fails():
    v = verdict("attack-linear", lambda w, b, X, y, eps, norm, lb, ub: attack_linear(w, b, X, 1 - y, eps, norm, lb, ub))
    assert not v.passed and "misclassified" in v.expected


def test_weak_attack_fails_against_the_best_move():
    v = verdict("attack-linear", lambda w, b, X, y, eps, norm, lb, ub: attack_linear(w, b, X, y, eps / 3, norm, lb, ub))
    assert not v.passed and "best one" in v.expected


def test_curve_that_reports_optimiser_misses_fails():
    v = verdict("security-curve", plain_curve)
    assert not v.passed and "never rises" in v.expected


def test_curve_that_does_not_start_at_clean_accuracy_fails():
    v = verdict("security-curve", lambda *a: security_evaluation_curve(*a) * 0.9)
    assert not v.passed and "clean accuracy" in v.expected


def test_curve_that_invents_evasions_fails():
    v = verdict("security-curve", lambda *a: np.r_[security_evaluation_curve(*a)[:1], np.zeros(len(a[4]) - 1)])
    assert not v.passed and "evaded" in v.expected


# ---------------------------------------------------------------- the checker's own attack
@pytest.mark.parametrize("seed", [0, 1, 2022])
def test_flaky_attack_makes_plain_accuracy_rise_and_is_deterministic(seed):
    model, X, y, _ = E._digit_pair(seed + 1, n_test=80)
    w, b = E._linear(model)
    scale = float(np.median(np.abs(X @ w + b)) / np.linalg.norm(w))
    budgets = [0.0] + [round(scale * k, 3) for k in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)]
    flaky = {round(e, 6): s for e, s in zip(budgets[1:], (0.0, 0.6, 0.0, 0.7, 0.1, 0.8))}
    attack = E.LinearL2Attack(w, b, miss=flaky)
    plain, cumulative = E._curve_reference(E.LinearModel(w, b), attack, X, y, budgets)
    assert np.any(np.diff(plain) > 0), plain  # otherwise the check could not tell the two kinds of curve apart
    assert np.all(np.diff(cumulative) <= 0)
    eps = budgets[4]
    full, part = attack(X, y, eps), attack(X[::2].copy(), y[::2], eps)
    assert np.array_equal(full[::2], part)  # a point's fate does not depend on the batch it is in
    strong = E.LinearL2Attack(w, b)(X, y, eps)
    assert np.linalg.norm(strong - X, axis=1).max() <= eps + 1e-9
    assert strong.min() >= 0 and strong.max() <= 1

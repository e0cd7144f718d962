"""Checks of exercise 01 (ML recap): accuracy is measured without an adversary (M7)."""
from __future__ import annotations

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.science import datasets

A = "01-ml-recap"
# The cap of task 2: class-weighted logistic regression at its default threshold (the hint's first way) flags 9.2% to
# 13.3% of legitimate transactions over 20 seeds (tests/integrity/test_ex01.py); flagging everything flags 100%.
FRAUD_MAX_FPR = 0.15


def _reference_report(y_true, y_pred) -> dict:
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    return {
        "accuracy": (tp + tn) / len(y_true),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
    }


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


@task(f"{A}/fraud-report", answer="fraud_report", misconceptions=["M7"])
def check_fraud_report(fraud_report, seed, chk):
    rng = np.random.default_rng(seed)
    cases = []
    for base_rate, rate_role in ((0.01, "rare fraud"), (0.2, "common fraud")):
        y_true = (rng.random(2000) < base_rate).astype(int)
        cases.append((y_true, np.zeros_like(y_true), f"a model that flags nothing, {rate_role}"))
        noisy = np.where(rng.random(2000) < 0.1, 1 - y_true, y_true)
        cases.append((y_true, noisy, f"a noisy model, {rate_role}"))
    for y_true, y_pred, label in cases:
        with chk.case(f"{label} ({y_true.mean():.1%} of {len(y_true)} transactions are fraud)"):
            got = call(chk, fraud_report, y_true.copy(), y_pred.copy(), what="fraud_report")
            chk.require(isinstance(got, dict), expected="a dict", seen=type(got).__name__)
            want = _reference_report(y_true, y_pred)
            for key, value in want.items():
                chk.require(key in got, expected=f"a key {key!r}", seen=f"keys {sorted(got)}")
                chk.require(_finite(got[key]), expected=f"{key} as a number", seen=f"{key} = {fmt(got[key])}",
                            why="a ratio with a zero denominator needs a defined value (the task says which)")
                chk.require(
                    abs(float(got[key]) - value) <= 1e-9,
                    expected=f"{key} = {fmt(value)}",
                    seen=f"{key} = {fmt(got[key])}",
                    why="with ~1% fraud, a model that flags nothing is 99% accurate and catches no fraud: "
                    "only the four numbers together tell a useful model from a useless one",
                )
    return chk.passed("accuracy, precision, recall and false-positive rate match on every case")


@task(f"{A}/fraud-model", answer="train_and_predict", misconceptions=["M7"])
def check_fraud_model(train_and_predict, seed, chk):
    data = datasets.make_fraud(n_samples=20000, random_state=seed)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(data.y))
    tr, te = idx[:12000], idx[12000:]
    pred = call(chk, train_and_predict, data.X[tr].copy(), data.y[tr].copy(), data.X[te].copy(), what="train_and_predict")
    pred = np.asarray(pred).ravel()
    chk.require(pred.shape == (len(te),), expected=f"one label per test row ({len(te)})", seen=f"shape {pred.shape}")
    chk.require(set(np.unique(pred)) <= {0, 1}, expected="labels 0 or 1", seen=f"values {np.unique(pred)[:5]}")
    r = _reference_report(data.y[te], pred)
    chk.expect(
        r["recall"] >= 0.5,
        expected="recall of fraud >= 0.50 on new transactions",
        seen=f"recall {r['recall']:.2f} (accuracy {r['accuracy']:.3f})",
        why="a fraud model is judged by the fraud it catches; accuracy near 0.99 is what flagging nothing gets",
    )
    chk.expect(
        r["false_positive_rate"] <= FRAUD_MAX_FPR,
        expected=f"at most {FRAUD_MAX_FPR:.0%} of legitimate transactions flagged",
        seen=f"false-positive rate {r['false_positive_rate']:.3f}",
        why="blocking many legitimate customers costs more than the fraud it prevents",
    )
    return chk.passed(f"recall {r['recall']:.2f}, false-positive rate {r['false_positive_rate']:.3f} on new data")


def _linear_case(rng, n=200, d=None):
    d = d or int(rng.integers(2, 8))
    w = rng.normal(size=d)
    b = float(rng.normal())
    X = rng.normal(size=(n, d)) * 2
    margin = X @ w + b
    y = (margin + rng.normal(scale=0.8 * np.linalg.norm(w), size=n) > 0).astype(int)
    return w, b, X, y


@task(f"{A}/distance", answer="distance_to_boundary", misconceptions=["M7"])
def check_distance(distance_to_boundary, seed, chk):
    rng = np.random.default_rng(seed)
    for role in ("the first random boundary", "the second random boundary", "the third random boundary"):
        w, b, X, _ = _linear_case(rng)
        with chk.case(f"{role} ({len(w)} features, {len(X)} points)"):
            got = np.asarray(call(chk, distance_to_boundary, w.copy(), b, X.copy(), what="distance_to_boundary"), dtype=float)
            want = np.abs(X @ w + b) / np.linalg.norm(w)
            chk.require(got.shape == want.shape, expected=f"one distance per point, shape {want.shape}", seen=f"shape {got.shape}")
            chk.require(np.all(np.isfinite(got)), expected="finite distances", seen="NaN or inf in the result")
            err = float(np.max(np.abs(got - want)))
            chk.require(
                err <= 1e-6,
                expected="each point's Euclidean (L2) distance to the hyperplane w·x + b = 0",
                seen=f"largest error {err:.3g} (e.g. {fmt(float(got[0]))} where {fmt(float(want[0]))} was expected)",
                why="the distance to the boundary is how far an attacker must move a point: "
                "test accuracy says nothing about it",
            )
    return chk.passed("distances correct on every case")


@task(f"{A}/evade-linear", answer="evade_linear", misconceptions=["M7"])
def check_evade_linear(evade_linear, seed, chk):
    rng = np.random.default_rng(seed)
    for eps, role in ((0.25, "the smaller budget"), (0.75, "the larger budget")):
        w, b, X, y = _linear_case(rng)
        with chk.case(f"{role}, eps = {eps}"):
            X_adv = np.asarray(call(chk, evade_linear, w.copy(), b, X.copy(), y.copy(), eps, what="evade_linear"), dtype=float)
            chk.require(X_adv.shape == X.shape, expected=f"shape {X.shape}", seen=f"shape {X_adv.shape}")
            chk.require(np.all(np.isfinite(X_adv)), expected="finite numbers", seen="NaN or inf in the result")
            size = np.linalg.norm(X_adv - X, axis=1)
            chk.require(
                np.all(size <= eps + 1e-9),
                expected=f"every perturbation within the L2 budget {eps}",
                seen=f"largest perturbation {size.max():.4g}",
                why="an attack that ignores its budget proves nothing: robustness is always 'under a budget'",
            )
            clean = float(np.mean(((X @ w + b) > 0).astype(int) == y))
            robust = float(np.mean(((X_adv @ w + b) > 0).astype(int) == y))
            dist = np.abs(X @ w + b) / np.linalg.norm(w)
            best = float(np.mean((((X @ w + b) > 0).astype(int) == y) & (dist > eps)))
            chk.expect(
                robust <= best + 0.02,
                expected=f"robust accuracy at most {best + 0.02:.3f} (the best attack in this budget reaches {best:.3f})",
                seen=f"robust accuracy {robust:.3f} (clean accuracy {clean:.3f})",
                why="the model's accuracy under attack, not its clean accuracy, is what an adversary meets",
            )
    return chk.passed(f"perturbations within budget; robust accuracy {robust:.2f} vs clean {clean:.2f}")

"""Exercise 01's checks, both ways: a correct method passes on visible and hidden data; wrong ones fail, saying why."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.checks import CheckFailed, check, evaluate


def report(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = np.sum((y_true == 1) & (y_pred == 1))
    fp = np.sum((y_true == 0) & (y_pred == 1))
    fn = np.sum((y_true == 1) & (y_pred == 0))
    tn = np.sum((y_true == 0) & (y_pred == 0))
    return {"accuracy": (tp + tn) / len(y_true), "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0, "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0}


def good_model(X_train, y_train, X_test):
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")).fit(X_train, y_train)
    thr = np.quantile(m.predict_proba(X_train[y_train == 0])[:, 1], 0.97)
    return (m.predict_proba(X_test)[:, 1] > thr).astype(int)


def plain_model(X_train, y_train, X_test):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train).predict(X_test)


def distance(w, b, X):
    return np.abs(X @ w + b) / np.linalg.norm(w)


def evade(w, b, X, y, eps):
    d = np.where(y == 1, -1.0, 1.0)[:, None] * w / np.linalg.norm(w)
    return X + np.minimum(distance(w, b, X) + 1e-9, eps)[:, None] * d


GOOD = {
    "01-ml-recap/fraud-report": report,
    "01-ml-recap/fraud-model": good_model,
    "01-ml-recap/distance": distance,
    "01-ml-recap/evade-linear": evade,
}


@pytest.mark.parametrize("task_id", sorted(GOOD))
@pytest.mark.parametrize("hidden", [False, True])
def test_a_correct_method_passes(task_id, hidden):
    assert evaluate(task_id, GOOD[task_id], hidden=hidden).passed
    check(task_id, GOOD[task_id], hidden=hidden)  # prints, does not raise


@pytest.mark.parametrize("task_id,wrong,words", [
    ("01-ml-recap/fraud-report", lambda t, p: {**report(t, p), "precision": 1.0}, "precision"),
    ("01-ml-recap/fraud-report", lambda t, p: {"accuracy": float(np.mean(t == p))}, "key"),
    ("01-ml-recap/fraud-model", plain_model, "recall of fraud"),
    ("01-ml-recap/fraud-model", lambda a, b, X: np.ones(len(X), int), "legitimate transactions flagged"),
    ("01-ml-recap/distance", lambda w, b, X: np.abs(X @ w + b), "largest error"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: X.copy(), "robust accuracy"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: evade(w, b, X, y, eps * 3), "within the L2 budget"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: X[:5], "shape"),
])
def test_a_wrong_answer_fails_with_a_reason(task_id, wrong, words):
    verdict = evaluate(task_id, wrong, hidden=True)
    assert not verdict.passed
    assert words in verdict.message()
    assert verdict.why or "shape" in words or "key" in words
    with pytest.raises(CheckFailed):
        check(task_id, wrong)


def test_an_unanswered_stub_raises_not_implemented():
    def stub(*args):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        check("01-ml-recap/distance", stub)


def test_a_crashing_answer_is_feedback_not_a_crash():
    verdict = evaluate("01-ml-recap/distance", lambda w, b, X: 1 / 0)
    assert not verdict.passed and "ZeroDivisionError" in verdict.seen

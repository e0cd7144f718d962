"""Exercise 01's checks, both ways: a correct method passes on visible and hidden data; wrong ones fail, saying why."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.checks import CheckFailed, check, evaluate
from course.checks.feedback import Failure


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


def test_an_unanswered_stub_is_not_attempted_and_shows_no_traceback():
    def stub(*args):
        raise NotImplementedError()
    verdict = evaluate("01-ml-recap/distance", stub)
    assert verdict.failure is Failure.NOT_ATTEMPTED and "not answered yet" in verdict.seen
    with pytest.raises(CheckFailed) as e:
        check("01-ml-recap/distance", stub)
    assert e.value._render_traceback_()[0].endswith("not attempted\x1b[0m")
    assert "misconception" not in str(e.value)


def test_a_crashing_answer_is_feedback_not_a_crash():
    verdict = evaluate("01-ml-recap/distance", lambda w, b, X: 1 / 0)
    assert not verdict.passed and "ZeroDivisionError" in verdict.seen


def _nan_precision(t, p):
    r = report(t, p)
    t, p = np.asarray(t), np.asarray(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        r["precision"] = np.float64(np.sum((t == 1) & (p == 1))) / np.float64(np.sum(p == 1))  # 0/0 when nothing is flagged
    return r


def _fpr_over_flags(t, p):
    r = report(t, p)
    t, p = np.asarray(t), np.asarray(p)
    fp, tp = np.sum((t == 0) & (p == 1)), np.sum((t == 1) & (p == 1))
    r["false_positive_rate"] = fp / (fp + tp) if fp + tp else 0.0
    return r


@pytest.mark.parametrize("wrong", [_nan_precision, _fpr_over_flags, lambda t, p: 1 / 0], ids=["nan", "fp/(fp+tp)", "raises"])
def test_a_coding_slip_is_a_computation_error_without_the_misconception_label(wrong):
    verdict = evaluate("01-ml-recap/fraud-report", wrong)
    assert verdict.failure is Failure.COMPUTATION
    assert verdict.why, "a computation error keeps its 'why it matters'"
    assert "misconception" not in verdict.message() and "M7" not in verdict.message()


def test_a_belief_error_names_the_misconception_and_the_case_by_its_role():
    verdict = evaluate("01-ml-recap/evade-linear", lambda w, b, X, y, eps: X + 0.01 * eps * w / np.linalg.norm(w))
    assert verdict.failure is Failure.BELIEF
    assert verdict.case.startswith("the smaller budget")
    assert "misconception: M7" in verdict.message()
    half = evaluate("01-ml-recap/evade-linear", lambda w, b, X, y, eps: evade(w, b, X, y, min(eps, 0.25)))
    assert not half.passed and half.case.startswith("the larger budget"), half.message()


def test_no_message_gives_away_the_formula():
    verdict = evaluate("01-ml-recap/distance", lambda w, b, X: np.abs(X @ w + b))
    assert "||w||" not in verdict.message() and "/" not in verdict.expected

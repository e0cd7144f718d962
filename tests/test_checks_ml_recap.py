"""Exercise 01's checks, both ways: a correct method passes on visible and hidden data; wrong ones fail, saying why."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.checks import CheckFailed, check, evaluate
from course.checks.feedback import Failure


def threshold(y_val, scores, cost_missed, cost_false_alarm):
    """The cheapest threshold on the validation scores (flag where score >= threshold)."""
    cands = np.r_[np.unique(scores), np.inf]
    costs = [cost_missed * np.sum((y_val == 1) & (scores < t)) + cost_false_alarm * np.sum((y_val == 0) & (scores >= t))
             for t in cands]
    return float(cands[int(np.argmin(costs))])


def good_model(X_train, y_train, X_test):
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")).fit(X_train, y_train)
    thr = np.quantile(m.predict_proba(X_train[y_train == 0])[:, 1], 0.97)
    return (m.predict_proba(X_test)[:, 1] > thr).astype(int)


def plain_model(X_train, y_train, X_test):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train).predict(X_test)


def distance(w, b, X):
    return np.abs(X @ w + b) / np.linalg.norm(w)


def budget(w, b, X, y, target):
    right = ((X @ w + b) > 0).astype(int) == y
    d = np.sort(distance(w, b, X)[right])
    k = len(d) - int(np.floor(target * len(y) + 1e-9))
    return 0.0 if k <= 0 else float(d[k - 1])


def evade(w, b, X, y, eps):
    d = np.where(y == 1, -1.0, 1.0)[:, None] * w / np.linalg.norm(w)
    return X + np.minimum(distance(w, b, X) + 1e-9, eps)[:, None] * d


GOOD = {
    "01-ml-recap/fraud-report": threshold,
    "01-ml-recap/fraud-model": good_model,
    "01-ml-recap/distance": budget,
    "01-ml-recap/evade-linear": evade,
}


@pytest.mark.parametrize("task_id", sorted(GOOD))
@pytest.mark.parametrize("hidden", [False, True])
def test_a_correct_method_passes(task_id, hidden):
    assert evaluate(task_id, GOOD[task_id], hidden=hidden).passed
    check(task_id, GOOD[task_id], hidden=hidden)  # prints, does not raise


@pytest.mark.parametrize("task_id,wrong,words", [
    ("01-ml-recap/fraud-report", lambda y, s, cm, cf: 0.5, "most accurate"),
    ("01-ml-recap/fraud-report", lambda y, s, cm, cf: [0.1, 0.2], "a number"),
    ("01-ml-recap/fraud-model", plain_model, "recall of fraud"),
    ("01-ml-recap/fraud-model", lambda a, b, X: np.ones(len(X), int), "legitimate transactions flagged"),
    ("01-ml-recap/distance", lambda w, b, X, y, t: budget(w, b, X, y, t) * np.linalg.norm(w), "smallest budget"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: X.copy(), "robust accuracy"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: evade(w, b, X, y, eps * 3), "within the L2 budget"),
    ("01-ml-recap/evade-linear", lambda w, b, X, y, eps: X[:5], "shape"),
])
def test_a_wrong_answer_fails_with_a_reason(task_id, wrong, words):
    verdict = evaluate(task_id, wrong, hidden=True)
    assert not verdict.passed
    assert words in verdict.message()
    assert verdict.why or "shape" in words or "number" in words
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
    verdict = evaluate("01-ml-recap/distance", lambda w, b, X, y, t: 1 / 0)
    assert not verdict.passed and "ZeroDivisionError" in verdict.seen


@pytest.mark.parametrize("wrong", [lambda y, s, cm, cf: np.float64("nan"), lambda y, s, cm, cf: "0.1 or so",
                                   lambda y, s, cm, cf: 1 / 0], ids=["nan", "text", "raises"])
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
    verdict = evaluate("01-ml-recap/distance", lambda w, b, X, y, t: float(np.quantile(np.abs(X @ w + b), 1 - t)))
    assert not verdict.passed and "||w||" not in verdict.message() and "/" not in verdict.expected

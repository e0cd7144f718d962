"""Exercise 01's integrity (issue 13): task 2's cap lets the hint's class-weighted model pass at every seed, and
cheap answers (flag nothing, flag everything, flag at random, an unweighted model) still score 0. Task 1 (where to
flag) is judged by the bank's cost on new data against the cheapest validation threshold, so the most accurate threshold
fails; task 3 (the budget that breaks a model) by the distance, so the model's unnormalised score fails."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .common import SEEDS, failing_seeds, verdict_at

MODEL = "01-ml-recap/fraud-model"


def class_weighted(X_train, y_train, X_test):
    """The hint's first way, at the default threshold."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
    return model.fit(X_train, y_train).predict(X_test)


def threshold_from_legitimate_scores(X_train, y_train, X_test):
    """The hint's second way, written differently: an unweighted model, the threshold from legitimate scores."""
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    cut = np.quantile(m.predict_proba(X_train[y_train == 0])[:, 1], 0.92)
    return (m.predict_proba(X_test)[:, 1] > cut).astype(int)


def flag_nothing(X_train, y_train, X_test):
    return np.zeros(len(X_test), dtype=int)


def flag_everything(X_train, y_train, X_test):
    return np.ones(len(X_test), dtype=int)


def flag_at_random(X_train, y_train, X_test):
    return (np.random.default_rng(0).random(len(X_test)) < 0.12).astype(int)


def unweighted_default(X_train, y_train, X_test):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_train, y_train).predict(X_test)


@pytest.mark.parametrize("cheap", [flag_nothing, flag_everything, flag_at_random, unweighted_default],
                         ids=lambda f: f.__name__)
def test_cheap_fraud_models_score_zero(cheap):
    for seed in (0, 7):
        v = verdict_at(MODEL, cheap, seed)
        assert not v.passed, (seed, v.message())


@pytest.mark.slow
@pytest.mark.parametrize("answer", [class_weighted, threshold_from_legitimate_scores], ids=lambda f: f.__name__)
def test_correct_fraud_models_pass_at_every_seed(answer):
    failed = failing_seeds(MODEL, answer, SEEDS)
    assert not failed, failed


# ---- tasks 1, 3, 4: cheap answers score 0, answers written differently pass at 20 seeds ---------------------------
def threshold_by_bayes_rule(y_val, scores, cost_missed, cost_false_alarm):
    """Written differently: the scores are probabilities, so flag where p * cost_missed >= (1 - p) * cost_false_alarm
    (no validation data used at all)."""
    return cost_false_alarm / (cost_false_alarm + cost_missed)


def threshold_by_cumulative_cost(y_val, scores, cost_missed, cost_false_alarm):
    """Written differently: sort once, the cost of flagging the top k for every k."""
    order = np.argsort(-np.asarray(scores))
    s, y = np.asarray(scores)[order], np.asarray(y_val)[order]
    cost = cost_missed * (y.sum() - np.cumsum(y)) + cost_false_alarm * np.cumsum(1 - y)
    k = int(np.argmin(cost))
    return s[k] if cost[k] < cost_missed * y.sum() else np.inf


def threshold_by_accuracy(y_val, scores, cost_missed, cost_false_alarm):
    """The cheap answer the task exposes: the most accurate threshold on the validation data."""
    cands = np.unique(scores)
    return cands[int(np.argmax([np.mean((scores >= t) == y_val) for t in cands]))]


def budget_by_bisection(w, b, X, y, target):
    """Written differently: run the best attack and bisect on its budget."""
    unit = w / np.linalg.norm(w)
    lo, hi = 0.0, 1e3
    for _ in range(80):
        eps = (lo + hi) / 2
        step = np.minimum(np.abs(X @ w + b) / np.linalg.norm(w) + 1e-12, eps)
        X_adv = X + np.where(y == 1, -1.0, 1.0)[:, None] * unit * step[:, None]
        lo, hi = (lo, eps) if np.mean(((X_adv @ w + b) > 0).astype(int) == y) <= target else (eps, hi)
    return hi


def budget_from_scores(w, b, X, y, target):
    """The cheap answer: the right count, but read on the model's score |w.x + b|, not the distance."""
    score = np.abs(X @ w + b)[((X @ w + b) > 0).astype(int) == y]
    return float(np.sort(score)[len(score) - int(target * len(y)) - 1])


def evade_full_step(w, b, X, y, eps):
    """Always the whole budget, towards the other side (past the boundary is fine)."""
    toward = np.where(y == 1, -1.0, 1.0)[:, None] * w / np.linalg.norm(w)
    return X + eps * toward


CHEAP = {
    "01-ml-recap/fraud-report": [lambda y, s, cm, cf: 0.5, threshold_by_accuracy, lambda y, s, cm, cf: np.inf],
    "01-ml-recap/distance": [budget_from_scores,
                             lambda w, b, X, y, t: float(np.mean(np.abs(X @ w + b) / np.linalg.norm(w))),
                             lambda w, b, X, y, t: 0.0],
    "01-ml-recap/evade-linear": [lambda w, b, X, y, eps: X.copy(),
                                 lambda w, b, X, y, eps: X + eps * np.random.default_rng(0).normal(size=X.shape)
                                 / np.sqrt(X.shape[1])],
}
ALTERNATIVE = {"01-ml-recap/fraud-report": [threshold_by_bayes_rule, threshold_by_cumulative_cost],
               "01-ml-recap/distance": [budget_by_bisection], "01-ml-recap/evade-linear": [evade_full_step]}


@pytest.mark.parametrize("task_id", sorted(CHEAP))
def test_cheap_answers_to_tasks_1_3_4_score_zero_at_every_seed(task_id):
    for cheap in CHEAP[task_id]:
        assert not [s for s in SEEDS if verdict_at(task_id, cheap, s).passed], (task_id, getattr(cheap, "__name__", ""))


@pytest.mark.parametrize("task_id", sorted(ALTERNATIVE))
def test_answers_written_differently_pass_tasks_1_3_4_at_every_seed(task_id):
    for answer in ALTERNATIVE[task_id]:
        assert not failing_seeds(task_id, answer, SEEDS), answer.__name__

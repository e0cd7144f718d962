"""Exercise 01's integrity (issue 13): task 2's cap lets the hint's class-weighted model pass at every seed, and
cheap answers (flag nothing, flag everything, flag at random, an unweighted model) still score 0."""
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
def report_with_sklearn(y_true, y_pred):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    return {"accuracy": accuracy_score(y_true, y_pred), "precision": precision_score(y_true, y_pred, zero_division=0),
            "recall": recall_score(y_true, y_pred, zero_division=0), "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0}


def distance_by_projection(w, b, X):
    """The foot of the perpendicular, then the length of the step to it."""
    foot = X - ((X @ w + b) / (w @ w))[:, None] * w
    return np.linalg.norm(X - foot, axis=1)


def evade_full_step(w, b, X, y, eps):
    """Always the whole budget, towards the other side (past the boundary is fine)."""
    toward = np.where(y == 1, -1.0, 1.0)[:, None] * w / np.linalg.norm(w)
    return X + eps * toward


CHEAP = {
    "01-ml-recap/fraud-report": [lambda t, p: {"accuracy": float(np.mean(t == p))},
                                 lambda t, p: dict.fromkeys(["accuracy", "precision", "recall", "false_positive_rate"],
                                                            float(np.mean(t == p)))],
    "01-ml-recap/distance": [lambda w, b, X: np.abs(X @ w + b), lambda w, b, X: np.zeros(len(X))],
    "01-ml-recap/evade-linear": [lambda w, b, X, y, eps: X.copy(),
                                 lambda w, b, X, y, eps: X + eps * np.random.default_rng(0).normal(size=X.shape)
                                 / np.sqrt(X.shape[1])],
}
ALTERNATIVE = {"01-ml-recap/fraud-report": report_with_sklearn, "01-ml-recap/distance": distance_by_projection,
               "01-ml-recap/evade-linear": evade_full_step}


@pytest.mark.parametrize("task_id", sorted(CHEAP))
def test_cheap_answers_to_tasks_1_3_4_score_zero(task_id):
    for cheap in CHEAP[task_id]:
        for seed in (0, 5):
            assert not verdict_at(task_id, cheap, seed).passed, (task_id, seed)


@pytest.mark.parametrize("task_id", sorted(ALTERNATIVE))
def test_answers_written_differently_pass_tasks_1_3_4_at_every_seed(task_id):
    assert not failing_seeds(task_id, ALTERNATIVE[task_id], SEEDS)

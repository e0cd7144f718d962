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
    return LogisticRegression(max_iter=2000, class_weight="balanced").fit(X_train, y_train).predict(X_test)


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

"""Red team of exercise 08 (confidentiality): for each graded task, cheap answers that show none of
the mechanism score 0, an answer written differently from the solution scores full."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import CheckFailed, get
from course.checks.feedback import Checker
from course.science import privacy

A = "08-confidentiality"
SEEDS = range(20)


def verdict(task, answer, seed, hidden=True):
    t = get(f"{A}/{task}")
    try:
        return t.fn(answer, seed, Checker(t.id, t.misconceptions, hidden))
    except CheckFailed as e:
        return e.verdict


# ---------------------------------------------------------------- task 1: steal
def steal_knn(service, X_pool):
    """An alternative: a 1-nearest-neighbour copy on every answer the budget buys."""
    from sklearn.neighbors import KNeighborsClassifier

    n = min(service.queries_left, len(X_pool))
    return KNeighborsClassifier(1).fit(X_pool[:n], service.predict(X_pool[:n]))


def steal_forward(service, X_pool):
    class Forward:
        def predict(self, X):
            return service.predict(X)

    return Forward()


def steal_without_queries(service, X_pool):
    from sklearn.cluster import KMeans

    return KMeans(10, n_init=1, random_state=0).fit(X_pool)  # predicts a cluster number, not a digit


# ---------------------------------------------------------------- task 2: membership
def membership_loss(service, X, y, X_own, y_own):
    """An alternative: minus the cross-entropy loss, computed by hand."""
    p = service.predict_proba(X)[np.arange(len(y)), y]
    return np.log(np.clip(p, 1e-9, 1))


def membership_constant(service, X, y, X_own, y_own):
    return np.ones(len(y))


def membership_reversed(service, X, y, X_own, y_own):
    return -service.predict_proba(X)[np.arange(len(y)), y]


# ---------------------------------------------------------------- task 3: restriction
def restrict_labels(proba):
    """An alternative: labels only, written without the course's helper."""
    out = np.zeros_like(proba)
    out[np.arange(len(proba)), np.argmax(proba, axis=1)] = 1
    return out


def restrict_round(proba):
    return privacy.restrict(proba, "rounded", decimals=1)


def restrict_reverse(proba):
    """Cheap: the confidence order reversed, the decision kept (it meets a one-sided bound)."""
    top, c = proba.argmax(axis=1), proba.max(axis=1)
    out = np.repeat((c - 0.5)[:, None], 2, axis=1)
    out[np.arange(len(proba)), top] = 1.5 - c
    return out


def restrict_sharpen(proba):
    q = proba ** 4
    return q / q.sum(axis=1, keepdims=True)


CHEAP = {
    "steal": [steal_forward, steal_without_queries],
    "membership": [membership_constant, membership_reversed],
    "restriction": [restrict_round, restrict_reverse, restrict_sharpen],
}
ALTERNATIVE = {"steal": steal_knn, "membership": membership_loss, "restriction": restrict_labels}


@pytest.mark.parametrize("task", list(CHEAP))
def test_cheap_answers_score_zero(task):
    for cheap in CHEAP[task]:
        v = verdict(task, cheap, 5)
        assert not v.passed, f"{task}: {cheap.__name__} passed: {v.seen}"


@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_an_alternative_answer_scores_full(task):
    v = verdict(task, ALTERNATIVE[task], 3)
    assert v.passed, f"{task}: {ALTERNATIVE[task].__name__} failed: {v.expected} / {v.seen}"


def test_the_battery_reads_auc_both_ways():
    from course.checks.confidentiality import membership_battery

    rng = np.random.default_rng(0)
    member = np.r_[np.ones(200, int), np.zeros(200, int)]
    c = np.where(member == 1, 0.95, 0.7) + rng.normal(0, 0.02, 400)
    y = np.ones(400, int)
    flipped = np.column_stack([c - 0.2, 1.2 - c])  # same decisions, order reversed
    assert membership_battery(flipped, y, member, 0)["the true class's confidence"] > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_seeds_swept(task):
    # the restriction's check is new: 20 seeds; the other two changed little (the service closes): 5
    seeds = SEEDS if task == "restriction" else SEEDS[:5]
    failed = [s for s in seeds if not verdict(task, ALTERNATIVE[task], s).passed]
    assert not failed, f"{task}: the alternative failed at seeds {failed}"
    passed_cheap = [(c.__name__, s) for c in CHEAP[task] for s in SEEDS[:3] if verdict(task, c, s).passed]
    assert not passed_cheap, f"{task}: cheap answers passed: {passed_cheap}"

"""Red team of exercise 06 (poisoning): for each graded task, cheap answers that show none of the
mechanism score 0, an answer written differently from the solution scores full, at every seed swept."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks.poisoning import find_case
from course.science import poisoning

from .common import verdict_at

A = "06-poisoning"
SEEDS = range(20)


def verdict(task, answer, seed):
    """The check of one task at one seed, as grading runs it (hidden data)."""
    return verdict_at(f"{A}/{task}", answer, seed)


# ---------------------------------------------------------------- task 1: flip-to-target
def flips_by_margin(X_train, y_train, x_target, budget):
    """An alternative: flip the points with the largest kernel weight on the target."""
    k = np.exp(-1.0 * np.sum((X_train - x_target) ** 2, axis=1))
    c = poisoning.flip_svm().fit(X_train, y_train).predict(x_target[None, :])[0]
    k[y_train != c] = -1
    return np.argsort(-k)[:budget]


def flips_random(X_train, y_train, x_target, budget):
    return np.random.default_rng(0).choice(len(y_train), budget, replace=False)


def flips_first(X_train, y_train, x_target, budget):
    return np.arange(budget)


# ---------------------------------------------------------------- task 2: craft-reports
def reports_dilute(X_campaign, X_ham, n_reports, spam_score):
    """An alternative: the campaign with the generic spam words deleted, then per row as many campaign
    words added as the gate still accepts (a search on the probe, not the solution's word ranking)."""
    camp = [poisoning.VOCABULARY.index(w) for w in poisoning.CAMPAIGN_WORDS]
    generic = [poisoning.VOCABULARY.index(w) for w in ("free", "winner", "prize", "click", "offer", "urgent", "cheap")]
    base = X_campaign[np.arange(n_reports) % len(X_campaign)].copy()
    base[:, generic] = 0
    best = base.copy()
    for k in range(1, 12):
        cand = base.copy()
        cand[:, camp] = np.minimum(base[:, camp] + k, poisoning.MAX_COUNT)
        ok = spam_score(cand) <= 0.88
        best[ok] = cand[ok]
    return best


def reports_ham(X_campaign, X_ham, n_reports, spam_score):
    return X_ham[:n_reports]


# ---------------------------------------------------------------- task 3: find-poisoned
def find_by_domain(X_new, y_new, X_trusted, y_trusted):
    """An alternative: a classifier that tells new 'not spam' labels from vetted ones, combined with a
    filter trained on the vetted data."""
    from sklearn.linear_model import LogisticRegression

    p_spam = poisoning.spam_filter(X_trusted, y_trusted).predict_proba(X_new)[:, 1]
    ham_new, ham_old = np.log1p(X_new[y_new == 0]), np.log1p(X_trusted[y_trusted == 0])
    dom = LogisticRegression(C=0.1, max_iter=500).fit(np.vstack([ham_old, ham_new]),
                                                      np.r_[np.zeros(len(ham_old)), np.ones(len(ham_new))])
    p_new = dom.predict_proba(np.log1p(X_new))[:, 1]
    return np.flatnonzero((y_new == 0) & (p_spam > 0.2) & (p_new > np.quantile(p_new[y_new == 0], 0.9)))


def find_by_position(X_new, y_new, X_trusted, y_trusted):
    """Cheap: the attacker's rows used to follow each round's honest rows."""
    return np.arange(len(y_new) - int(0.03 * len(y_new)), len(y_new))


def find_all_not_spam(X_new, y_new, X_trusted, y_trusted):
    return np.flatnonzero(y_new == 0)


CHEAP = {
    "flip-to-target": [flips_random, flips_first],
    "craft-reports": [poisoning.copy_reports, reports_ham],
    "find-poisoned": [find_by_position, find_all_not_spam],
}
ALTERNATIVE = {"flip-to-target": flips_by_margin, "craft-reports": reports_dilute, "find-poisoned": find_by_domain}


@pytest.mark.parametrize("task", list(CHEAP))
def test_cheap_answers_score_zero(task):
    for cheap in CHEAP[task]:
        for seed in (1, 2):
            v = verdict(task, cheap, seed)
            assert not v.passed, f"{task}: {cheap.__name__} passed at seed {seed}: {v.seen}"


@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_an_alternative_answer_scores_full(task):
    v = verdict(task, ALTERNATIVE[task], 3)
    assert v.passed, f"{task}: {ALTERNATIVE[task].__name__} failed: {v.expected} / {v.seen}"


def test_the_detector_case_has_no_order_and_a_varied_shape():
    shapes, tail_share = set(), []
    for seed in range(6):
        X, y, truth, _, _ = find_case(seed, "copies")
        shapes.add(len(y))
        n = int(truth.sum())
        tail_share.append(truth[-n:].mean())
    assert len(shapes) >= 4  # the number of rows (rounds x batch) varies with the seed
    assert max(tail_share) < 0.2  # the attacker's rows are not where they were appended


@pytest.mark.slow
@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_seeds_swept(task):
    failed = [s for s in SEEDS if not verdict(task, ALTERNATIVE[task], s).passed]
    passed_cheap = [(c.__name__, s) for c in CHEAP[task] for s in SEEDS[:3] if verdict(task, c, s).passed]
    assert not failed, f"{task}: the alternative failed at seeds {failed}"
    assert not passed_cheap, f"{task}: cheap answers passed: {passed_cheap}"

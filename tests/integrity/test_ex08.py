"""Red team of exercise 08 (confidentiality): for each graded task, cheap answers that show none of
the mechanism score 0, an answer written differently from the solution scores full."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks.confidentiality import QUERY_BUDGET
from course.science import privacy

from .common import verdict_at

A = "08-confidentiality"
SEEDS = range(20)


def verdict(task, answer, seed, hidden=True):
    """The check of one task at one seed, as grading runs it (hidden data unless said)."""
    return verdict_at(f"{A}/{task}", answer, seed, hidden)


# ---------------------------------------------------------------- task 1: steal
def steal_solution(service, X_pool):
    """The solution's idea: half the budget on representatives (k-means centres), the rest where the
    copy is least sure, then a copy refitted on the whole pool with its own labels where none was bought."""
    from sklearn.cluster import KMeans
    from sklearn.svm import SVC

    budget = int(service.queries_left)
    km = KMeans(budget // 2, n_init=1, random_state=0).fit(X_pool)
    asked = list(np.unique([np.argmin(((X_pool - c) ** 2).sum(1)) for c in km.cluster_centers_]))
    labels = list(service.predict(X_pool[asked]))
    while service.queries_left > 0:
        d = np.sort(SVC(C=10).fit(X_pool[asked], labels).decision_function(X_pool), axis=1)
        margin = d[:, -1] - d[:, -2]
        margin[asked] = np.inf
        new = list(np.argsort(margin)[: int(min(4, service.queries_left))])
        asked += new
        labels += list(service.predict(X_pool[new]))
    y = SVC(C=10).fit(X_pool[asked], labels).predict(X_pool)
    y[asked] = labels
    return SVC(C=10).fit(X_pool, y)


def steal_spreading(service, X_pool):
    """An alternative written differently: Ward-cluster representatives, then label spreading over the
    pool both to find the images it is least sure of and to label the whole pool for the final copy."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.semi_supervised import LabelSpreading
    from sklearn.svm import SVC

    n = int(service.queries_left)
    groups = AgglomerativeClustering(n_clusters=n * 3 // 5).fit_predict(X_pool)
    chosen = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        centre = X_pool[members].mean(0)
        chosen.append(int(members[np.argmin(np.linalg.norm(X_pool[members] - centre, axis=1))]))
    y = np.full(len(X_pool), -1)
    y[chosen] = service.predict(X_pool[chosen])
    while service.queries_left > 0:
        spread = LabelSpreading(kernel="knn", n_neighbors=7).fit(X_pool, y)
        top2 = np.sort(spread.label_distributions_, axis=1)[:, -2:]
        doubt = top2[:, 0] - top2[:, 1]  # high when the two likeliest labels are close
        doubt[y >= 0] = -np.inf
        batch = np.argsort(-doubt)[: int(min(8, service.queries_left))]
        y[batch] = service.predict(X_pool[batch])
    spread = LabelSpreading(kernel="knn", n_neighbors=7).fit(X_pool, y)
    return SVC(C=10).fit(X_pool, spread.transduction_)


def steal_knn(service, X_pool):
    """Cheap: a 1-nearest-neighbour copy on the first images the budget buys (no choice of queries)."""
    from sklearn.neighbors import KNeighborsClassifier

    n = int(min(service.queries_left, len(X_pool)))
    return KNeighborsClassifier(1).fit(X_pool[:n], service.predict(X_pool[:n]))


def steal_helper(service, X_pool):
    """Cheap: the course's one-call helper on the first images (the old solution)."""
    n = int(min(service.queries_left, len(X_pool)))
    return privacy.steal(service.predict(X_pool[:n]), X_pool[:n], use="labels")


def steal_forward(service, X_pool):
    class Forward:
        def predict(self, X):
            return service.predict(X)

    return Forward()


def steal_without_queries(service, X_pool):
    from sklearn.cluster import KMeans

    return KMeans(10, n_init=1, random_state=0).fit(X_pool)  # predicts a cluster number, not a digit


# ---------------------------------------------------------------- task 2: membership
def _forests_without(X, X_own, y_own, n, size, seed):
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        i = rng.choice(len(y_own), size, replace=False)
        out.append(RandomForestClassifier(100, random_state=k).fit(X_own[i], y_own[i]).predict_proba(X))
    return out


def membership_solution(service, X, y, X_own, y_own):
    """The solution's idea: the target's confidence minus that of reference forests trained without the record."""
    rows = np.arange(len(y))
    refs = [P[rows, y] for P in _forests_without(X, X_own, y_own, 8, 500, 0)]
    return service.predict_proba(X)[rows, y] - np.mean(refs, axis=0)


def membership_median(service, X, y, X_own, y_own):
    """An alternative written differently: the margin over the median of four forests, each trained on a
    disjoint quarter of the attacker's records."""
    from sklearn.ensemble import RandomForestClassifier

    rows = np.arange(len(y))
    quarters = np.array_split(np.random.default_rng(1).permutation(len(y_own)), 4)
    refs = [RandomForestClassifier(100, random_state=7 + k).fit(X_own[q], y_own[q]).predict_proba(X)[rows, y]
            for k, q in enumerate(quarters)]
    return service.predict_proba(X)[rows, y] - np.median(refs, axis=0)


def membership_loss(service, X, y, X_own, y_own):
    """Cheap: minus the cross-entropy loss, by hand (one threshold for everybody: the old alternative)."""
    p = service.predict_proba(X)[np.arange(len(y)), y]
    return np.log(np.clip(p, 1e-9, 1))


def membership_confidence(service, X, y, X_own, y_own):
    """Cheap: the course's threshold attack (the old solution)."""
    return privacy.confidence_scores(service.predict_proba(X), y)


def membership_shadow(service, X, y, X_own, y_own):
    """Cheap: the course's shadow-model attack, one global attack model (no per-record calibration)."""
    from sklearn.ensemble import RandomForestClassifier

    attack = privacy.ShadowAttack(lambda: RandomForestClassifier(100, random_state=0), n_shadows=2).fit(X_own, y_own)
    return attack.scores(service.predict_proba(X), y)


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
    "steal": [steal_forward, steal_without_queries, steal_knn, steal_helper],
    "membership": [membership_constant, membership_reversed, membership_loss, membership_confidence, membership_shadow],
    "restriction": [restrict_round, restrict_reverse, restrict_sharpen],
}
ALTERNATIVE = {"steal": steal_spreading, "membership": membership_median, "restriction": restrict_labels}
SOLUTION = {"steal": steal_solution, "membership": membership_solution}


@pytest.mark.parametrize("task", list(CHEAP))
def test_cheap_answers_score_zero(task):
    for cheap in CHEAP[task]:
        v = verdict(task, cheap, 5)
        assert not v.passed, f"{task}: {cheap.__name__} passed: {v.seen}"


@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_an_alternative_answer_scores_full(task):
    v = verdict(task, ALTERNATIVE[task], 3)
    assert v.passed, f"{task}: {ALTERNATIVE[task].__name__} failed: {v.expected} / {v.seen}"


@pytest.mark.parametrize("task", list(SOLUTION))
def test_the_solutions_idea_scores_full(task):
    v = verdict(task, SOLUTION[task], 7)
    assert v.passed, f"{task}: {SOLUTION[task].__name__} failed: {v.expected} / {v.seen}"


def test_tpr_at_low_fpr_reads_the_strict_end_of_the_curve():
    from course.checks.confidentiality import tpr_at_fpr

    member = np.r_[np.ones(100, int), np.zeros(100, int)]
    scores = np.r_[np.linspace(0, 1, 100), np.linspace(0, 1, 100)]
    assert tpr_at_fpr(scores, member, 0.01) <= 0.02  # same scores for both: at 1% FPR about 1% caught
    assert tpr_at_fpr(scores + member, member, 0.01) > 0.9  # members above every non-member
    assert privacy.auc(scores + 0.5 * member, member) > 0.7 > tpr_at_fpr(scores + 0.5 * member, member, 0.01)


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
    failed = [s for s in SEEDS if not verdict(task, ALTERNATIVE[task], s).passed]
    assert not failed, f"{task}: the alternative failed at seeds {failed}"
    passed_cheap = [(c.__name__, s) for c in CHEAP[task] for s in SEEDS[:2] if verdict(task, c, s).passed]
    assert not passed_cheap, f"{task}: cheap answers passed: {passed_cheap}"


@pytest.mark.slow
def test_random_queries_fall_short_at_every_seed():
    # the cheap steal closest to the bar (a 1-NN copy on the first images): measured 0.051 above the
    # random-query baseline at worst (seed 0) over 20 seeds, against a bar of 0.06; seeds 0-1 are in the sweep
    # above, the other 18 here
    passed = [s for s in SEEDS[2:] if verdict("steal", steal_knn, s).passed]
    assert not passed, f"a copy on the first {QUERY_BUDGET} images passed at seeds {passed}"


def test_the_checks_digits_split_is_the_settings():
    from course.checks.confidentiality import _digits
    from course.science import defences

    a, b = defences.digits_setting(random_state=3), _digits(3)
    assert all(np.array_equal(a[k], b[k]) for k in ("X_train", "y_train", "X", "X_attacker"))

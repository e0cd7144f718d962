"""Checks of exercise 08 (confidentiality through the API): M5 - "AML is ordinary security".

The targets are built here from the task's seed and reach the learner's functions only through a
`course.science.services.PredictionAPI` (which counts queries and refuses those beyond its budget). Results are
judged against baselines that lack the mechanism: fidelity against copies bought with the same budget
of random queries, TPR at 1% FPR against one threshold on the confidence, decisions kept by a restriction.
"""
from __future__ import annotations

import functools

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.science import privacy, services

A = "08-confidentiality"
QUERY_BUDGET = 40
N_POOL = 450
FIDELITY_GAIN = 0.06
N_RUNS = 3
N_DRAWS = 6
LOW_FPR = 0.01
TPR_GAIN = 0.08
AUC_DROP = 0.10
N_MEMBERS = 500


def _seed(seed: int) -> int:
    return int(seed) % (2**31 - 1)


def _holds(obj, target, depth: int = 2) -> bool:
    """Whether obj is, or (shallowly) refers to, the target or an API around it."""
    if obj is target or isinstance(obj, services.PredictionAPI):
        return True
    if depth == 0:
        return False
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    for v in values:
        if isinstance(v, (list, tuple)):
            if any(_holds(x, target, depth - 1) for x in v):
                return True
        elif _holds(v, target, depth - 1):
            return True
    return False


# --------------------------------------------------------------------------- task 1
@functools.lru_cache(maxsize=8)
def _digits(seed: int):
    """The digits split of `defences.digits_setting(seed)` (training images, 200 evaluation images, the
    attacker's images), without the MLP that the setting also trains and this task does not use."""
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    from course.science import datasets

    digits = datasets.load_digits()
    X_train, X_rest, y_train, _ = train_test_split(digits.X, digits.y, test_size=0.45, stratify=digits.y,
                                                   random_state=_seed(seed))
    return Bunch(X_train=X_train, y_train=y_train, X=X_rest[:200], X_attacker=X_rest[200:])


def _agreement(copy, truth, X) -> float:
    """Fidelity against labels of the target computed once (privacy.fidelity asks the target every time)."""
    return float(np.mean(np.asarray(copy.predict(X)) == truth))


def _random_query_copies(target, truth, pool, X_eval, budget, seed, copy) -> float:
    """Fidelity of the copies that the same budget buys without choosing the queries: `budget` pool
    images drawn at random, labelled by the target, fitted by a few model families (and by a fresh
    clone of the learner's own copy, when it is a scikit-learn estimator); the mean over N_DRAWS draws
    of the best family."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    rng = np.random.default_rng(_seed(seed) + 17)
    draws = [rng.choice(len(pool), budget, replace=False) for _ in range(N_DRAWS)]
    makers = [lambda: SVC(C=10.0), lambda: KNeighborsClassifier(1), lambda: LogisticRegression(C=10.0, max_iter=2000)]
    try:
        clone(copy)
        makers.append(lambda: clone(copy))
    except Exception:  # noqa: BLE001 - not an estimator scikit-learn can clone: judged against the families
        pass
    best = 0.0
    for make in makers:
        try:
            f = np.mean([_agreement(make().fit(pool[i], target.predict(pool[i])), truth, X_eval) for i in draws])
        except Exception:  # noqa: BLE001 - a clone that cannot refit on plain labels gives no baseline
            continue
        best = max(best, float(f))
    return best


def _steal_once(chk, steal_model, target, truth, pool, X_eval):
    """One attack on a fresh service over `pool`; returns (fidelity of the copy, queries used, the copy)."""
    from threadpoolctl import threadpool_limits

    service = services.PredictionAPI(target, output="label", max_queries=QUERY_BUDGET)
    try:
        copy = call(chk, steal_model, service, pool.copy(), what="steal_model")
    except services.QueryBudgetExceeded as e:  # pragma: no cover - call() turns it into a failed check
        chk.require(False, expected=f"at most {QUERY_BUDGET} queries", seen=str(e))
    used = service.queries_used
    chk.require(used <= QUERY_BUDGET, expected=f"at most {QUERY_BUDGET} queries", seen=f"{used} queries")
    chk.require(hasattr(copy, "predict"), expected="a fitted copy with a predict method", seen=fmt(copy))
    chk.require(not _holds(copy, target), expected="a model of your own, trained on the API's answers",
               seen="an object that holds the service (or its model)",
               why="forwarding requests to the service is using it, not stealing it")
    service.max_queries = used  # the service is closed now: the copy must answer on its own
    try:
        with threadpool_limits(limits=1):
            return _agreement(copy, truth, X_eval), used, copy
    except services.QueryBudgetExceeded:
        chk.require(False, expected="a model of your own, trained on the API's answers",
                    seen="a copy that still asks the service (it queried it after the attack was over)",
                    why="forwarding requests to the service is using it, not stealing it")
    except Exception as e:  # noqa: BLE001 - the copy's own failure is feedback
        chk.require(False, expected="a copy whose predict returns one label per image",
                    seen=f"its predict raised {type(e).__name__}: {e}")


@task(f"{A}/steal", answer="steal_model", misconceptions=["M5"])
def check_steal(steal_model, seed, chk):
    from threadpoolctl import threadpool_limits

    s = _digits(_seed(seed))
    with threadpool_limits(limits=1):
        target = services.make_secret_model(s.X_train, s.y_train, _seed(seed))
    pool = s.X_attacker[:N_POOL].copy()
    X_eval = np.vstack([s.X, s.X_attacker[N_POOL:], s.X_train])  # digits the learner never sees
    truth = target.predict(X_eval)
    # the attack runs on the pool in N_RUNS shuffled orders, so that the luck of one order (which images
    # come first) counts for nothing; each run has its own service and budget
    rng = np.random.default_rng(_seed(seed) + 29)
    runs = [_steal_once(chk, steal_model, target, truth, pool[rng.permutation(len(pool))], X_eval) for _ in range(N_RUNS)]
    agree, used = float(np.mean([r[0] for r in runs])), max(r[1] for r in runs)
    with threadpool_limits(limits=1):
        base = _random_query_copies(target, truth, pool, X_eval, QUERY_BUDGET, seed, runs[0][2])
    chk.expect(
        agree >= base + FIDELITY_GAIN,
        expected=f"fidelity >= {base + FIDELITY_GAIN:.3f} on {len(X_eval)} digits you never saw: {FIDELITY_GAIN} above "
                 f"{base:.3f}, what {QUERY_BUDGET} queries at random images of your pool buy (best of several model "
                 f"families, your own included)",
        seen=f"fidelity {agree:.3f} (mean of {N_RUNS} attacks on the pool shuffled) with at most {used} queries each",
        why="with a query budget, where the queries go decides what is copied: a customer who spends them where they "
            "inform (images that stand for many others, then the places the copy is unsure of) beats one who spends "
            "them at random, and TLS and authentication stop neither",
    )
    return chk.passed(f"fidelity {agree:.3f} with at most {used} of {QUERY_BUDGET} queries; random queries: {base:.3f} "
                      f"(the target was a {type(target).__name__})")


# --------------------------------------------------------------------------- tasks 2 and 3: the hospital
def _hospital(seed):
    from sklearn.ensemble import RandomForestClassifier
    from threadpoolctl import threadpool_limits

    patients = privacy.make_patients(3000, random_state=_seed(seed))
    split = privacy.membership_split(patients.X, patients.y, N_MEMBERS, random_state=_seed(seed))
    with threadpool_limits(limits=1):
        model = RandomForestClassifier(n_estimators=100, random_state=_seed(seed) % 1000).fit(split.X_members, split.y_members)
    return split, model


def tpr_at_fpr(scores, member, fpr: float = LOW_FPR) -> float:
    """The share of members caught when at most `fpr` of non-members are accused (Carlini et al., 2022)."""
    f, t = privacy.roc(scores, member)
    return float(np.max(t[f <= fpr]))


@task(f"{A}/membership", answer="membership_scores", misconceptions=["M5"])
def check_membership(membership_scores, seed, chk):
    split, model = _hospital(seed)
    service = services.PredictionAPI(model, output="proba", max_queries=len(split.member))
    scores = call(chk, membership_scores, service, split.X_candidates.copy(), split.y_candidates.copy(),
                  split.X_attacker.copy(), split.y_attacker.copy(), what="membership_scores")
    scores = np.asarray(scores, dtype=float).ravel() if scores is not None else np.array([])
    chk.require(scores.shape == (len(split.member),), expected=f"one score per candidate ({len(split.member)})",
               seen=f"shape {scores.shape}")
    chk.require(np.all(np.isfinite(scores)), expected="finite scores", seen="NaN or inf among the scores")
    naive = tpr_at_fpr(privacy.confidence_scores(model.predict_proba(split.X_candidates), split.y_candidates),
                       split.member)
    got, area = tpr_at_fpr(scores, split.member), privacy.auc(scores, split.member)
    chk.expect(
        got >= naive + TPR_GAIN,
        expected=f"TPR at {LOW_FPR:.0%} FPR >= {naive + TPR_GAIN:.3f}: {TPR_GAIN} above the {naive:.3f} of one "
                 f"threshold on the service's confidence in the true outcome",
        seen=f"TPR {got:.3f} at {LOW_FPR:.0%} FPR (AUC {area:.3f})",
        why="a claim that someone was a patient must hold for that person: an average-case score (AUC) hides that "
            "one threshold for everybody accuses many easy non-members, while a score calibrated per record (how "
            "much more confident is this model than models trained without the record?) names patients with few "
            "false accusations",
    )
    return chk.passed(f"TPR {got:.3f} at {LOW_FPR:.0%} FPR (one threshold on the confidence: {naive:.3f}); "
                      f"AUC {area:.3f} on {len(split.member)} candidates (half of them patients)")


def _either_way(a: float) -> float:
    """An attack that ranks members low is as good as one that ranks them high: read AUC both ways."""
    return max(a, 1.0 - a)


def membership_battery(out, y, member, seed) -> dict:
    """AUC (read both ways) of several membership attacks on the answers `out` (rows of class
    probabilities) to records with labels `y`: thresholds on the true class's confidence, on the top
    confidence and on being right, and an attack model fitted on these very answers (half of the
    candidates with their membership known, scored on the other half, and the other way round)."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    out, y, member = np.asarray(out, dtype=float), np.asarray(y), np.asarray(member).astype(int)
    found = {
        "the true class's confidence": privacy.confidence_scores(out, y),
        "the top confidence": out.max(axis=1),
        "being right": (out.argmax(axis=1) == y).astype(float),
    }
    features = np.column_stack([out, y])
    fitted = np.zeros(len(y))
    for train, test in StratifiedKFold(2, shuffle=True, random_state=_seed(seed) % 1000).split(features, member):
        model = GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)
        fitted[test] = model.fit(features[train], member[train]).predict_proba(features[test])[:, 1]
    found["an attack model fitted on these answers"] = fitted
    return {name: _either_way(privacy.auc(scores, member)) for name, scores in found.items()}


@task(f"{A}/restriction", answer="restrict_output", misconceptions=["M5"])
def check_restriction(restrict_output, seed, chk):
    split, model = _hospital(seed)
    P = model.predict_proba(split.X_candidates)
    out = call(chk, restrict_output, P.copy(), what="restrict_output")
    try:
        out = np.asarray(out, dtype=float) if out is not None else np.array([])
    except (TypeError, ValueError):
        chk.require(False, expected="an array of numbers", seen=fmt(out))
    chk.require(out.shape == P.shape, expected=f"an array of shape {P.shape} (one answer per row)", seen=f"shape {out.shape}")
    chk.require(np.all(np.isfinite(out)), expected="finite numbers", seen="NaN or inf in the output")
    kept = float(np.mean(out.argmax(axis=1) == P.argmax(axis=1)))
    chk.require(kept >= 0.99, expected="the same decision (top class) for at least 99% of requests",
               seen=f"decisions kept for {kept:.1%}",
               why="a restriction that changes the service's decisions breaks it for its legitimate users")
    before = membership_battery(P, split.y_candidates, split.member, seed)
    after = membership_battery(out, split.y_candidates, split.member, seed)
    worst_before, worst = max(before.values()), max(after, key=after.get)
    chk.expect(
        after[worst] <= worst_before - AUC_DROP,
        expected=f"the best of {len(after)} membership attacks at AUC <= {worst_before - AUC_DROP:.3f} ({AUC_DROP} below "
                 f"its {worst_before:.3f} on the full probabilities; an AUC under 0.5 counts as 1 - AUC)",
        seen=f"AUC {after[worst]:.3f} with your restriction, by {worst}",
        why="an output restriction is a mitigation only if it weakens the best attack against it, including one "
            "that knows the restriction; an order that can be undone hides nothing",
    )
    return chk.passed(f"best membership attack AUC {worst_before:.3f} -> {after[worst]:.3f} ({worst}); "
                      f"decisions kept for {kept:.1%}")

"""Checks of exercise 08 (confidentiality through the API): M5 - "AML is ordinary security".

The targets are built here from the task's seed and reach the learner's functions only through a
`course.science.services.PredictionAPI` (which counts queries and refuses those beyond its budget). Results are
judged against the threat model: the query budget, fidelity on images the check keeps to itself,
membership advantage on the check's own members and non-members, decisions kept by a restriction.
"""
from __future__ import annotations

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.science import defences, privacy, services

A = "08-confidentiality"
QUERY_BUDGET = 300
FIDELITY_TARGET = 0.85
ADVANTAGE_TARGET = 0.45
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
@task(f"{A}/steal", answer="steal_model", misconceptions=["M5"])
def check_steal(steal_model, seed, chk):
    from threadpoolctl import threadpool_limits

    s = defences.digits_setting(random_state=_seed(seed))
    with threadpool_limits(limits=1):
        target = services.make_secret_model(s.X_train, s.y_train, _seed(seed))
    service = services.PredictionAPI(target, output="label", max_queries=QUERY_BUDGET)
    pool = s.X_attacker[:450].copy()
    try:
        copy = call(chk, steal_model, service, pool, what="steal_model")
    except services.QueryBudgetExceeded as e:  # pragma: no cover - call() turns it into a failed check
        chk.require(False, expected=f"at most {QUERY_BUDGET} queries", seen=str(e))
    chk.require(service.queries_used <= QUERY_BUDGET, expected=f"at most {QUERY_BUDGET} queries",
                seen=f"{service.queries_used} queries")
    chk.require(hasattr(copy, "predict"), expected="a fitted copy with a predict method", seen=fmt(copy))
    chk.require(not _holds(copy, target), expected="a model of your own, trained on the API's answers",
               seen="an object that holds the service (or its model)",
               why="forwarding requests to the service is using it, not stealing it")
    service.max_queries = service.queries_used  # the service is closed now: the copy must answer on its own
    try:
        agree = privacy.fidelity(copy, target, s.X)
    except services.QueryBudgetExceeded:
        chk.require(False, expected="a model of your own, trained on the API's answers",
                    seen="a copy that still asks the service (it queried it after the attack was over)",
                    why="forwarding requests to the service is using it, not stealing it")
    except Exception as e:  # noqa: BLE001 - the copy's own failure is feedback
        chk.require(False, expected="a copy whose predict returns one label per image",
                    seen=f"its predict raised {type(e).__name__}: {e}")
    chk.expect(
        agree >= FIDELITY_TARGET,
        expected=f"fidelity >= {FIDELITY_TARGET} (agreement with the service on {len(s.y)} images you never saw)",
        seen=f"fidelity {agree:.3f} after {service.queries_used} queries",
        why="the service was behind authentication and TLS, and a few hundred ordinary queries still copy it",
    )
    return chk.passed(f"fidelity {agree:.3f} with {service.queries_used} of {QUERY_BUDGET} queries "
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
    adv, area = privacy.advantage(scores, split.member), privacy.auc(scores, split.member)
    chk.expect(
        adv >= ADVANTAGE_TARGET,
        expected=f"membership advantage >= {ADVANTAGE_TARGET} (best TPR - FPR; guessing gives about 0)",
        seen=f"advantage {adv:.3f}, AUC {area:.3f}",
        why="being in a hospital's training data means having been its patient: the API leaks it to any customer",
    )
    return chk.passed(f"advantage {adv:.3f}, AUC {area:.3f} on {len(split.member)} candidates (half of them patients)")


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

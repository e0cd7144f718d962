"""Query-based attacks: the attacker sees the model only through a counted prediction service.

* `score_attack` - score-based (SimBA, Guo et al. 2019): change one feature at a time and keep
  the change when the probability of the true class drops. Needs scores or probabilities.
* `boundary_attack` - decision-based (after Brendel et al. 2018): start from a point that is
  already misclassified and walk along the decision boundary towards the original. Needs
  labels only.
* `probe_fraud` - a fraudster's semi-automated probing of a fraud model (lesson 05): change only
  what the fraudster controls (a data set's `constraints`), within bounds, integers kept
  integers, until the transaction is approved or the per-transaction budget is spent.

Helpers: `evasion_rate` (the share of points an attack turned from right to wrong) and
`success_by_queries` (the share evaded within each query budget, from one attack run).
numpy in, numpy out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from course.ground.threat import project
from course.science.attacks.base import evaded, margin_weights, norm_step, valid_classes
from course.science.services import OutputNotAvailable, PredictionAPI


def evasion_rate(model, X_adv, X, y) -> float:
    """Share of the points the model classified correctly before the attack that it gets wrong after.

    `model` is anything with `predict` (the hidden target itself, for the experimenter).
    """
    y = np.asarray(y)
    right = np.asarray(model.predict(X)) == y
    if not right.any():
        return float("nan")
    return float(np.mean(np.asarray(model.predict(np.asarray(X_adv)[right])) != y[right]))


@dataclass
class QueryAttackResult:
    """What a query attack found, and what it cost.

    X_adv : the adversarial points (each within the budget, in bounds; the original where the attack failed).
    success : bool per point: misclassified by the API's model and within the budget.
    queries : queries spent per point.
    queries_to_success : per point, the queries spent when it first succeeded (inf if never).
    distance : per point, the L2 size of the perturbation returned.
    """

    X_adv: np.ndarray
    success: np.ndarray
    queries: np.ndarray
    queries_to_success: np.ndarray
    distance: np.ndarray = field(default=None)

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.success))


def success_by_queries(result: QueryAttackResult, budgets) -> np.ndarray:
    """Share of points evaded within each query budget (per point), from one attack run."""
    q = np.asarray(result.queries_to_success, dtype=float)
    return np.array([float(np.mean(q <= b)) for b in budgets])


def _true_class_proba(api, rows, col):
    """The API's probability of each row's true class, and whether its top class is another one."""
    proba = api.predict_proba(rows)
    p = proba[np.arange(len(rows)), col]
    return p, np.argmax(proba, axis=1) != col


def score_attack(api: PredictionAPI, X, y, budget: float, *, max_queries: int = 500, step: float = 0.5,
                 bounds=(0.0, 1.0), random_state: int = 0, progress: bool | None = None) -> QueryAttackResult:
    """Score-based evasion with queries only (SimBA, Guo et al. 2019), within an L2 budget.

    For each point, visit the features in a random order; for each, try x + step and then
    x - step on that feature, and keep the change if the API's probability of the true class
    went down. A point stops when the API misclassifies it, when it has spent `max_queries`,
    or when every feature has been tried. A change that would leave the L2 ball of radius
    `budget` or the bounds is never sent. All points are attacked together, one batch of
    queries per round. The API must return probabilities (output="proba").
    """
    if api.output != "proba":
        raise OutputNotAvailable("score_attack needs an API that returns probabilities; use boundary_attack for labels")
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    n, d = X.shape
    lb, ub = bounds
    col = np.searchsorted(api.classes_, y)
    rng = np.random.default_rng(random_state)

    X_adv = X.copy()
    p, done = _true_class_proba(api, X_adv, col)  # one query per point to start
    queries = np.ones(n, dtype=int)
    first = np.where(done, 1.0, np.inf)
    order = np.argsort(rng.random((n, d)), axis=1)  # each point's own random order of features
    show = progress if progress is not None else n * d > 5000
    for k in tqdm(range(d), desc="score-based attack", disable=not show, leave=False):
        improved = np.zeros(n, dtype=bool)
        for sign in (+1.0, -1.0):
            active = np.flatnonzero(~done & ~improved & (queries < max_queries))
            if not len(active):
                continue
            rows = np.arange(len(active))
            cand = X_adv[active].copy()
            j = order[active, k]
            cand[rows, j] = np.clip(cand[rows, j] + sign * step, lb, ub)
            send = (cand[rows, j] != X_adv[active, j]) & (np.linalg.norm(cand - X[active], axis=1) <= budget)
            if not send.any():
                continue
            idx = active[send]
            p_new, wrong = _true_class_proba(api, cand[send], col[idx])
            queries[idx] += 1
            better = p_new < p[idx]
            keep = idx[better]
            X_adv[keep], p[keep] = cand[send][better], p_new[better]
            improved[keep] = True
            newly = idx[better & wrong]
            done[newly] = True
            first[newly] = queries[newly]
    return QueryAttackResult(X_adv, done, queries, first, np.linalg.norm(X_adv - X, axis=1))


def _labels_wrong(api, rows, y):
    return np.asarray(api.predict(rows)) != y


def boundary_attack(api: PredictionAPI, X, y, budget: float, starts, start_labels=None, *, max_queries: int = 1000,
                    bounds=(0.0, 1.0), search_steps: int = 8, orthogonal: float = 0.2,
                    random_state: int = 0, progress: bool | None = None) -> QueryAttackResult:
    """Decision-based evasion with labels only (after Brendel et al. 2018's boundary attack).

    1. Start each point from the nearest of `starts` (inputs the attacker has, e.g. their own
       examples of other classes; with `start_labels`, only those of another class are tried)
       that the API labels differently: one query per candidate tried, at most 10.
    2. Binary search on the line between the point and its start, `search_steps` queries, to
       land just on the wrong side of the decision boundary.
    3. Walk along the boundary towards the original: a random step (sideways, `orthogonal`
       times the current distance) plus a step towards the original point; keep it if the API
       still gives a wrong label. Step sizes grow after a success and shrink after a failure.

    A point stops when its perturbation is within the L2 `budget` (success) or after
    `max_queries`. Only labels are used: this works against any model behind any API.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    n, d = X.shape
    lb, ub = bounds
    rng = np.random.default_rng(random_state)
    queries = np.zeros(n, dtype=int)
    X_adv = X.copy()
    found = np.zeros(n, dtype=bool)

    # 1. a misclassified start for each point, nearest first (at most 10 tries each)
    sq = ((X[:, None, :] - starts[None, :, :]) ** 2).sum(-1)
    if start_labels is not None:
        sq = np.where(np.asarray(start_labels)[None, :] == y[:, None], np.inf, sq)  # other classes first
    near = np.argsort(sq, axis=1)[:, :10]
    for t in range(near.shape[1]):
        idx = np.flatnonzero(~found & (queries < max_queries))
        if not len(idx):
            break
        cand = starts[near[idx, t]]
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        X_adv[idx[wrong]] = cand[wrong]
        found[idx[wrong]] = True

    # 2. binary search between the point (right side) and its start (wrong side)
    lo = np.zeros(n)  # fraction of the way to the start that is still right
    hi = np.ones(n)  # fraction that is wrong
    start_pts = X_adv.copy()
    for _ in range(search_steps):
        idx = np.flatnonzero(found & (queries < max_queries))
        if not len(idx):
            break
        mid = (lo[idx] + hi[idx]) / 2
        cand = X[idx] + mid[:, None] * (start_pts[idx] - X[idx])
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        hi[idx[wrong]], lo[idx[~wrong]] = mid[wrong], mid[~wrong]
    X_adv[found] = X[found] + hi[found, None] * (start_pts[found] - X[found])

    # 3. the walk along the boundary
    dist = np.where(found, np.linalg.norm(X_adv - X, axis=1), np.inf)
    first = np.where(found & (dist <= budget), queries.astype(float), np.inf)
    towards = np.full(n, 0.1)  # share of the distance to step towards the original
    side = np.full(n, orthogonal)
    show = progress if progress is not None else n * max_queries > 50000
    bar = tqdm(total=int(max_queries), desc="decision-based attack", disable=not show, leave=False)
    while True:
        idx = np.flatnonzero(found & ~np.isfinite(first) & (queries < max_queries))
        if not len(idx):
            break
        delta = X_adv[idx] - X[idx]
        r = dist[idx][:, None]
        eta = rng.normal(size=delta.shape)
        eta -= (np.sum(eta * delta, axis=1, keepdims=True) / np.maximum(r**2, 1e-12)) * delta  # sideways only
        eta *= side[idx][:, None] * r / np.maximum(np.linalg.norm(eta, axis=1, keepdims=True), 1e-12)
        step = delta + eta
        step *= r * (1 - towards[idx])[:, None] / np.linalg.norm(step, axis=1, keepdims=True)  # sphere, then closer
        cand = np.clip(X[idx] + step, lb, ub)
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        new_dist = np.linalg.norm(cand - X[idx], axis=1)
        ok = wrong & (new_dist < dist[idx])
        X_adv[idx[ok]], dist[idx[ok]] = cand[ok], new_dist[ok]
        towards[idx] = np.clip(np.where(ok, towards[idx] * 1.5, towards[idx] * 0.8), 1e-3, 0.5)
        side[idx] = np.clip(np.where(ok, side[idx] * 1.1, side[idx] * 0.95), 0.01, 1.0)
        hit = idx[ok & (new_dist <= budget)]
        first[hit] = queries[hit]
        bar.update(max(0, int(queries[idx].min()) - bar.n))  # queries spent by the slowest active point
    bar.close()
    success = np.isfinite(first)
    # where the walk did not get within the budget, return the original point (no attack within budget)
    X_out = np.where(success[:, None], X_adv, X)
    return QueryAttackResult(X_out, success, queries, first, np.linalg.norm(X_out - X, axis=1))


def public_scores(model):
    """The scores a model's public interface offers: decision_function, else log predict_proba, else None."""
    if callable(getattr(model, "decision_function", None)):
        def scores(X):
            s = np.asarray(model.decision_function(X), dtype=float)
            return np.stack([-s, s], axis=1) if s.ndim == 1 else s
        return scores
    if callable(getattr(model, "predict_proba", None)):
        return lambda X: np.log(np.clip(np.asarray(model.predict_proba(X), dtype=float), 1e-12, None))
    return None


def nes_attack(oracle, X, y, budget, *, norm, bounds, changeable, classes, use_scores, query_budget, rng, X_init=None,
                random=False, pairs=10):
    """Query-only attack: estimate the gradient from queries (antithetic NES, Ilyas et al. 2018) and step.

    With scores, the loss is the margin; with labels only, it is the share of a small neighbourhood
    that is misclassified (a smoothed decision). Each point spends at most `query_budget` queries.
    Returns (X_adv, queries spent per point).
    """
    n, d = X.shape
    Xa = X.copy() if X_init is None else project(np.array(X_init, dtype=float), X, budget, norm, bounds, changeable)
    used = np.zeros(n, int)
    valid = valid_classes(classes) if classes is not None else None
    sigma = budget / (4 if use_scores else 2)
    alpha = budget / 10 if norm == "linf" else budget / 5
    lb, ub = bounds
    mask = None if changeable is None else np.asarray(changeable, dtype=float)

    def loss(P, yy):
        if use_scores:
            return margin_weights(oracle.decision_function(P), classes, yy, valid)[1]
        return evaded(oracle.predict(P), yy).astype(float)

    active = np.ones(n, bool)
    if not random:
        active &= ~evaded(oracle.predict(Xa), y)
        used += 1
    cost = 2 * pairs + (0 if random else 1)
    while True:
        idx = np.flatnonzero(active & (used + cost <= query_budget))
        if not len(idx) or budget <= 0:
            break
        U = rng.integers(0, 2, size=(len(idx), pairs, d), dtype=np.int8) * 2.0 - 1.0  # random +-1 directions (SPSA)
        if mask is not None:
            U *= mask
        base = Xa[idx][:, None, :]
        P = np.clip(np.concatenate([base + sigma * U, base - sigma * U], axis=1), lb, ub).reshape(-1, d)
        yy = np.repeat(y[idx], 2 * pairs)
        L = loss(P, yy).reshape(len(idx), 2 * pairs)
        diff = L[:, :pairs] - L[:, pairs:]
        G = np.einsum("np,npd->nd", diff, U)
        flat = np.all(diff == 0, axis=1)
        if flat.any():  # no signal: explore in a random direction
            G[flat] = rng.normal(size=(int(flat.sum()), d)) * (1 if mask is None else mask)
        Xa[idx] = project(Xa[idx] + norm_step(G, alpha, norm), X[idx], budget, norm, bounds, changeable)
        used[idx] += 2 * pairs
        if not random:
            active[idx] &= ~evaded(oracle.predict(Xa[idx]), y[idx])
            used[idx] += 1
    return Xa, used


DISGUISE = (("hour", 14), ("online", 1), ("merchant_category", 3))  # a 2 pm online-retail purchase


def respect_constraints(X_new, X_orig, constraints) -> np.ndarray:
    """Bring rows back into a data set's attacker constraints: fixed features reset to the
    original, every feature clipped to its bounds, integer features rounded."""
    X_new = np.array(X_new, dtype=float)
    X_orig = np.asarray(X_orig, dtype=float)
    changeable = np.asarray(constraints["changeable"], dtype=bool)
    integer = np.asarray(constraints["integer"], dtype=bool)
    X_new = np.where(changeable, X_new, X_orig)
    X_new = np.where(integer, np.round(X_new), X_new)
    return np.clip(X_new, constraints["lower"], constraints["upper"])


@dataclass
class FraudProbeResult:
    """The outcome of probing, per intended transaction.

    X_final : the approved transaction, or the last one tried where none was approved.
    approved : bool, whether some attempt was approved (that attempt is the purchase).
    queries : attempts made (each attempt is one query: a real authorisation request).
    """

    X_final: np.ndarray
    approved: np.ndarray
    queries: np.ndarray

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.approved))

    @property
    def queries_to_success(self) -> np.ndarray:
        """Attempts until approval (inf where none was approved), for `success_by_queries`."""
        return np.where(self.approved, self.queries, np.inf)

    def within(self, attempts: int) -> "FraudProbeResult":
        """The same campaign cut off after `attempts` attempts per card (the script is the same
        attempt by attempt, so this is what a fraudster allowed only that many would have got)."""
        ok = self.approved & (self.queries <= attempts)
        return FraudProbeResult(self.X_final, ok, np.minimum(self.queries, attempts))


def probe_fraud(api: PredictionAPI, X, constraints, feature_names, *, max_queries: int = 10, shrink: float = 0.8,
                disguise=DISGUISE, progress: bool | None = None) -> FraudProbeResult:
    """A fraudster's semi-automated probing of a deployed fraud model, through its API.

    Each row of X is a purchase the fraudster wants to make with a stolen card. The script:
    attempt 1 is the purchase as intended; each of the next attempts adds one more piece of
    `disguise` (by default: at 2 pm, then online, then at an online retailer - everyday
    spending that can still be resold); every attempt after that keeps the disguise and asks
    for `shrink` times the previous amount. The first approved attempt is the purchase; a
    transaction stops after `max_queries` attempts (one number, or one per transaction, e.g.
    what a velocity limit leaves on each card). Only features that `constraints` lets the
    fraudster change are changed, within bounds, integers kept integers. Every attempt is one
    query (a real authorisation request), counted by the API, whose answer is a label:
    1 = declined (flagged as fraud), 0 = approved.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = len(X)
    limit = np.broadcast_to(np.asarray(max_queries, dtype=int), (n,))
    names = list(feature_names)
    amount = names.index("amount")
    steps = [(names.index(f), float(v)) for f, v in disguise]
    X_final = X.copy()
    approved = np.zeros(n, dtype=bool)
    queries = np.zeros(n, dtype=int)
    cand = X.copy()
    for attempt in tqdm(range(int(limit.max(initial=0))), desc="probing", disable=not progress, leave=False):
        idx = np.flatnonzero(~approved & (queries < limit))
        if not len(idx):
            break
        if 1 <= attempt <= len(steps):
            j, v = steps[attempt - 1]
            cand[:, j] = v
        elif attempt > len(steps):
            cand[:, amount] *= shrink
        cand = respect_constraints(cand, X, constraints)
        ok = np.asarray(api.predict(cand[idx])) == 0
        queries[idx] += 1
        X_final[idx] = cand[idx]
        approved[idx[ok]] = True
    return FraudProbeResult(X_final, approved, queries)

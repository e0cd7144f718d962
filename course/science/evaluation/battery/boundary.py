"""A label-only boundary attack of the HopSkipJump class (Chen, Jordan & Wainwright, IEEE S&P 2020):
it needs nothing but the model's decisions.

For each point it searches the direction, a vector of signs, along which the decision changes
closest to the point, flipping blocks of signs and keeping a flip when the change comes closer
(RayS, Chen & Gu, KDD 2020: a hard-label search suited to the L-infinity norm, where it comes
much closer to white-box PGD than HopSkipJump's estimated gradients do on the course's models).
"Changes" means misclassified *and* accepted: an abstention is not a success, so the search
stays in the region a detector lets through. Every unfinished point spends one query per call,
so the number of calls to the model is the query budget, not points x queries.
"""
from __future__ import annotations

import numpy as np

from course.science.attacks.base import evaded, predict_labels
from course.science.evaluation.battery.base import Attack

PATIENCE = 1000


def _unit_direction(S, norm):
    if norm == "linf":
        return S
    size = np.linalg.norm(S, ord=1 if norm == "l1" else 2, axis=1, keepdims=True)
    return S / np.maximum(size, 1e-12)


class _Search:
    """The state of every point's search: its best direction and radius, and where it is in its schedule."""

    def __init__(self, S, far, search_steps):
        n, self.d = S.shape
        self.S, self.S2, self.far, self.search_steps = S, S.copy(), far, search_steps
        self.r = np.full(n, np.inf)
        self.stage, self.block, self.steps = np.zeros(n, int), np.zeros(n, int), np.zeros(n, int)
        self.searching = np.zeros(n, bool)
        self.lo, self.hi = np.zeros(n), np.zeros(n)

    def flipped(self, rows):
        """Each row's best direction with its current block of signs flipped."""
        out = self.S[rows].copy()
        size = np.ceil(self.d / 2 ** self.stage[rows]).astype(int)
        cols = np.arange(self.d)[None, :]
        start = (self.block[rows] * size)[:, None]
        out[(cols >= start) & (cols < start + size[:, None])] *= -1
        return out

    def advance(self, rows):
        """Next block; after the last block of a stage, blocks half as long; after single features, start over."""
        self.block[rows] += 1
        done = rows[self.block[rows] >= 2 ** self.stage[rows]]
        self.stage[done] += 1
        self.block[done] = 0
        self.stage[done[2 ** self.stage[done] > self.d]] = 0

    def start_search(self, rows, D, hi):
        self.searching[rows], self.S2[rows], self.lo[rows], self.hi[rows], self.steps[rows] = True, D, 0.0, hi, 0

    def queries(self, rows):
        """The direction and radius each row asks about next."""
        srch = self.searching[rows]
        D = np.where(srch[:, None], self.S2[rows], self.flipped(rows))
        best = np.where(np.isfinite(self.r[rows]), self.r[rows], self.far)
        return D, np.where(srch, (self.lo[rows] + self.hi[rows]) / 2, best), srch

    def update(self, rows, D, radius, srch, hit):
        """Record the answers: a flip that works at the best radius starts a bisection of its radius."""
        check = rows[~srch]
        self.start_search(check[hit[~srch]], D[~srch][hit[~srch]], radius[~srch][hit[~srch]])
        self.advance(check[~hit[~srch]])
        rows = rows[srch]
        self.hi[rows] = np.where(hit[srch], radius[srch], self.hi[rows])
        self.lo[rows] = np.where(hit[srch], self.lo[rows], radius[srch])
        self.steps[rows] += 1
        done = rows[self.steps[rows] >= self.search_steps]
        better = done[self.hi[done] < self.r[done]]
        self.S[better], self.r[better] = self.S2[better], self.hi[better]
        self.searching[done] = False
        self.advance(done)


def ray_search(is_adv, X, budget, *, norm, bounds, changeable, max_queries, rng, S0=None, search_steps=10):
    """Label-only search (see the module). is_adv(P, rows) -> whether the model's answer on each row of P
    is an error for point rows[i] (not an abstention). A point stops when its radius is within `budget`.
    Returns (best directions, their radii, queries per point); `points_at` turns them into points."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    lb, ub = bounds
    keep = np.ones(d) if changeable is None else np.asarray(changeable, dtype=float)
    S = np.where(rng.random((n, d)) < 0.5, -1.0, 1.0)
    if S0 is not None:
        S = np.where(S0 != 0, np.sign(S0), S)
    S = S * keep
    far = float(np.max(ub - lb)) if np.all(np.isfinite(ub - lb)) else 10.0 * budget
    if norm != "linf":
        far *= np.sqrt(d)
    state = _Search(S, far, search_steps)
    used = np.zeros(n, int)
    rows = np.arange(n)
    hit = is_adv(np.clip(X + far * _unit_direction(S, norm), lb, ub), rows)  # the starting direction, far out
    used += 1
    state.start_search(rows[hit], S[hit], far)
    while True:
        # a point still beyond 1.5 budgets after PATIENCE queries is given up (on the course's models none of
        # them came within the budget later)
        hopeless = (used >= PATIENCE) & (state.r > 1.5 * budget)
        rows = np.flatnonzero((state.r > budget) & (used < max_queries) & ~hopeless)
        if not len(rows):
            break
        D, radius, srch = state.queries(rows)
        hit = is_adv(np.clip(X[rows] + radius[:, None] * _unit_direction(D, norm), lb, ub), rows)
        used[rows] += 1
        state.update(rows, D, radius, srch, hit)
    return state.S, state.r, used


def points_at(X, S, r, budget, *, norm, bounds):
    """The search's points at `budget`: along each best direction, at its radius or the budget if that is smaller."""
    radius = np.where(np.isfinite(r), np.minimum(r, budget), 0.0)
    return np.clip(X + radius[:, None] * _unit_direction(S, norm), *bounds)


class Boundary(Attack):
    """Base attack in owner mode for a model that answers labels only; an escalation for every other one.

    One search serves every budget of the curve: it runs to the smallest budget (or until its queries are
    spent), and a point counts at a budget if the radius it reached is within it."""

    key, name = "boundary", "boundary search (labels only)"
    owner_queries = 3000  # where it is the only attack; as an escalation, next to the others, 1000

    def applies(self, ctx):
        a = ctx.access
        return not a.randomised and ctx.owner and a.scores is None and a.direct is None and not a.members

    def search(self, ctx, budget, rows):
        target, y = ctx.access.target, ctx.y

        def is_adv(P, idx):
            if not len(P):
                return np.zeros(0, bool)
            return evaded(predict_labels(target, P), y[rows[idx]])

        start = ctx.shared.get("transfer", {}).get(budget)
        S0 = None if start is None else start[rows] - ctx.X[rows]
        queries = max(self.owner_queries, ctx.query_budget) if ctx.owner else ctx.query_budget
        S, r, used = ray_search(is_adv, ctx.X[rows], budget, norm=ctx.norm, bounds=ctx.bounds,
                                changeable=ctx.changeable, max_queries=queries, rng=ctx.rng, S0=S0)
        ctx.spent(self.name, used)
        return S, r

    def run(self, ctx, budget, rows=None):
        if "boundary" not in ctx.shared:  # the smallest budget of the curve comes first
            ctx.shared["boundary"] = self.search(ctx, budget, np.arange(len(ctx.y)))
        S, r = ctx.shared["boundary"]
        return points_at(ctx.X, S, r, budget, norm=ctx.norm, bounds=ctx.bounds), None


class BoundaryEscalation(Boundary):
    stage, owner_queries = "escalation", 1000

    def applies(self, ctx):
        return not ctx.access.randomised and not Boundary.applies(self, ctx)

    def run(self, ctx, budget, rows=None):
        rows = np.arange(len(ctx.y)) if rows is None else rows
        S, r = self.search(ctx, budget, rows)
        return points_at(ctx.X[rows], S, r, budget, norm=ctx.norm, bounds=ctx.bounds), None

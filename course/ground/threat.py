"""The threat model: what an attacker may change, and by how much.

Every attack and every robustness claim in the course is "under this threat model": a
perturbation budget in a norm (L2, L1 or L-infinity), the valid input range (bounds), the
features the attacker controls, and the queries they may spend. `project` is the one place
where a point is brought back into that set; `perturbation_norm` measures a perturbation;
`ABSTAIN` is the label of a decision a model declined to make (rejected, or sent to review).
numpy in, numpy out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ABSTAIN = -1  # the label of "not decided automatically": rejected, or sent to human review


NORMS = ("l2", "l1", "linf")


def as_bounds(bounds, d):
    lb, ub = bounds
    lb = np.broadcast_to(np.asarray(lb, dtype=float), (d,)).copy()
    ub = np.broadcast_to(np.asarray(ub, dtype=float), (d,)).copy()
    if np.any(lb > ub):
        raise ValueError("bounds: every lower bound must be <= its upper bound")
    return lb, ub


def point_box(x, lb, ub, changeable, norm, budget):
    """The box one point may move in: feature bounds, fixed features, and the L-inf ball."""
    lo, hi = lb.copy(), ub.copy()
    if norm == "linf":
        lo, hi = np.maximum(lo, x - budget), np.minimum(hi, x + budget)
    if changeable is not None:
        lo, hi = np.where(changeable, lo, x), np.where(changeable, hi, x)
    # a clean point outside the bounds stays where it is in those features
    return np.minimum(lo, x), np.maximum(hi, x)


def perturbation_norm(X_adv, X, norm: str = "l2") -> np.ndarray:
    """Size of each row's perturbation in the given norm."""
    delta = np.asarray(X_adv, dtype=float) - np.asarray(X, dtype=float)
    order = {"l2": 2, "l1": 1, "linf": np.inf}[check_norm(norm)]
    return np.linalg.norm(delta.reshape(len(delta), -1), ord=order, axis=1)


def check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")
    return norm


def project(X_adv, X, budget: float, norm: str = "l2", bounds=(-np.inf, np.inf), changeable=None) -> np.ndarray:
    """Bring each row of X_adv back into the threat model around the matching row of X.

    The perturbation is shrunk (L2), clipped (L-inf) or scaled (L1, an approximation) to the
    budget; features the attacker cannot change are reset; the result is clipped to bounds.
    """
    X = np.asarray(X, dtype=float)
    X_adv = np.array(X_adv, dtype=float)
    lb, ub = as_bounds(bounds, X.shape[1])
    delta = X_adv - X
    if changeable is not None:
        delta = np.where(np.asarray(changeable, dtype=bool), delta, 0.0)
    norm = check_norm(norm)
    if norm == "linf":
        delta = np.clip(delta, -budget, budget)
    else:
        size = perturbation_norm(X + delta, X, norm)
        factor = np.where(size > budget, budget / np.maximum(size, 1e-12), 1.0)
        delta = delta * factor[:, None]
    return np.clip(X + delta, np.minimum(lb, X), np.maximum(ub, X))


@dataclass(frozen=True)
class ThreatModel:
    """What the attacker may do: the claim of robustness is always "under this threat model".

    budget : the perturbation budget the robustness claim is about.
    norm : "linf", "l2" or "l1" (the norm the budget is measured in).
    budgets : the budgets of the security evaluation curve (default 0, budget/2, budget,
        1.5 budget, 2 budget); 0 is always included (clean accuracy).
    bounds : (lower, upper), scalars or per feature: the valid input range.
    changeable : boolean mask of the features the attacker may change (default: all).
    query_budget : queries per attacked point the query-based attack may spend.
    pool_queries : queries the attacker spends labelling data to train surrogate models
        (the attacker's own inputs, see `evaluate_defence(X_pool=...)`).
    """

    budget: float
    norm: str = "linf"
    budgets: tuple | None = None
    bounds: tuple = (-np.inf, np.inf)
    changeable: object = None
    query_budget: int = 1000
    pool_queries: int = 2000

    def curve_budgets(self) -> np.ndarray:
        b = float(self.budget)
        raw = self.budgets if self.budgets is not None else (0.0, b / 2, b, 1.5 * b, 2 * b)
        return np.unique(np.r_[0.0, np.asarray(raw, dtype=float), b])

    def describe(self) -> str:
        norm = {"l2": "L2", "l1": "L1", "linf": "L∞"}.get(self.norm, self.norm)
        lo, hi = self.bounds
        fixed = "" if self.changeable is None else f", {int(np.sum(self.changeable))} changeable features"
        return (f"{norm} budget {self.budget:g}, bounds [{np.min(lo):g}, {np.max(hi):g}]{fixed}, "
                f"{self.query_budget} queries per point")

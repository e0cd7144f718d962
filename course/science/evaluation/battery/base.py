"""The one small interface every attack of the harness implements, and what they share.

An `Attack` says whether it `applies` to a model (from what probing found: `Context.access`)
and `run`s at one budget, returning adversarial points (and, optionally, the share of calls on
which the model still defended each point). The harness runs the base attacks at every budget
of the curve, and the escalation attacks at the stated budget when a warning sign fires.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course.science.attacks.base import evaded, predict_labels


class Attack:
    """One attack of the battery. Subclasses set `key` (what `evaluate_defence(attacks=...)` selects),
    `name` (the line of the report) and `stage` ("base" or "escalation"), and implement `applies` and `run`."""

    key = ""
    name = ""
    stage = "base"

    def applies(self, ctx: "Context") -> bool:  # pragma: no cover - every attack overrides it
        raise NotImplementedError

    def run(self, ctx: "Context", budget: float):  # pragma: no cover
        """Adversarial points within `budget`, and the defended share per point (or None: measured by the harness)."""
        raise NotImplementedError

    def label(self, ctx: "Context") -> str:
        """The name shown in the report (some attacks say how they saw the model)."""
        return self.name


@dataclass
class Context:
    """Everything an attack may use: the points, the threat model, what the model offers, the budgets."""

    X: np.ndarray
    y: np.ndarray
    norm: str
    bounds: tuple
    changeable: np.ndarray | None
    stated: float  # the threat model's budget
    query_budget: int
    access: object  # course.science.evaluation.access.Access
    mode: str  # "owner" or "attacker"
    rng: np.random.Generator
    steps: int
    eot_samples: int
    repeats: int
    random_state: int
    X_own: np.ndarray  # the owner's (or the attacker's) own inputs: surrogates and approximations are fitted on them
    notes: list = field(default_factory=list)
    queries: dict = field(default_factory=dict)  # attack name -> most queries spent on one point
    shared: dict = field(default_factory=dict)  # results one attack leaves for another (e.g. transfer points)

    @property
    def kw(self) -> dict:
        return dict(norm=self.norm, bounds=self.bounds, changeable=self.changeable)

    @property
    def owner(self) -> bool:
        return self.mode == "owner"

    def defended(self, X_adv, rows=None, repeats=None) -> np.ndarray:
        """Share of `repeats` calls on which the model still defends each point (answers right, or abstains)."""
        rows = np.arange(len(self.y)) if rows is None else rows
        judge = self.access.judge
        calls = self.repeats if repeats is None else int(repeats)
        return np.mean([~evaded(predict_labels(judge, X_adv), self.y[rows]) for _ in range(calls)], axis=0)

    def evaded_fn(self):
        """For attacks that stop moving a point once it is evaded (None for a random model: one call proves nothing)."""
        if self.access.randomised:
            return None
        judge = self.access.judge
        return lambda X_adv, rows: evaded(predict_labels(judge, X_adv), self.y[rows])

    def spent(self, name: str, used) -> None:
        self.queries[name] = int(max(self.queries.get(name, 0), np.max(used, initial=0)))


def restarted_pgd(ctx: Context, view, budget: float, *, restarts: int, steps: int, rows=None):
    """PGD on `view` from the clean points, then from random starts; per point, the restart the model did worst on.
    Returns (X_adv, defended share)."""
    from course.science.attacks.gradient import pgd_steps

    rows = np.arange(len(ctx.y)) if rows is None else rows
    X, y = ctx.X[rows], ctx.y[rows]
    stop = ctx.evaded_fn()
    best, best_X = None, None
    for restart in range(max(1, int(restarts))):
        X_adv = pgd_steps(view, X, y, budget, steps=steps, step_size=None, random_start=restart > 0, rng=ctx.rng,
                          evaded_fn=None if stop is None else (lambda Xa, j: stop(Xa, rows[j])), **ctx.kw)
        score = ctx.defended(X_adv, rows)
        if best is None:
            best, best_X = score, X_adv
        else:
            better = score < best
            best, best_X = np.where(better, score, best), np.where(better[:, None], X_adv, best_X)
    return best_X, best

"""A query-only attack: gradients estimated from `threat.query_budget` queries per point (antithetic NES,
Ilyas et al., ICML 2018), from scores when the model offers them, else from labels; started at the
transfer attack's points."""
from __future__ import annotations

from course.science.attacks.query import nes_attack
from course.science.evaluation.battery.base import Attack
from course.science.evaluation.battery.transfer import transfer_points


class Query(Attack):
    key = "query"

    def applies(self, ctx):
        return True

    def label(self, ctx):
        return "query-based (" + ("scores" if ctx.access.scores is not None else "labels") + ")"

    def run(self, ctx, budget, rows=None):
        a = ctx.access
        start = transfer_points(ctx, budget)
        X_adv, used = nes_attack(a.oracle(), ctx.X, ctx.y, budget, classes=a.score_classes, use_scores=a.scores is not None,
                                 query_budget=ctx.query_budget, rng=ctx.rng, X_init=start, random=a.randomised, **ctx.kw)
        ctx.spent(self.label(ctx), used)
        return X_adv, None

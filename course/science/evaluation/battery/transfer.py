"""Transfer from surrogates (Papernot et al., AsiaCCS 2017): PGD against models trained on the target's
answers about inputs the attacker (or the owner) has, sent to the target as they are.

Attacker's view: the attacker's own inputs and noisy copies, `threat.pool_queries` queries in all.
Owner mode: the owner's data (training data, if given) with the attacker's, and noisy copies up to
`threat.pool_queries`, labelled by the model at no limit.
"""
from __future__ import annotations

import numpy as np

from course.science.attacks.base import sample_ball
from course.science.attacks.gradient import gradient_view, pgd_steps
from course.science.attacks.transfer import train_surrogates
from course.science.evaluation.battery.base import Attack

POOL_KEY = "labelling the surrogates' data (in total)"


def surrogate(ctx):
    """The surrogate ensemble (trained once per evaluation), or None when the model's answers have one class."""
    if "surrogate" in ctx.shared:
        return ctx.shared["surrogate"]
    own, (lb, ub) = ctx.X_own, ctx.bounds
    size = max(len(own), int(ctx.shared["pool_queries"]))
    copies = max(1, -(-size // max(len(own), 1)))
    jitter = [np.clip(own + sample_ball(ctx.rng, own, ctx.stated, ctx.norm) * ctx.rng.uniform(0, 1, (len(own), 1)), lb, ub)
              for _ in range(copies - 1)]
    pool = np.vstack([own] + jitter)[: size if ctx.owner else max(int(ctx.shared["pool_queries"]), 1)]
    oracle = ctx.access.oracle()
    labels = oracle.predict(pool)
    ctx.queries[POOL_KEY] = oracle.queries_used
    model = train_surrogates(pool, labels, ctx.random_state)
    if model is None:
        ctx.notes.append("the model's answers on the surrogates' data have fewer than two classes: no transfer attack")
    else:
        whose = "the owner's" if ctx.owner else "the attacker's"
        ctx.notes.append(f"surrogates trained on the model's answers to {oracle.queries_used} queries about {whose} data")
    ctx.shared["surrogate"] = model
    return model


def transfer_points(ctx, budget):
    """PGD points against the surrogate at `budget` (cached), or None."""
    cache = ctx.shared.setdefault("transfer", {})
    if budget not in cache:
        model = surrogate(ctx)
        cache[budget] = None if model is None else pgd_steps(
            gradient_view(model, True), ctx.X, ctx.y, budget, steps=ctx.steps, step_size=None, random_start=False,
            rng=ctx.rng, **ctx.kw)
    return cache[budget]


class Transfer(Attack):
    key, name = "transfer", "transfer from surrogate"

    def applies(self, ctx):
        return surrogate(ctx) is not None

    def run(self, ctx, budget, rows=None):
        ctx.queries[self.name] = 0
        return transfer_points(ctx, budget), None

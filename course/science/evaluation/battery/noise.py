"""Random points in the budget: not an attack to fear, a yardstick for the masking checks (a gradient
attack that finds less than random noise is blind)."""
from __future__ import annotations

import numpy as np

from course.ground.threat import project
from course.science.attacks.base import evaded, predict_labels, sample_ball
from course.science.evaluation.battery.base import Attack


class RandomNoise(Attack):
    key, name = "random", "random noise"
    tries = 20

    def applies(self, ctx):
        return True

    def run(self, ctx, budget, rows=None):
        X, y = ctx.X, ctx.y
        X_adv = X.copy()
        found = np.zeros(len(X), bool)
        for _ in range(self.tries):
            cand = project(X + sample_ball(ctx.rng, X, budget, ctx.norm), X, budget, ctx.norm, ctx.bounds, ctx.changeable)
            hit = evaded(predict_labels(ctx.access.judge, cand), y) & ~found
            X_adv[hit] = cand[hit]
            found |= hit
        ctx.queries[self.name] = self.tries
        return X_adv, None

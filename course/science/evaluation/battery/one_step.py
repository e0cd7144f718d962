"""One-step attack (FGSM, Goodfellow et al., ICLR 2015): one step of the full budget. Run for the masking
checks: when it beats the iterative attack, the gradient is not to be trusted."""
from __future__ import annotations

from course.science.attacks.gradient import pgd_steps
from course.science.evaluation.battery.base import Attack


class OneStep(Attack):
    key, name = "one-step", "one-step (FGSM)"

    def applies(self, ctx):
        return ctx.access.direct is not None

    def run(self, ctx, budget, rows=None):
        return pgd_steps(ctx.access.direct, ctx.X, ctx.y, budget, steps=1, step_size=budget, random_start=False,
                         rng=ctx.rng, **ctx.kw), None

"""White-box PGD on the margin (Madry et al., ICLR 2018), with the model's exact gradient; averaged over
the randomness (EOT, Athalye, Carlini & Wagner, ICML 2018) when the model is randomised."""
from __future__ import annotations

from course.science.evaluation.battery.base import Attack, restarted_pgd


class WhiteBox(Attack):
    key, name = "white-box", "white-box PGD"
    restarts, step_factor = 2, 1.0

    def applies(self, ctx):
        return ctx.access.direct is not None

    def label(self, ctx):
        return self.name + (" + EOT" if ctx.access.randomised else "")

    def run(self, ctx, budget, rows=None):
        restarts = 1 if ctx.access.randomised and self.stage == "base" else self.restarts
        return restarted_pgd(ctx, ctx.access.direct, budget, restarts=restarts,
                             steps=int(ctx.steps * self.step_factor), rows=rows)


class MoreRestarts(WhiteBox):
    """Escalation: the same attack with five restarts and two and a half times the steps."""

    stage, name = "escalation", "white-box PGD, 5 restarts, 2.5x steps"
    restarts, step_factor = 5, 2.5

"""An ensemble attacked as one model (He et al., WOOT 2017; Tramer et al., NeurIPS 2020): the members
its owner built that the course can differentiate, their class probabilities averaged, attacked with
PGD. A majority vote of three falls when two members fall."""
from __future__ import annotations

from course.science.attacks.gradient import gradient_view
from course.science.evaluation.battery.base import Attack, restarted_pgd
from course.science.models import Ensemble


class Members(Attack):
    key, name = "white-box", "white-box PGD on the members"

    def applies(self, ctx):
        return bool(ctx.access.members)

    def run(self, ctx, budget, rows=None):
        if "members" not in ctx.shared:
            view = gradient_view(Ensemble(ctx.access.members), True)
            view.classes = ctx.access.member_classes
            ctx.shared["members"] = view
        return restarted_pgd(ctx, ctx.shared["members"], budget, restarts=2, steps=ctx.steps, rows=rows)

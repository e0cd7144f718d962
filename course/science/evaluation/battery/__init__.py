"""The attacks of the evaluation harness, one module each, behind one interface (`base.Attack`).

`BATTERY` runs at every budget of the curve, in this order (transfer before query: the query
attack starts from the transfer points); `ESCALATION` runs at the stated budget when a
gradient-masking warning sign fires. `ATTACKS` are the keys `evaluate_defence(attacks=...)` selects.
"""
from course.science.evaluation.battery.base import Attack, Context
from course.science.evaluation.battery.boundary import Boundary, BoundaryEscalation, ray_search
from course.science.evaluation.battery.bpda import LearnedApproximation, StraightThrough, fit_affine
from course.science.evaluation.battery.finite_difference import (
    FiniteDifferences,
    FiniteDifferencesEOT,
    finite_difference_view,
)
from course.science.evaluation.battery.members import Members
from course.science.evaluation.battery.noise import RandomNoise
from course.science.evaluation.battery.one_step import OneStep
from course.science.evaluation.battery.query import Query
from course.science.evaluation.battery.transfer import Transfer
from course.science.evaluation.battery.white_box import MoreRestarts, WhiteBox

ATTACKS = ("white-box", "one-step", "bpda", "transfer", "query", "random", "boundary")
BATTERY = (WhiteBox, OneStep, StraightThrough, Members, FiniteDifferences, Transfer, Query, Boundary, RandomNoise)
ESCALATION = (MoreRestarts, LearnedApproximation, FiniteDifferencesEOT, BoundaryEscalation)

__all__ = ["Attack", "Context", "ATTACKS", "BATTERY", "ESCALATION", "ray_search", "fit_affine",
           "finite_difference_view"]

"""The red-team set (slow tier): believed mitigations written independently of the course, each with
a reference attack known to break it. In owner mode, the harness's worst case on 200 digits must be
at most the reference's figure + 0.05, re-scored here on a fresh copy of the model."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from . import mitigations as M
from . import reference as R
from .table import accuracy, harness

SLACK = 0.05


@pytest.fixture(scope="module")
def setting():
    return M.setting()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(M.BUILDERS))
def test_harness_is_at_least_as_strong_as_the_reference_attack(name, setting):
    s = setting
    with threadpool_limits(limits=1):
        pristine = M.BUILDERS[name](s)
        X_ref, _ = R.ATTACKS[name](copy.deepcopy(pristine), s.X, s.y, s.budget)
        report, _ = harness(pristine, s, "owner")
    X_adv = report.examples[s.budget]
    assert np.abs(X_adv - s.X).max() <= s.budget + 1e-9
    assert X_adv.min() >= 0 and X_adv.max() <= 1
    reference = accuracy(pristine, X_ref, s.y, name)
    ours = accuracy(pristine, X_adv, s.y, name)
    assert ours <= reference + SLACK, (
        f"{name}: the harness's points leave accuracy {ours:.3f} (it reported {report.worst_case:.3f}); "
        f"the reference attack leaves {reference:.3f}\n{report.summary()}")
    if name not in R.RANDOMISED:  # the number it reports is the number its points reproduce
        assert report.worst_case == pytest.approx(ours, abs=1e-9)

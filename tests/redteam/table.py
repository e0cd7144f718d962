"""The red-team table: for each believed mitigation, the naive figure, the harness's figures (owner
mode and attacker's view) and the reference attack's figure, with seconds.

    .venv/bin/python -m tests.redteam.table              # every mitigation
    .venv/bin/python -m tests.redteam.table jpeg random  # some of them

Every figure is accuracy under attack at L-inf 0.1 on the same 200 digits, measured here on a fresh
copy of the defended model (averaged over 20 calls for a random one): the harness's points are
re-scored, not its own number taken on trust.
"""
from __future__ import annotations

import copy
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from . import mitigations as M
from . import reference as R

REPEATS = 20


def threat():
    from course.science.evaluation import ThreatModel

    return ThreatModel(budget=0.1, norm="linf", budgets=(0, 0.05, 0.1, 0.2), bounds=(0, 1), query_budget=1000)


def accuracy(pristine, X_adv, y, name) -> float:
    """Accuracy under attack on a fresh copy of the model: abstaining counts as defended."""
    model = copy.deepcopy(pristine)
    repeats = REPEATS if name in R.RANDOMISED else 1
    return float(np.mean([np.mean((p == y) | (p == M.ABSTAIN)) for p in (model.predict(X_adv) for _ in range(repeats))]))


def harness(pristine, s, mode, **kw):
    """The harness's report, and seconds."""
    from course.science.evaluation import evaluate_defence

    start = time.perf_counter()
    report = evaluate_defence(copy.deepcopy(pristine), s.X, s.y, threat(), mode=mode, X_train=s.X_train,
                              X_pool=s.X_attacker, progress=False, **kw)
    return report, time.perf_counter() - start


def row(name, s, naive_X):
    """One line of the table, as a dict."""
    pristine = M.BUILDERS[name](s)
    start = time.perf_counter()
    X_ref, _ = R.ATTACKS[name](copy.deepcopy(pristine), s.X, s.y, s.budget)
    ref_seconds = time.perf_counter() - start
    owner, owner_seconds = harness(pristine, s, "owner")
    attacker, attacker_seconds = harness(pristine, s, "attacker")
    return dict(
        name=name, clean=accuracy(pristine, s.X, s.y, name), naive=accuracy(pristine, naive_X, s.y, name),
        owner=accuracy(pristine, owner.examples[s.budget], s.y, name), owner_reported=owner.worst_case,
        owner_before=owner.escalation.get("before"), owner_seconds=owner_seconds,
        attacker=accuracy(pristine, attacker.examples[s.budget], s.y, name), attacker_seconds=attacker_seconds,
        reference=accuracy(pristine, X_ref, s.y, name), reference_seconds=ref_seconds,
        warnings=[c.sign for c in owner.warnings()], reasons=owner.escalation.get("reasons", []),
        strongest=owner.strongest,
    )


def main(names) -> None:
    threadpool_limits(1)
    s = M.setting()
    naive_X = R.naive_points(s, s.budget)
    print(f"{'defence':<12}{'clean':>6}{'naive':>7}{'owner':>7}{'(before)':>9}{'s':>6}{'attacker':>9}{'s':>6}"
          f"{'reference':>10}{'s':>6}  strongest / escalation reasons")
    for name in names:
        r = row(name, s, naive_X)
        before = "" if r["owner_before"] is None else f"{r['owner_before']:.3f}"
        print(f"{name:<12}{r['clean']:6.3f}{r['naive']:7.3f}{r['owner']:7.3f}{before:>9}{r['owner_seconds']:6.1f}"
              f"{r['attacker']:9.3f}{r['attacker_seconds']:6.1f}{r['reference']:10.3f}{r['reference_seconds']:6.1f}"
              f"  {r['strongest']} / {'; '.join(r['reasons']) or '-'}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(M.BUILDERS))

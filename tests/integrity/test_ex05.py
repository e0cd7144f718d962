"""Red team of exercise 05 (semi-automated fraud): cheap answers score 0, correct answers written otherwise score full.

Cheap answers: the lesson's `probe_fraud` called as it is (its script burns cards at a bank that blocks a card
after 3 declines), or only cut to 3 attempts; the lesson's disguise applied blindly (with or without a query whose
answer is ignored), the purchases as intended, 1-EUR purchases; the course's profit helper or the payoff per card for the break-even
price, or the review forgotten; a constant review threshold, or a band with no width. The verdict of a band at
half the cap must not depend on the seed. Swept over 20 banks (the checks' seeds; slow: each is a random forest);
one `course grade` batch with a private seed confirms the end-to-end path (slow).
"""
from __future__ import annotations

import nbformat
import numpy as np
import pytest

from course.science import attacks

from . import answers05 as Z
from .redteam_ex03_ex05 import ROOT, grade_batch, submission, sweep

A = "05-semi-automated-fraud"
SEEDS = range(20)


def _solution():
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    ns = {"np": np, "attacks": attacks}
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            exec(c.source, ns)  # noqa: S102 - the solution's own answer cells, from the repository
    return ns


SOLUTION = _solution()


def no_band(legit_scores, threshold, cap):
    return float(np.nextafter(threshold, 0.0))


RED_TEAM = {
    "make-it-pass": {"solution": (SOLUTION["make_it_pass"], True),
                     "cuts by 0.4 until approved or blocked": (Z.make_it_pass_until_blocked, True),
                     "the lesson's probe_fraud configured for this bank": (Z.probe_configured, True),
                     "the lesson's probe_fraud called as it is": (Z.probe_as_is, False),
                     "probe_fraud cut to 3 attempts": (Z.probe_three_attempts, False),
                     "the blind disguise": (Z.blind_disguise, False), "one ignored query, then the blind disguise":
                     (Z.blind_after_one_look, False), "as intended": (Z.as_intended, False), "1-EUR purchases": (Z.one_euro, False)},
    "break-even": {"solution": (SOLUTION["break_even_card_price"], True),
                   "profit with free cards, per card": (Z.break_even_by_helper, True),
                   "bisection on the course's profit": (Z.break_even_by_bisection, True),
                   "the course's profit helper": (Z.helper_profit, False), "payoff per card": (Z.payoff_per_card, False),
                   "review forgotten": (Z.review_forgotten, False)},
    "review-threshold": {"solution": (SOLUTION["choose_review_threshold"], True), "sorted scores, 70% of the cap": (Z.review_sorted, True),
                         "half the cap (the same verdict at every seed)": (Z.review_half_cap, True),
                         "constant 0.05": (Z.constant_band(0.05), False), "constant 0.01": (Z.constant_band(0.01), False),
                         "a band with no width": (no_band, False)},
}


def test_break_even_red_team_over_20_seeds():  # no bank to build: fast
    answers = RED_TEAM["break-even"]
    wrong = sweep(f"{A}/break-even", answers, SEEDS)
    assert not wrong, wrong


@pytest.mark.slow
def test_bank_tasks_red_team_over_20_seeds():
    """One bank per seed (a random forest): every answer of both bank tasks judged on it."""
    wrong = {}
    for seed in SEEDS:
        for task in ("make-it-pass", "review-threshold"):
            for name, v in sweep(f"{A}/{task}", RED_TEAM[task], [seed]).items():
                wrong.setdefault(f"{task}: {name}", []).extend(v)
    assert not wrong, "\n".join(f"{name}: the unwanted verdict at seeds {[s for s, _ in v]}; first: {v[0][1]}"
                                for name, v in wrong.items())


def test_every_task_has_two_cheap_answers_and_a_correct_one_written_otherwise():
    for task, answers in RED_TEAM.items():
        assert sum(not w for _, w in answers.values()) >= 2, task
        assert sum(w for name, (_, w) in answers.items() if name != "solution") >= 1, task


UNTIL_BLOCKED_SOURCE = '''def make_it_pass(gateway, X_wish, constraints, feature_names):
    names = list(feature_names)
    amount = names.index("amount")
    X = X_wish.copy()
    for name, value in (("hour", 14), ("online", 1), ("merchant_category", 3)):
        X[:, names.index(name)] = value
    X = attacks.respect_constraints(X, X_wish, constraints)
    done = np.zeros(len(X), dtype=bool)
    while True:
        todo = np.flatnonzero(~done & ~np.asarray(gateway.blocked))
        if not len(todo):
            return X
        X[todo, amount] = X_wish[todo, amount] * 0.4 ** np.asarray(gateway.declines)[todo]
        X[todo] = attacks.respect_constraints(X[todo], X_wish[todo], constraints)
        done[todo[gateway.predict(X[todo]) == 0]] = True'''

SORTED_REVIEW = '''def choose_review_threshold(legit_scores, threshold, cap):
    approved = np.sort(np.asarray(legit_scores)[np.asarray(legit_scores) < threshold])
    k = int(np.floor(0.7 * cap * len(legit_scores)))
    return float(approved[len(approved) - k]) if k else float(threshold)'''

HELPER_PROFIT = '''def break_even_card_price(X_final, approved, queries, feature_names, prices, caught=None):
    return economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)["profit"]'''


@pytest.mark.slow
def test_course_grade_with_a_private_seed(tmp_path):
    """One learner (to keep the slow tier short): two tasks answered otherwise but correctly, one cheaply."""
    from conftest import require

    require("bwrap")
    mixed = submission(A, {"task1-answer": UNTIL_BLOCKED_SOURCE, "task2-answer": HELPER_PROFIT, "task3-answer": SORTED_REVIEW})
    got = grade_batch(A, {"grace": mixed}, tmp_path, seed=90210)["grace"]
    scores = {g: t["score"] for g, t in got.tests.items() if g.startswith("task")}  # not the prediction
    assert scores == {"task1-make-it-pass": 4, "task2-profit": 0, "task3-review-threshold": 4}, \
        {g: t["messages"][-1] for g, t in got.tests.items()}

"""Answers to exercise 05 for the red-team tests: correct ones written differently, and cheap ones."""
from __future__ import annotations

import numpy as np

from course.science import attacks, economics

DISGUISE = {"hour": 14, "online": 1, "merchant_category": 3}


def _disguised(X, names, constraints):
    X = X.copy()
    for name, value in DISGUISE.items():
        X[:, names.index(name)] = value
    return attacks.respect_constraints(X, X, constraints)


# ---------------------------------------------------------------- task 1: make the purchases pass
def make_it_pass_until_blocked(gateway, X_wish, constraints, feature_names):
    """Correct, written differently: the whole disguise from the first attempt, then each declined card asks for
    0.4 times its amount again, until it is approved or the gateway says it is blocked (read from the gateway)."""
    names = list(feature_names)
    amount = names.index("amount")
    X = _disguised(X_wish, names, constraints)
    done = np.zeros(len(X), dtype=bool)
    while True:
        todo = np.flatnonzero(~done & ~np.asarray(gateway.blocked))
        if not len(todo):
            return X
        X[todo, amount] = X_wish[todo, amount] * 0.4 ** np.asarray(gateway.declines)[todo]
        X[todo] = attacks.respect_constraints(X[todo], X_wish[todo], constraints)
        done[todo[gateway.predict(X[todo]) == 0]] = True


def probe_configured(gateway, X_wish, constraints, feature_names):
    """Correct, the lesson's helper configured for this bank: the disguise before the first attempt (no attempt
    spent on the purchase as intended), halving the amount, three attempts per card."""
    names = list(feature_names)
    X = _disguised(X_wish, names, constraints)
    return attacks.probe_fraud(gateway, X, constraints, names, disguise=(), shrink=0.5, max_queries=3).X_final


def probe_as_is(gateway, X_wish, constraints, feature_names):
    """Cheap: the lesson's script called as it is (the purchase as intended, then the disguise piece by piece)."""
    return attacks.probe_fraud(gateway, X_wish, constraints, feature_names).X_final


def probe_three_attempts(gateway, X_wish, constraints, feature_names):
    """Cheap: the lesson's script cut to three attempts per card (the block read as a budget, nothing else changed)."""
    return attacks.probe_fraud(gateway, X_wish, constraints, feature_names, max_queries=3).X_final


def blind_disguise(gateway, X_wish, constraints, feature_names):
    """Cheap: the lesson's disguise applied to every card, no query."""
    return _disguised(X_wish, list(feature_names), constraints)


def blind_after_one_look(gateway, X_wish, constraints, feature_names):
    """Cheap: one query per card, whose answer is ignored; then the blind disguise."""
    gateway.predict(X_wish)
    return _disguised(X_wish, list(feature_names), constraints)


def as_intended(gateway, X_wish, constraints, feature_names):
    """Cheap: the purchases as intended."""
    return X_wish.copy()


def one_euro(gateway, X_wish, constraints, feature_names):
    """Cheap: the disguise and tiny purchases (most pass, none pays)."""
    names = list(feature_names)
    X = _disguised(X_wish, names, constraints)
    X[:, names.index("amount")] = 1.0
    return attacks.respect_constraints(X, X_wish, constraints)


# ---------------------------------------------------------------- task 2: the break-even card price
def break_even_by_helper(X_final, approved, queries, feature_names, prices, caught=None):
    """Correct, written differently: the profit when cards are free, shared over the cards."""
    acct = economics.attacker_economics(X_final, approved, queries, feature_names, prices.but(card=0.0), caught)
    return acct["profit"] / len(X_final)


def break_even_by_bisection(X_final, approved, queries, feature_names, prices, caught=None):
    """Correct, written differently: the card price found by bisection on the course's profit."""
    low, high = -1e6, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        profit = economics.attacker_economics(X_final, approved, queries, feature_names, prices.but(card=mid), caught)["profit"]
        low, high = (mid, high) if profit > 0 else (low, mid)
    return (low + high) / 2


def helper_profit(X_final, approved, queries, feature_names, prices, caught=None):
    """Cheap: the course's profit helper, whatever it returns."""
    return economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)["profit"]


def payoff_per_card(X_final, approved, queries, feature_names, prices, caught=None):
    """Cheap: the payoff per card, attempts forgotten."""
    return economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)["payoff"] / len(X_final)


def review_forgotten(X_final, approved, queries, feature_names, prices, caught=None):
    """Cheap: the right formula, the review forgotten."""
    return break_even_by_helper(X_final, approved, queries, feature_names, prices, None)


# ---------------------------------------------------------------- task 3: the review threshold
def review_sorted(legit_scores, threshold, cap):
    """Correct, written differently: sort the approved scores and leave 70% of the cap to the band."""
    approved = np.sort(np.asarray(legit_scores)[np.asarray(legit_scores) < threshold])
    k = int(np.floor(0.7 * cap * len(legit_scores)))
    return float(approved[len(approved) - k]) if k else float(threshold)


def review_half_cap(legit_scores, threshold, cap):
    """Correct: a band holding half the cap of this month's traffic (the issue's seed-dependent verdict)."""
    legit_scores = np.asarray(legit_scores)
    return float(np.quantile(legit_scores, np.mean(legit_scores < threshold) - cap / 2))


def constant_band(value):
    def review_constant(legit_scores, threshold, cap):
        return value
    review_constant.__name__ = f"review_constant_{value:g}"
    return review_constant


def review_token(legit_scores, threshold, cap):
    """Cheap: a band too narrow to catch anything (the tenth of the cap)."""
    legit_scores = np.asarray(legit_scores)
    return float(np.quantile(legit_scores, np.mean(legit_scores < threshold) - cap / 10))


def review_at_cap(legit_scores, threshold, cap):
    """Cheap in a subtler way: exactly the cap on this month's traffic, no margin for next month's."""
    legit_scores = np.asarray(legit_scores)
    return float(np.quantile(legit_scores, np.mean(legit_scores < threshold) - cap))

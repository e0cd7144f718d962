"""Tests of course.science.economics (the attacker's and the bank's accounts) and exercise 05's checks."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import evaluate
from course.science import economics

NAMES = ["amount", "hour", "merchant_category", "distance_from_home_km", "online", "tx_count_24h",
         "avg_amount_30d", "card_age_days"]


def _rows():
    X = np.zeros((4, 8))
    X[:, 0] = [100.0, 200.0, 50.0, 10.0]
    X[:, 2] = [6, 3, 2, 0]  # gift cards 0.8, online retail 0.5, restaurants 0.0, groceries 0.1
    return X


def test_payoff_is_amount_times_cashout_where_approved_and_not_caught():
    X = _rows()
    approved = np.array([True, True, True, False])
    assert np.allclose(economics.payoff(X, approved, NAMES), [80.0, 100.0, 0.0, 0.0])
    caught = np.array([False, True, False, False])
    assert np.allclose(economics.payoff(X, approved, NAMES, caught=caught), [80.0, 0.0, 0.0, 0.0])


def test_attacker_economics_by_hand():
    X = _rows()
    approved = np.array([True, True, False, False])
    queries = np.array([1, 3, 10, 10])
    prices = economics.PRICES.but(card=20.0, attempt=1.0)
    a = economics.attacker_economics(X, approved, queries, NAMES, prices)
    assert a["payoff"] == pytest.approx(180.0)
    assert a["cost"] == pytest.approx(4 * 20.0 + 24 * 1.0)
    assert a["profit"] == pytest.approx(180.0 - 104.0)
    assert a["successes"] == 2 and a["attempts"] == 24
    assert a["cost_per_success"] == pytest.approx(52.0) and a["payoff_per_success"] == pytest.approx(90.0)
    none = economics.attacker_economics(X, np.zeros(4, bool), queries, NAMES, prices)
    assert none["cost_per_success"] == np.inf and none["profit"] == pytest.approx(-104.0)


def test_prices_are_frozen_and_copied_with_changes():
    p = economics.PRICES.but(card=1.0)
    assert p.card == 1.0 and economics.PRICES.card != 1.0
    with pytest.raises(Exception):
        economics.PRICES.card = 3.0


def test_review_band_and_false_alarms():
    s = np.array([0.0, 0.01, 0.05, 0.07, 0.08, 0.2])
    assert np.array_equal(economics.review_band(s, 0.05, 0.08), [False, False, True, True, False, False])
    assert economics.false_alarm_rate(s, 0.05, 0.08) == pytest.approx(2 / 6)


def test_velocity_limit():
    counts = np.array([0, 2, 5, 9])
    assert np.array_equal(economics.attempts_left(counts, 5), [5, 3, 0, 0])
    assert economics.blocked_by_velocity(counts, 5) == pytest.approx(0.5)


# --------------------------------------------------------------------------- exercise 05's checks
def break_even_ok(X_final, approved, queries, feature_names, prices, caught=None):
    a = economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)
    return (a["payoff"] - a["attempt_cost"]) / a["cards"]


def break_even_ignores_review(X_final, approved, queries, feature_names, prices, caught=None):
    return break_even_ok(X_final, approved, queries, feature_names, prices, None)


def test_break_even_check_passes_the_right_price_and_catches_a_missed_review():
    assert evaluate("05-semi-automated-fraud/break-even", break_even_ok).passed
    assert evaluate("05-semi-automated-fraud/break-even", break_even_ok, hidden=True).passed
    v = evaluate("05-semi-automated-fraud/break-even", break_even_ignores_review)
    assert not v.passed and "caught" in v.why


@pytest.mark.slow
def test_review_threshold_check_both_ways():
    def with_margin(legit, t, cap):
        return float(np.quantile(legit, np.mean(legit < t) - 0.75 * cap))

    def too_narrow(legit, t, cap):
        return float(np.quantile(legit, np.mean(legit < t) - 0.001))

    def too_wide(legit, t, cap):
        return 0.0

    assert evaluate("05-semi-automated-fraud/review-threshold", with_margin).passed
    v = evaluate("05-semi-automated-fraud/review-threshold", too_narrow)
    assert not v.passed and "unprofitable" in v.expected
    v = evaluate("05-semi-automated-fraud/review-threshold", too_wide)
    assert not v.passed and "legitimate" in v.expected


@pytest.mark.slow
def test_make_it_pass_check_rejects_broken_constraints_and_unprofitable_fraud():
    def move_home(gateway, X, constraints, names):
        X = X.copy()
        X[:, names.index("distance_from_home_km")] = 0.0
        return X

    def restaurants(gateway, X, constraints, names):  # passes as dinners, which cannot be resold
        from course.science import attacks

        X = X.copy()
        for name, value in (("hour", 20), ("online", 0), ("merchant_category", 2)):
            X[:, names.index(name)] = value
        return attacks.probe_fraud(gateway, X, constraints, names, max_queries=10, disguise=()).X_final

    v = evaluate("05-semi-automated-fraud/make-it-pass", move_home)
    assert not v.passed and "constraints" in v.expected and "distance_from_home_km" in v.seen
    v = evaluate("05-semi-automated-fraud/make-it-pass", restaurants)
    assert not v.passed and "profit" in v.expected

"""What fraud costs and earns, for the fraudster and for the bank (lesson 05).

The fraudster's side: every stolen card costs money, every authorisation attempt costs a
little (bots, proxies), and an approved purchase pays only what it can be turned into cash
(`cashout`, by merchant category: a gift card resells for most of its value, a restaurant
meal for nothing). The bank's side: every transaction sent to human review costs an
analyst's time (and a call to the card holder), whether it was fraud or not.

All prices are *assumptions*, stated in one place (`PRICES`) so that a lesson can change
them and rerun: the point is the method (count queries, rejected attempts and payoff; weigh
a defence's cost to the attacker against its false alarms), not the particular numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["Prices", "PRICES", "payoff",
           "attacker_economics", "review_band", "false_alarm_rate", "attempts_left", "blocked_by_velocity"]


@dataclass(frozen=True)
class Prices:
    """The assumed prices, in EUR.

    card : what the fraudster pays for one stolen card's details.
    attempt : what one authorisation attempt costs the fraudster (bots, proxies, merchant
        accounts), approved or not.
    cashout : per merchant category code (0 groceries, 1 fuel, 2 restaurants, 3 online retail,
        4 electronics, 5 travel, 6 gift cards, 7 crypto / money transfer), the share of an
        approved amount the fraudster turns into cash after resale and mules' fees.
    review : what the bank spends to review one transaction (an analyst's time, a call to the
        card holder). A reviewed fraudulent transaction is caught: the card holder denies it.
    """

    card: float = 25.0
    attempt: float = 0.5
    cashout: tuple = (0.1, 0.2, 0.0, 0.5, 0.6, 0.3, 0.8, 0.9)
    review: float = 3.0

    def but(self, **changes) -> "Prices":
        """A copy with some prices changed, e.g. PRICES.but(card=10)."""
        return replace(self, **changes)


PRICES = Prices()


def _columns(feature_names):
    names = list(feature_names)
    return names.index("amount"), names.index("merchant_category")


def payoff(X, approved, feature_names, prices: Prices = PRICES, caught=None) -> np.ndarray:
    """Cash the fraudster gets from each transaction: amount x cashout share of its merchant
    category where the transaction was approved and not caught in review, else 0."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    a, c = _columns(feature_names)
    keep = np.asarray(approved, dtype=bool).copy()
    if caught is not None:
        keep &= ~np.asarray(caught, dtype=bool)
    rate = np.asarray(prices.cashout, dtype=float)[np.clip(X[:, c].astype(int), 0, len(prices.cashout) - 1)]
    return np.where(keep, X[:, a] * rate, 0.0)


def attacker_economics(X_final, approved, queries, feature_names, prices: Prices = PRICES, caught=None) -> dict:
    """The fraudster's account for a campaign: one stolen card per row of X_final.

    Returns a dict: cards, successes (approved and not caught), attempts, payoff, card_cost,
    attempt_cost, cost, profit (payoff - cost), profit_per_card, cost_per_success (what each
    successful fraudulent transaction cost, all cards and attempts included; inf without
    successes) and payoff_per_success.
    """
    approved = np.asarray(approved, dtype=bool)
    paid = payoff(X_final, approved, feature_names, prices, caught)
    cards = len(approved)
    success = approved if caught is None else approved & ~np.asarray(caught, dtype=bool)
    n_success = int(success.sum())
    attempts = int(np.sum(queries))
    card_cost = cards * prices.card
    attempt_cost = attempts * prices.attempt
    cost = card_cost + attempt_cost
    total = float(paid.sum())
    return {
        "cards": cards,
        "successes": n_success,
        "attempts": attempts,
        "payoff": total,
        "card_cost": float(card_cost),
        "attempt_cost": float(attempt_cost),
        "cost": float(cost),
        "profit": float(total - cost),
        "profit_per_card": float((total - cost) / cards) if cards else 0.0,
        "cost_per_success": float(cost / n_success) if n_success else float("inf"),
        "payoff_per_success": float(total / n_success) if n_success else 0.0,
    }


def review_band(scores, lower: float, threshold: float) -> np.ndarray:
    """Which transactions a monitoring rule sends to review: approved (score < threshold) but
    with a score of at least `lower` - the band just under the threshold where probing lands."""
    s = np.asarray(scores, dtype=float)
    return (s >= lower) & (s < threshold)


def false_alarm_rate(legit_scores, lower: float, threshold: float) -> float:
    """Share of legitimate transactions the review band flags (each costs a review and annoys a customer)."""
    return float(np.mean(review_band(legit_scores, lower, threshold)))


def attempts_left(tx_count_24h, limit: int) -> np.ndarray:
    """Attempts a velocity limit of `limit` authorisations per card in 24 h leaves on each card,
    given the card's earlier transactions in the last 24 h."""
    return np.maximum(0, int(limit) - np.asarray(tx_count_24h, dtype=int))


def blocked_by_velocity(tx_count_24h, limit: int) -> float:
    """Share of (legitimate) transactions a velocity limit refuses: those that would be the
    card's (limit + 1)-th or later in 24 h."""
    return float(np.mean(np.asarray(tx_count_24h) >= int(limit)))



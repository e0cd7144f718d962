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
           "attacker_economics", "review_band", "false_alarm_rate", "attempts_left", "blocked_by_velocity",
           "Domain", "DOMAINS", "domain_account", "show_domain"]


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




# --------------------------------------------------------------------------- the learner's own domain
@dataclass(frozen=True)
class Domain:
    """Who gains from which error of a model in one domain, what a try costs them, and who owns the risk.

    `gain` and `attempt_cost` are assumptions in EUR-equivalents per target (state your own); `tries` is how
    many attempts per target an attacker realistically gets. `chain` lists the third parties a model in this
    domain depends on, and `owner` who answers for the harm when the model is fooled.
    """

    key: str
    system: str
    attacker: str
    error: str
    gain: float
    gain_means: str
    attempt_cost: float
    tries: int
    chain: tuple
    owner: str


DOMAINS = {d.key: d for d in (
    Domain("fraud", "a card-fraud model that approves or declines transactions",
           "a fraudster with stolen card details", "a fraudulent purchase approved",
           60.0, "cash from one approved purchase, after resale", 0.5, 10,
           ("card networks' data", "a scoring vendor's model", "chargeback labels"),
           "the bank that deploys the model: it refunds the card holder and answers to the regulator"),
    Domain("hiring", "a CV-screening model that invites or rejects applicants",
           "an applicant, or a coaching service working for many applicants", "an unqualified CV invited",
           2000.0, "a job interview that would otherwise not happen, a chance at a salary", 5.0, 5,
           ("a vendor's screening model", "past hiring decisions as labels", "job-board data"),
           "the employer: discrimination and bad hires are its liability, whoever built the screen"),
    Domain("medical-triage", "a triage model that ranks patients' urgency",
           "a patient (or a clinic) who gains from a higher urgency", "a non-urgent case ranked urgent",
           300.0, "being seen days earlier (or a higher payment for the clinic)", 1.0, 3,
           ("a vendor's model", "coded diagnoses from clinical coders", "a regional data set bought in"),
           "the hospital that uses the ranking: patient safety is its clinical responsibility"),
    Domain("content-moderation", "a moderation model that removes or keeps posts",
           "a user or a campaign whose posts break the rules", "a banned post kept online",
           20.0, "a post that stays up and reaches its audience", 0.05, 50,
           ("a pretrained language or image model", "users' reports as labels", "outsourced labellers"),
           "the platform: the law and its users hold it responsible for what stays online"),
    Domain("visual-inspection", "a vision model that passes or rejects parts on a production line",
           "a supplier whose parts are rejected, or an insider paid per part passed", "a defective part passed",
           40.0, "one defective part sold as good", 1.0, 3,
           ("a camera vendor's model", "a hub's pretrained backbone", "labels from the quality team"),
           "the manufacturer that ships the part: recalls and liability are its own"),
)}


def domain_account(domain: str, attempts, success) -> list:
    """[(attempts allowed, share of targets that succeed, attacker's expected net gain per target)].

    `success[i]` is the measured share of targets that get through within `attempts[i]` tries (e.g. the
    probing curve of lesson 05); the gain and the cost of a try are the domain's stated assumptions. Each
    target is charged every try allowed, an upper bound on the attacker's cost (one that succeeds early stops).
    """
    d = DOMAINS[domain]
    return [(int(k), float(p), float(p * d.gain - k * d.attempt_cost)) for k, p in zip(attempts, success)]


def show_domain(domain: str, attempts, success) -> list:
    """Print the attacker's account in a domain (see `domain_account`) and return its rows."""
    d = DOMAINS[domain]
    rows = domain_account(domain, attempts, success)
    print(f"{d.system}: the attacker is {d.attacker}; the error they want: {d.error}.")
    print(f"assumed: a success is worth {d.gain:g} EUR to them ({d.gain_means}); a try costs {d.attempt_cost:g} EUR")
    print(f"{'tries allowed':>14} | {'share through':>13} | attacker's net gain per target")
    for k, p, net in rows:
        print(f"{k:>14} | {p:>13.0%} | {net:+10.1f} EUR")
    return rows

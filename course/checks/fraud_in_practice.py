"""Checks of exercise 05 (AML in practice: semi-automated fraud): motivation is arithmetic (M2),
semi-automated fraud is evasion by queries (M4), defences are workflow decisions measured on both
sides (M6).

Each check builds its own bank from the seed - card transactions (`datasets.make_fraud`), a fraud
model (a random forest), a decision threshold that declines 2% of legitimate validation traffic -
and its own batch of stolen cards, and judges the learner's answers on that hidden data:
constraints per transaction (`datasets.check_constraints`), the API's query count, approvals by
the hidden model, and the attacker's profit at `economics.PRICES`.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from course.checks import call, task
from course.checks.feedback import fmt
from course.science import attacks, datasets, economics, models, services

A = "05-semi-automated-fraud"
ATTEMPTS_PER_CARD = 10  # the query budget: 10 x the number of cards, in total
MIN_APPROVED = 0.40
REVIEW_CAP = 0.04  # at most 4% of new legitimate transactions sent to review
DECLINE_SHARE = 0.02
LEGIT_MONTH = 30000  # transactions in a month of traffic (99% legitimate)

_CASES: "OrderedDict[int, Bunch]" = OrderedDict()


def bank_case(seed: int) -> Bunch:
    """The bank and the fraudster of one seed (cached: the visible checks share seed 0)."""
    if seed in _CASES:
        return _CASES[seed]
    fraud = datasets.make_fraud(n_samples=20000, random_state=seed)
    split = seed % (2**32)
    X_train, X_rest, y_train, y_rest = train_test_split(fraud.X, fraud.y, test_size=0.4, stratify=fraud.y, random_state=split)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=split)
    model = models.fit("forest", X_train, y_train, n_estimators=100, max_depth=12)
    legit_val = model.predict_proba(X_val[y_val == 0])[:, 1]
    legit_test = model.predict_proba(X_test[y_test == 0])[:, 1]
    threshold = float(np.quantile(legit_val, 1 - DECLINE_SHARE))
    stolen = datasets.make_fraud(n_samples=2000, fraud_rate=0.25, random_state=seed + 1)
    # a month of legitimate traffic the bank has logged (the learner's evidence), and the next month (the check's)
    logged, upcoming = (datasets.make_fraud(n_samples=LEGIT_MONTH, random_state=seed + k) for k in (2, 3))
    case = Bunch(fraud=fraud, model=model, threshold=threshold, legit_val=legit_val, legit_test=legit_test,
                 X_wish=stolen.X[stolen.y == 1],
                 legit_logged=model.predict_proba(logged.X[logged.y == 0])[:, 1],
                 legit_upcoming=model.predict_proba(upcoming.X[upcoming.y == 0])[:, 1])
    _CASES[seed] = case
    if len(_CASES) > 4:
        _CASES.popitem(last=False)
    return case


def _score(case, X):
    return case.model.predict_proba(np.asarray(X, dtype=float))[:, 1]


@task(f"{A}/make-it-pass", answer="make_it_pass", misconceptions=["M4", "M2"])
def check_make_it_pass(make_it_pass, seed, chk):
    case = bank_case(seed)
    X_wish, fraud = case.X_wish, case.fraud
    limit = ATTEMPTS_PER_CARD * len(X_wish)
    gateway = services.PredictionAPI(case.model, output="label", threshold=case.threshold, max_queries=limit)
    X_final = call(chk, make_it_pass, gateway, X_wish.copy(), fraud.constraints, list(fraud.feature_names),
                   what="make_it_pass")
    X_final = np.asarray(X_final, dtype=float) if X_final is not None else None
    chk.expect(X_final is not None and X_final.shape == X_wish.shape,
               expected=f"one final transaction per card: an array of shape {X_wish.shape}",
               seen=f"{type(X_final).__name__} of shape {getattr(X_final, 'shape', None)}")
    ok = datasets.check_constraints(X_final, X_wish, fraud.constraints)
    bad = np.flatnonzero(~ok)
    detail = ""
    if len(bad):
        i = bad[0]
        changed = [n for n, a, b in zip(fraud.feature_names, X_final[i], X_wish[i]) if not np.isclose(a, b)]
        detail = f" (e.g. card {i}: changed {changed})"
    chk.expect(len(bad) == 0, expected="every transaction within the fraudster's constraints (only amount, hour, "
               "merchant_category, online changed; within bounds; integers kept integers)",
               seen=f"{len(bad)} of {len(ok)} transactions break them{detail}",
               why="a fraudster cannot change the card's history or where they are: an 'evasion' that does "
                   "is not one the real system would ever see")
    chk.expect(gateway.queries_used <= limit, expected=f"at most {limit} queries", seen=f"{gateway.queries_used}")
    approved = _score(case, X_final) < case.threshold
    acct = economics.attacker_economics(X_final, approved, np.full(len(X_final), gateway.queries_used / len(X_final)),
                                        fraud.feature_names)
    chk.expect(
        approved.mean() >= MIN_APPROVED,
        expected=f"at least {MIN_APPROVED:.0%} of the {len(X_wish)} stolen cards' purchases approved by the hidden "
                 f"model, within {ATTEMPTS_PER_CARD} queries per card on average",
        seen=f"{approved.mean():.0%} approved ({gateway.queries_used} queries)",
        why="semi-automated fraud is evasion with queries: approve/decline answers are enough to find what passes",
    )
    chk.expect(
        acct["profit"] > 0,
        expected="a campaign that pays at the course's prices (profit > 0: payoff of approved purchases minus "
                 f"{economics.PRICES.card:g} EUR a card and {economics.PRICES.attempt:g} EUR an attempt)",
        seen=f"profit {acct['profit']:+.0f} EUR (payoff {acct['payoff']:.0f}, cost {acct['cost']:.0f})",
        why="an attack that passes with 1-EUR purchases costs the fraudster money: motivation is arithmetic",
    )
    return chk.passed(f"{approved.mean():.0%} of purchases approved, all within the constraints, "
                      f"{gateway.queries_used / len(X_wish):.1f} queries per card, profit {acct['profit']:+.0f} EUR")


def _reference_account(X_final, approved, queries, feature_names, prices, caught):
    return economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)


@task(f"{A}/profit", answer="attacker_profit", misconceptions=["M2"])
def check_profit(attacker_profit, seed, chk):
    rng = np.random.default_rng(seed)
    fraud = datasets.make_fraud(n_samples=400, fraud_rate=0.25, random_state=int(rng.integers(10_000)))
    names = list(fraud.feature_names)
    for case in range(4):
        n = 120
        X = fraud.X[rng.choice(len(fraud.X), n, replace=False)].copy()
        approved = rng.random(n) < rng.uniform(0.2, 0.8)
        queries = rng.integers(1, 11, n)
        caught = None if case % 2 == 0 else (rng.random(n) < 0.3)
        prices = economics.PRICES if case < 2 else economics.PRICES.but(
            card=float(rng.uniform(5, 50)), attempt=float(rng.uniform(0.1, 2)),
            cashout=tuple(np.round(rng.uniform(0, 1, 8), 2)))
        want = _reference_account(X, approved, queries, names, prices, caught)
        got = call(chk, attacker_profit, X.copy(), approved.copy(), queries.copy(), names, prices,
                   None if caught is None else caught.copy(), what="attacker_profit")
        chk.expect(isinstance(got, dict), expected="a dict with 'payoff', 'cost', 'profit', 'cost_per_success'",
                   seen=type(got).__name__)
        label = f"(case {case + 1}: {int(approved.sum())} approved, {'some caught in review' if caught is not None else 'none caught'})"
        for key in ("payoff", "cost", "profit", "cost_per_success"):
            chk.expect(key in got, expected=f"a key {key!r}", seen=f"keys {sorted(got)}")
            g, w = float(got[key]), float(want[key])
            same = (np.isinf(w) and np.isinf(g)) or (np.isfinite(g) and abs(g - w) <= 1e-6 * max(1.0, abs(w)))
            chk.expect(same, expected=f"{key} = {fmt(w)} {label}", seen=f"{key} = {fmt(g)}",
                       why="the attacker's account decides whether the attack is worth running: count every card, "
                           "every attempt, and only the purchases that pay (approved, not caught, cash-out share)")
    return chk.passed("payoff, cost, profit and cost per success match on every case")


@task(f"{A}/review-threshold", answer="choose_review_threshold", misconceptions=["M2", "M6"])
def check_review_threshold(choose_review_threshold, seed, chk):
    case = bank_case(seed)
    fraud = case.fraud
    m = call(chk, choose_review_threshold, case.legit_logged.copy(), case.threshold, REVIEW_CAP,
             what="choose_review_threshold")
    chk.expect(np.isscalar(m) or np.ndim(m) == 0, expected="one number (a score)", seen=fmt(m))
    m = float(m)
    chk.expect(np.isfinite(m) and m < case.threshold,
               expected=f"a review threshold below the decision threshold {case.threshold:.4f}", seen=fmt(m),
               why="the band [review threshold, decision threshold) holds approved transactions for review")
    alarms = economics.false_alarm_rate(case.legit_upcoming, m, case.threshold)
    chk.expect(alarms <= REVIEW_CAP,
               expected=f"at most {REVIEW_CAP:.0%} of next month's legitimate transactions sent to review",
               seen=f"{alarms:.2%} of {len(case.legit_upcoming)} new legitimate transactions reviewed",
               why="a review is an analyst's time and a customer's annoyance: a defence is judged by its false "
                   "alarms on traffic it was not tuned on, too")
    gateway = services.PredictionAPI(case.model, output="label", threshold=case.threshold)
    r = attacks.probe_fraud(gateway, case.X_wish, fraud.constraints, fraud.feature_names, max_queries=ATTEMPTS_PER_CARD)
    caught = economics.review_band(_score(case, r.X_final), m, case.threshold)
    before = economics.attacker_economics(r.X_final, r.approved, r.queries, fraud.feature_names)
    after = economics.attacker_economics(r.X_final, r.approved, r.queries, fraud.feature_names, caught=caught)
    chk.expect(after["profit"] < 0,
               expected="the fraudster's probing campaign unprofitable with your review band (profit < 0)",
               seen=f"profit {after['profit']:+.0f} EUR with the band (it was {before['profit']:+.0f} EUR without)",
               why="whether anyone is motivated is a matter of the attacker's account; a defence works when it "
                   "turns that account negative at a false-alarm cost you accept")
    return chk.passed(f"{alarms:.2%} of new legitimate traffic reviewed; the fraudster's profit "
                      f"{before['profit']:+.0f} -> {after['profit']:+.0f} EUR")

"""Checks of exercise 05 (AML in practice: semi-automated fraud): motivation is arithmetic (M2),
semi-automated fraud is evasion by queries (M4), defences are workflow decisions measured on both
sides (M6).

Each check builds its own bank from the seed - card transactions (`datasets.make_fraud`), a fraud
model (a random forest), a decision threshold that declines 2% of legitimate validation traffic -
and its own batch of stolen cards, and judges the learner's answers on that hidden data:
constraints per transaction (`datasets.check_constraints`), the API's query count, approvals by
the hidden model, and the attacker's profit at `economics.PRICES`. Each judges against a baseline
that lacks the mechanism: a query-based campaign against the best blind disguise on the same cards,
through a gateway that blocks a card after `BLOCK_AFTER` declines (so the lesson's script, which spends
three attempts on purchases it could know fail, burns its cards: calling it as it is does not pass);
a review band against a fraudster who knows it (the lesson's script at several speeds), on the
bank's scores and on the same bank recalibrated, so that a fixed number cannot pass.
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
BLOCK_AFTER = 3  # the bank of task 1 blocks a card after 3 declines (the lesson's bank did not): the lesson's script burns its cards
MIN_APPROVED = 0.40
BEAT_BLIND = 0.05  # approvals a query-based script must add to the best blind disguise (the solution adds >= 0.12, 24 seeds)
BLIND_SHRINKS = 7  # the blind baselines: the lesson's disguise with the amount lowered 0..6 times, no query
FRAUDSTER_SHRINKS = (0.8, 0.6, 0.4)  # a fraudster who knows the band tunes how fast its script lowers the amount
RECALIBRATION = np.sqrt  # the same bank with its scores on another scale (a recalibrated model): a constant fails one
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


def blind_baseline(case) -> Bunch:
    """The best no-query campaign: the lesson's disguise applied blindly, the amount lowered k times.

    Each card makes one attempt (the purchase itself); the best k by profit is the baseline.
    """
    names = list(case.fraud.feature_names)
    best = None
    for k in range(BLIND_SHRINKS):
        X = case.X_wish.copy()
        for name, value in attacks.query.DISGUISE:
            X[:, names.index(name)] = value
        X[:, names.index("amount")] *= 0.8**k
        X = attacks.respect_constraints(X, case.X_wish, case.fraud.constraints)
        approved = _score(case, X) < case.threshold
        acct = economics.attacker_economics(X, approved, np.ones(len(X)), names)
        if best is None or acct["profit"] > best.profit:
            best = Bunch(approved=float(approved.mean()), profit=acct["profit"], shrinks=k)
    return best


def fraudster_scripts(case) -> list:
    """The campaigns of a fraudster who knows a review band sits under the threshold: the lesson's
    probing script, lowering the amount at different speeds. The answers it gets are the gateway's;
    a purchase that lands in the band is reviewed and caught (and the card burned), so the band decides
    which campaign pays best, not how the probing goes."""
    gateway = services.PredictionAPI(case.model, output="label", threshold=case.threshold)
    runs = []
    for shrink in FRAUDSTER_SHRINKS:
        r = attacks.probe_fraud(gateway, case.X_wish, case.fraud.constraints, case.fraud.feature_names,
                                max_queries=ATTEMPTS_PER_CARD, shrink=shrink)
        runs.append(Bunch(run=r, scores=_score(case, r.X_final), shrink=shrink))
    return runs


def best_campaign(case, lower: float, scale=None) -> Bunch:
    """The fraudster's best account against the review band [lower, threshold) (on the scale `scale`
    of the scores, or the model's own), and the account of the same campaign without the band."""
    g = scale or (lambda v: v)
    names = list(case.fraud.feature_names)
    best = None
    for s in case.scripts:
        caught = economics.review_band(g(s.scores), lower, g(case.threshold))
        after = economics.attacker_economics(s.run.X_final, s.run.approved, s.run.queries, names, caught=caught)
        if best is None or after["profit"] > best.after["profit"]:
            before = economics.attacker_economics(s.run.X_final, s.run.approved, s.run.queries, names)
            best = Bunch(after=after, before=before, shrink=s.shrink)
    return best


@task(f"{A}/make-it-pass", answer="make_it_pass", misconceptions=["M4", "M2"])
def check_make_it_pass(make_it_pass, seed, chk):
    case = bank_case(seed)
    X_wish, fraud = case.X_wish, case.fraud
    limit = ATTEMPTS_PER_CARD * len(X_wish)
    gateway = services.CardGateway(case.model, case.threshold, X_wish, fraud.constraints, max_queries=limit,
                                   block_after=BLOCK_AFTER)
    X_final = call(chk, make_it_pass, gateway, X_wish.copy(), fraud.constraints, list(fraud.feature_names),
                   what="make_it_pass")
    X_final = np.asarray(X_final, dtype=float) if X_final is not None else None
    chk.require(X_final is not None and X_final.shape == X_wish.shape,
               expected=f"one final transaction per card: an array of shape {X_wish.shape}",
               seen=f"{type(X_final).__name__} of shape {getattr(X_final, 'shape', None)}")
    ok = datasets.check_constraints(X_final, X_wish, fraud.constraints)
    bad = np.flatnonzero(~ok)
    detail = ""
    if len(bad):
        i = bad[0]
        changed = [n for n, a, b in zip(fraud.feature_names, X_final[i], X_wish[i]) if not np.isclose(a, b)]
        detail = f" (e.g. card {i}: changed {changed})"
    chk.require(len(bad) == 0, expected="every transaction within the fraudster's constraints (only amount, hour, "
               "merchant_category, online changed; within bounds; integers kept integers)",
               seen=f"{len(bad)} of {len(ok)} transactions break them{detail}",
               why="a fraudster cannot change the card's history or where they are: an 'evasion' that does "
                   "is not one the real system would ever see")
    chk.require(gateway.queries_used <= limit, expected=f"at most {limit} queries", seen=f"{gateway.queries_used}",
                why="the query budget is the fraudster's: attempts beyond it are declined cards and blocked accounts")
    blocked = gateway.blocked
    approved = (_score(case, X_final) < case.threshold) & ~blocked
    acct = economics.attacker_economics(X_final, approved, np.full(len(X_final), gateway.queries_used / len(X_final)),
                                        fraud.feature_names)
    chk.expect(
        approved.mean() >= MIN_APPROVED,
        expected=f"at least {MIN_APPROVED:.0%} of the {len(X_wish)} stolen cards' purchases approved by the hidden "
                 f"model on cards not blocked, within {ATTEMPTS_PER_CARD} queries per card on average",
        seen=f"{approved.mean():.0%} approved ({gateway.queries_used} queries; {int(blocked.sum())} cards blocked after "
             f"{BLOCK_AFTER} declines)",
        why="semi-automated fraud is evasion with queries: approve/decline answers are enough to find what passes, "
            f"but this bank blocks a card after {BLOCK_AFTER} declines: attempts the script could know would fail "
            "burn the card (the lesson's script starts with the purchase as intended, then disguises it piece by piece)",
    )
    if "blind" not in case:  # computed once per bank, by the task that needs it
        case.blind = blind_baseline(case)
    blind = case.blind
    chk.expect(
        gateway.queries_used > 0 and approved.mean() >= blind.approved + BEAT_BLIND and acct["profit"] > blind.profit,
        expected=f"a script that learns from the gateway's answers and beats the best blind disguise on the same "
                 f"cards: at least {blind.approved + BEAT_BLIND:.0%} approved (blind: {blind.approved:.0%}) and more "
                 f"profit than its {blind.profit:+.0f} EUR",
        seen=f"{gateway.queries_used} queries, {approved.mean():.0%} approved ({int(blocked.sum())} cards blocked), "
             f"profit {acct['profit']:+.0f} EUR",
        why="a disguise applied without asking is a guess; semi-automated fraud is evasion by queries: each "
            "decline tells the script what to change on that card",
    )
    chk.expect(
        acct["profit"] > 0,
        expected="a campaign that pays at the course's prices (profit > 0: payoff of approved purchases minus "
                 f"{economics.PRICES.card:g} EUR a card and {economics.PRICES.attempt:g} EUR an attempt)",
        seen=f"profit {acct['profit']:+.0f} EUR (payoff {acct['payoff']:.0f}, cost {acct['cost']:.0f})",
        why="an attack that passes with 1-EUR purchases costs the fraudster money: motivation is arithmetic",
    )
    return chk.passed(f"{approved.mean():.0%} of purchases approved, all within the constraints, "
                      f"{gateway.queries_used / len(X_wish):.1f} queries per card, profit {acct['profit']:+.0f} EUR "
                      f"(the best blind disguise: {blind.approved:.0%}, {blind.profit:+.0f} EUR)")


def break_even(X_final, approved, queries, feature_names, prices, caught=None) -> float:
    """The checker's answer: the price of a stolen card at which the campaign's profit is 0."""
    acct = economics.attacker_economics(X_final, approved, queries, feature_names, prices, caught)
    return (acct["payoff"] - acct["attempt_cost"]) / acct["cards"]


@task(f"{A}/break-even", answer="break_even_card_price", misconceptions=["M2"])
def check_break_even(break_even_card_price, seed, chk):
    rng = np.random.default_rng(seed)
    fraud = datasets.make_fraud(n_samples=400, fraud_rate=0.25, random_state=int(rng.integers(10_000)))
    names = list(fraud.feature_names)
    roles = ("the course's prices, nothing caught in review", "the course's prices, some purchases caught in review",
             "other prices, nothing caught in review", "other prices, some purchases caught in review")
    for case, role in enumerate(roles):
        n = 120
        X = fraud.X[rng.choice(len(fraud.X), n, replace=False)].copy()
        approved = rng.random(n) < rng.uniform(0.2, 0.8)
        queries = rng.integers(1, 11, n)
        caught = None if case % 2 == 0 else (rng.random(n) < 0.3)
        prices = economics.PRICES if case < 2 else economics.PRICES.but(
            card=float(rng.uniform(5, 50)), attempt=float(rng.uniform(0.1, 2)),
            cashout=tuple(np.round(rng.uniform(0, 1, 8), 2)))
        want = break_even(X, approved, queries, names, prices, caught)
        chk.current_case = f"{role} ({int(approved.sum())} of {n} purchases approved, card price {prices.card:.2f})"
        got = call(chk, break_even_card_price, X.copy(), approved.copy(), queries.copy(), names, prices,
                   None if caught is None else caught.copy(), what="break_even_card_price")
        chk.require(np.isscalar(got) or np.ndim(got) == 0, expected="one number (a price in EUR)", seen=fmt(got))
        got = float(got)
        chk.expect(np.isfinite(got) and abs(got - want) <= 1e-6 * max(1.0, abs(want)),
                   expected=f"the card price at which this campaign's profit is 0: {fmt(want)} EUR",
                   seen=f"{fmt(got)} EUR",
                   why="whether anyone is motivated is arithmetic: the campaign pays while a card costs less than "
                       "what one card brings in, after its attempts and only from purchases that pay (approved, "
                       "not caught, at the category's cash-out share)")
    chk.current_case = ""
    return chk.passed("the break-even card price matches on every case")


@task(f"{A}/review-threshold", answer="choose_review_threshold", misconceptions=["M2", "M6"])
def check_review_threshold(choose_review_threshold, seed, chk):
    case = bank_case(seed)
    if "scripts" not in case:  # computed once per bank, by the task that needs it
        case.scripts = fraudster_scripts(case)
    results = []
    for scale, role in ((None, "this bank's scores"),
                        (RECALIBRATION, "the same bank after a recalibration (scores on another scale)")):
        g = scale or (lambda v: v)
        chk.current_case = role
        threshold = float(g(case.threshold))
        m = call(chk, choose_review_threshold, g(case.legit_logged.copy()), threshold, REVIEW_CAP,
                 what="choose_review_threshold")
        chk.require(np.isscalar(m) or np.ndim(m) == 0, expected="one number (a score)", seen=fmt(m))
        m = float(m)
        chk.require(np.isfinite(m) and m < threshold,
                    expected=f"a review threshold below the decision threshold {threshold:.4f}", seen=fmt(m),
                    why="the band [review threshold, decision threshold) holds approved transactions for review")
        alarms = economics.false_alarm_rate(g(case.legit_upcoming), m, threshold)
        chk.expect(alarms <= REVIEW_CAP,
                   expected=f"at most {REVIEW_CAP:.0%} of next month's legitimate transactions sent to review",
                   seen=f"{alarms:.2%} of {len(case.legit_upcoming)} new legitimate transactions reviewed "
                        f"(review threshold {m:.4g})",
                   why="a review is an analyst's time and a customer's annoyance: a defence is judged by its false "
                       "alarms on traffic it was not tuned on, too. A fixed number is not a decision: the band "
                       "must follow the scores' scale")
        best = best_campaign(case, m, scale)
        chk.expect(best.after["profit"] < 0,
                   expected="every campaign of a fraudster who knows the band unprofitable (profit < 0): the "
                            "lesson's script lowering the amount by " + ", ".join(f"x{f}" for f in FRAUDSTER_SHRINKS)
                            + " a step, 10 attempts per card",
                   seen=f"profit {best.after['profit']:+.0f} EUR with the band for the script lowering by "
                        f"x{best.shrink} (it made {best.before['profit']:+.0f} EUR without the band)",
                   why="a mitigation is judged against an attacker who knows it; a defence works when it turns "
                       "that attacker's account negative at a false-alarm cost you accept")
        results.append(f"{'recalibrated' if scale else 'this bank'}: {alarms:.2%} reviewed, best campaign {best.before['profit']:+.0f} -> "
                       f"{best.after['profit']:+.0f} EUR")
    chk.current_case = ""
    return chk.passed("new legitimate traffic and the fraudster who knows the band: "
                      + "; ".join(results))

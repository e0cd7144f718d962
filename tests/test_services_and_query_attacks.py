"""Tests of course.science.services: the counted prediction API, the query attacks, fraud probing, and exercise 04's checks."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import evaluate
from course.science import attacks, datasets, models, services


@pytest.fixture(scope="module")
def digits_case():
    d = datasets.load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(d.y))
    own, target_idx, rest = order[:400], order[400:800], order[800:]
    forest = models.fit("forest", d.X[target_idx], d.y[target_idx], n_estimators=30)
    right = rest[forest.predict(d.X[rest]) == d.y[rest]][:12]
    return d.X[own], d.y[own], forest, d.X[right], d.y[right]


@pytest.fixture(scope="module")
def binary_model():
    X, y = datasets.make_2d("blobs", n_samples=200, random_state=0)
    return models.fit("logistic", X, y), X, y


# --------------------------------------------------------------------------- PredictionAPI
def test_every_row_is_counted_and_the_budget_refuses_whole_requests(binary_model):
    model, X, _ = binary_model
    a = services.PredictionAPI(model, max_queries=10)
    a.predict(X[:4])
    a.predict(X[0])  # one row, 1-D
    assert a.queries_used == 5 and a.queries_left == 5
    with pytest.raises(services.QueryBudgetExceeded, match="5 of 10 rows used, 6 more requested"):
        a.predict(X[:6])
    assert a.queries_used == 5, "a refused request must not be counted"
    a.predict(X[:5])
    assert a.queries_left == 0
    with pytest.raises(services.QueryBudgetExceeded):
        a.predict(X[:1])


def test_unlimited_api_and_read_only_counter(binary_model):
    model, X, _ = binary_model
    a = services.PredictionAPI(model)
    a.predict(X)
    assert a.queries_used == len(X) and a.queries_left == np.inf
    with pytest.raises(AttributeError):
        a.queries_used = 0


def test_outputs_are_restricted_to_what_the_api_exposes(binary_model):
    model, X, _ = binary_model
    labels = services.PredictionAPI(model, output="label")
    with pytest.raises(services.OutputNotAvailable):
        labels.predict_proba(X[:2])
    with pytest.raises(services.OutputNotAvailable):
        labels.score(X[:2])
    assert labels.queries_used == 0
    assert np.array_equal(labels.query(X[:5]), model.predict(X[:5]))

    scores = services.PredictionAPI(model, output="score", round_to=2)
    s = scores.query(X[:20])
    assert s.shape == (20,)
    assert np.allclose(s, np.round(model.predict_proba(X[:20])[:, 1], 2))
    assert np.allclose(s * 100, np.round(s * 100)), "scores must be rounded to 2 decimals"

    proba = services.PredictionAPI(model, output="proba")
    assert np.allclose(proba.predict_proba(X[:3]), model.predict_proba(X[:3]))
    assert proba.queries_used == 3


def test_threshold_decides_the_label(binary_model):
    model, X, _ = binary_model
    p = model.predict_proba(X)[:, 1]
    t = float(np.quantile(p, 0.9))
    a = services.PredictionAPI(model, threshold=t)
    assert np.array_equal(a.predict(X), (p >= t).astype(int))


def test_record_keeps_the_operators_log(binary_model):
    model, X, _ = binary_model
    a = services.PredictionAPI(model, record=True)
    a.predict(X[:3])
    a.predict(X[3:5])
    rows, answers = a.history()
    assert rows.shape == (5, 2) and np.array_equal(answers, model.predict(X[:5]))
    with pytest.raises(ValueError):
        services.PredictionAPI(model).history()


@pytest.mark.parametrize("kwargs", [{"output": "logits"}, {"max_queries": -1}, {"max_queries": 2.5}, {"round_to": -1}])
def test_bad_arguments_are_refused(binary_model, kwargs):
    with pytest.raises(ValueError):
        services.PredictionAPI(binary_model[0], **kwargs)


def test_score_output_needs_a_binary_model(digits_case):
    _, _, forest, _, _ = digits_case
    with pytest.raises(ValueError, match="binary"):
        services.PredictionAPI(forest, output="score")


def test_evasion_rate_counts_right_to_wrong_only(binary_model):
    model, X, y = binary_model
    right = model.predict(X) == y
    flipped = X.copy()
    assert attacks.evasion_rate(model, flipped, X, y) == 0.0
    # mirror every point through the origin: the blobs' classes swap sides
    assert attacks.evasion_rate(model, -X, X, y) > 0.9
    assert right.sum() < len(y)  # some points were already wrong and are not counted


# --------------------------------------------------------------------------- query attacks
def _within(X_adv, X, budget):
    return np.all(np.linalg.norm(X_adv - X, axis=1) <= budget + 1e-9) and X_adv.min() >= 0 and X_adv.max() <= 1


def test_score_attack_stays_in_the_threat_model_and_counts_queries(digits_case):
    _, _, forest, X, y = digits_case
    a = services.PredictionAPI(forest, output="proba")
    r = attacks.score_attack(a, X, y, 1.5, max_queries=150, step=0.3)
    assert _within(r.X_adv, X, 1.5)
    assert np.all(r.queries <= 150) and a.queries_used == r.queries.sum()
    assert r.success.mean() >= 0.5
    assert np.all(forest.predict(r.X_adv[r.success]) != y[r.success]), "a success must be misclassified"
    with pytest.raises(services.OutputNotAvailable):
        attacks.score_attack(services.PredictionAPI(forest), X, y, 1.0)


def test_boundary_attack_with_labels_only(digits_case):
    X_own, y_own, forest, X, y = digits_case
    a = services.PredictionAPI(forest, output="label", max_queries=100 * len(X))
    r = attacks.boundary_attack(a, X, y, 1.5, X_own, y_own, max_queries=100)
    assert _within(r.X_adv, X, 1.5)
    assert a.queries_used == r.queries.sum() and np.all(r.queries <= 100)
    assert r.success.mean() >= 0.5
    assert np.all(forest.predict(r.X_adv[r.success]) != y[r.success])
    assert np.array_equal(r.X_adv[~r.success], X[~r.success]), "failed points come back unchanged"
    curve = attacks.success_by_queries(r, [10, 50, 100])
    assert np.all(np.diff(curve) >= 0) and curve[-1] == pytest.approx(r.success_rate)


def test_secret_models_are_deterministic_and_restricted(digits_case):
    X_own, y_own, _, X, _ = digits_case
    a = services.make_secret_model(X_own, y_own, random_state=3)
    b = services.make_secret_model(X_own, y_own, random_state=3)
    assert type(a) is type(b) and np.array_equal(a.predict(X), b.predict(X))
    kinds = {type(services.make_secret_model(X_own, y_own, random_state=s, families=("forest",))).__name__ for s in range(3)}
    assert kinds == {"RandomForestClassifier"}
    target = services.secret_model(X_own, y_own, random_state=3, max_queries=5)
    assert target.output == "label" and target.max_queries == 5
    with pytest.raises(ValueError):
        services.make_secret_model(X_own, y_own, families=("gbm",))


# --------------------------------------------------------------------------- fraud probing
@pytest.fixture(scope="module")
def bank():
    fraud = datasets.make_fraud(n_samples=6000, random_state=0)
    model = models.fit("forest", fraud.X, fraud.y, n_estimators=30, max_depth=10)
    legit = model.predict_proba(fraud.X[fraud.y == 0])[:, 1]
    threshold = float(np.quantile(legit, 0.98))
    stolen = datasets.make_fraud(n_samples=400, fraud_rate=0.25, random_state=1)
    return fraud, model, threshold, stolen.X[stolen.y == 1]


def test_respect_constraints_resets_fixed_features_rounds_and_clips(bank):
    fraud, _, _, X = bank
    wild = X.copy() + 0.4
    wild[:, 0] = 1e6
    fixed = attacks.respect_constraints(wild, X, fraud.constraints)
    assert datasets.check_constraints(fixed, X, fraud.constraints).all()
    assert np.all(fixed[:, 0] == 5000.0)


def test_probe_fraud_respects_constraints_and_budgets(bank):
    fraud, model, threshold, X = bank
    a = services.PredictionAPI(model, threshold=threshold)
    first = a.predict(X) == 0
    a = services.PredictionAPI(model, threshold=threshold, max_queries=8 * len(X))
    r = attacks.probe_fraud(a, X, fraud.constraints, fraud.feature_names, max_queries=8)
    assert datasets.check_constraints(r.X_final, X, fraud.constraints).all()
    assert a.queries_used == r.queries.sum() and np.all(r.queries <= 8)
    assert np.all(model.predict_proba(r.X_final[r.approved])[:, 1] < threshold), "approved rows must pass the model"
    assert r.success_rate > first.mean() + 0.1, "probing must beat the first try"
    short = r.within(1)
    assert np.array_equal(short.approved, first) and np.all(short.queries == 1)
    per_card = np.where(np.arange(len(X)) % 2 == 0, 0, 3)
    r2 = attacks.probe_fraud(services.PredictionAPI(model, threshold=threshold), X, fraud.constraints, fraud.feature_names,
                         max_queries=per_card)
    assert np.array_equal(r2.queries, np.minimum(per_card, r2.queries)) and not r2.approved[per_card == 0].any()


# --------------------------------------------------------------------------- exercise 04's checks
def test_secrecy_answers_are_checked_item_by_item():
    good = {"register": "c", "needed": "d", "evidence": "b"}
    assert evaluate("04-evasion-black-box/secrecy", good).passed
    assert evaluate("04-evasion-black-box/secrecy", {**good, "needed": "(D)"}).passed
    v = evaluate("04-evasion-black-box/secrecy", {**good, "register": "a"})
    assert not v.passed and "fooled models the attacker never saw" in v.why
    assert not evaluate("04-evasion-black-box/secrecy", {"register": "c"}).passed
    assert not evaluate("04-evasion-black-box/secrecy", "c, d, b").passed


def noise_attack(X_own, y_own, X, y, budget):
    u = np.random.default_rng(0).normal(size=X.shape)
    return np.clip(X + budget * u / np.linalg.norm(u, axis=1, keepdims=True), 0, 1)


def over_budget(X_own, y_own, X, y, budget):
    return np.clip(X + 2 * budget / 8, 0, 1)


@pytest.mark.parametrize("fn, words", [(noise_attack, "misread"), (over_budget, "at most 1.5 in L2")])
def test_transfer_check_rejects_noise_and_broken_budgets(fn, words):
    v = evaluate("04-evasion-black-box/transfer", fn)
    assert not v.passed and words in v.expected


@pytest.mark.slow
def test_transfer_check_accepts_a_surrogate_attack():
    from course.science import attacks

    def transfer(X_own, y_own, X, y, budget):
        s = models.fit("logistic", X_own, y_own)
        return attacks.evade(s, X, y, budget, norm="l2", bounds=(0, 1), method="pgd", progress=False)

    assert evaluate("04-evasion-black-box/transfer", transfer).passed
    assert evaluate("04-evasion-black-box/transfer", transfer, hidden=True).passed


def test_query_check_enforces_the_query_budget():
    def greedy(target, X_own, y_own, X, y, budget, max_queries):
        for _ in range(max_queries + 1):
            target.predict(X)
        return X

    v = evaluate("04-evasion-black-box/query", greedy)
    assert not v.passed and "QueryBudgetExceeded" in v.seen


# --------------------------------------------------------------------------- CardGateway (exercise 05's bank)
def test_card_gateway_blocks_a_card_after_its_declines_and_refuses_other_cards():
    fraud = datasets.make_fraud(n_samples=3000, fraud_rate=0.2, random_state=0)
    model = models.fit("logistic", fraud.X, fraud.y)
    cards = fraud.X[fraud.y == 1][:5]
    gw = services.CardGateway(model, 1e-9, cards, fraud.constraints, max_queries=40, block_after=2)  # declines every card
    assert list(gw.predict(cards)) == [1] * 5 and list(gw.declines) == [1] * 5 and not gw.blocked.any()
    gw.predict(cards[:2])
    assert list(gw.blocked) == [True, True, False, False, False]
    wide_open = services.CardGateway(model, 2.0, cards, fraud.constraints, block_after=2)  # approves everything
    for _ in range(2):
        wide_open.predict(np.vstack([cards[:1], cards[:1]]))
    assert wide_open.declines[0] == 0 and wide_open.queries_used == 4
    changed = cards[:1].copy()
    changed[0, 0] *= 0.5  # the amount is the fraudster's: still card 0
    assert gw.cards_of(changed)[0] == 0
    assert gw.predict(changed)[0] == 1 and gw.queries_used == 8  # blocked: declined whatever it asks, and counted
    foreign = cards[:1].copy()
    foreign[0, list(fraud.feature_names).index("card_age_days")] += 1  # another card's history
    with pytest.raises(ValueError, match="none of the stolen cards"):
        gw.predict(foreign)
    with pytest.raises(services.QueryBudgetExceeded):
        gw.predict(np.repeat(cards, 7, axis=0))

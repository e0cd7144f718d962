"""Tests of course.science.defences: each wrapper does what it says, exposes only the documented hooks,
and its gradients are the gradients of its own scores."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from course.ground import threat
from course.science import attacks, datasets, defences, evaluation, models


@pytest.fixture(scope="module")
def digits():
    d = datasets.load_digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(d.y))
    tr, te = idx[:900], idx[900:1100]
    return d.X[tr], d.y[tr], d.X[te], d.y[te]


@pytest.fixture(scope="module")
def mlp(digits):
    Xtr, ytr, _, _ = digits
    return models.fit("mlp", Xtr, ytr, hidden=(32,), max_iter=300)


def numeric_gradient(model, X, W, h=1e-6):
    G = np.zeros_like(X)
    for i in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[i] = h
        G[:, i] = ((model.decision_function(X + e) * W).sum(1) - (model.decision_function(X - e) * W).sum(1)) / (2 * h)
    return G


def test_squeeze_rounds_to_levels_and_predicts_through_its_classifier(digits, mlp):
    _, _, X, _ = digits
    sq = defences.squeeze(mlp, bits=2)
    Z = sq.preprocess(X + 0.01)
    assert set(np.unique(np.round(Z * 3, 9))) <= {0.0, 1.0, 2.0, 3.0}
    assert np.array_equal(sq.predict(X), mlp.predict(sq.preprocess(X)))
    assert sq.classifier is mlp


def test_median_smoothing_removes_a_single_spike_and_keeps_flat_images():
    flat = np.full((1, 64), 0.5)
    spike = np.zeros((1, 64))
    spike[0, 27] = 1.0
    sm = defences.median_smoothing(LogisticRegression(), size=3)
    assert np.allclose(sm.preprocess(flat), flat)
    assert np.allclose(sm.preprocess(spike), 0.0)


def test_rounding_preprocess():
    r = defences.rounding(LogisticRegression(), decimals=1)
    assert np.allclose(r.preprocess(np.array([[0.123, 0.789]])), [[0.1, 0.8]])


def test_random_noise_differs_between_calls_and_stays_in_bounds(digits, mlp):
    _, _, X, _ = digits
    rn = defences.RandomNoise(mlp, sigma=0.3)
    A, B = rn.preprocess(X), rn.preprocess(X)
    assert not np.allclose(A, B)
    assert A.min() >= 0 and A.max() <= 1
    assert np.any(rn.predict(X) != rn.predict(X))


def test_secret_exposes_only_predict_and_counts_queries(digits, mlp):
    _, _, X, _ = digits
    s = defences.Secret(mlp)
    for hook in ("decision_function", "input_gradient", "preprocess", "classifier", "coefs_"):
        assert not hasattr(s, hook), hook
    assert not models.has_gradient(s)
    s.predict(X[:10])
    s.predict(X[:5])
    assert s.queries_used == 15
    scored = defences.Secret(mlp, output="scores")
    assert scored.decision_function(X[:3]).shape == (3, 10)
    with pytest.raises(ValueError):
        defences.Secret(mlp, output="everything")


def test_probabilities_match_scikit_learn(digits, mlp):
    Xtr, ytr, X, _ = digits
    assert np.allclose(defences.probabilities(mlp, X), mlp.predict_proba(X), atol=1e-8)
    binary = models.fit("logistic", Xtr, (ytr > 4).astype(int))
    assert np.allclose(defences.probabilities(binary, X), binary.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("kind", ["detector", "human", "reject", "ensemble"])
def test_gradients_are_the_gradients_of_the_scores(kind, digits, mlp):
    Xtr, ytr, X, _ = digits
    if kind == "detector":
        adv = attacks.pgd(mlp, Xtr[:200], ytr[:200], 0.1, bounds=(0, 1), early_stop=True)
        model = defences.Detector.train(mlp, Xtr[:200], adv, hidden=(16,))
    elif kind == "human":
        model = defences.HumanReview(mlp, threshold=0.9)
    elif kind == "reject":
        model = defences.RejectOption(mlp, Xtr, ytr, prototypes=5)
    else:
        model = defences.Ensemble([mlp, models.fit("logistic", Xtr, ytr)])
    P = X[:4]
    W = np.random.default_rng(1).normal(size=(4, len(model.classes_)))
    assert np.allclose(model.input_gradient(P, W), numeric_gradient(model, P, W), atol=1e-4)


def test_abstaining_defences_answer_abstain_exactly_when_their_abstain_score_wins(digits, mlp):
    _, _, X, _ = digits
    hr = defences.HumanReview(mlp, threshold=0.99)
    S = hr.decision_function(X)
    pred = hr.predict(X)
    assert np.array_equal(pred, hr.classes_[S.argmax(1)])
    conf = mlp.predict_proba(X).max(1)
    assert np.array_equal(pred == threat.ABSTAIN, conf < 0.99)
    assert hr.abstain_rate(X) == pytest.approx(np.mean(conf < 0.99))
    assert threat.ABSTAIN in hr.classes_


def test_reject_option_rejects_about_the_stated_share_of_new_inputs(digits, mlp):
    Xtr, ytr, X, _ = digits
    rj = defences.RejectOption(mlp, Xtr, ytr, quantile=0.9)
    assert 0.0 <= rj.abstain_rate(X) <= 0.25
    far = np.clip(X[:20] + np.random.default_rng(0).uniform(-0.5, 0.5, X[:20].shape), 0, 1)
    assert rj.abstain_rate(far) > 0.8  # noise images are far from every class's data


def test_ensemble_predicts_the_argmax_of_averaged_probabilities(digits, mlp):
    Xtr, ytr, X, _ = digits
    lin = models.fit("logistic", Xtr, ytr)
    ens = defences.Ensemble([mlp, lin])
    avg = (mlp.predict_proba(X) + lin.predict_proba(X)) / 2
    assert np.array_equal(ens.predict(X), mlp.classes_[avg.argmax(1)])
    with pytest.raises(ValueError):
        defences.Ensemble([])


def test_retraining_deploys_the_next_model_and_hides_it(digits):
    Xtr, ytr, X, _ = digits
    rt = defences.Retraining("logistic", Xtr, ytr, batches=2)
    rt.predict(X)
    assert rt.previous is rt.history[0]
    rt.retrain()
    assert np.array_equal(rt.predict(X), rt.history[1].predict(X))
    assert rt.previous is rt.history[0]
    with pytest.raises(RuntimeError):
        rt.retrain()
    assert not hasattr(rt, "decision_function") and not hasattr(rt, "coef_")


def test_adversarial_training_beats_standard_training_under_attack(digits, mlp):
    Xtr, ytr, X, y = digits
    robust = defences.adversarial_training(Xtr, ytr, 0.1, hidden=(32,), epochs=15)
    plain = evaluation.accuracy_under_attack(mlp, attacks.pgd(mlp, X, y, 0.1, bounds=(0, 1), steps=20), y)
    hard = evaluation.accuracy_under_attack(robust, attacks.pgd(robust, X, y, 0.1, bounds=(0, 1), steps=20), y)
    assert hard > plain + 0.15
    assert evaluation.accuracy(robust, X, y) > 0.85

"""Tests of course.science.privacy: extraction and membership inference work as documented, and the output
restrictions keep decisions while changing what leaks."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.science import datasets, privacy, services


@pytest.fixture(scope="module")
def patients():
    return privacy.make_patients(2000, random_state=0)


def test_make_patients_is_deterministic_and_plausible(patients):
    again = privacy.make_patients(2000, random_state=0)
    assert np.array_equal(patients.X, again.X) and np.array_equal(patients.y, again.y)
    assert patients.X.shape == (2000, 10) and len(patients.feature_names) == 10
    assert 0.2 < patients.y.mean() < 0.45
    assert not np.array_equal(privacy.make_patients(2000, random_state=1).X, patients.X)
    with pytest.raises(ValueError):
        privacy.make_patients(5)


def test_equation_solving_recovers_a_logistic_model_exactly(patients):
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(patients.X[:1500], patients.y[:1500])
    service = services.PredictionAPI(m, output="proba")
    w, b = privacy.equation_solving(service.predict_proba, 10, center=patients.X.mean(0), scale=patients.X.std(0))
    assert service.queries_used == 11
    new = patients.X[1500:]
    assert np.allclose(new @ w + b, m.decision_function(new), atol=1e-6)


def test_stolen_copies_reach_high_fidelity_and_probabilities_help_early():
    d = datasets.load_digits()
    from course.science import models

    target = models.fit("mlp", d.X[:900], d.y[:900], hidden=(32,), max_iter=300)
    pool, test = d.X[900:1350], d.X[1350:1550]
    copy = privacy.steal(target.predict(pool), pool, use="labels")
    assert privacy.fidelity(copy, target, test) > 0.85
    few = pool[:40]
    by_labels = privacy.fidelity(privacy.steal(target.predict(few), few, use="labels"), target, test)
    by_proba = privacy.fidelity(privacy.steal(target.predict_proba(few), few, use="proba"), target, test)
    assert by_proba > by_labels
    with pytest.raises(ValueError):
        privacy.steal(target.predict(few), few, use="weights")


def test_membership_inference_finds_an_overfit_models_members(patients):
    split = privacy.membership_split(patients.X, patients.y, 200, random_state=0)
    assert len(split.X_candidates) == 400 and split.member.sum() == 200
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(split.X_members, split.y_members)
    P = forest.predict_proba(split.X_candidates)
    conf = privacy.confidence_scores(P, split.y_candidates)
    assert privacy.auc(conf, split.member) > 0.75
    assert privacy.advantage(conf, split.member) > 0.4
    assert np.allclose(np.exp(privacy.loss_scores(P, split.y_candidates)), np.clip(conf, 1e-12, 1))
    shadow = privacy.ShadowAttack(lambda: RandomForestClassifier(n_estimators=50, random_state=0), n_shadows=2)
    shadow.fit(split.X_attacker, split.y_attacker, train_size=200)
    assert privacy.auc(shadow.scores(P, split.y_candidates), split.member) > 0.7
    # a model that generalises leaks much less
    lin = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(split.X_members, split.y_members)
    conf_lin = privacy.confidence_scores(lin.predict_proba(split.X_candidates), split.y_candidates)
    assert privacy.advantage(conf_lin, split.member) < 0.2


def test_advantage_and_auc_of_perfect_and_useless_scores():
    member = np.r_[np.ones(50), np.zeros(50)]
    assert privacy.auc(member, member) == 1.0 and privacy.advantage(member, member) == 1.0
    assert privacy.advantage(np.zeros(100), member) == 0.0


@pytest.mark.parametrize("kind", privacy.RESTRICTIONS)
def test_restrictions_keep_the_decision(kind):
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=500)
    P[0] = [0.46, 0.44, 0.10]  # rounds to a tie at one decimal
    out = privacy.restrict(P, kind, decimals=1, k=1)
    assert out.shape == P.shape
    assert np.array_equal(out.argmax(1), P.argmax(1))
    if kind == "label":
        assert set(np.unique(out)) == {0.0, 1.0}
    if kind == "top-k":
        assert np.all((out > 0).sum(1) == 1)
    with pytest.raises(ValueError):
        privacy.restrict(P, "blur")


def test_restricted_api_counts_and_limits(patients):
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(patients.X, patients.y)
    r = privacy.RestrictedAPI(m, "label", max_queries=10)
    assert np.array_equal(r.predict(patients.X[:5]), m.predict(patients.X[:5]))
    assert r.queries_used == 5
    with pytest.raises(RuntimeError):
        r.predict_proba(patients.X[:6])

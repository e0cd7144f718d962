"""Red team of exercise 09 (mitigations).

Task 1 (adaptive attack on the team's filter): attacks that ignore the defence (PGD on the classifier alone; the
harness pointed at the classifier), no attack and an over-budget answer score 0; hand-written BPDA (margin loss
from a random start; cross-entropy from the clean images), written differently from the solution (the harness),
scores full at the visible seed and at 20 hidden seeds.
Task 3: an honest claim about a mitigation of the learner's choice, measured by the harness on the grader's
side. Cheap claims score 0; honest claims about a robust and about a weak mitigation both score full; the
mitigation crosses the grading boundary as plain data."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from course.checks import CheckFailed, get
from course.checks.feedback import Checker
from course.checks.mitigations import _threat
from course.grader import protocol
from course.science import attacks, defences, evaluation, models

TASK = "09-mitigations/mitigation-claim"
ATTACK = "09-mitigations/adaptive-attack"


def verdict(answer, seed, hidden=True, task=TASK):
    t = get(task)
    try:
        return t.fn(answer, seed, Checker(t.id, t.misconceptions, hidden))
    except CheckFailed as e:
        return e.verdict


def hand_bpda(model, X, y):
    """BPDA written by hand: 100 signed steps of 0.01 on the margin (best other class minus the true class),
    the classifier's gradient taken at the filtered image, from a random start in the budget."""
    clf, eps = model.classifier, 0.1
    true = y[:, None] == np.asarray(model.classes_)[None, :]
    X_adv = np.clip(X + np.random.default_rng(5).uniform(-eps, eps, X.shape), 0, 1)
    for _ in range(100):
        Z = model.preprocess(X_adv)
        rival = np.where(true, -np.inf, models.decision_scores(clf, Z)).argmax(axis=1)
        W = -true.astype(float)
        W[np.arange(len(X)), rival] += 1
        step = np.sign(models.input_gradient(clf, Z, W))
        X_adv = np.clip(np.clip(X_adv + 0.01 * step, X - eps, X + eps), 0, 1)
    return X_adv


def cross_entropy_bpda(model, X, y):
    """BPDA on the cross-entropy instead: 40 signed steps of 0.0125 from the clean images."""
    clf = model.classifier
    true = (y[:, None] == np.asarray(model.classes_)[None, :]).astype(float)
    X_adv = X.copy()
    for _ in range(40):
        Z = model.preprocess(X_adv)
        W = models.softmax(models.decision_scores(clf, Z)) - true
        X_adv = np.clip(np.clip(X_adv + 0.0125 * np.sign(models.input_gradient(clf, Z, W)), X - 0.1, X + 0.1), 0, 1)
    return X_adv


def harness_on_the_classifier(model, X, y):
    """The course's harness, pointed at the classifier behind the filter: the defence ignored in one call."""
    return evaluation.evaluate_defence(model.classifier, X, y, _threat(), unbounded=False, progress=False).examples[0.1]


def ignore_the_filter(model, X, y):
    """The team's mistake, with the classifier in hand: white-box PGD on the classifier alone."""
    return attacks.pgd(model.classifier, X, y, 0.1, bounds=(0, 1))


def ignore_with_restarts(model, X, y):
    """The same, harder: 200 steps from a random start."""
    return attacks.pgd(model.classifier, X, y, 0.1, bounds=(0, 1), steps=200, random_start=True, random_state=3)


def test_adaptive_attack_at_the_visible_seed():
    with threadpool_limits(limits=1):
        assert verdict(hand_bpda, 0, hidden=False, task=ATTACK).passed
        assert verdict(cross_entropy_bpda, 0, hidden=False, task=ATTACK).passed
        assert not verdict(ignore_the_filter, 0, hidden=False, task=ATTACK).passed
        assert not verdict(harness_on_the_classifier, 0, hidden=False, task=ATTACK).passed
        assert not verdict(lambda model, X, y: X, 0, hidden=False, task=ATTACK).passed  # no attack
        assert not verdict(lambda model, X, y: X + 0.2, 0, hidden=False, task=ATTACK).passed  # over the budget


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(101, 121))
def test_adaptive_attack_hidden_seeds(seed):
    """20 hidden seeds: hand-written BPDA passes, attacks that ignore the filter fail (models cached per seed)."""
    with threadpool_limits(limits=1):
        assert verdict(hand_bpda, seed, task=ATTACK).passed
        assert not verdict(ignore_the_filter, seed, task=ATTACK).passed
        if seed % 4 == 0:
            assert not verdict(ignore_with_restarts, seed, task=ATTACK).passed
        if seed % 4 == 1:
            assert verdict(cross_entropy_bpda, seed, task=ATTACK).passed


@pytest.fixture(scope="module")
def setting():
    return defences.digits_setting()


@pytest.fixture(scope="module")
def robust(setting):
    with threadpool_limits(limits=1):
        return defences.adversarial_training(setting.X_train, setting.y_train, budget=0.1, bounds=(0, 1))


def harness_figure(model, s, random_state=0):
    with threadpool_limits(limits=1):
        return evaluation.evaluate_defence(model, s.X, s.y, _threat(), X_pool=s.X_attacker, unbounded=False,
                                           progress=False, random_state=random_state).worst_case


def test_an_honest_claim_about_a_robust_model_passes_and_crosses_the_boundary(robust, setting):
    answer = protocol.decode(protocol.encode({"model": robust, "claim": harness_figure(robust, setting, 5)}))
    assert verdict(answer, 3).passed


def test_cheap_claims_fail(robust, setting):
    s = setting
    assert not verdict({"model": robust, "claim": 1.0}, 3).passed  # a claim without a measurement
    clean = float(np.mean(robust.predict(s.X) == s.y))
    assert not verdict({"model": robust, "claim": clean}, 3).passed  # clean accuracy as robustness
    assert not verdict(None, 3).passed


@pytest.mark.slow
def test_the_naive_claim_for_the_median_filter_fails_and_the_honest_one_passes(setting):
    s = setting
    median = defences.handed_model(s)  # the team's model: median filter, MLP trained on smoothed images
    with threadpool_limits(limits=1):
        naive_points = attacks.pgd(s.mlp, s.X, s.y, 0.1, bounds=(0, 1), early_stop=True)
    naive = evaluation.accuracy_under_attack(median, naive_points, s.y)
    answer = protocol.decode(protocol.encode({"model": median, "claim": naive}))
    assert isinstance(answer["model"], defences.Preprocessed)
    assert not verdict(answer, 4, hidden=False).passed
    assert verdict({"model": median, "claim": harness_figure(median, s)}, 4, hidden=False).passed


def test_a_mitigation_the_grader_cannot_rebuild_is_left_to_the_diagnosis(robust):
    class Mine:
        classes_ = robust.classes_

        def predict(self, X):
            return robust.predict(X)

    v = verdict({"model": Mine(), "claim": 0.7}, 3)
    assert not v.passed and "diagnosis" in v.why

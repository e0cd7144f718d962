"""Tests of course.science.poisoning and the checks of exercise 06: the attacks do what the lesson says,
the loop enforces its budget, the sanitisers return masks, and the checks fail wrong answers."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import evaluate
from course.science import poisoning


@pytest.fixture(scope="module")
def split():
    return poisoning.blobs_split(random_state=0)


@pytest.fixture(scope="module")
def attacked():
    return poisoning.feedback_loop(poisoning.copy_reports, budget=0.03, random_state=0)


@pytest.fixture(scope="module")
def clean_loop():
    return poisoning.feedback_loop(None, random_state=0)


def test_blobs_split_is_scaled_and_deterministic(split):
    again = poisoning.blobs_split(random_state=0)
    assert split.X_train.shape == (50, 2) and split.X_val.shape == (100, 2) and split.X_test.shape == (400, 2)
    assert np.array_equal(split.X_train, again.X_train)
    allx = np.vstack([split.X_train, split.X_val, split.X_test])
    assert allx.min() >= 0 and allx.max() <= 1


def test_random_flips_copy_points_with_the_other_label(split):
    Xp, yp = poisoning.random_flips(split.X_train, split.y_train, 7, random_state=3)
    assert Xp.shape == (7, 2) and yp.shape == (7,)
    for x, label in zip(Xp, yp):
        i = np.flatnonzero(np.all(split.X_train == x, axis=1))[0]
        assert label == 1 - split.y_train[i]
    with pytest.raises(ValueError):
        poisoning.random_flips(split.X_train, split.y_train, 51)


def test_svm_poison_returns_numpy_in_bounds_and_beats_random_flips(split):
    Xp, yp = poisoning.svm_poison(split.X_train, split.y_train, split.X_val, split.y_val, 10, batch=5)
    assert type(Xp) is np.ndarray and type(yp) is np.ndarray  # no secml type leaves the module
    assert Xp.shape == (10, 2) and set(np.unique(yp)) <= {0, 1}
    assert Xp.min() >= 0 and Xp.max() <= 1
    optimised = poisoning.test_error(split.X_train, split.y_train, split.X_test, split.y_test, Xp, yp)
    random = np.mean([poisoning.test_error(split.X_train, split.y_train, split.X_test, split.y_test,
                                           *poisoning.random_flips(split.X_train, split.y_train, 10, r))
                      for r in range(5)])
    assert optimised > random + 0.01


def test_svm_poison_with_zero_points_is_empty(split):
    Xp, yp = poisoning.svm_poison(split.X_train, split.y_train, split.X_val, split.y_val, 0)
    assert Xp.shape == (0, 2) and yp.shape == (0,)


def test_make_mail_shapes_rates_and_determinism():
    a = poisoning.make_mail(2000, random_state=4)
    b = poisoning.make_mail(2000, random_state=4)
    assert a.X.shape == (2000, len(poisoning.VOCABULARY))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert abs(a.y.mean() - 0.3) < 0.01 and a.campaign.sum() == 30
    assert np.all(a.y[a.campaign] == 1)
    assert a.X.min() >= 0 and a.X.max() <= poisoning.MAX_COUNT and np.all(a.X == np.round(a.X))


def test_feedback_loop_attack_shifts_target_not_dashboard(attacked, clean_loop):
    assert clean_loop.campaign_caught[-1] > 0.8
    assert attacked.campaign_caught[-1] < clean_loop.campaign_caught[-1] - 0.3
    assert clean_loop.dashboard_accuracy[-1] - attacked.dashboard_accuracy[-1] < 0.02
    assert 0.025 < attacked.poisoned_share <= 0.03
    assert attacked.is_poison.sum() == attacked.reports.sum() == 180
    assert np.all(attacked.y_train[attacked.is_poison] == 0)


def test_random_wrong_labels_do_not_shift_the_campaign(clean_loop):
    noisy = poisoning.feedback_loop(None, label_noise=0.04, random_state=0)
    assert abs(noisy.campaign_caught[-1] - clean_loop.campaign_caught[-1]) < 0.1


def test_feedback_loop_enforces_the_budget():
    def too_many(Xc, Xh, n, score):
        return np.zeros((n + 1, len(poisoning.VOCABULARY)))

    with pytest.raises(ValueError):
        poisoning.feedback_loop(too_many, rounds=1)


def test_gate_drops_absurd_reports_and_probe_is_private():
    seen = {}

    def probe_and_copy(Xc, Xh, n, score):
        seen["scores"] = score(Xc)
        return poisoning.copy_reports(Xc, Xh, n)

    gated = poisoning.feedback_loop(probe_and_copy, budget=0.03, ignore_above=0.9, rounds=2, random_state=0)
    assert gated.reports[1:].sum() < 0.6 * 60  # most copies of the campaign score above the gate
    assert seen["scores"].shape == (200,) and np.all((seen["scores"] >= 0) & (seen["scores"] <= 1))


def test_sanitisers_return_masks_with_the_stated_cost(attacked):
    X, y, n0 = attacked.X_train, attacked.y_train, attacked.n_trusted
    for keep in (poisoning.sanitise_with_trusted(X, y, X[:n0], y[:n0]), poisoning.remove_outliers(X, y, 0.05),
                 poisoning.knn_relabel_check(X, y)):
        assert keep.dtype == bool and keep.shape == y.shape
    keep = poisoning.remove_outliers(X, y, share=0.1)
    for c in (0, 1):
        assert abs(np.mean(~keep[y == c]) - 0.1) < 0.01
    m = poisoning.measure_mitigation(poisoning.sanitise_with_trusted(X, y, X[:n0], y[:n0]), attacked.is_poison, X, y,
                                     X[:500], y[:500], X_target=poisoning.campaign_mail(100, 1))
    assert m["poison_removed"] > 0.5 and m["clean_removed"] < 0.05
    assert m["target_caught_kept"] > m["target_caught_all"]


def test_error_curve_counts_and_fractions(split):
    curve = poisoning.error_curve([split], counts=[0, 5], flip_repeats=2, progress=False)
    assert list(curve.counts) == [0, 5]
    assert np.allclose(curve.fractions, [0, 5 / 55])
    assert curve.random_error.shape == curve.optimised_error.shape == (1, 2)
    assert curve.random_error[0, 0] == curve.optimised_error[0, 0]  # no poison: the same clean model


# --------------------------------------------------------------------------- the checks of exercise 06


def _nearest_flips(X_train, y_train, x_target, budget):
    c = poisoning.flip_svm().fit(X_train, y_train).predict(x_target[None, :])[0]
    same = np.flatnonzero(y_train == c)
    return same[np.argsort(np.linalg.norm(X_train[same] - x_target, axis=1))[:budget]]


def test_flip_check_passes_nearest_flips_and_fails_random_or_overbudget():
    assert evaluate("06-poisoning/flip-to-target", _nearest_flips).passed
    rnd = evaluate("06-poisoning/flip-to-target", lambda X, y, x, b: np.random.default_rng(0).choice(len(y), b, replace=False))
    assert not rnd.passed and "random" in rnd.seen
    over = evaluate("06-poisoning/flip-to-target", lambda X, y, x, b: np.arange(b + 1))
    assert not over.passed and "budget" in over.expected


def test_craft_check_fails_plain_copies_behind_the_gate_and_invalid_mail():
    copies = evaluate("06-poisoning/craft-reports", poisoning.copy_reports)
    assert not copies.passed and "caught" in copies.expected
    fractional = evaluate("06-poisoning/craft-reports", lambda Xc, Xh, n, s: Xc[:n] + 0.5)
    assert not fractional.passed and "whole word counts" in fractional.expected


def test_find_check_fails_flagging_every_not_spam_label():
    v = evaluate("06-poisoning/find-poisoned", lambda Xn, yn, Xt, yt: np.flatnonzero(yn == 0))
    assert not v.passed and "precision" in v.expected


def test_find_check_passes_a_trusted_model_sanitiser():
    def trusted(Xn, yn, Xt, yt):
        p = poisoning.spam_filter(Xt, yt).predict_proba(Xn)[:, 1]
        return np.flatnonzero((yn == 0) & (p > 0.5))

    assert evaluate("06-poisoning/find-poisoned", trusted).passed

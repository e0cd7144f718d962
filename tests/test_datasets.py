"""Tests of course.science.datasets: the documented shapes, ranges, base rates, constraints and difficulty."""
from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.science import datasets

GENERATORS = {
    "fraud": datasets.make_fraud,
    "hiring": datasets.make_hiring,
    "intrusion": datasets.make_intrusion,
}
DEFAULT_N = {"fraud": 20000, "hiring": 5000, "intrusion": 10000}
N_FEATURES = {"fraud": 8, "hiring": 7, "intrusion": 8}
CHANGEABLE = {
    "fraud": {"amount", "hour", "merchant_category", "online"},
    "hiring": {"cv_keyword_count", "skills_match", "num_certifications"},
    "intrusion": {"duration_s", "bytes_out", "packets", "hour"},
}
INTEGER = {
    "fraud": {"hour", "merchant_category", "online", "tx_count_24h", "card_age_days"},
    "hiring": {"education_level", "num_certifications", "employment_gap_months", "cv_keyword_count", "referral"},
    "intrusion": {"bytes_out", "bytes_in", "packets", "dst_port_class", "failed_logins",
                  "distinct_dst_ports", "hour"},
}
AUC_RANGE = {"fraud": (0.85, 0.99), "hiring": (0.75, 0.98), "intrusion": (0.85, 0.995)}


@pytest.fixture(scope="module")
def bunches():
    """Each generator at its default size and seed, made once for the module."""
    return {name: make() for name, make in GENERATORS.items()}


# --------------------------------------------------------------------------- bundled sets


def test_load_digits_scaled_to_unit_box():
    d = datasets.load_digits()
    assert d.X.shape == (1797, 64) and d.X.dtype == np.float64
    assert d.y.shape == (1797,) and np.issubdtype(d.y.dtype, np.integer)
    assert d.images.shape == (1797, 8, 8)
    assert d.X.min() == 0.0 and d.X.max() == 1.0
    assert d.images.min() >= 0.0 and d.images.max() <= 1.0
    np.testing.assert_array_equal(d.images.reshape(1797, 64), d.X)
    assert d.target_names == [str(i) for i in range(10)]
    assert sorted(set(d.y.tolist())) == list(range(10))
    assert len(d.feature_names) == 64
    assert d.bounds == (0.0, 1.0)
    assert isinstance(d.DESCR, str) and d.DESCR


@pytest.mark.parametrize("loader, shape, n_classes", [
    (datasets.load_breast_cancer, (569, 30), 2),
    (datasets.load_wine, (178, 13), 3),
])
def test_bundled_tables_raw_and_described(loader, shape, n_classes):
    d = loader()
    assert d.X.shape == shape and d.X.dtype == np.float64
    assert d.y.shape == (shape[0],) and np.issubdtype(d.y.dtype, np.integer)
    assert len(d.feature_names) == shape[1] and all(isinstance(f, str) for f in d.feature_names)
    assert len(d.target_names) == n_classes == len(np.unique(d.y))
    assert d.X.max() > 100  # raw, not scaled
    assert "unscaled" in d.DESCR.lower()


# --------------------------------------------------------------------------- 2-D toy data


@pytest.mark.parametrize("kind", datasets.KINDS_2D)
def test_make_2d_shapes_balanced_deterministic(kind):
    X, y = datasets.make_2d(kind, n_samples=200, random_state=3)
    assert X.shape == (200, 2) and X.dtype == np.float64
    assert y.shape == (200,) and np.issubdtype(y.dtype, np.integer)
    assert np.bincount(y).tolist() == [100, 100]
    X2, y2 = datasets.make_2d(kind, n_samples=200, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = datasets.make_2d(kind, n_samples=200, random_state=4)
    assert not np.array_equal(X, X3)


def test_make_2d_noise_changes_spread():
    X_lo, _ = datasets.make_2d("moons", n_samples=400, noise=0.0)
    X_hi, _ = datasets.make_2d("moons", n_samples=400, noise=0.5)
    assert X_hi.std() > X_lo.std()


def test_make_2d_blobs_default_about_95_percent_linear():
    X, y = datasets.make_2d("blobs", n_samples=2000, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=0)
    acc = LogisticRegression().fit(Xtr, ytr).score(Xte, yte)
    assert 0.92 <= acc <= 0.98


def test_make_2d_bad_arguments():
    with pytest.raises(ValueError, match="blobs.*moons.*circles.*got 'spiral'"):
        datasets.make_2d("spiral")
    with pytest.raises(ValueError, match="noise"):
        datasets.make_2d("moons", noise=-0.1)
    with pytest.raises(ValueError, match="n_samples"):
        datasets.make_2d("moons", n_samples=1)


# --------------------------------------------------------------------------- synthetic tables


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_and_dtypes(bunches, name):
    b = bunches[name]
    n, d = DEFAULT_N[name], N_FEATURES[name]
    assert b.X.shape == (n, d) and b.X.dtype == np.float64
    assert b.y.shape == (n,) and np.issubdtype(b.y.dtype, np.integer)
    assert set(np.unique(b.y).tolist()) == {0, 1}
    assert np.isfinite(b.X).all()
    assert len(b.units) == len(b.feature_names) == b.X.shape[1]
    assert all(isinstance(u, str) and u for u in b.units)
    assert len(b.target_names) == 2
    c = b.constraints
    for key in ("changeable", "integer"):
        assert c[key].shape == (d,) and c[key].dtype == bool
    for key in ("lower", "upper"):
        assert c[key].shape == (d,) and c[key].dtype == np.float64
    assert (c.lower < c.upper).all()
    assert isinstance(c.note, str) and len(c.note) > 100


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_description_names_every_feature_and_unit(bunches, name):
    b = bunches[name]
    doc = GENERATORS[name].__doc__
    for feature, unit in zip(b.feature_names, b.units):
        assert feature in b.DESCR and unit in b.DESCR
        assert feature in doc
    assert "Base rate" in b.DESCR and "Base rate" in doc
    assert "Parameters" in doc and "Returns" in doc
    for feature in CHANGEABLE[name]:
        assert feature in b.constraints.note


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_deterministic(name):
    make = GENERATORS[name]
    a, b = make(n_samples=500, random_state=7), make(n_samples=500, random_state=7)
    c = make(n_samples=500, random_state=8)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_features_within_bounds(bunches, name):
    b = bunches[name]
    c = b.constraints
    below = (b.X < c.lower).any(axis=0)
    above = (b.X > c.upper).any(axis=0)
    assert not below.any(), [f for f, bad in zip(b.feature_names, below) if bad]
    assert not above.any(), [f for f, bad in zip(b.feature_names, above) if bad]


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_integer_features(bunches, name):
    b = bunches[name]
    names = np.array(b.feature_names)
    assert set(names[b.constraints.integer]) == INTEGER[name]
    Xi = b.X[:, b.constraints.integer]
    np.testing.assert_array_equal(Xi, np.round(Xi))
    assert datasets.check_constraints(b.X, b.X, b.constraints).all()


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_changeable_features_are_the_documented_ones(bunches, name):
    b = bunches[name]
    names = np.array(b.feature_names)
    assert set(names[b.constraints.changeable]) == CHANGEABLE[name]


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_learnable_but_not_trivial(bunches, name):
    b = bunches[name]
    Xtr, Xte, ytr, yte = train_test_split(b.X, b.y, test_size=0.3, random_state=0, stratify=b.y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(Xtr, ytr)
    auc = roc_auc_score(yte, model.predict_proba(Xte)[:, 1])
    lo, hi = AUC_RANGE[name]
    assert lo <= auc <= hi, f"{name}: AUC {auc:.3f} outside [{lo}, {hi}]"


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_fast_at_default_size(name):
    make = GENERATORS[name]
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        make()
        best = min(best, time.perf_counter() - t0)
    assert best < 0.3, f"{name} took {best:.3f} s"


def test_fraud_base_rate(bunches):
    assert abs(bunches["fraud"].y.mean() - 0.01) <= 0.003
    high = datasets.make_fraud(n_samples=20000, fraud_rate=0.05)
    assert abs(high.y.mean() - 0.05) <= 0.003
    assert high.y.mean() > bunches["fraud"].y.mean() + 0.03
    assert high.card_id.shape == (20000,)


def test_hiring_base_rate(bunches):
    assert 0.20 <= bunches["hiring"].y.mean() <= 0.30
    assert bunches["hiring"].target_names[1] == "shortlisted"


def test_intrusion_base_rate_and_flow_types(bunches):
    b = bunches["intrusion"]
    assert abs(b.y.mean() - 0.1) <= 0.01
    assert abs(datasets.make_intrusion(attack_rate=0.3).y.mean() - 0.3) <= 0.01
    malicious_types = {b.flow_type_names.index(t) for t in ("scan", "brute force", "exfiltration")}
    assert set(np.unique(b.flow_type[b.y == 1]).tolist()) == malicious_types
    assert not set(np.unique(b.flow_type[b.y == 0]).tolist()) & malicious_types


@pytest.mark.parametrize("call, message", [
    (lambda: datasets.make_fraud(fraud_rate=0.7), r"fraud_rate must be in \(0, 0.5\); got 0.7"),
    (lambda: datasets.make_intrusion(attack_rate=0), r"attack_rate must be in \(0, 0.5\); got 0"),
    (lambda: datasets.make_hiring(n_samples=3), r"n_samples must be an int >= 10; got 3"),
    (lambda: datasets.make_fraud(random_state=-1), r"random_state must be a non-negative int; got -1"),
    (lambda: datasets.make_hiring(random_state="a"), r"random_state .*got 'a'"),
])
def test_generator_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- check_constraints


@pytest.fixture()
def fraud_rows(bunches):
    b = bunches["fraud"]
    return b.X[:5].copy(), b.constraints, {f: i for i, f in enumerate(b.feature_names)}


def test_check_constraints_accepts_valid_change(fraud_rows):
    x, c, col = fraud_rows
    adv = x.copy()
    adv[:, col["amount"]] = 12.5
    adv[:, col["hour"]] = 14
    adv[:, col["merchant_category"]] = 0
    adv[:, col["online"]] = 1 - adv[:, col["online"]]
    ok = datasets.check_constraints(adv, x, c)
    assert ok.dtype == bool and ok.shape == (5,)
    assert ok.all()


def test_check_constraints_detects_each_violation(fraud_rows):
    x, c, col = fraud_rows
    adv = x.copy()
    adv[0, col["amount"]] = 20.0                                  # valid
    adv[1, col["distance_from_home_km"]] += 1.0                   # not changeable
    adv[2, col["amount"]] = 6000.0                                # above the upper bound
    adv[3, col["hour"]] = 3.5                                     # not an integer
    adv[4, col["merchant_category"]] = -1                         # below the lower bound
    np.testing.assert_array_equal(datasets.check_constraints(adv, x, c), [True, False, False, False, False])


def test_check_constraints_tolerance_single_row_and_nan(fraud_rows):
    x, c, col = fraud_rows
    adv = x[0].copy()
    adv[col["avg_amount_30d"]] += 1e-9                            # within atol
    assert datasets.check_constraints(adv, x[0], c).tolist() == [True]
    adv[col["amount"]] = np.nan
    assert datasets.check_constraints(adv, x[0], c).tolist() == [False]


def test_check_constraints_shape_mismatch(fraud_rows):
    x, c, _ = fraud_rows
    with pytest.raises(ValueError, match=r"same shape; got \(5, 8\) and \(4, 8\)"):
        datasets.check_constraints(x, x[:4], c)
    with pytest.raises(ValueError, match=r"shape \(7,\) to match x's 7 columns; got \(8,\)"):
        datasets.check_constraints(x[:, :7], x[:, :7], c)

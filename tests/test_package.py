"""The course package: quiet import, secml kept inside, gradients, attacks, evaluation, feedback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course import checks
from course.checks import feedback
from course.ground import misconceptions
from course.science import attacks, datasets, evaluation, models

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ALL = (
    "import course, course.science.datasets, course.science.models, course.science.attacks, course.science.evaluation, "
    "course.science.plots, course.science.widgets, course.checks.feedback, course.checks, course.grader.selfcheck\n"
    "from course.science import attacks, datasets, models\n"
    "X, y = datasets.make_2d('blobs', n_samples=40)\n"
    "m = models.fit('rbf-svm', X, y, gamma=0.5)\n"
    "attacks.evade(m, X[:3], y[:3], 0.5)\n"
)


def _run_clean(env_updates: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECML")}
    env.update(env_updates)
    return subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_import_and_attack_print_nothing_with_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "tmp").mkdir()
    res = _run_clean({"HOME": str(home), "TMPDIR": str(tmp_path / "tmp")})
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == "", f"stdout={res.stdout!r} stderr={res.stderr!r}"
    assert list(home.iterdir()) == [], "secml must not create its data folder in the home directory"


def test_import_works_when_home_cannot_be_written(tmp_path):
    # A path below a regular file can never be created, not even by root.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "tmp").mkdir()
    res = _run_clean({"HOME": str(blocker / "home"), "TMPDIR": str(tmp_path / "tmp")})
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


# --------------------------------------------------------------------------- gradients
def _numeric_gradient(model, X, W, h=1e-5):
    g = np.zeros_like(X)
    for j in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[j] = h
        g[:, j] = ((models.decision_scores(model, X + e) * W).sum(1) - (models.decision_scores(model, X - e) * W).sum(1)) / (2 * h)
    return g


CASES = [
    ("logistic", {}, False), ("linear-svm", {}, False), ("rbf-svm", {"gamma": 0.5}, False),
    ("mlp", {"hidden": (8,)}, False), ("logistic", {}, True), ("rbf-svm", {"gamma": 0.3}, True), ("mlp", {"hidden": (6,)}, True),
]


@pytest.mark.parametrize("kind,params,scale", CASES)
def test_input_gradient_matches_finite_differences_binary(kind, params, scale):
    X, y = datasets.make_2d("moons", n_samples=120, random_state=3)
    m = models.fit(kind, X * 3, y, scale=scale, **params)
    Xs = X[:6] * 3
    W = np.random.default_rng(0).normal(size=(6, 2))
    np.testing.assert_allclose(models.input_gradient(m, Xs, W), _numeric_gradient(m, Xs, W), atol=1e-5)
    assert np.array_equal(m.classes_[models.decision_scores(m, X * 3).argmax(1)], m.predict(X * 3))


@pytest.mark.parametrize("kind", ["logistic", "linear-svm", "mlp"])
def test_input_gradient_multiclass(kind):
    d = datasets.load_wine()
    m = models.fit(kind, d.X, d.y, scale=True)
    W = np.random.default_rng(1).normal(size=(4, 3))
    np.testing.assert_allclose(models.input_gradient(m, d.X[:4], W), _numeric_gradient(m, d.X[:4], W, h=1e-4), rtol=1e-4, atol=1e-6)
    assert np.array_equal(m.classes_[models.decision_scores(m, d.X).argmax(1)], m.predict(d.X))


def test_models_without_gradients_say_what_to_do():
    X, y = datasets.make_2d("blobs", n_samples=60)
    forest = models.fit("forest", X, y, n_estimators=5)
    assert not models.has_gradient(forest)
    with pytest.raises(TypeError, match="surrogate"):
        models.input_gradient(forest, X[:2], [0, 1])


def test_fit_caches_and_validates():
    X, y = datasets.make_2d("blobs", n_samples=60)
    assert models.fit("logistic", X, y) is models.fit("logistic", X, y)
    assert models.fit("logistic", X, y) is not models.fit("logistic", X, y, C=0.1)
    with pytest.raises(ValueError, match="kind must be one of"):
        models.fit("transformer", X, y)


# --------------------------------------------------------------------------- attacks
@pytest.fixture(scope="module")
def blobs_model():
    X, y = datasets.make_2d("blobs", n_samples=200, random_state=1)
    return models.fit("rbf-svm", X, y, gamma=0.5), X[:25], y[:25]


@pytest.mark.parametrize("norm", ["l2", "l1", "linf"])
def test_evade_respects_budget_and_bounds(blobs_model, norm):
    m, X, y = blobs_model
    lb, ub = X.min(0) - 0.2, X.max(0) + 0.2
    X_adv = attacks.evade(m, X, y, 1.0, norm=norm, bounds=(lb, ub))
    assert np.all(attacks.perturbation_norm(X_adv, X, norm) <= 1.0 + 1e-9)
    assert np.all(X_adv >= np.minimum(lb, X) - 1e-12) and np.all(X_adv <= np.maximum(ub, X) + 1e-12)
    assert evaluation.accuracy(m, X_adv, y) < evaluation.accuracy(m, X, y), "the attack should evade some points"


def test_evade_only_changes_changeable_features(blobs_model):
    m, X, y = blobs_model
    X_adv = attacks.evade(m, X, y, 2.0, changeable=np.array([True, False]))
    assert np.array_equal(X_adv[:, 1], X[:, 1])
    assert not np.allclose(X_adv[:, 0], X[:, 0])


def test_evade_budget_zero_and_bad_arguments(blobs_model):
    m, X, y = blobs_model
    assert np.array_equal(attacks.evade(m, X, y, 0.0), X)
    with pytest.raises(ValueError, match="norm must be one of"):
        attacks.evade(m, X, y, 1.0, norm="l3")
    with pytest.raises(ValueError, match="not classes of the model"):
        attacks.evade(m, X, y + 5, 1.0)
    with pytest.raises(ValueError, match="same number of rows"):
        attacks.evade(m, X, y[:-1], 1.0)


def test_evade_returns_paths_ending_near_the_adversarial_point(blobs_model):
    m, X, y = blobs_model
    X_adv, paths = attacks.evade(m, X[:3], y[:3], 0.8, return_paths=True)
    assert len(paths) == 3 and all(p.shape[1] == 2 for p in paths)


def test_project_puts_points_back_into_the_threat_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    X_far = X + rng.normal(scale=5, size=X.shape)
    for norm in ("l2", "linf", "l1"):
        P = attacks.project(X_far, X, 0.5, norm, bounds=(-2, 2), changeable=[True, True, False, True])
        assert np.all(attacks.perturbation_norm(P, X, norm) <= 0.5 + 1e-9)
        assert np.array_equal(P[:, 2], X[:, 2])
        assert np.all((P >= np.minimum(-2, X) - 1e-12) & (P <= np.maximum(2, X) + 1e-12))


# --------------------------------------------------------------------------- evaluation
def test_security_curve_starts_at_clean_accuracy_and_never_rises(blobs_model):
    m, X, y = blobs_model
    c = evaluation.security_curve(m, X, y, [0, 0.5, 1.0, 2.0], progress=False)
    assert c.at(0) == pytest.approx(evaluation.accuracy(m, X, y))
    assert np.all(np.diff(c.accuracy) <= 1e-12)
    assert c.accuracy[-1] < c.accuracy[0]
    assert c.n_samples == len(y)
    with pytest.raises(ValueError, match="not measured"):
        c.at(0.7)


# --------------------------------------------------------------------------- feedback and checks
def test_failure_message_says_expected_seen_why_and_misconception():
    chk = feedback.Checker("x/y", ["M7"])
    with pytest.raises(feedback.CheckFailed) as e:
        chk.expect(False, expected="accuracy <= 0.3", seen="accuracy 0.9", why="because")
    text = str(e.value)
    for part in ("expected: accuracy <= 0.3", "seen:     accuracy 0.9", "why it matters: because", "M7 (High test accuracy"):
        assert part in text


def test_grading_seed_controls_hidden_data_only(monkeypatch):
    monkeypatch.delenv(checks.SEED_VARIABLE, raising=False)
    visible = checks.seed_for("01-ml-recap/distance", hidden=False)
    default_hidden = checks.seed_for("01-ml-recap/distance", hidden=True)
    monkeypatch.setenv(checks.SEED_VARIABLE, "12345")
    assert checks.seed_for("01-ml-recap/distance", hidden=False) == visible
    assert checks.seed_for("01-ml-recap/distance", hidden=True) != default_hidden
    assert checks.seed_for("01-ml-recap/distance", hidden=True) != checks.seed_for("01-ml-recap/evade-linear", hidden=True)
    monkeypatch.setenv(checks.SEED_VARIABLE, "abc")
    with pytest.raises(ValueError, match="must be an integer"):
        checks.grading_seed()


def test_every_task_names_known_misconceptions():
    for aid in checks.assignments():
        for t in checks.tasks_of(aid):
            assert t.misconceptions and set(t.misconceptions) <= set(misconceptions.MISCONCEPTIONS), t.id


def test_unknown_task_and_non_function_answers():
    with pytest.raises(KeyError, match="unknown task"):
        checks.get("01-ml-recap/nope")
    v = checks.evaluate("01-ml-recap/distance", 3.0)
    assert not v.passed and "to be a function" in v.expected


def test_every_check_module_imports():
    checks.assignments()
    assert not checks.BROKEN, f"check modules that fail to import: {checks.BROKEN}"

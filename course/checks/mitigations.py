"""Checks of exercise 09 (mitigations, and how to know they work): M1 - "we already have a working mitigation".

Every check builds its own defended models from the task's seed (the visible check from the
public seed, the hidden one from the grading seed), hands the learner's function a *copy*, and
judges what comes back against the threat model: every pixel within 0.1 of the original
(L-infinity) and inside [0, 1]; accuracy measured by the check itself, with the harness of
`course.science.evaluation` as the reference.
"""
from __future__ import annotations

import copy

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.science import attacks, defences, evaluation, models

A = "09-mitigations"
BUDGET = 0.1
TOLERANCE = 0.08  # how far above the harness's worst case an adaptive attack may land
ROBUST_TARGET = 0.60  # task 3: accuracy under the adaptive battery at L-inf 0.1
CLEAN_TARGET = 0.88
FAILURE_MODES = ("shattered", "stochastic", "obscurity", "none")


def _seed(seed: int) -> int:
    return int(seed) % (2**31 - 1)


def _threat(query_budget: int = 1000) -> evaluation.ThreatModel:
    return evaluation.ThreatModel(budget=BUDGET, norm="linf", budgets=(0, BUDGET), bounds=(0, 1),
                                  query_budget=query_budget, pool_queries=1000)


def _setting(seed, n_eval=100):
    return defences.digits_setting(random_state=_seed(seed), n_eval=n_eval)


# --------------------------------------------------------------------------- task 1
@task(f"{A}/adaptive-attack", answer="adaptive_attack", misconceptions=["M1"])
def check_adaptive_attack(adaptive_attack, seed, chk):
    s = _setting(seed)
    family = "median" if seed == 0 else ("squeeze", "noise")[_seed(seed) % 2]
    model = defences.defended_model(family, s, _seed(seed) % 1000)
    randomised = family == "noise"
    X, y = s.X, s.y
    X_adv = call(chk, adaptive_attack, copy.deepcopy(model), X.copy(), y.copy(), what="adaptive_attack")
    X_adv = np.asarray(X_adv, dtype=float) if X_adv is not None else None
    chk.expect(X_adv is not None and X_adv.shape == X.shape, expected=f"an array of shape {X.shape}",
               seen=f"{type(X_adv).__name__} of shape {getattr(X_adv, 'shape', None)}")
    chk.expect(np.all(np.isfinite(X_adv)), expected="finite pixel values", seen="NaN or inf in the result")
    size = np.abs(X_adv - X).max()
    chk.expect(size <= BUDGET + 1e-9, expected=f"every pixel within {BUDGET} of the original (L∞ budget)",
               seen=f"largest change {size:.4g}",
               why="an attack that ignores its budget proves nothing: robustness is always 'under a budget'")
    chk.expect(X_adv.min() >= -1e-9 and X_adv.max() <= 1 + 1e-9, expected="pixels inside [0, 1]",
               seen=f"range [{X_adv.min():.3g}, {X_adv.max():.3g}]")
    repeats = 20 if randomised else 1
    yours = evaluation.accuracy_under_attack(model, X_adv, y, repeats=repeats)
    reference = evaluation.evaluate_defence(copy.deepcopy(model), X, y, _threat(), X_pool=s.X_attacker,
                                            unbounded=False, progress=False, random_state=_seed(seed) % 1000)
    naive_sets = {BUDGET: attacks.pgd(s.mlp, X, y, BUDGET, bounds=(0, 1), early_stop=True)}
    naive = evaluation.accuracy_under_attack(model, naive_sets[BUDGET], y, repeats=repeats)
    chk.expect(
        yours <= reference.worst_case + TOLERANCE,
        expected=f"the defended model's accuracy on your points at most {reference.worst_case + TOLERANCE:.3f} "
                 f"(the harness's adaptive worst case {reference.worst_case:.3f} + {TOLERANCE})",
        seen=f"accuracy {yours:.3f} on your points (naive evaluation: {naive:.3f}; defence: {model.name})",
        why="the defence only looks robust against attacks that ignore it; an attacker who knows it attacks "
            "through the preprocessing (BPDA) and averages over its randomness (EOT)",
    )
    return chk.passed(f"{model.name}: accuracy {yours:.3f} on your adaptive points (harness worst case "
                      f"{reference.worst_case:.3f}; the naive evaluation said {naive:.3f})")


# --------------------------------------------------------------------------- task 2
class DefendedModel:
    """A model behind some defence; what it offers is all there is to know about it."""

    def __init__(self, behaviour: dict):
        self.classes_ = behaviour.pop("classes_")
        for name, fn in behaviour.items():
            setattr(self, name, fn)


def _mystery(mode, base, rng):
    """A defended model showing one failure mode, through the documented hooks only."""
    b = {"classes_": np.asarray(base.classes_)}
    scores = lambda Z: models.decision_scores(base, Z)  # noqa: E731
    if mode == "shattered":  # honest scores of a squeezed input, and the honest (zero) gradient of rounding
        levels = int(rng.integers(3, 8))
        sq = lambda Z: np.round(np.asarray(Z, dtype=float) * levels) / levels  # noqa: E731
        b["predict"] = lambda Z: base.predict(sq(Z))
        b["decision_function"] = lambda Z: scores(sq(Z))
        b["input_gradient"] = lambda Z, W: np.zeros_like(np.asarray(Z, dtype=float))
    elif mode == "stochastic":  # fresh noise on every call, gradient of one draw
        sigma = float(rng.uniform(0.1, 0.25))
        noise = np.random.default_rng(int(rng.integers(1 << 30)))
        jitter = lambda Z: np.clip(np.asarray(Z, dtype=float) + noise.normal(0, sigma, np.shape(Z)), 0, 1)  # noqa: E731
        b["predict"] = lambda Z: base.predict(jitter(Z))
        b["decision_function"] = lambda Z: scores(jitter(Z))
        b["input_gradient"] = lambda Z, W: models.input_gradient(base, jitter(Z), W)
    elif mode == "obscurity":  # labels only
        b["predict"] = lambda Z: base.predict(np.asarray(Z, dtype=float))
    else:  # nothing hidden
        b["predict"] = lambda Z: base.predict(np.asarray(Z, dtype=float))
        b["decision_function"] = scores
        b["input_gradient"] = lambda Z, W: models.input_gradient(base, Z, W)
    return DefendedModel(b)


ATTACK_FOR = {"shattered": "BPDA (attack straight through the non-differentiable step)",
              "stochastic": "EOT (average gradients and answers over the randomness)",
              "obscurity": "transfer from a surrogate, or a query-based attack",
              "none": "plain white-box PGD: nothing is masked"}


@task(f"{A}/diagnose", answer="diagnose", misconceptions=["M1"])
def check_diagnose(diagnose, seed, chk):
    s = _setting(seed, n_eval=60)
    rng = np.random.default_rng(_seed(seed))
    bases = [s.mlp, defences.fit_quietly("logistic", s.X_train, s.y_train)]
    modes = list(FAILURE_MODES) + list(rng.choice(FAILURE_MODES, size=2))
    rng.shuffle(modes)
    for mode in modes:
        base = bases[int(rng.integers(len(bases)))]
        model = _mystery(mode, base, rng)
        got = call(chk, diagnose, model, s.X.copy(), s.y.copy(), what="diagnose")
        chk.expect(isinstance(got, str) and got in FAILURE_MODES, expected=f"one of {FAILURE_MODES}",
                   seen=fmt(got))
        chk.expect(got == mode, expected=f"{mode!r} for this model (its adaptive attack: {ATTACK_FOR[mode]})",
                   seen=f"{got!r}",
                   why="naming the failure mode is naming the attack that breaks the defence: a zero gradient "
                       "calls for BPDA, randomness for EOT, a hidden model for transfer or queries")
    return chk.passed(f"all {len(modes)} defended models diagnosed correctly")


# --------------------------------------------------------------------------- task 3
def _plain_sklearn(model) -> bool:
    from sklearn.pipeline import Pipeline

    parts = [t for _, t in model.steps] if isinstance(model, Pipeline) else [model]
    return all(type(p).__module__.startswith("sklearn.") for p in parts) and type(model).__module__.startswith("sklearn.")


@task(f"{A}/robust-model", answer="build_robust_model", misconceptions=["M1", "M7"])
def check_robust_model(build_robust_model, seed, chk):
    s = _setting(seed, n_eval=150)
    model = call(chk, build_robust_model, s.X_train.copy(), s.y_train.copy(), what="build_robust_model")
    chk.expect(hasattr(model, "predict"), expected="a fitted model with predict", seen=type(model).__name__)
    chk.expect(
        _plain_sklearn(model) and models.has_gradient(model),
        expected="a plain scikit-learn model that course.science.models can differentiate (an MLPClassifier, a linear "
                 "model or an SVM, optionally after a StandardScaler or MinMaxScaler in a Pipeline)",
        seen=f"{type(model).__module__}.{type(model).__name__}",
        why="the attacker is assumed to know your model (Kerckhoffs's principle): a defence that holds only while "
            "its workings are hidden is the believed mitigation this lesson is about",
    )
    report = evaluation.evaluate_defence(model, s.X, s.y, _threat(), X_pool=s.X_attacker, unbounded=False,
                                         progress=False, use_model_gradients=False, random_state=_seed(seed) % 1000)
    chk.expect(report.clean_accuracy >= CLEAN_TARGET, expected=f"clean accuracy >= {CLEAN_TARGET} on new images",
               seen=f"clean accuracy {report.clean_accuracy:.3f}",
               why="a model nobody can use is not a mitigation: robustness is paid for in clean accuracy, within limits")
    strongest = report.strongest
    chk.expect(
        report.worst_case >= ROBUST_TARGET,
        expected=f"accuracy >= {ROBUST_TARGET} under the harness's adaptive attacks at L∞ {BUDGET} (n={len(s.y)})",
        seen=f"worst case {report.worst_case:.3f} (strongest attack: {strongest}; clean {report.clean_accuracy:.3f})",
        why="robustness counts only under an attacker who knows the model; an undefended MLP keeps about 0.4 here",
    )
    return chk.passed(f"clean {report.clean_accuracy:.3f}, adaptive worst case {report.worst_case:.3f} "
                      f"at L∞ {BUDGET} (n={len(s.y)})")

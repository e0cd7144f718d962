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
TOLERANCE = 0.15  # how far above the harness's BPDA (PGD with early stopping and a restart) an attack may land
FAILURE_MODES = ("shattered", "stochastic", "obscurity", "none")


def _seed(seed: int) -> int:
    return int(seed) % (2**31 - 1)


def _threat(query_budget: int = 1000) -> evaluation.ThreatModel:
    return evaluation.ThreatModel(budget=BUDGET, norm="linf", budgets=(0, BUDGET), bounds=(0, 1),
                                  query_budget=query_budget, pool_queries=1000)


def _setting(seed, n_eval=100, fit_mlp=True):
    return defences.digits_setting(random_state=_seed(seed), n_eval=n_eval, fit_mlp=fit_mlp)


# --------------------------------------------------------------------------- task 1
MARGIN = 0.03  # how far below the attack that ignores the defence an adaptive attack must land
N_ATTACK = 200  # images per check: the margins are a few images wide, so use the whole evaluation set


def _task1_model(seed, s):
    """The visible check: the team's model (3x3 median filter). A hidden check: a 5x5 median filter in front of an
    MLP trained on smoothed images from another seed; there, attacking the classifier as if the filter were not
    there is clearly weaker than attacking through it (on 3-bit squeezing and on noise the classifier was
    trained for, it is not, so those would not tell an attack that knows the defence from one that ignores it)."""
    if seed == 0:
        return defences.handed_model(s)
    rs = _seed(seed) % 1000
    clf = defences.fit_quietly("mlp", defences.median_smoothing(None, 5).preprocess(s.X_train), s.y_train,
                               hidden=(64,), random_state=rs)
    return defences.median_smoothing(clf, 5)


def _ignoring(model, X, y, seed):
    """The same-budget attack without the mechanism: white-box PGD on the classifier alone, as if the
    preprocessing were not there (from the clean points, 40 steps, and from a random start, 100 steps);
    per image, whichever the defended model got wrong."""
    runs = [attacks.pgd(model.classifier, X, y, BUDGET, bounds=(0, 1), steps=40),
            attacks.pgd(model.classifier, X, y, BUDGET, bounds=(0, 1), steps=100, random_start=True,
                        random_state=_seed(seed) % 1000)]
    return float(np.mean(np.all([model.predict(Xa) == y for Xa in runs], axis=0)))


@task(f"{A}/adaptive-attack", answer="adaptive_attack", misconceptions=["M1"])
def check_adaptive_attack(adaptive_attack, seed, chk):
    s = _setting(seed, n_eval=N_ATTACK, fit_mlp=False)  # the undefended MLP plays no part here
    model = _task1_model(seed, s)
    X, y = s.X, s.y
    X_adv = call(chk, adaptive_attack, copy.deepcopy(model), X.copy(), y.copy(), what="adaptive_attack")
    X_adv = np.asarray(X_adv, dtype=float) if X_adv is not None else None
    chk.require(X_adv is not None and X_adv.shape == X.shape, expected=f"an array of shape {X.shape}",
                seen=f"{type(X_adv).__name__} of shape {getattr(X_adv, 'shape', None)}")
    chk.require(np.all(np.isfinite(X_adv)), expected="finite pixel values", seen="NaN or inf in the result")
    size = np.abs(X_adv - X).max()
    chk.require(size <= BUDGET + 1e-9, expected=f"every pixel within {BUDGET} of the original (L∞ budget)",
               seen=f"largest change {size:.4g}",
               why="an attack that ignores its budget proves nothing: robustness is always 'under a budget'")
    chk.require(X_adv.min() >= -1e-9 and X_adv.max() <= 1 + 1e-9, expected="pixels inside [0, 1]",
                seen=f"range [{X_adv.min():.3g}, {X_adv.max():.3g}]",
                why="an image with pixels outside [0, 1] is not an input anybody can submit")
    yours = evaluation.accuracy_under_attack(model, X_adv, y)
    ignoring = _ignoring(model, X, y, seed)
    reference = evaluation.evaluate_defence(copy.deepcopy(model), X, y, _threat(), attacks=("bpda",), escalate=False,
                                            unbounded=False, progress=False, random_state=_seed(seed) % 1000)
    bpda = min(reference.robust.values())
    bar = min(ignoring - MARGIN, bpda + TOLERANCE)
    chk.expect(
        yours <= bar,
        expected=f"the defended model's accuracy on your points at most {bar:.3f}: {MARGIN} below an attack that "
                 f"ignores the filter (PGD on the classifier alone: {ignoring:.3f}) and at most {TOLERANCE} above "
                 f"the harness's BPDA ({bpda:.3f})",
        seen=f"accuracy {yours:.3f} on your points ({model.name}, {len(y)} images)",
        why="the defence only looks robust against attacks that ignore it; an attacker who knows it attacks "
            "through the preprocessing (BPDA: the classifier's gradient at the filtered image)",
    )
    return chk.passed(f"{model.name}: accuracy {yours:.3f} on your adaptive points (ignoring the filter: "
                      f"{ignoring:.3f}; the harness's BPDA: {bpda:.3f})")


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
    for k, mode in enumerate(modes):
        base = bases[int(rng.integers(len(bases)))]
        model = _mystery(mode, base, rng)
        chk.current_case = f"defended model {k + 1} of {len(modes)}"
        got = call(chk, diagnose, model, s.X.copy(), s.y.copy(), what="diagnose")
        chk.require(isinstance(got, str) and got in FAILURE_MODES, expected=f"one of {FAILURE_MODES}",
                    seen=fmt(got))
        chk.expect(got == mode, expected="the failure mode this model shows (measure it: gradients, repeated "
                   "answers, what the model offers)", seen=f"{got!r}, which would call for {ATTACK_FOR[got]}",
                   why="naming the failure mode is naming the attack that breaks the defence: a zero gradient "
                       "calls for BPDA, randomness for EOT, a hidden model for transfer or queries")
    chk.current_case = ""
    return chk.passed(f"all {len(modes)} defended models diagnosed correctly")


# --------------------------------------------------------------------------- task 3
CLAIM_TOLERANCE = 0.05  # how far an honest claim may be from the harness's figure
USABLE = 0.80  # a mitigation nobody can use is not one


@task(f"{A}/mitigation-claim", answer="my_mitigation", kind="value", misconceptions=["M1", "M7"])
def check_mitigation_claim(my_mitigation, seed, chk):
    chk.attempted(my_mitigation is not None, seen="my_mitigation is still None")
    chk.require(isinstance(my_mitigation, dict) and {"model", "claim"} <= set(my_mitigation),
                expected='a dict {"model": your mitigation, "claim": its accuracy under the adaptive harness}',
                seen=fmt(my_mitigation))
    try:
        claim = float(my_mitigation["claim"])
    except (TypeError, ValueError):
        chk.require(False, expected="a claim: a number between 0 and 1", seen=fmt(my_mitigation["claim"]))
    chk.require(0.0 <= claim <= 1.0, expected="a claim between 0 and 1", seen=f"{claim}")
    recipe = defences.recipe_of(my_mitigation["model"])
    chk.require(recipe is not None,
                expected="a mitigation the grader can rebuild: a scikit-learn estimator, or the course's input "
                         "preprocessing (squeeze, rounding, median_smoothing) or RandomNoise around one",
                seen=f"a {type(my_mitigation['model']).__name__}",
                why="the grader measures your mitigation on its own side; any other mitigation is judged by your "
                    "written diagnosis (task 4) alone")
    model = defences.rebuild(recipe, random_state=_seed(seed) % 1000)
    s = defences.digits_setting()  # the notebook's 200 test images: your claim is about them
    random_state = 0 if not chk.hidden else _seed(seed) % 1000 + 1
    report = evaluation.evaluate_defence(model, s.X, s.y, _threat(), X_pool=s.X_attacker, unbounded=False,
                                         progress=False, random_state=random_state)
    chk.require(report.clean_accuracy >= USABLE, expected=f"clean accuracy >= {USABLE} on the 200 test images",
                seen=f"clean accuracy {report.clean_accuracy:.3f}",
                why="a model nobody can use is not a mitigation: robustness is paid for in clean accuracy, within limits")
    chk.expect(
        abs(claim - report.worst_case) <= CLAIM_TOLERANCE,
        expected=f"a claim within {CLAIM_TOLERANCE} of what the adaptive harness measures (L∞ {BUDGET}, an attacker "
                 f"who knows the mitigation; n={len(s.y)})",
        seen=f"you claimed {claim:.3f}; the harness measured {report.worst_case:.3f} ({report.strongest}; "
             f"{model.name if hasattr(model, 'name') else type(model).__name__})",
        why="a mitigation is worth the number an attacker who knows it leaves, not the number its authors believe",
    )
    return chk.passed(f"claim {claim:.3f}, harness {report.worst_case:.3f} ({report.strongest}); clean accuracy "
                      f"{report.clean_accuracy:.3f}")

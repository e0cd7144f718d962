"""White-box attacks, with the threat model explicit: numpy in, numpy out.

There is one PGD in the course (Madry et al., ICLR 2018): `pgd_steps`, projected gradient ascent
on the attacker's margin (best wrong class minus the true class), batched over points, with the
one projection of `course.ground.threat`. `pgd` runs it on any model with a gradient (the
evaluation harness's attack: abstentions, BPDA and EOT through `gradient_view`), `fgsm` is its
one-step form, and `evade(method="pgd")` runs it from two starts per point, as lesson 03 shows.
`evade(method="pgd-ls")`, the default, is secml's PGD with a line search (Biggio & Roli 2018):
the library the course's research lab wrote, kept for the security evaluation curves.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from course.ground.threat import as_bounds, check_norm, point_box, project
from course.science.attacks.base import (
    evaded,
    labels_decide_abstain,
    margin_weights,
    norm_step,
    sample_ball,
    single_thread,
    valid_classes,
)

METHODS = ("pgd-ls", "pgd")


def evade(
    model,
    X,
    y,
    budget: float,
    *,
    norm: str = "l2",
    bounds=(-np.inf, np.inf),
    changeable=None,
    method: str = "pgd-ls",
    y_target=None,
    steps: int = 30,
    step_size: float | None = None,
    init_points=None,
    return_paths: bool = False,
    progress: bool | None = None,
):
    """Evasion attack: find x' near each x that the model misclassifies.

    Parameters
    ----------
    model : a fitted scikit-learn classifier with known gradients (linear models, SVC with a
        linear or binary RBF kernel, MLP, or a scaler + one of those in a Pipeline).
    X, y : the points to attack and their true labels.
    budget : the largest perturbation allowed, in the given norm (0 returns X unchanged).
    norm : "l2", "l1" or "linf".
    bounds : (lower, upper), scalars or one value per feature: the valid input range.
    changeable : boolean mask of the features the attacker may change (default: all).
    method : "pgd-ls" (projected gradient descent with line search, secml's) or "pgd" (the course's
        own PGD, `pgd_steps`: fixed steps of `step_size`, started from the point and from the
        nearest init point of another class, the better of the two kept).
    y_target : a class label to aim for (targeted attack), or None to cause any error.
    steps : iterations of the optimiser per point.
    step_size : first step length (default: a fifth of the budget).
    init_points : points to start a second attempt from (the nearest one of another class);
        default: the attacked points themselves. Pass an empty array to start only from x.
    return_paths : also return, for each point, the sequence of iterates (for plots).
    progress : show a progress bar (default: when attacking more than 20 points).

    Returns
    -------
    X_adv : array like X, every row within the threat model around the matching row of X.
    paths : list of arrays (only with return_paths=True).
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    norm = check_norm(norm)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if budget < 0:
        raise ValueError(f"budget must be >= 0; got {budget}")
    d = X.shape[1]
    lb, ub = as_bounds(bounds, d)
    mask = None if changeable is None else np.asarray(changeable, dtype=bool)
    if mask is not None and mask.shape != (d,):
        raise ValueError(f"changeable must be a boolean mask of length {d}; got shape {mask.shape}")
    classes = list(model.classes_)
    unknown = set(np.unique(y)) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not classes of the model {classes}")
    if budget == 0 or len(X) == 0:
        X_adv = X.copy()
        return (X_adv, [x[None, :] for x in X]) if return_paths else X_adv

    eta = float(step_size) if step_size else max(budget / 5.0, 1e-4)
    show = progress if progress is not None else len(X) > 20
    if method == "pgd":
        if y_target is not None:
            raise ValueError("a targeted attack (y_target) needs method='pgd-ls'")
        pool = X if init_points is None else np.atleast_2d(np.asarray(init_points, dtype=float))
        X_adv, paths = _pgd_two_starts(model, X, y, budget, norm=norm, bounds=(lb, ub), changeable=mask, steps=int(steps),
                                       step_size=eta, pool=pool, record=return_paths, progress=show)
        return (X_adv, paths) if return_paths else X_adv

    from course.science import _secml

    # secml's L2/L1 constraint; for L-inf the per-point box does the work, so the L2 radius
    # is set where it can never bind (the corner of the L-inf ball).
    distance = "l1" if norm == "l1" else "l2"
    dmax = budget * np.sqrt(d) * 1.01 if norm == "linf" else budget
    solver = {"eta": eta, "eta_min": eta / 10.0, "eta_max": None, "max_iter": int(steps), "eps": 1e-6}
    target = None if y_target is None else classes.index(y_target)
    attack = _secml.make_attack(
        model, d, distance=distance, dmax=dmax, lb=lb, ub=ub,
        solver_params=solver, y_target=target, init_points=X if init_points is None else init_points,
    )
    X_adv = np.empty_like(X)
    paths = []
    for i in tqdm(range(len(X)), desc=f"evasion ({norm}, budget {budget:g})", disable=not show, leave=False):
        lo, hi = point_box(X[i], lb, ub, mask, norm, budget)
        x_adv, path = _secml.run_one(attack, X[i], classes.index(y[i]), lo, hi)
        # secml's projections are exact up to float error; make the threat model hold exactly
        X_adv[i] = project(x_adv[None, :], X[i][None, :], budget, norm, (lo, hi), mask)[0]
        paths.append(path)
    return (X_adv, paths) if return_paths else X_adv


class GradientView:
    """An attacker's differentiable view: scores over `classes`, their input gradient, randomness."""

    def __init__(self, scores, grad, classes, samples=1, name=""):
        self._scores, self._grad, self.classes, self.samples, self.name = scores, grad, np.asarray(classes), samples, name

    def scores(self, X):
        return np.mean([self._scores(X) for _ in range(self.samples)], axis=0) if self.samples > 1 else self._scores(X)

    def grad_and_scores(self, X, y, valid):
        """Expectation (over `samples` draws) of the margin's gradient; returns (gradient, mean margin)."""
        G = np.zeros_like(X)
        M = np.zeros(len(X))
        for _ in range(self.samples):
            S, g = self._grad(X, y, valid)
            G += g
            M += S
        return G / self.samples, M / self.samples


def direct_view(model, trust):
    """The exact gradient of a model, if the course knows it (or the model offers it and we trust it)."""
    from course.science import models

    if models.has_gradient(model):
        sc, gr = (lambda X: models.decision_scores(model, X)), (lambda X, W: models.input_gradient(model, X, W))
    elif trust and callable(getattr(model, "input_gradient", None)) and callable(getattr(model, "decision_function", None)) \
            and hasattr(model, "classes_"):
        def sc(X):
            s = np.asarray(model.decision_function(X), dtype=float)
            return np.stack([-s, s], axis=1) if s.ndim == 1 else s

        def gr(X, W):
            return np.asarray(model.input_gradient(X, W), dtype=float)
    else:
        return None
    classes = np.asarray(model.classes_)

    def margin_grad(X, y, valid):
        S = sc(X)
        W, m, W2 = margin_weights(S, classes, y, valid, with_second=True)
        G = gr(X, W)
        if W2 is not None:  # two goals (cross, escape the abstention): each gradient counts equally
            rows = np.flatnonzero(np.abs(W2).sum(axis=1) > 0)
            G2 = gr(X[rows], W2[rows])
            unit = lambda A: A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # noqa: E731
            G[rows] = unit(G[rows]) + unit(G2)
        return m, G

    return sc, margin_grad, classes


def gradient_view(model, trust, pre=None, samples=1, name=""):
    got = direct_view(model, trust)
    if got is None:
        return None
    sc, mg, classes = got
    if pre is None:
        return GradientView(sc, mg, classes, samples, name)
    # straight-through (BPDA): gradient of the classifier at preprocess(x), used as the gradient at x
    return GradientView(lambda X: sc(pre(X)), lambda X, y, v: mg(pre(X), y, v), classes, samples, name)


def pgd_steps(view, X, y, budget, *, norm, bounds, changeable, steps, step_size, random_start, rng, evaded_fn=None,
              X_start=None, trace=None):
    """Projected gradient ascent on the margin; with `evaded_fn`, points stop moving once evaded.

    The core of the course's PGD, in four lines of the loop: the margin's gradient, a step of
    `step_size` along it (its sign for L-inf, its direction for L2 and L1), the projection back
    into the threat model around each x, and (optionally) stopping the points already evaded.
    With `trace` (a list), every iterate is appended to it (for plots of the paths).
    """
    X = np.asarray(X, dtype=float)
    if budget <= 0 or len(X) == 0:
        return X.copy()
    valid = valid_classes(view.classes)
    alpha = step_size if step_size else (budget / 8 if norm == "linf" else budget / 5)
    Xa = X.copy() if X_start is None else np.array(X_start, dtype=float)
    if random_start:
        Xa = Xa + sample_ball(rng, X, budget, norm) * rng.uniform(0, 1, (len(X), 1))
    Xa = project(Xa, X, budget, norm, bounds, changeable)
    active = np.ones(len(X), bool)
    if evaded_fn is not None:
        active &= ~evaded_fn(Xa, np.arange(len(X)))
    if trace is not None:
        trace.append(Xa.copy())
    for _ in range(int(steps)):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        G, _ = view.grad_and_scores(Xa[idx], y[idx], valid)
        if changeable is not None:
            G = G * np.asarray(changeable, dtype=float)
        Xa[idx] = project(Xa[idx] + norm_step(G, alpha, norm), X[idx], budget, norm, bounds, changeable)
        if evaded_fn is not None:
            active[idx] &= ~evaded_fn(Xa[idx], idx)
        if trace is not None:
            trace.append(Xa.copy())
    return Xa


@single_thread
@labels_decide_abstain
def _pgd_two_starts(model, X, y, budget, *, norm, bounds, changeable, steps, step_size, pool, record, progress):
    """`evade(method="pgd")`: PGD from x and from the nearest pool point of another class, the better kept.

    The second start escapes the flat regions far from an RBF model's support vectors, where the
    gradient at x vanishes (secml calls it "double init"). Returns (X_adv, paths or None).
    """
    view = gradient_view(model, trust=False)
    if view is None:
        raise TypeError(f"{type(model).__name__}: the course knows no gradient for it; use a model of course.science.models")
    valid = valid_classes(view.classes)
    y = np.asarray(y)
    starts = [None]
    if len(pool):
        pool_labels = view.classes[np.argmax(view.scores(pool), axis=1)]
        other = pool_labels[None, :] != y[:, None]
        dist = np.linalg.norm(X[:, None, :] - pool[None, :, :], axis=2)
        nearest = np.argmin(np.where(other, dist, np.inf), axis=1)
        has = other.any(axis=1)
        starts.append(np.where(has[:, None], pool[nearest], X))
    best, best_margin, best_trace = None, None, None
    for start in tqdm(starts, desc=f"PGD ({norm}, budget {budget:g})", disable=not progress, leave=False):
        trace = [] if record else None
        Xa = pgd_steps(view, X, y, budget, norm=norm, bounds=bounds, changeable=changeable, steps=steps,
                       step_size=step_size, random_start=False, rng=None, X_start=start, trace=trace)
        margin = margin_weights(view.scores(Xa), view.classes, y, valid)[1]
        if best is None:
            best, best_margin, best_trace = Xa, margin, trace
            continue
        better = margin > best_margin
        best = np.where(better[:, None], Xa, best)
        best_margin = np.maximum(margin, best_margin)
        if record:
            best_trace = [np.where(better[:, None], a, b) for a, b in zip(trace, best_trace)]
    paths = [np.vstack([X[i]] + [t[i] for t in best_trace]) for i in range(len(X))] if record else None
    return best, paths


@single_thread
@labels_decide_abstain
def pgd(model, X, y, budget: float, *, norm: str = "linf", bounds=(-np.inf, np.inf), changeable=None, steps: int = 40,
        step_size: float | None = None, random_start: bool = False, early_stop: bool = False, random_state: int = 0,
        use_model_gradients: bool = True):
    """Fast, batched PGD (Madry et al. 2018) on the margin loss of a differentiable model.

    `model` is a scikit-learn model the course can differentiate (`course.science.models.has_gradient`)
    or any object with `decision_function`, `input_gradient` and `classes_`. With
    `early_stop=True` each point stops moving as soon as it is misclassified: a *minimal*
    adversarial example, just across the boundary (what many evaluations use, and why
    many defences look better than they are). Returns X_adv within the threat model.
    """
    view = gradient_view(model, use_model_gradients)
    if view is None:
        raise TypeError(f"{type(model).__name__}: no gradient available; use evaluate_defence, which attacks "
                        "opaque models with surrogates and queries")
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    fn = None
    if early_stop:
        def fn(Xa, idx):
            return evaded(view.classes[np.argmax(view.scores(Xa), axis=1)], y[idx])
    return pgd_steps(view, X, y, budget, norm=norm, bounds=bounds, changeable=changeable, steps=steps,
                     step_size=step_size, random_start=random_start, rng=rng, evaded_fn=fn)


@labels_decide_abstain
def fgsm(model, X, y, budget: float, *, norm: str = "linf", bounds=(-np.inf, np.inf), changeable=None,
         use_model_gradients: bool = True):
    """One-step attack (FGSM, Goodfellow et al. 2015): one step of the full budget along the gradient sign."""
    view = gradient_view(model, use_model_gradients)
    if view is None:
        raise TypeError(f"{type(model).__name__}: no gradient available")
    return pgd_steps(view, np.atleast_2d(np.asarray(X, dtype=float)), np.asarray(y), budget, norm=norm, bounds=bounds,
                     changeable=changeable, steps=1, step_size=budget, random_start=False, rng=np.random.default_rng(0))

"""Attacks, with the threat model explicit: numpy in, numpy out.

`evade` runs gradient-based evasion (secml's PGD or PGD with line search) against a fitted
scikit-learn model, within a perturbation budget in the L2, L1 or L-infinity norm, inside
feature bounds, changing only the features the attacker controls. `project` is the same
constraint set as a plain function, so learners and tests can check a result against it.
Query-based building blocks (a counted prediction API) live in `course.api`.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

NORMS = ("l2", "l1", "linf")
METHODS = ("pgd-ls", "pgd")


def _as_bounds(bounds, d):
    lb, ub = bounds
    lb = np.broadcast_to(np.asarray(lb, dtype=float), (d,)).copy()
    ub = np.broadcast_to(np.asarray(ub, dtype=float), (d,)).copy()
    if np.any(lb > ub):
        raise ValueError("bounds: every lower bound must be <= its upper bound")
    return lb, ub


def _point_box(x, lb, ub, changeable, norm, budget):
    """The box one point may move in: feature bounds, fixed features, and the L-inf ball."""
    lo, hi = lb.copy(), ub.copy()
    if norm == "linf":
        lo, hi = np.maximum(lo, x - budget), np.minimum(hi, x + budget)
    if changeable is not None:
        lo, hi = np.where(changeable, lo, x), np.where(changeable, hi, x)
    # a clean point outside the bounds stays where it is in those features
    return np.minimum(lo, x), np.maximum(hi, x)


def perturbation_norm(X_adv, X, norm: str = "l2") -> np.ndarray:
    """Size of each row's perturbation in the given norm."""
    delta = np.asarray(X_adv, dtype=float) - np.asarray(X, dtype=float)
    order = {"l2": 2, "l1": 1, "linf": np.inf}[_check_norm(norm)]
    return np.linalg.norm(delta.reshape(len(delta), -1), ord=order, axis=1)


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")
    return norm


def project(X_adv, X, budget: float, norm: str = "l2", bounds=(-np.inf, np.inf), changeable=None) -> np.ndarray:
    """Bring each row of X_adv back into the threat model around the matching row of X.

    The perturbation is shrunk (L2), clipped (L-inf) or scaled (L1, an approximation) to the
    budget; features the attacker cannot change are reset; the result is clipped to bounds.
    """
    X = np.asarray(X, dtype=float)
    X_adv = np.array(X_adv, dtype=float)
    lb, ub = _as_bounds(bounds, X.shape[1])
    delta = X_adv - X
    if changeable is not None:
        delta = np.where(np.asarray(changeable, dtype=bool), delta, 0.0)
    norm = _check_norm(norm)
    if norm == "linf":
        delta = np.clip(delta, -budget, budget)
    else:
        size = perturbation_norm(X + delta, X, norm)
        factor = np.where(size > budget, budget / np.maximum(size, 1e-12), 1.0)
        delta = delta * factor[:, None]
    return np.clip(X + delta, np.minimum(lb, X), np.maximum(ub, X))


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
    method : "pgd-ls" (projected gradient descent with line search, secml's default) or "pgd".
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
    from course import _secml

    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    norm = _check_norm(norm)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if budget < 0:
        raise ValueError(f"budget must be >= 0; got {budget}")
    d = X.shape[1]
    lb, ub = _as_bounds(bounds, d)
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

    # secml's L2/L1 constraint; for L-inf the per-point box does the work, so the L2 radius
    # is set where it can never bind (the corner of the L-inf ball).
    distance = "l1" if norm == "l1" else "l2"
    dmax = budget * np.sqrt(d) * 1.01 if norm == "linf" else budget
    eta = float(step_size) if step_size else max(budget / 5.0, 1e-4)
    solver = {"eta": eta, "eta_min": eta / 10.0, "eta_max": None, "max_iter": int(steps), "eps": 1e-6}
    if method == "pgd":
        solver = {"eta": eta, "max_iter": int(steps), "eps": 1e-6}
    target = None if y_target is None else classes.index(y_target)
    attack = _secml.make_attack(
        model, d, method=method, distance=distance, dmax=dmax, lb=lb, ub=ub,
        solver_params=solver, y_target=target, init_points=X if init_points is None else init_points,
    )
    show = progress if progress is not None else len(X) > 20
    X_adv = np.empty_like(X)
    paths = []
    for i in tqdm(range(len(X)), desc=f"evasion ({norm}, budget {budget:g})", disable=not show, leave=False):
        lo, hi = _point_box(X[i], lb, ub, mask, norm, budget)
        x_adv, path = _secml.run_one(attack, X[i], classes.index(y[i]), lo, hi)
        # secml's projections are exact up to float error; make the threat model hold exactly
        X_adv[i] = project(x_adv[None, :], X[i][None, :], budget, norm, (lo, hi), mask)[0]
        paths.append(path)
    return (X_adv, paths) if return_paths else X_adv

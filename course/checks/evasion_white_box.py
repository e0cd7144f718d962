"""Checks of exercise 03 (evasion, white-box): the attack and its threat model, in numpy (M7, M1).

Every check draws its own data from the seed: a pair of digit classes, a logistic regression
trained on them, and test images in the pixel bounds [0, 1]. The learner's functions are judged
by what they return: every point inside the budget and the bounds, the exact projection, an
attack at least about as strong as `course.science.attacks.evade` on the same points, and a security
evaluation curve that starts at clean accuracy, never rises, and claims no more robustness than
the attack showed.
"""
from __future__ import annotations

import hashlib

import numpy as np

from course.checks import call, task
from course.science import datasets, models

A = "03-evasion-white-box"
TOL = 1e-9
ROBUST_SLACK = 3  # points (of 60) the learner's attack may leave correct beyond what the reference attack leaves


# --------------------------------------------------------------------------- data
def _as_array(chk, value, shape, what):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    chk.expect(arr is not None, expected=f"{what} to return an array of numbers", seen=f"{type(value).__name__}")
    chk.expect(arr.shape == tuple(shape), expected=f"{what} to return shape {tuple(shape)}", seen=f"shape {arr.shape}")
    chk.expect(np.all(np.isfinite(arr)), expected=f"{what} to return finite numbers",
               seen=f"{int(np.sum(~np.isfinite(arr)))} NaN or infinite values",
               why="a point that did not move has a perturbation of length 0: dividing by it gives NaN")
    return arr


def _digit_pair(seed: int, n_test: int = 60):
    """A binary digits problem (pixels in [0, 1]), a logistic regression, and n_test test images."""
    rng = np.random.default_rng(seed)
    a, c = (int(v) for v in rng.choice(10, size=2, replace=False))
    digits = datasets.load_digits()
    keep = np.isin(digits.y, [a, c])
    X, y = digits.X[keep], (digits.y[keep] == c).astype(int)
    idx = rng.permutation(len(y))
    test, train = idx[:n_test], idx[n_test:]
    model = models.fit("logistic", X[train], y[train])
    return model, X[test].copy(), y[test].copy(), (a, c)


def _linear(model):
    return model.coef_.ravel().copy(), float(model.intercept_[0])


# --------------------------------------------------------------------------- projections
def _perturbed(rng, n, d, scale):
    X = rng.random((n, d))
    X_adv = X + rng.normal(size=(n, d)) * rng.uniform(0.2, 2.0, size=(n, 1)) * scale
    X_adv[0] = X[0]  # a point the attack did not move
    return X, X_adv


@task(f"{A}/project-l2", answer="project_l2", misconceptions=["M7"])
def check_project_l2(project_l2, seed, chk):
    rng = np.random.default_rng(seed)
    for d, eps in ((2, 0.3), (int(rng.integers(10, 65)), 1.0), (int(rng.integers(10, 65)), 2.5)):
        X, X_adv = _perturbed(rng, 50, d, eps / np.sqrt(d))
        got = _as_array(chk, call(chk, project_l2, X_adv.copy(), X.copy(), eps, what="project_l2"), X.shape, "project_l2")
        size = np.linalg.norm(got - X, axis=1)
        chk.expect(np.all(size <= eps + TOL), expected=f"every row within L2 distance {eps} of its original",
                   seen=f"largest distance {size.max():.6g}",
                   why="a perturbation outside the budget is not an attack this threat model allows: "
                   "it proves nothing about robustness")
        before = np.linalg.norm(X_adv - X, axis=1)
        inside = before <= eps
        moved = np.abs(got[inside] - X_adv[inside]).max() if inside.any() else 0.0
        chk.expect(moved <= 1e-9, expected="rows already inside the ball returned unchanged",
                   seen=f"a row inside the ball moved by {moved:.3g}",
                   why="a projection only moves what breaks the constraint; shrinking every step weakens the attack")
        delta = X_adv - X
        want = X + delta * np.where(before > eps, eps / np.maximum(before, 1e-300), 1.0)[:, None]
        err = float(np.abs(got - want).max())
        chk.expect(err <= 1e-8, expected="each outside row moved to the nearest point of the ball: "
                   "x + (x_adv - x) * eps / ||x_adv - x||",
                   seen=f"largest difference from the nearest point {err:.3g}",
                   why="the nearest point keeps as much of the attacker's step as the budget allows")
    return chk.passed("every row within the L2 budget, inside rows unchanged, outside rows at the nearest point")


@task(f"{A}/project-linf", answer="project_linf", misconceptions=["M7"])
def check_project_linf(project_linf, seed, chk):
    rng = np.random.default_rng(seed)
    for d, eps, per_feature in ((2, 0.3, False), (int(rng.integers(10, 65)), 0.1, True), (int(rng.integers(10, 65)), 0.25, False)):
        X, X_adv = _perturbed(rng, 50, d, 2 * eps)
        if per_feature:  # bounds per feature; the clean points lie inside them
            lb = np.minimum(X.min(axis=0), rng.uniform(-0.1, 0.3, size=d))
            ub = np.maximum(X.max(axis=0), rng.uniform(0.7, 1.1, size=d))
        else:
            lb, ub = 0.0, 1.0
        got = call(chk, project_linf, X_adv.copy(), X.copy(), eps,
                   lb.copy() if per_feature else lb, ub.copy() if per_feature else ub, what="project_linf")
        got = _as_array(chk, got, X.shape, "project_linf")
        step = np.abs(got - X).max()
        chk.expect(step <= eps + TOL, expected=f"no feature changed by more than {eps} (L∞ budget)",
                   seen=f"largest change of a feature {step:.6g}",
                   why="an L∞ budget bounds every single feature's change: that is the threat model")
        low, high = np.broadcast_to(lb, (d,)), np.broadcast_to(ub, (d,))
        out = np.maximum(low - got, got - high).max()
        chk.expect(out <= TOL, expected="every feature within its bounds [lb, ub]"
                   + (" (bounds given per feature)" if per_feature else f" = [{lb}, {ub}]"),
                   seen=f"a value {out:.3g} outside its bounds",
                   why="a pixel below 0 or above 1 is not an image: an attack must stay in the valid input range")
        want = np.clip(np.clip(X_adv, X - eps, X + eps), low, high)
        err = float(np.abs(got - want).max())
        chk.expect(err <= 1e-9, expected="the nearest allowed point: each feature clipped to "
                   "[max(lb, x - eps), min(ub, x + eps)]",
                   seen=f"largest difference from the nearest allowed point {err:.3g}",
                   why="the nearest allowed point keeps as much of the attacker's step as the threat model allows")
    return chk.passed("every row within the L∞ budget and the bounds, at the nearest allowed point")


# --------------------------------------------------------------------------- the attack
@task(f"{A}/attack-linear", answer="attack_linear", misconceptions=["M7"])
def check_attack_linear(attack_linear, seed, chk):
    from course.science.attacks import evade

    model, X, y, (a, c) = _digit_pair(seed)
    w, b = _linear(model)
    d = X.shape[1]
    clean_right = model.predict(X) == y
    f = X @ w + b
    summary = []
    for norm, dual in (("l2", 2), ("linf", 1)):
        # a budget at which the attack matters: the median distance to the boundary, ignoring bounds
        eps = float(np.round(np.median(np.abs(f[clean_right])) / np.linalg.norm(w, dual), 2))
        lb, ub = (0.0, 1.0) if norm == "l2" else (np.zeros(d), np.ones(d))
        got = call(chk, attack_linear, w.copy(), b, X.copy(), y.copy(), eps, norm,
                   lb if np.isscalar(lb) else lb.copy(), ub if np.isscalar(ub) else ub.copy(), what="attack_linear")
        X_adv = _as_array(chk, got, X.shape, "attack_linear")
        size = np.linalg.norm(X_adv - X, ord=dual if norm == "l2" else np.inf, axis=1)
        name = "L2" if norm == "l2" else "L∞"
        chk.expect(np.all(size <= eps * (1 + 1e-9) + TOL),
                   expected=f"every perturbation within the {name} budget {eps} (digits {a} vs {c})",
                   seen=f"largest {name} perturbation {size.max():.6g} ({int(np.sum(size > eps + TOL))} rows over)",
                   why="robustness is always 'under a budget': an attack outside it answers another question")
        out = max(float((0.0 - X_adv).max()), float((X_adv - 1.0).max()))
        chk.expect(out <= TOL, expected="every pixel within the bounds [0, 1]",
                   seen=f"a pixel {out:.3g} outside [0, 1]",
                   why="an image with negative ink is not an input anybody can submit: bounds are part of the threat model")
        flipped = int(np.sum(clean_right & (model.predict(X_adv) != y)))
        chk.expect(flipped > 0, expected=f"some correctly classified images misclassified at {name} budget {eps}",
                   seen="no prediction changed",
                   why="the attack must lower the score of each image's true class: move against w for class 1, along w for class 0")
        n = len(y)
        kept = int(np.sum(model.predict(X_adv) == y))
        X_ref = evade(model, X, y, eps, norm=norm, bounds=(0.0, 1.0), method="pgd", steps=20, progress=False)
        ref_kept = int(np.sum(model.predict(X_ref) == y))
        robust, reference = kept / n, ref_kept / n
        chk.expect(kept <= ref_kept + ROBUST_SLACK,
                   expected=f"robust accuracy at most {(ref_kept + ROBUST_SLACK) / n:.2f} at {name} budget {eps} "
                   f"(the reference PGD attack leaves {reference:.2f}; clean accuracy {clean_right.mean():.2f}; n={n})",
                   seen=f"robust accuracy {robust:.2f}",
                   why="a weak attack overstates robustness: the number to report is what a strong attacker "
                   "achieves within the budget. (A single step clipped to the bounds wastes budget on pixels "
                   "already at 0 or 1: repeat step, project, clip.)")
        summary.append(f"{name} ε={eps}: {clean_right.mean():.2f} -> {robust:.2f} (reference {reference:.2f})")
    return chk.passed("within budget and bounds; accuracy " + "; ".join(summary) + f"; n={len(y)}")


# --------------------------------------------------------------------------- the security evaluation curve
def _unit(row: np.ndarray, eps: float) -> float:
    """A number in [0, 1) fixed by a row's values and the budget (the same for copies and subsets)."""
    key = (np.round(np.asarray(row, dtype=float), 6) + 0.0).tobytes() + repr(round(float(eps), 6)).encode()
    return int(hashlib.sha256(key).hexdigest()[:8], 16) / 2**32


class LinearModel:
    """The checker's model, as a plain function of X: labels 0/1 of a linear score."""

    def __init__(self, w, b):
        self.w, self.b = np.asarray(w, dtype=float), float(b)

    def __call__(self, X):
        return (np.atleast_2d(np.asarray(X, dtype=float)) @ self.w + self.b > 0).astype(int)


class LinearL2Attack:
    """The checker's attack: the strongest L2 move within the bounds against a linear model.

    With `miss` (a dict budget -> share), the optimiser "fails" on that share of points at that
    budget and returns them unmoved, as real optimisers sometimes do at one budget and not at
    another; which points fail depends only on the point and the budget.
    """

    def __init__(self, w, b, lb=0.0, ub=1.0, miss=None):
        self.w, self.b, self.lb, self.ub = np.asarray(w, dtype=float), float(b), lb, ub
        self.miss = dict(miss or {})

    def __call__(self, X, y, eps):
        X = np.atleast_2d(np.asarray(X, dtype=float)).copy()
        y = np.asarray(y).ravel()
        eps = float(eps)
        if eps <= 0 or len(X) == 0:
            return X
        sign = np.where(y == 1, -1.0, 1.0)[:, None]
        lo, hi = self.lb - X, self.ub - X
        t_lo, t_hi = np.zeros(len(X)), np.full(len(X), eps / max(np.abs(self.w).min(), 1e-12) + 1.0)
        for _ in range(80):  # bisection on the step length: the largest clipped step of L2 size <= eps
            t = (t_lo + t_hi) / 2
            size = np.linalg.norm(np.clip(t[:, None] * sign * self.w, lo, hi), axis=1)
            t_lo, t_hi = np.where(size <= eps, t, t_lo), np.where(size <= eps, t_hi, t)
        X_adv = X + np.clip(t_lo[:, None] * sign * self.w, lo, hi)
        share = self.miss.get(round(eps, 6), 0.0)
        if share:
            missed = np.array([_unit(x, eps) < share for x in X])
            X_adv[missed] = X[missed]
        return X_adv


def _curve_reference(predict, attack, X, y, budgets):
    """(accuracy under attack at each budget alone, accuracy counting a point evaded at any smaller budget)."""
    right = predict(X) == y
    plain, still, cumulative = [], right.copy(), []
    for eps in budgets:
        ok = right & (predict(attack(X, y, eps)) == y) if eps > 0 else right
        still &= ok
        plain.append(float(ok.mean()))
        cumulative.append(float(still.mean()))
    return np.array(plain), np.array(cumulative)


@task(f"{A}/security-curve", answer="security_evaluation_curve", misconceptions=["M7", "M1"])
def check_security_curve(security_evaluation_curve, seed, chk):
    model, X, y, (a, c) = _digit_pair(seed + 1, n_test=80)
    w, b = _linear(model)
    predict = LinearModel(w, b)
    f = X @ w + b
    scale = float(np.median(np.abs(f)) / np.linalg.norm(w))
    budgets = [0.0] + [round(scale * k, 3) for k in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)]
    # an optimiser that misses many points at some budgets: accuracy at each budget alone goes up and down
    flaky = {round(e, 6): s for e, s in zip(budgets[1:], (0.0, 0.6, 0.0, 0.7, 0.1, 0.8))}
    for label, miss in (("a strong attack", None), ("an attack that misses points at some budgets", flaky)):
        # the reference is computed with the checker's own objects; the learner gets fresh copies
        plain, cumulative = _curve_reference(predict, LinearL2Attack(w, b, miss=miss), X, y, budgets)
        got = call(chk, security_evaluation_curve, LinearModel(w.copy(), b), LinearL2Attack(w.copy(), b, miss=miss),
                   X.copy(), y.copy(), list(budgets), what="security_evaluation_curve")
        curve = _as_array(chk, got, (len(budgets),), "security_evaluation_curve")
        shown = ", ".join(f"{v:.3f}" for v in curve)
        chk.expect(np.all((curve >= 0) & (curve <= 1)), expected="accuracies between 0 and 1", seen=shown)
        chk.expect(abs(curve[0] - plain[0]) <= TOL,
                   expected=f"the curve to start at the clean accuracy {plain[0]:.3f} (budget 0)",
                   seen=f"{curve[0]:.3f} at budget 0",
                   why="the left end of a security evaluation curve is the number a model card reports: "
                   "the curve shows what happens to it as the attacker's budget grows")
        rises = np.flatnonzero(np.diff(curve) > TOL)
        chk.expect(rises.size == 0,
                   expected=f"a curve that never rises with the budget (with {label})",
                   seen=f"it rises from budget {budgets[rises[0]] if rises.size else 0:g} to "
                   f"{budgets[rises[0] + 1] if rises.size else 0:g}: {shown}",
                   why="a point evaded with a small budget is evaded with every larger one; a curve that rises "
                   "reports the optimiser's misses as robustness")
        over = np.flatnonzero(curve > plain + TOL)
        chk.expect(over.size == 0,
                   expected=f"at most the accuracy the attack leaves at each budget: {', '.join(f'{v:.3f}' for v in plain)}",
                   seen=shown, why="a curve may not claim more robustness than the attack measured")
        under = np.flatnonzero(curve < cumulative - TOL)
        chk.expect(under.size == 0,
                   expected="no point counted as evaded unless the attack evaded it at that budget or a smaller one: "
                   f"at least {', '.join(f'{v:.3f}' for v in cumulative)}",
                   seen=shown, why="accuracy under attack is measured, point by point, on the adversarial inputs")
    return chk.passed(f"starts at clean accuracy {curve[0]:.2f}, never rises, matches the attack (digits {a} vs {c}, n={len(y)})")

"""Checks of exercise 03 (evasion, white-box): the attack and its threat model, in numpy (M7, M1).

Every check draws its own data from the seed: a pair of digit classes, a logistic regression
trained on them, and test images in the pixel bounds [0, 1]. The learner's functions are judged
by what they return: every point inside the budget and the bounds, the exact projection onto the
ball and the bounds at once (which the course's `project`, shrink then clip, is not), an attack
that reaches nearly the best move the threat model allows (one clipped step does not), and a security
evaluation curve that counts, point by point, every point the attack evaded at that budget or a
smaller one.
"""
from __future__ import annotations

import functools
import hashlib

import numpy as np

from course.checks import call, task
from course.science import datasets, models

A = "03-evasion-white-box"
TOL = 1e-9
NEAREST_TOL = 1e-4  # a 20-step bisection is within 1e-5; shrink-then-clip misses by 0.02 or more
BEST_MOVE_SHARE = 0.985  # of the best move: one clipped L2 step reaches at most 97.2% (40 seeds), PGD at least 99.4%
L2_BUDGET = 1.5  # x the median distance of a correct image to the boundary (more pixels reach 0 or 1)


# --------------------------------------------------------------------------- data
def _as_array(chk, value, shape, what):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    chk.require(arr is not None, expected=f"{what} to return an array of numbers", seen=f"{type(value).__name__}")
    chk.require(arr.shape == tuple(shape), expected=f"{what} to return shape {tuple(shape)}", seen=f"shape {arr.shape}")
    chk.require(np.all(np.isfinite(arr)), expected=f"{what} to return finite numbers",
               seen=f"{int(np.sum(~np.isfinite(arr)))} NaN or infinite values",
               why="a point that did not move has a perturbation of length 0: dividing by it gives NaN")
    return arr


def _digit_pair(seed: int, n_test: int = 60):
    """A binary digits problem (pixels in [0, 1]), a logistic regression, and n_test test images."""
    model, X, y, pair = _fitted_pair(seed, n_test)
    return model, X.copy(), y.copy(), pair


@functools.lru_cache(maxsize=8)
def _fitted_pair(seed: int, n_test: int):
    rng = np.random.default_rng(seed)
    a, c = (int(v) for v in rng.choice(10, size=2, replace=False))
    digits = datasets.load_digits()
    keep = np.isin(digits.y, [a, c])
    X, y = digits.X[keep], (digits.y[keep] == c).astype(int)
    idx = rng.permutation(len(y))
    test, train = idx[:n_test], idx[n_test:]
    model = models.fit("logistic", X[train], y[train])
    return model, X[test], y[test], (a, c)


def _linear(model):
    return model.coef_.ravel().copy(), float(model.intercept_[0])


# --------------------------------------------------------------------------- the projection
def _perturbed(rng, n, d, scale):
    X = rng.random((n, d))
    X_adv = X + rng.normal(size=(n, d)) * rng.uniform(0.2, 2.0, size=(n, 1)) * scale
    X_adv[0] = X[0]  # a point the attack did not move
    return X, X_adv


def nearest_allowed(X_adv, X, eps, lb, ub):
    """The checker's projection onto {z : ||z - X||_2 <= eps, lb <= z <= ub}, row by row.

    The nearest point has the form clip(X + t (X_adv - X), lb, ub) for one t in [0, 1] (the
    Lagrange multiplier of the ball, 1 / (1 + mu)); its distance from X grows with t, so t is
    found by bisection.
    """
    X, delta = np.asarray(X, dtype=float), np.asarray(X_adv, dtype=float) - X
    at = lambda t: np.clip(X + t[:, None] * delta, lb, ub)  # noqa: E731
    lo, hi = np.zeros(len(X)), np.ones(len(X))
    for _ in range(100):
        t = (lo + hi) / 2
        inside = np.linalg.norm(at(t) - X, axis=1) <= eps
        lo, hi = np.where(inside, t, lo), np.where(inside, hi, t)
    whole = np.linalg.norm(at(np.ones(len(X))) - X, axis=1) <= eps
    return np.where(whole[:, None], at(np.ones(len(X))), at(lo))


@task(f"{A}/project-l2", answer="project_l2", misconceptions=["M7"])
def check_project_l2(project_l2, seed, chk):
    rng = np.random.default_rng(seed)
    cases = ((2, 0.3, False, "two features, bounds [0, 1]"),
             (int(rng.integers(10, 65)), 1.0, True, "many features, bounds given per feature"),
             (int(rng.integers(10, 65)), 2.5, False, "many features, the large budget, bounds [0, 1]"))
    for d, eps, per_feature, role in cases:
        X, X_adv = _perturbed(rng, 50, d, eps / np.sqrt(d))
        if per_feature:  # bounds per feature; the clean points lie inside them
            lb = np.minimum(X.min(axis=0), rng.uniform(-0.1, 0.3, size=d))
            ub = np.maximum(X.max(axis=0), rng.uniform(0.7, 1.1, size=d))
        else:
            lb, ub = 0.0, 1.0
        chk.current_case = f"{role} (d = {d}, eps = {eps})"
        got = call(chk, project_l2, X_adv.copy(), X.copy(), eps, lb.copy() if per_feature else lb,
                   ub.copy() if per_feature else ub, what="project_l2")
        got = _as_array(chk, got, X.shape, "project_l2")
        size = np.linalg.norm(got - X, axis=1)
        chk.require(np.all(size <= eps + 1e-7), expected=f"every row within L2 distance {eps} of its original",
                    seen=f"largest distance {size.max():.6g}",
                    why="a perturbation outside the budget is not an attack this threat model allows: "
                    "it proves nothing about robustness")
        low, high = np.broadcast_to(lb, (d,)), np.broadcast_to(ub, (d,))
        out = np.maximum(low - got, got - high).max()
        chk.require(out <= TOL, expected="every feature within its bounds [lb, ub]"
                    + (" (bounds given per feature)" if per_feature else f" = [{lb}, {ub}]"),
                    seen=f"a value {out:.3g} outside its bounds",
                    why="a pixel below 0 or above 1 is not an image: an attack must stay in the valid input range")
        inside = (np.linalg.norm(X_adv - X, axis=1) <= eps) & np.all((X_adv >= low) & (X_adv <= high), axis=1)
        moved = np.abs(got[inside] - X_adv[inside]).max() if inside.any() else 0.0
        chk.require(moved <= 1e-9, expected="rows already allowed (inside the ball and the bounds) returned unchanged",
                    seen=f"an allowed row moved by {moved:.3g}",
                    why="a projection only moves what breaks the constraint; shrinking every step weakens the attack")
        want = nearest_allowed(X_adv, X, eps, low, high)
        gap = np.linalg.norm(got - X_adv, axis=1) - np.linalg.norm(want - X_adv, axis=1)
        err = float(np.abs(got - want).max())
        chk.expect(err <= NEAREST_TOL,
                   expected="each row moved to the nearest point that is both within the budget and within the bounds",
                   seen=f"{int(np.sum(np.abs(got - want).max(axis=1) > NEAREST_TOL))} of {len(X)} rows elsewhere; the worst "
                   f"is {gap.max():.3g} farther from the attacker's point than the nearest allowed point",
                   why="shrinking to the ball and then clipping to the bounds (or the other way round) leaves budget "
                   "unused or lands farther away than needed: the nearest allowed point keeps as much of the "
                   "attacker's step as the threat model allows")
    chk.current_case = ""
    return chk.passed("every row within the L2 budget and the bounds, allowed rows unchanged, others at the nearest "
                      "allowed point")


# --------------------------------------------------------------------------- the attack
@task(f"{A}/attack-linear", answer="attack_linear", misconceptions=["M7"])
def check_attack_linear(attack_linear, seed, chk):
    model, X, y, (a, c) = _digit_pair(seed)
    w, b = _linear(model)
    d = X.shape[1]
    clean_right = model.predict(X) == y
    f = X @ w + b
    summary = []
    for norm, dual in (("l2", 2), ("linf", 1)):
        # a budget at which the attack matters: about the median distance to the boundary, ignoring bounds
        eps = float(np.round((L2_BUDGET if norm == "l2" else 1.0) * np.median(np.abs(f[clean_right]))
                             / np.linalg.norm(w, dual), 2))
        lb, ub = (0.0, 1.0) if norm == "l2" else (np.zeros(d), np.ones(d))
        name = "L2" if norm == "l2" else "L∞"
        chk.current_case = f"the {name} attack, budget {eps} (digits {a} vs {c}, n={len(y)})"
        got = call(chk, attack_linear, w.copy(), b, X.copy(), y.copy(), eps, norm,
                   lb if np.isscalar(lb) else lb.copy(), ub if np.isscalar(ub) else ub.copy(), what="attack_linear")
        X_adv = _as_array(chk, got, X.shape, "attack_linear")
        size = np.linalg.norm(X_adv - X, ord=dual if norm == "l2" else np.inf, axis=1)
        chk.require(np.all(size <= eps * (1 + 1e-9) + TOL),
                   expected=f"every perturbation within the {name} budget {eps}",
                   seen=f"largest {name} perturbation {size.max():.6g} ({int(np.sum(size > eps + TOL))} rows over)",
                   why="robustness is always 'under a budget': an attack outside it answers another question")
        out = max(float((0.0 - X_adv).max()), float((X_adv - 1.0).max()))
        chk.require(out <= TOL, expected="every pixel within the bounds [0, 1]",
                   seen=f"a pixel {out:.3g} outside [0, 1]",
                   why="an image with negative ink is not an input anybody can submit: bounds are part of the threat model")
        flipped = int(np.sum(clean_right & (model.predict(X_adv) != y)))
        chk.require(flipped > 0, expected=f"some correctly classified images misclassified at {name} budget {eps}",
                    seen="no prediction changed",
                    why="an evasion attack moves each image so that the score of its true class goes down")
        sign = np.where(y == 1, -1.0, 1.0)
        if norm == "l2":
            X_best = LinearL2Attack(w, b)(X, y, eps)
        else:  # in L-inf, the best move against a linear score is one full step, clipped to the bounds
            X_best = np.clip(X + eps * sign[:, None] * np.sign(w), 0.0, 1.0)
        best = float(np.sum(sign * ((X_best - X) @ w)))
        achieved = float(np.sum(sign * ((X_adv - X) @ w)))
        share = achieved / best
        robust = float(np.mean(model.predict(X_adv) == y))
        chk.expect(share >= BEST_MOVE_SHARE,
                   expected=f"a move of at least {BEST_MOVE_SHARE:.1%} of the best one the threat model allows "
                   f"(summed over the {len(y)} images: how far the scores of their true classes go down)",
                   seen=f"{share:.1%} of the best move; robust accuracy {robust:.2f} (clean {clean_right.mean():.2f})",
                   why="a weak attack overstates robustness: the number to report is what a strong attacker achieves "
                   "within the budget. A single step clipped to the bounds wastes budget on pixels already at 0 or "
                   "1; repeated steps and projections give it to the pixels that can still move")
        summary.append(f"{name} ε={eps}: {clean_right.mean():.2f} -> {robust:.2f} ({share:.1%} of the best move)")
    chk.current_case = ""
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
        chk.current_case = f"{label} (digits {a} vs {c}, n={len(y)}, budgets {', '.join(f'{e:g}' for e in budgets)})"
        # the reference is computed with the checker's own objects; the learner gets fresh copies
        plain, cumulative = _curve_reference(predict, LinearL2Attack(w, b, miss=miss), X, y, budgets)
        got = call(chk, security_evaluation_curve, LinearModel(w.copy(), b), LinearL2Attack(w.copy(), b, miss=miss),
                   X.copy(), y.copy(), list(budgets), what="security_evaluation_curve")
        curve = _as_array(chk, got, (len(budgets),), "security_evaluation_curve")
        shown = ", ".join(f"{v:.3f}" for v in curve)
        chk.require(np.all((curve >= 0) & (curve <= 1)), expected="accuracies between 0 and 1", seen=shown)
        chk.require(abs(curve[0] - plain[0]) <= TOL,
                   expected="the curve to start at the clean accuracy (budget 0)",
                   seen=f"{curve[0]:.3f} at budget 0",
                   why="the left end of a security evaluation curve is the number a model card reports: "
                   "the curve shows what happens to it as the attacker's budget grows")
        rises = np.flatnonzero(np.diff(curve) > TOL)
        chk.expect(rises.size == 0,
                   expected="a curve that never rises with the budget",
                   seen=f"it rises from budget {budgets[rises[0]] if rises.size else 0:g} to "
                   f"{budgets[rises[0] + 1] if rises.size else 0:g}: {shown}",
                   why="a point evaded with a small budget is evaded with every larger one; a curve that rises "
                   "reports the optimiser's misses as robustness")
        over = np.flatnonzero(curve > plain + TOL)
        first = over[0] if over.size else 0
        chk.expect(over.size == 0,
                   expected="at each budget, at most the accuracy the attack leaves at that budget",
                   seen=f"at budget {budgets[first]:g}: {curve[first]:.3f}, more than the attack leaves ({shown})",
                   why="a curve may not claim more robustness than the attack measured")
        under = np.flatnonzero(curve < cumulative - TOL)
        first = under[0] if under.size else 0
        chk.require(under.size == 0,
                    expected="no point counted as evaded unless the attack evaded it at that budget or a smaller one",
                    seen=f"at budget {budgets[first]:g}: {curve[first]:.3f}, fewer points correct than the attack "
                    f"evaded ({shown})",
                    why="accuracy under attack is measured, point by point, on the adversarial inputs")
        off = np.flatnonzero(np.abs(curve - cumulative) > 1 / len(y) + TOL)
        first = off[0] if off.size else 0
        chk.expect(off.size == 0,
                   expected="at each budget, the share of points correctly classified and not evaded at that budget "
                   f"or any smaller one (within 1/n = {1 / len(y):.3f})",
                   seen=f"at budget {budgets[first]:g}: {curve[first]:.3f}, but {cumulative[first]:.3f} of the points "
                   f"survived every budget up to it ({shown})",
                   why="the curve is per point: a point evaded at a small budget is evaded at every larger one, "
                   "even where the optimiser missed it. The lowest accuracy seen so far is not that: other points "
                   "were evaded at the other budgets")
    chk.current_case = ""
    return chk.passed(f"starts at clean accuracy {curve[0]:.2f}, never rises, matches the attack (digits {a} vs {c}, n={len(y)})")

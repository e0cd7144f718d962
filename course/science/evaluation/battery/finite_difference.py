"""Gradients by finite differences through the whole pipeline: the owner's white-box attack on a model
whose gradient nobody wrote down.

The owner can ask the model as often as they like. The margin's gradient is then estimated by
central differences of the model's scores along every input feature (2d + 1 queries a step),
whatever sits inside: preprocessing, a scaler, a PCA, a detector's rejection score (an ABSTAIN
column, so that the attack seeks points that are misclassified *and* accepted). For a randomised
model whose randomness lives in the object, each difference is taken on copies in one random
state, so both sides see the same draw: Expectation over Transformation (Athalye, Carlini &
Wagner, ICML 2018) with exact per-draw gradients. With more than `MAX_FEATURES` features the
estimate uses random directions instead (NES, Ilyas et al., ICML 2018).
"""
from __future__ import annotations

import numpy as np

from course.science.attacks.base import margin_weights, valid_classes
from course.science.attacks.gradient import GradientView, pgd_steps
from course.science.evaluation.battery.base import Attack, restarted_pgd

MAX_FEATURES = 256
STEP = 1e-3


def _unit(A):
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)


def _directions(d, rng):
    if d <= MAX_FEATURES:
        return np.eye(d)
    return rng.choice([-1.0, 1.0], size=(MAX_FEATURES, d)) / np.sqrt(d)


def finite_difference_view(scores, classes, d, rng, *, replay=None, samples=1, name=""):
    """A gradient view whose margin gradient comes from central differences of `scores` (see the module).

    With `replay` (() -> a score function under one fixed draw of the model's randomness), the differences of
    one gradient are all taken under one draw.
    """
    def margin_grad(X, y, valid):
        n, dirs = len(X), _directions(X.shape[1], rng) * STEP
        k = len(dirs)
        if replay is None:
            P = np.concatenate([X[:, None, :], X[:, None, :] + dirs, X[:, None, :] - dirs], axis=1).reshape(-1, X.shape[1])
            A = np.asarray(scores(P), dtype=float).reshape(n, 2 * k + 1, -1)
            S0, J = A[:, 0], (A[:, 1:k + 1] - A[:, k + 1:]) / (2 * STEP)
        else:
            ask = replay()  # every question of this gradient under one draw of the randomness
            S0 = ask(X)
            J = np.stack([(ask(X + u) - ask(X - u)) / (2 * STEP) for u in dirs], axis=1)
        W, m, W2 = margin_weights(S0, classes, y, valid, with_second=True)
        G = np.einsum("nc,nkc->nk", W, J) @ (dirs / STEP)  # directional derivatives back to the features
        if W2 is not None:  # crossed but abstained on: escape the abstention too (each goal counts equally)
            rows = np.flatnonzero(np.abs(W2).sum(axis=1) > 0)
            G2 = np.einsum("nc,nkc->nk", W2[rows], J[rows]) @ (dirs / STEP)
            G[rows] = _unit(G[rows]) + _unit(G2)
        return m, G

    return GradientView(scores, margin_grad, classes, samples, name)


class FiniteDifferences(Attack):
    """Owner mode, a deterministic model with scores and no known gradient."""

    key, name = "white-box", "PGD, finite-difference gradients"

    def applies(self, ctx):
        a = ctx.access
        return ctx.owner and a.scores is not None and a.direct is None and not a.randomised

    def run(self, ctx, budget, rows=None):
        a = ctx.access
        rows = np.arange(len(ctx.y)) if rows is None else rows
        view = finite_difference_view(a.scores, a.score_classes, ctx.X.shape[1], ctx.rng, name=self.name)
        if "flat" not in ctx.shared:  # shattered gradients (rounding inside): most features do not move the scores
            probe = rows[:50]
            G, _ = view.grad_and_scores(ctx.X[probe], ctx.y[probe], valid_classes(view.classes))
            ctx.shared["flat"] = float(np.mean(G == 0))
            if ctx.shared["flat"] > 0.5:
                ctx.notes.append(f"finite differences: {ctx.shared['flat']:.0%} of the partial derivatives are exactly 0 "
                                 "(shattered gradients); that attack was not run")
        if ctx.shared["flat"] > 0.5:
            return ctx.X[rows].copy(), None
        return restarted_pgd(ctx, view, budget, restarts=1, steps=ctx.steps, rows=rows)


class FiniteDifferencesEOT(Attack):
    """Escalation, owner mode: a randomised model with scores whose randomness can be replayed."""

    key, name, stage = "white-box", "PGD, finite differences + EOT (replayed randomness)", "escalation"
    samples, steps = 3, 40

    def applies(self, ctx):
        a = ctx.access
        return ctx.owner and a.scores is not None and a.randomised and a.replay is not None

    def run(self, ctx, budget, rows=None):
        a = ctx.access
        rows = np.arange(len(ctx.y)) if rows is None else rows
        X, y = ctx.X[rows], ctx.y[rows]
        view = finite_difference_view(a.scores, a.score_classes, ctx.X.shape[1], ctx.rng, replay=a.replay,
                                      samples=self.samples, name=self.name)
        step = budget / (4 if ctx.norm == "linf" else 3)
        start = ctx.shared.get("escalation start")  # continue from the best points the base attacks found
        X_adv = None if start is None else start[rows]
        for size in (step, step / 4):  # long steps, then short ones: the averaged gradient is noisy near the end
            X_adv = pgd_steps(view, X, y, budget, steps=self.steps // 2, step_size=size, random_start=False, rng=ctx.rng,
                              X_start=X_adv, **ctx.kw)
        return X_adv, ctx.defended(X_adv, rows)

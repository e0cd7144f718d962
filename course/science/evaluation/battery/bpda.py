"""PGD through an exposed preprocessing step: BPDA (Athalye, Carlini & Wagner, ICML 2018).

The forward pass goes through `preprocess`; the backward pass through an approximation of it.
`StraightThrough` uses the identity (the classifier's gradient at preprocess(x) as the gradient
at x). `LearnedApproximation`, an escalation, uses the affine map that best fits the
preprocessing (least squares on the owner's data, or the attacker's, moved up to twice the
budget): a smooth, differentiable stand-in, as Athalye et al. recommend when the transformation
is far from the identity (a low-pass filter, a compression).
"""
from __future__ import annotations

import numpy as np

from course.science.attacks.gradient import GradientView
from course.science.evaluation.battery.base import Attack, restarted_pgd


class StraightThrough(Attack):
    key, name = "bpda", "PGD through preprocessing (BPDA)"

    def applies(self, ctx):
        return ctx.access.straight is not None

    def label(self, ctx):
        return "PGD through preprocessing (BPDA" + (" + EOT)" if ctx.access.randomised else ")")

    def run(self, ctx, budget, rows=None):
        restarts = 1 if ctx.access.randomised else 2
        return restarted_pgd(ctx, ctx.access.straight, budget, restarts=restarts, steps=ctx.steps, rows=rows)


def fit_affine(preprocess, X_fit, budget, bounds, rng, copies: int = 4):
    """The affine map x -> x @ A + b closest to `preprocess` (least squares) on X_fit and copies of it moved
    uniformly up to twice the budget in every feature; returns (A, share of variance explained)."""
    lb, ub = bounds
    X_fit = np.asarray(X_fit, dtype=float)
    Xs = np.vstack([X_fit] + [np.clip(X_fit + rng.uniform(-2 * budget, 2 * budget, X_fit.shape), lb, ub)
                              for _ in range(copies)])
    Y = np.asarray(preprocess(Xs), dtype=float).reshape(len(Xs), -1)
    Xc = np.column_stack([Xs, np.ones(len(Xs))])
    coef = np.linalg.solve(Xc.T @ Xc + 1e-6 * len(Xs) * np.eye(Xc.shape[1]), Xc.T @ Y)
    residual = Y - Xc @ coef
    explained = 1 - (residual ** 2).sum() / max(((Y - Y.mean(axis=0)) ** 2).sum(), 1e-12)
    return coef[:-1], float(explained)


class LearnedApproximation(StraightThrough):
    stage, name = "escalation", "BPDA, learned approximation"

    def label(self, ctx):
        return self.name + (" + EOT" if ctx.access.randomised else "")

    def run(self, ctx, budget, rows=None):
        a = ctx.access
        if "affine" not in ctx.shared:
            own = ctx.X_own[: 2000]
            ctx.shared["affine"], explained = fit_affine(a.preprocess, own, ctx.stated, ctx.bounds, ctx.rng)
            ctx.notes.append(f"BPDA approximation: an affine map explains {explained:.0%} of the preprocessing's "
                             f"variance on {len(own)} of the {ctx.mode}'s inputs")
        A, inner, pre = ctx.shared["affine"], a.classifier_view, a.preprocess

        def margin_grad(X, y, valid):
            G, m = inner.grad_and_scores(pre(X), y, valid)  # the classifier's gradient at preprocess(x) ...
            return m, G @ A.T  # ... mapped back through the approximation

        view = GradientView(lambda X: inner.scores(pre(X)), margin_grad, inner.classes,
                            ctx.eot_samples if a.randomised else 1, self.name)
        return restarted_pgd(ctx, view, budget, restarts=1 if a.randomised else 2, steps=ctx.steps, rows=rows)

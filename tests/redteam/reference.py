"""Reference attacks of the red-team set: for each believed mitigation, the attack known to break it.

Written separately from the harness (`course` supplies only the data): gradients are
back-propagated here by hand, and every attack knows the mitigation as its owner does (Kerckhoffs).

- smooth preprocessing: PGD through the exact gradient of the blur (a linear map);
- non-smooth preprocessing: BPDA with a differentiable approximation (Athalye, Carlini & Wagner,
  ICML 2018): the JPEG-like step is replaced, in the backward pass only, by its linear low-pass part;
- randomness: EOT (Athalye et al. 2018) over the random shifts and noise, exact per draw;
- abstaining detector: detector-aware PGD, "misclassified and accepted" (Carlini & Wagner, AISec 2017;
  Tramer, Carlini, Brendel & Madry, NeurIPS 2020): the margin plus a penalty on the rejection score;
- ensemble: the members that can be differentiated are attacked together (a majority needs two of three);
- stateful detector, secrecy, label-only output: the owner's model attacked white-box (what an
  attacker with many accounts and enough queries approaches; Chen, Carlini & Wagner 2020);
- saturation: PGD on the logits' margin instead of the saturated probabilities (Carlini & Wagner,
  S&P 2017, against defensive distillation).
Every figure is the accuracy of the defended model on the attack's points (averaged over calls when
the model is random); an abstention counts as the attack failing.
"""
from __future__ import annotations

import copy

import numpy as np

from . import mitigations as M

STEPS = 100


# --------------------------------------------------------------------------- gradients by hand
def logits_and_grad(clf, X, W=None):
    """Logits of a fitted ReLU MLPClassifier (or a linear model) and, with W, the gradient of sum W * logits."""
    X = np.asarray(X, dtype=float)
    if not hasattr(clf, "coefs_"):  # a linear model: logits = X @ coef.T + b
        Z = X @ clf.coef_.T + clf.intercept_
        return Z, (None if W is None else W @ clf.coef_)
    acts, h = [], X
    for i, (A, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        a = h @ A + b
        if i < len(clf.coefs_) - 1:
            acts.append(a)
            h = np.maximum(a, 0.0)
        else:
            Z = a
    if W is None:
        return Z, None
    delta = W
    for i in range(len(clf.coefs_) - 1, -1, -1):
        delta = delta @ clf.coefs_[i].T
        if i > 0:
            delta = delta * (acts[i - 1] > 0)
    return Z, delta


def margin_weights(Z, y, classes):
    """Weights of the margin (best wrong logit - true logit), and the margin."""
    iy = np.searchsorted(classes, y)
    rows = np.arange(len(Z))
    wrong = Z.copy()
    wrong[rows, iy] = -np.inf
    j = wrong.argmax(axis=1)
    W = np.zeros_like(Z)
    W[rows, j] = 1.0
    W[rows, iy] -= 1.0
    return W, Z[rows, j] - Z[rows, iy]


def margin_grad(clf, X, y):
    """Gradient (with respect to X) of the margin of classifier `clf`, and the margin."""
    Z, _ = logits_and_grad(clf, X)
    W, m = margin_weights(Z, y, np.asarray(clf.classes_))
    return logits_and_grad(clf, X, W)[1], m


def unit(G):
    return G / np.maximum(np.linalg.norm(G, axis=1, keepdims=True), 1e-12)


# --------------------------------------------------------------------------- one PGD, many losses
def pgd(grad_fn, defended_fn, X, y, eps, *, bounds=(0.0, 1.0), steps=STEPS, restarts=2, seed=0):
    """L-inf PGD with sign steps; keeps, per point, the iterate the defended model does worst on.

    grad_fn(Xa, idx) -> ascent direction for the attacker at Xa (rows idx of X);
    defended_fn(Xa, idx) -> share of calls on which the model still defends each row (1 or 0
    for deterministic models). Returns (X_adv, defended share per point).
    """
    rng = np.random.default_rng(seed)
    lo, hi = bounds
    best_X, best = X.copy(), defended_fn(X, np.arange(len(X)))
    for r in range(restarts):
        Xa = X.copy() if r == 0 else np.clip(X + rng.uniform(-eps, eps, X.shape), lo, hi)
        for t in range(steps):
            alpha = eps / 4 if t < steps // 3 else (eps / 10 if t < 2 * steps // 3 else eps / 40)
            idx = np.flatnonzero(best > 0)
            if not len(idx):
                return best_X, best
            G = grad_fn(Xa[idx], idx)
            Xa[idx] = np.clip(np.clip(Xa[idx] + alpha * np.sign(G), X[idx] - eps, X[idx] + eps), lo, hi)
            d = defended_fn(Xa[idx], idx)
            better = d < best[idx]
            best_X[idx[better]] = Xa[idx[better]]
            best[idx[better]] = d[better]
    return best_X, best


def _deterministic(model, y):
    def defended(Xa, idx):
        return (model.predict(Xa) == y[idx]).astype(float)

    return defended


# --------------------------------------------------------------------------- the attacks
def attack_blur(model, X, y, eps):
    def grad(Xa, idx):
        g, _ = margin_grad(model.classifier, model.preprocess(Xa), y[idx])
        return g @ model.B.T

    return pgd(grad, _deterministic(model, y), X, y, eps)


def attack_jpeg(model, X, y, eps):
    low_pass = model.D @ np.diag(model.mask.astype(float)) @ model.D.T  # the approximation: no rounding

    def grad(Xa, idx):
        g, _ = margin_grad(model.classifier, model.preprocess(Xa), y[idx])
        return g @ low_pass.T

    return pgd(grad, _deterministic(model, y), X, y, eps)


def attack_random(model, X, y, eps, draws=20, repeats=20):
    rng = np.random.default_rng(5)

    def grad(Xa, idx):
        G = np.zeros_like(Xa)
        for _ in range(draws):
            dx, dy = rng.integers(-1, 2, size=2)
            P = np.clip(M.shift(Xa, dx, dy) + model.sigma * rng.standard_normal(Xa.shape), 0, 1)
            g, _ = margin_grad(model.classifier, P, y[idx])
            G += M.shift(g, -dx, -dy)  # the transpose of a shift
        return G

    def defended(Xa, idx):
        return np.mean([model.predict(Xa) == y[idx] for _ in range(repeats)], axis=0)

    return pgd(grad, defended, X, y, eps, restarts=1)


def attack_detector(model, X, y, eps, margin_goal=2.0):
    P = model.pca.components_

    def grad(Xa, idx):
        g, m = margin_grad(model.classifier, Xa, y[idx])
        r = (Xa - model.pca.mean_) - (Xa - model.pca.mean_) @ P.T @ P  # residual: d||r||/dx = r / ||r||
        rejected = model.rejection_score(Xa) > -0.05
        return unit(g) * (m < margin_goal)[:, None] - unit(r) * rejected[:, None]

    def defended(Xa, idx):
        p = model.predict(Xa)
        return ((p == y[idx]) | (p == M.ABSTAIN)).astype(float)

    return pgd(grad, defended, X, y, eps, restarts=3)


def attack_ensemble(model, X, y, eps, margin_goal=1.0):
    members = [m for m in model.estimators_ if hasattr(m, "coefs_") or hasattr(m, "coef_")]

    def grad(Xa, idx):
        G = np.zeros_like(Xa)
        for m in members:
            g, mm = margin_grad(m, Xa, y[idx])
            G += unit(g) * (mm < margin_goal)[:, None]
        return G

    return pgd(grad, _deterministic(model, y), X, y, eps, restarts=3)


def attack_stateful(model, X, y, eps):
    fresh = copy.deepcopy(model)  # each adversarial image reaches the service once, as a new user

    def grad(Xa, idx):
        return margin_grad(model.classifier, Xa, y[idx])[0]

    def defended(Xa, idx):
        account = copy.deepcopy(fresh)
        p = account.predict(Xa)
        return ((p == y[idx]) | (p == M.ABSTAIN)).astype(float)

    return pgd(grad, defended, X, y, eps)


def attack_opaque(model, X, y, eps):
    pca, clf = model[0], model[-1]

    def grad(Xa, idx):
        g, _ = margin_grad(clf, pca.transform(Xa), y[idx])
        return g @ pca.components_

    return pgd(grad, _deterministic(model, y), X, y, eps)


def attack_label_only(model, X, y, eps):
    def grad(Xa, idx):
        return margin_grad(model._model, Xa, y[idx])[0]

    return pgd(grad, _deterministic(model, y), X, y, eps)


def attack_saturated(model, X, y, eps):
    def grad(Xa, idx):
        return margin_grad(model.classifier, Xa, y[idx])[0]

    return pgd(grad, _deterministic(model, y), X, y, eps)


ATTACKS = {
    "blur": attack_blur,
    "jpeg": attack_jpeg,
    "random": attack_random,
    "detector": attack_detector,
    "ensemble": attack_ensemble,
    "stateful": attack_stateful,
    "opaque": attack_opaque,
    "label-only": attack_label_only,
    "saturated": attack_saturated,
}
RANDOMISED = {"random"}


def naive_points(s, eps):
    """The evaluation teams usually run: minimal PGD examples of the plain MLP, replayed on the defence."""
    base = M.mlp(s.X_train, s.y_train)

    def grad(Xa, idx):
        return margin_grad(base, Xa, s.y[idx])[0]

    X_adv, _ = pgd(grad, _deterministic(base, s.y), s.X, s.y, eps, restarts=1)
    return X_adv

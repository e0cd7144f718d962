"""What every attack shares: the attacker's margin, what counts as evaded, a step in a norm.

A model may abstain: a prediction equal to `ABSTAIN` (-1) means "not decided automatically"
(rejected, or sent to review) and counts as the attack failing - unless -1 is one of the true
labels (classes -1 / +1), when it is an ordinary class. `labels_decide_abstain` decides which,
from the labels `y` of each call to a public attack or evaluation function.
"""
from __future__ import annotations

import contextvars
import functools

import numpy as np

from course.ground.threat import ABSTAIN


def single_thread(fn):
    """Run with one BLAS thread: the small matrix products of these attacks are several times faster."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


def index_of(cls, y):
    """Column of each label in `cls` (-1 where a label is not among them)."""
    cls = np.asarray(cls)
    order = np.argsort(cls, kind="stable")
    pos = np.clip(np.searchsorted(cls[order], y), 0, len(cls) - 1)
    idx = order[pos]
    return np.where(cls[idx] == np.asarray(y), idx, -1)


def margin_weights(S, cls, y, valid, with_second=False):
    """Weights W of the attacker's margin W . s, and the margin, for scores S over classes `cls`.

    The margin is (best wrong valid class) - (what defends). What defends is the true class
    while it still beats every wrong class; once it does not, it is the ABSTAIN column (if the
    model abstains there). Crossing the boundary first and escaping the abstention second
    keeps the attacker from "escaping" an abstention by making the true class more certain.
    """
    n = len(S)
    rows = np.arange(n)
    iy = index_of(cls, y)
    has_y = iy >= 0
    wrong = np.where(valid[None, :], S, -np.inf)
    wrong[rows[has_y], iy[has_y]] = -np.inf
    j = wrong.argmax(axis=1)
    sj = wrong[rows, j]
    sy = np.where(has_y, S[rows, np.maximum(iy, 0)], -np.inf)
    k = np.where(has_y, iy, j)
    second = None
    if (~valid).any():
        ia = int(np.flatnonzero(~valid)[0])
        second = (sj >= sy) & (S[:, ia] > sj)  # crossed, but abstained on
        k = np.where(second, ia, k)
    W = np.zeros_like(S)
    W[rows, j] += 1.0
    W[rows, k] -= 1.0
    margin = np.where(k == j, 0.0, sj - S[rows, k])
    if with_second:
        W2 = None
        if second is not None and second.any():
            # once across, keep moving away from the true class as well as out of the abstention
            W2 = np.zeros_like(S)
            W2[rows, j] += second
            W2[rows[has_y], iy[has_y]] -= second[has_y]
        return W, margin, W2
    return W, margin


ABSTAIN_LABEL = contextvars.ContextVar("abstain_label", default=ABSTAIN)


def labels_decide_abstain(fn):
    """ABSTAIN (-1) means "not decided" - unless -1 is one of the true labels (e.g. classes -1 / +1):
    then it is an ordinary class. Decided from the `y` of each call to the harness's public functions."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        y = kwargs.get("y", args[2] if len(args) > 2 else None)
        ys = np.asarray(y) if y is not None else np.array([])
        label = None if ys.dtype.kind in "iuf" and np.any(ys == ABSTAIN) else ABSTAIN
        token = ABSTAIN_LABEL.set(label)
        try:
            return fn(*args, **kwargs)
        finally:
            ABSTAIN_LABEL.reset(token)

    return wrapper


def flat_labels(pred):
    pred = np.asarray(pred)
    return pred.reshape(len(pred), -1)[:, 0] if pred.ndim > 1 else pred


def predict_labels(model, X):
    """The model's labels for a copy of X (a model may not change our arrays), one per row."""
    return flat_labels(model.predict(np.array(X, dtype=float)))


def is_abstain(pred):
    pred = flat_labels(pred)
    label = ABSTAIN_LABEL.get()
    return pred == label if label is not None and pred.dtype.kind in "iuf" else np.zeros(pred.shape, bool)


def evaded(pred, y):
    pred = flat_labels(pred)
    return (pred != np.asarray(y)) & ~is_abstain(pred)


def sample_ball(rng, X, budget, norm, size=None):
    shape = X.shape if size is None else (X.shape[0], size, X.shape[1])
    if norm == "linf":
        return rng.choice([-budget, budget], size=shape) if budget > 0 else np.zeros(shape)
    u = rng.normal(size=shape)
    u /= np.maximum(np.linalg.norm(u, ord=1 if norm == "l1" else 2, axis=-1, keepdims=True), 1e-12)
    return budget * u


def norm_step(g, alpha, norm):
    if norm == "linf":
        return alpha * np.sign(g)
    n = np.linalg.norm(g, axis=1, keepdims=True)
    return alpha * g / np.maximum(n, 1e-12)


def valid_classes(classes):
    return ~is_abstain(classes)

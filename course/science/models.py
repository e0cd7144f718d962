"""The small models the course trains, and what attacks need from them.

`fit` trains one of a few named scikit-learn models, cached in memory so that a lesson can
ask for the same model twice at no cost. `decision_scores` and `input_gradient` give an
attacker's view of a fitted model: one score per class, and the gradient of a weighted sum
of those scores with respect to the input. Both are written out by hand (no autodiff) for
the model families the course uses: linear models, SVMs with linear or RBF kernels, small
MLPs, and pipelines of a scaler followed by one of those.
"""
from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

KINDS = {
    "linear-svm": lambda rs, **kw: LinearSVC(C=kw.get("C", 1.0), random_state=rs, max_iter=10000),
    "logistic": lambda rs, **kw: LogisticRegression(C=kw.get("C", 1.0), max_iter=2000),
    "rbf-svm": lambda rs, **kw: SVC(kernel="rbf", C=kw.get("C", 1.0), gamma=kw.get("gamma", "scale"), random_state=rs),
    "mlp": lambda rs, **kw: MLPClassifier(
        hidden_layer_sizes=kw.get("hidden", (32,)), alpha=kw.get("alpha", 1e-3), max_iter=kw.get("max_iter", 500), random_state=rs
    ),
    "tree": lambda rs, **kw: DecisionTreeClassifier(max_depth=kw.get("max_depth", 6), random_state=rs),
    "forest": lambda rs, **kw: RandomForestClassifier(n_estimators=kw.get("n_estimators", 100),
                                                      max_depth=kw.get("max_depth", None), random_state=rs),
    "knn": lambda rs, **kw: KNeighborsClassifier(n_neighbors=kw.get("n_neighbors", 5)),
}

_CACHE: "OrderedDict[str, object]" = OrderedDict()
_CACHE_SIZE = 32


def _key(kind, X, y, random_state, scale, params) -> str:
    h = hashlib.sha1()
    for a in (np.ascontiguousarray(X, dtype=float), np.ascontiguousarray(y)):
        h.update(a.tobytes())
        h.update(str(a.shape).encode())
    h.update(repr((kind, random_state, scale, sorted(params.items()))).encode())
    return h.hexdigest()


def fit(kind: str, X, y, *, scale: bool = False, random_state: int = 0, **params):
    """Train a named model on (X, y), or return the same model trained earlier on the same data.

    Parameters
    ----------
    kind : one of "linear-svm", "logistic", "rbf-svm", "mlp", "tree", "forest", "knn".
    X, y : training data (numpy arrays).
    scale : put a StandardScaler in front of the model (a scikit-learn Pipeline).
    random_state : seed of the model's own randomness.
    **params : the model's settings (C, gamma, hidden, alpha, max_depth, n_estimators, ...).

    Returns
    -------
    A fitted scikit-learn estimator. Do not modify it: the same object is handed out again.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}; got {kind!r}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be 2-D with one row per label; got X {X.shape}, y {y.shape}")
    key = _key(kind, X, y, random_state, scale, params)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    est = KINDS[kind](random_state, **params)
    model = make_pipeline(StandardScaler(), est) if scale else clone(est)
    with warnings.catch_warnings():
        # small course models stop early on purpose; a warning on stderr would zero a graded cell
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    _CACHE[key] = model
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return model


# --------------------------------------------------------------------------- attacker's view
def _split_pipeline(model):
    """(list of linear input transforms, final estimator)."""
    if isinstance(model, Pipeline):
        *pre, (_, last) = model.steps
        transforms = [t for _, t in pre if t is not None and t != "passthrough"]
        for t in transforms:
            if not isinstance(t, (StandardScaler, MinMaxScaler)):
                raise TypeError(
                    f"only StandardScaler or MinMaxScaler may come before the classifier in a pipeline "
                    f"that is attacked with gradients; got {type(t).__name__}"
                )
        return transforms, last
    return [], model


def _transform(transforms, X):
    for t in transforms:
        X = t.transform(X)
    return X


def _scale_factor(transforms, d):
    """d z / d x, elementwise, of the chain of scalers (all of them are affine and diagonal)."""
    s = np.ones(d)
    for t in transforms:
        if isinstance(t, StandardScaler):
            s = s / (t.scale_ if t.scale_ is not None else 1.0)
        else:  # MinMaxScaler
            s = s * t.scale_
    return s


def _rbf_parts(svc, Z):
    diff = Z[:, None, :] - svc.support_vectors_[None, :, :]
    k = np.exp(-svc._gamma * np.einsum("nsd,nsd->ns", diff, diff))
    return diff, k


def _mlp_forward(mlp, Z):
    acts = [Z]
    pre = []
    h = Z
    last = len(mlp.coefs_) - 1
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        a = h @ W + b
        pre.append(a)
        if i < last:
            h = _ACT[mlp.activation][0](a)
            acts.append(h)
    return pre, acts


_ACT = {
    "relu": (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(float)),
    "tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "logistic": (lambda a: 1 / (1 + np.exp(-a)), lambda a: (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a)))),
    "identity": (lambda a: a, lambda a: np.ones_like(a)),
}


def _raw_scores(est, Z):
    """Scores of the final estimator on transformed inputs: (n,) for binary, (n, K) otherwise."""
    if isinstance(est, SVC):
        if len(est.classes_) != 2:
            raise TypeError("gradients of a multi-class SVC (one-vs-one) are not supported: use LinearSVC or an MLP")
        if est.kernel == "linear":
            return Z @ est.coef_.ravel() + est.intercept_[0]
        if est.kernel != "rbf":
            raise TypeError(f"SVC kernel {est.kernel!r} is not supported; use 'linear' or 'rbf'")
        _, k = _rbf_parts(est, Z)
        return k @ est.dual_coef_.ravel() + est.intercept_[0]
    if isinstance(est, MLPClassifier):
        pre, _ = _mlp_forward(est, Z)
        out = pre[-1]
        return out.ravel() if out.shape[1] == 1 else out
    if hasattr(est, "coef_") and hasattr(est, "intercept_"):
        s = Z @ est.coef_.T + est.intercept_
        return s.ravel() if s.shape[1] == 1 else s
    raise TypeError(
        f"{type(est).__name__} has no gradient the course knows; attack it through a surrogate "
        "(course.science.attacks.transfer) or with queries instead"
    )


def decision_scores(model, X) -> np.ndarray:
    """One score per class, shape (n, n_classes); the predicted class is the argmax.

    For a binary model with a single score f, the scores are (-f, f).
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    transforms, est = _split_pipeline(model)
    s = _raw_scores(est, _transform(transforms, X))
    return np.stack([-s, s], axis=1) if s.ndim == 1 else s


def input_gradient(model, X, W) -> np.ndarray:
    """Gradient of sum_k W[i, k] * score_k(x_i) with respect to x_i, for every row i.

    Parameters
    ----------
    model : a fitted model of a supported family (see the module docstring).
    X : inputs, shape (n, d).
    W : weights, shape (n, n_classes) (or (n_classes,), used for every row).

    Returns
    -------
    array of shape (n, d)
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    transforms, est = _split_pipeline(model)
    Z = _transform(transforms, X)
    W = np.asarray(W, dtype=float)
    W = np.broadcast_to(W, (len(X), W.shape[-1])) if W.ndim == 1 else W
    if W.shape[1] == 2 and len(getattr(est, "classes_", [0, 0])) == 2:
        g_out = (W[:, 1] - W[:, 0])[:, None]  # d(w0*(-f) + w1*f)/df
    else:
        g_out = W
    if isinstance(est, SVC) and est.kernel == "rbf":
        if len(est.classes_) != 2:
            raise TypeError("gradients of a multi-class SVC (one-vs-one) are not supported: use LinearSVC or an MLP")
        diff, k = _rbf_parts(est, Z)
        a = est.dual_coef_.ravel()
        gz = np.einsum("ns,nsd->nd", (-2 * est._gamma) * a[None, :] * k, diff) * g_out
    elif isinstance(est, MLPClassifier):
        pre, acts = _mlp_forward(est, Z)
        delta = g_out
        for i in range(len(est.coefs_) - 1, -1, -1):
            delta = delta @ est.coefs_[i].T
            if i > 0:
                delta = delta * _ACT[est.activation][1](pre[i - 1])
        gz = delta
    elif hasattr(est, "coef_"):
        _raw_scores(est, Z[:1])  # raises for unsupported SVC kernels
        gz = g_out @ np.atleast_2d(est.coef_)
    else:
        _raw_scores(est, Z[:1])  # raises the explanatory TypeError
        raise TypeError(f"no gradient for {type(est).__name__}")
    return gz * _scale_factor(transforms, X.shape[1])


def has_gradient(model) -> bool:
    """Whether `input_gradient` supports this model."""
    try:
        transforms, est = _split_pipeline(model)
        _raw_scores(est, np.zeros((1, getattr(est, "n_features_in_", 1))))
        return True
    except (TypeError, ValueError, AttributeError):
        return False


def class_scores(model, X):
    """Scores of any model offering them: the course's exact ones, or its own decision_function."""
    if has_gradient(model):
        return decision_scores(model, X)
    s = np.asarray(model.decision_function(X), dtype=float)
    return np.stack([-s, s], axis=1) if s.ndim == 1 else s


def class_score_gradient(model, X, W):
    """Gradient of sum_k W[i, k] * class_scores(model, X)[i, k] with respect to each row of X."""
    if has_gradient(model):
        return input_gradient(model, X, W)
    if callable(getattr(model, "input_gradient", None)):
        return model.input_gradient(X, W)
    raise TypeError(f"{type(model).__name__} offers no input gradient")


def is_differentiable(model) -> bool:
    """Whether an input gradient is known: the course differentiates the model, or it offers `input_gradient`."""
    return has_gradient(model) or callable(getattr(model, "input_gradient", None))


def softmax(S):
    """Row-wise softmax of a score matrix."""
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


def binary_scale(model, S):
    """The factor that turns a binary model's scores (-f, f) into scikit-learn's probabilities: 1/2; else 1."""
    # a binary model's scores are (-f, f); scikit-learn's probability is sigmoid(f) = softmax(-f/2, f/2)
    return 0.5 if S.shape[1] == 2 and len(model.classes_) == 2 else 1.0


def probabilities(model, X) -> np.ndarray:
    """Class probabilities as the softmax of the model's scores (scikit-learn's predict_proba for
    logistic regression and MLPs; a calibrated-looking softmax for other score models)."""
    S = class_scores(model, np.atleast_2d(np.asarray(X, dtype=float)))
    return softmax(S * binary_scale(model, S))


def probability_gradient(model, X, W) -> np.ndarray:
    """Gradient of sum_k W[i, k] * probabilities(model, X)[i, k] with respect to each row of X."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    S = class_scores(model, X)
    c = binary_scale(model, S)
    P = softmax(S * c)
    W = np.broadcast_to(np.asarray(W, dtype=float), P.shape)
    dz = P * (W - np.sum(W * P, axis=1, keepdims=True))  # softmax Jacobian, row by row
    return class_score_gradient(model, X, dz * c)


class Ensemble:
    """Several models vote (soft voting: their class probabilities are averaged).

    The belief: "an attack that fools one model will not fool all of them". Examples
    crafted against one member often fail on the ensemble; an attacker who attacks the
    ensemble as one model (its averaged probabilities are differentiable) fools it about as
    easily as one member (He et al., WOOT 2017; Tramèr et al., NeurIPS 2020).
    """

    name = "ensemble"

    def __init__(self, members):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        classes = np.asarray(members[0].classes_)
        for m in members[1:]:
            if not np.array_equal(np.asarray(m.classes_), classes):
                raise ValueError("all members must have the same classes_")
        self._model = members[0]
        self.classes_ = classes
        self.members = members
        self.name = f"ensemble of {len(members)} models"

    def decision_function(self, X):
        """Averaged class probabilities of the members."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return np.mean([probabilities(m, X) for m in self.members], axis=0)

    def predict(self, X):
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def input_gradient(self, X, W):
        return np.mean([probability_gradient(m, X, W) for m in self.members], axis=0)

    def __repr__(self) -> str:
        return f"Ensemble({self.name})"

"""Believed mitigations of the red-team set, written independently of `course.defences`.

Each is what a practitioner might build and believe in (M1): a scikit-learn MLP, or a few
models, behind something that makes the usual white-box evaluation look good. They offer
what such systems offer: `predict` always, often `predict_proba`, and sometimes the
documented hooks of the harness (`preprocess` + `classifier`, `decision_function` +
`input_gradient`). `reference.py` holds the attack known to break each one.

The setting is the one of lessons 09a-c: the bundled digits (pixels in [0, 1]), the same
55 / 45 split, 200 images to attack, an L-infinity budget of 0.1 inside [0, 1].
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from course.science import datasets

ABSTAIN = -1
SIDE = 8  # the digits are 8x8 images stored as rows of 64 pixels


def setting(n_eval: int = 200) -> Bunch:
    """Training images, the `n_eval` images to attack, the attacker's own images, and the budget."""
    d = datasets.load_digits()
    X_train, X_rest, y_train, y_rest = train_test_split(d.X, d.y, test_size=0.45, stratify=d.y, random_state=0)
    return Bunch(X_train=X_train, y_train=y_train, X=X_rest[:n_eval], y=y_rest[:n_eval],
                 X_attacker=X_rest[n_eval:], budget=0.1, bounds=(0.0, 1.0))


def mlp(X, y, hidden=(64,), random_state: int = 0) -> MLPClassifier:
    """A plain ReLU MLP, as the lessons train it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-3, max_iter=500, random_state=random_state).fit(X, y)


# --------------------------------------------------------------------------- image operators
def blur_matrix(sigma: float = 0.8) -> np.ndarray:
    """A Gaussian blur of 8x8 images as a 64x64 matrix B (row vector x -> x @ B), edges renormalised."""
    idx = np.arange(SIDE)
    k = np.exp(-((idx[:, None] - idx[None, :]) ** 2) / (2 * sigma**2))
    k /= k.sum(axis=0, keepdims=True)
    return np.kron(k, k)


def dct_matrix() -> np.ndarray:
    """The orthonormal 2-D DCT-II of 8x8 images as a 64x64 matrix D (coefficients = x @ D)."""
    n = np.arange(SIDE)
    C = np.sqrt(2 / SIDE) * np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * SIDE))
    C[0] /= np.sqrt(2)
    return np.kron(C, C).T


def shift(X, dx: int, dy: int) -> np.ndarray:
    """Translate 8x8 images by (dx, dy) pixels, filling with 0 (background)."""
    imgs = np.asarray(X, dtype=float).reshape(-1, SIDE, SIDE)
    out = np.zeros_like(imgs)
    src_r = slice(max(0, -dy), SIDE - max(0, dy))
    dst_r = slice(max(0, dy), SIDE - max(0, -dy))
    src_c = slice(max(0, -dx), SIDE - max(0, dx))
    dst_c = slice(max(0, dx), SIDE - max(0, -dx))
    out[:, dst_r, dst_c] = imgs[:, src_r, src_c]
    return out.reshape(len(imgs), SIDE * SIDE)


class _Wrapper:
    """A classifier in front of which something is done; `classes_` of the inner model."""

    def __init__(self, classifier):
        self.classifier = classifier
        self.classes_ = np.asarray(classifier.classes_)


# --------------------------------------------------------------------------- 1. smooth preprocessing
class Blur(_Wrapper):
    """Gaussian blur before the classifier ("smoothing removes the adversarial noise")."""

    name = "smooth preprocessing (Gaussian blur)"

    def __init__(self, classifier, B):
        super().__init__(classifier)
        self.B = B

    def preprocess(self, X):
        return np.asarray(X, dtype=float) @ self.B

    def predict(self, X):
        return self.classifier.predict(self.preprocess(X))

    def predict_proba(self, X):
        return self.classifier.predict_proba(self.preprocess(X))


def build_blur(s):
    B = blur_matrix()
    return Blur(mlp(s.X_train @ B, s.y_train), B)


# --------------------------------------------------------------------------- 2. non-smooth preprocessing
class JpegLike(_Wrapper):
    """JPEG-like compression: DCT, keep the low frequencies, quantise them coarsely, invert, clip."""

    name = "non-smooth preprocessing (JPEG-like DCT quantisation)"

    def __init__(self, classifier, keep: int = 5, step: float = 0.25):
        super().__init__(classifier)
        self.D = dct_matrix()
        u = np.arange(SIDE)
        self.mask = ((u[:, None] + u[None, :]) < keep).ravel()  # zig-zag low-frequency triangle
        self.step = float(step)

    def preprocess(self, X):
        C = np.asarray(X, dtype=float) @ self.D
        C = np.where(self.mask, np.round(C / self.step) * self.step, 0.0)
        return np.clip(C @ self.D.T, 0.0, 1.0)

    def predict(self, X):
        return self.classifier.predict(self.preprocess(X))

    def predict_proba(self, X):
        return self.classifier.predict_proba(self.preprocess(X))


def build_jpeg(s):
    shell = JpegLike(_Classes(s.y_train))
    clf = mlp(shell.preprocess(s.X_train), s.y_train)
    return JpegLike(clf)


class _Classes:
    """A stand-in classifier with only classes_ (to use a wrapper's preprocessing before training)."""

    def __init__(self, y):
        self.classes_ = np.unique(y)


# --------------------------------------------------------------------------- 3. randomness
class RandomShift(_Wrapper):
    """Each call shifts the image by a random pixel in each direction and adds noise ("a moving target")."""

    name = "randomness (random shift + noise)"

    def __init__(self, classifier, sigma: float = 0.1, random_state: int = 0):
        super().__init__(classifier)
        self.sigma = float(sigma)
        self._rng = np.random.default_rng(random_state)

    def preprocess(self, X):
        X = np.asarray(X, dtype=float)
        out = np.empty_like(X)
        moves = self._rng.integers(-1, 2, size=(len(X), 2))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                rows = np.flatnonzero((moves[:, 0] == dx) & (moves[:, 1] == dy))
                if len(rows):
                    out[rows] = shift(X[rows], dx, dy)
        return np.clip(out + self.sigma * self._rng.standard_normal(X.shape), 0.0, 1.0)

    def predict(self, X):
        return self.classifier.predict(self.preprocess(X))

    def predict_proba(self, X):
        return self.classifier.predict_proba(self.preprocess(X))


def build_random(s):
    shell = RandomShift(_Classes(s.y_train), random_state=1)
    Xa = np.vstack([s.X_train] + [shell.preprocess(s.X_train) for _ in range(2)])
    ya = np.tile(s.y_train, 3)
    return RandomShift(mlp(Xa, ya))


# --------------------------------------------------------------------------- 4. an abstaining OOD detector
class PcaDetector(_Wrapper):
    """Reject inputs that a PCA of the training images reconstructs badly ("adversarial inputs are
    off the data manifold"). Rejected rows are answered ABSTAIN; `rejection_score` > 0 means rejected."""

    name = "OOD detector (PCA reconstruction error, abstains)"

    def __init__(self, classifier, X_train, components: int = 24, keep: float = 0.95):
        super().__init__(classifier)
        self.pca = PCA(n_components=components, random_state=0).fit(X_train)
        err = self._error(X_train)
        self.threshold = float(np.quantile(err, keep))

    def _error(self, X):
        X = np.asarray(X, dtype=float)
        R = self.pca.inverse_transform(self.pca.transform(X))
        return np.sqrt(((X - R) ** 2).sum(axis=1))

    def rejection_score(self, X):
        return self._error(X) - self.threshold

    def predict(self, X):
        labels = self.classifier.predict(np.asarray(X, dtype=float))
        return np.where(self.rejection_score(X) > 0, ABSTAIN, labels)

    def predict_proba(self, X):
        return self.classifier.predict_proba(np.asarray(X, dtype=float))


def build_detector(s):
    return PcaDetector(mlp(s.X_train, s.y_train), s.X_train)


# --------------------------------------------------------------------------- 5. an ensemble
def build_ensemble(s):
    """Hard majority vote of an MLP, a logistic regression and a random forest, as scikit-learn builds it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vote = VotingClassifier([
            ("mlp", MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=500, random_state=0)),
            ("logistic", LogisticRegression(C=1.0, max_iter=2000)),
            ("forest", RandomForestClassifier(n_estimators=100, random_state=0)),
        ], voting="hard")
        vote.fit(s.X_train, s.y_train)
    vote.name = "ensemble (hard vote of MLP, logistic regression, random forest)"
    return vote


# --------------------------------------------------------------------------- 6. a stateful detector
class QueryHistory(_Wrapper):
    """A query-history detector (Chen, Carlini & Wagner, "Stateful detection of black-box adversarial
    attacks", 2020): every answered query is remembered; a query too close to earlier ones is flagged,
    and after `ban_after` flags the account is banned (every later answer is ABSTAIN). Each call is
    checked against the history of earlier calls, then added to it."""

    name = "stateful detector (query history, bans the account)"

    def __init__(self, classifier, X_train, k: int = 5, quantile: float = 0.01, ban_after: int = 50,
                 memory: int = 20000):
        super().__init__(classifier)
        self.k, self.ban_after, self.memory = int(k), int(ban_after), int(memory)
        self.threshold = float(np.quantile(self._knn(X_train[:500], X_train[500:]), quantile))
        self.history = np.empty((0, X_train.shape[1]))
        self.flags = 0

    def _knn(self, Q, H):
        D = (Q**2).sum(1)[:, None] + (H**2).sum(1)[None, :] - 2 * Q @ H.T
        D = np.sqrt(np.maximum(D, 0.0))
        k = min(self.k, H.shape[0])
        return np.sort(D, axis=1)[:, :k].mean(axis=1)

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        labels = self.classifier.predict(X)
        if self.flags >= self.ban_after:
            return np.full(len(X), ABSTAIN)
        if len(self.history):
            close = self._knn(X, self.history) < self.threshold
            self.flags += int(close.sum())
            labels = np.where(close, ABSTAIN, labels)
            if self.flags >= self.ban_after:
                labels = np.full(len(X), ABSTAIN)
        self.history = np.vstack([self.history, X])[-self.memory:]
        return labels


def build_stateful(s):
    return QueryHistory(mlp(s.X_train, s.y_train), s.X_train)


# --------------------------------------------------------------------------- 7. secrecy: an opaque pipeline
def build_opaque(s):
    """A PCA + MLP pipeline whose gradient nobody wrote down; it answers probabilities."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(PCA(n_components=30, random_state=0),
                             MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=500, random_state=0))
        pipe.fit(s.X_train, s.y_train)
    pipe.name = "secrecy (opaque PCA + MLP pipeline, probabilities)"
    return pipe


# --------------------------------------------------------------------------- 8. label-only output
class LabelOnly:
    """The model behind an API that answers labels only ("without scores nobody can attack it")."""

    name = "label-only output"

    def __init__(self, model):
        self._model = model

    def predict(self, X):
        return self._model.predict(np.asarray(X, dtype=float))


def build_label_only(s):
    return LabelOnly(mlp(s.X_train, s.y_train, hidden=(128,), random_state=2))


# --------------------------------------------------------------------------- 9. saturated scores
class Saturated(_Wrapper):
    """Scores that saturate (defensive-distillation style): float32 probabilities of the logits times
    a temperature of 100, with their honest input gradient, which is zero wherever the model is sure."""

    name = "gradient masking by saturation (T=100, float32)"
    T = 100.0

    def _logits(self, X):
        c = self.classifier
        h = np.maximum(np.asarray(X, dtype=float) @ c.coefs_[0] + c.intercepts_[0], 0.0)
        return h @ c.coefs_[1] + c.intercepts_[1], h

    def decision_function(self, X):
        z, _ = self._logits(X)
        z = (self.T * z).astype(np.float32)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32).astype(float)

    def predict(self, X):
        return self.classes_[np.argmax(self._logits(X)[0], axis=1)]

    def input_gradient(self, X, W):
        P = self.decision_function(X)
        W = np.broadcast_to(np.asarray(W, dtype=float), P.shape)
        dz = (P * (W - (W * P).sum(axis=1, keepdims=True)) * self.T).astype(np.float32).astype(float)
        c = self.classifier
        _, h = self._logits(X)
        return ((dz @ c.coefs_[1].T) * (h > 0)) @ c.coefs_[0].T


def build_saturated(s):
    return Saturated(mlp(s.X_train, s.y_train))


BUILDERS = {
    "blur": build_blur,
    "jpeg": build_jpeg,
    "random": build_random,
    "detector": build_detector,
    "ensemble": build_ensemble,
    "stateful": build_stateful,
    "opaque": build_opaque,
    "label-only": build_label_only,
    "saturated": build_saturated,
}

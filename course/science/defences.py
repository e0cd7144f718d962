"""The mitigations practitioners believe in, and two that hold up better, as wrappers of a fitted model.

Every defence here wraps a fitted classifier and is itself a classifier: it has `classes_`
and `predict(X)`, and `decision_function(X)` where that means something. None of them is
special to `course.science.evaluation`: the evaluation harness sees them only through the generic,
documented hooks below, the same hooks a practitioner's own defence can offer.

The hooks (all optional except `predict`)
-----------------------------------------
``predict(X)``
    labels; a defence that declines to decide (it rejects the input, or sends it to a human)
    answers ``ABSTAIN`` (-1) for that row.
``decision_function(X)``
    one score per entry of ``classes_``; ``predict`` is the column of the largest score. When
    ``ABSTAIN`` is among ``classes_``, its column is the score of "not decided automatically".
``input_gradient(X, W)``
    the gradient, for each row i, of ``sum_k W[i, k] * decision_function(X)[i, k]`` with
    respect to the input row (what a white-box attacker computes; same contract as
    `course.science.models.input_gradient`).
``preprocess(X)`` and ``classifier``
    a defence that transforms its input before a classifier exposes both, so that
    ``predict(X) == classifier.predict(preprocess(X))``. The transformation may be
    non-differentiable (rounding) or random (noise): an attacker who knows it is there attacks
    straight through it (BPDA) and averages over its randomness (EOT).
``rejection_score(X)``
    a defence that abstains by its own rule (a detector, an out-of-distribution test) and whose
    `decision_function` has no ABSTAIN column can offer the rule's score: above 0 where it
    answers ABSTAIN. The harness adds it to the scores as an ABSTAIN column, so that its attacks
    look for inputs that are misclassified *and* accepted.
``estimators_`` or ``members``
    an ensemble; in owner mode the harness attacks the members it can differentiate together.

Believed mitigations (M1 in the course's catalogue; each breaks under an adaptive attack):
`Secret` (the model behind an API), `Preprocessed` with `squeeze` / `median_smoothing` /
`rounding` (input sanitisation), `RandomNoise` (randomness at prediction time), `Detector`
(an adversarial-input detector), `Ensemble`, `Retraining` (retrain on fresh data),
`HumanReview` (low-confidence cases go to a person).

What holds up better, measured the same way: `adversarial_training` (Madry et al., ICLR 2018)
and `RejectOption` (reject inputs far from the training data of the class they would get).

References: Athalye, Carlini & Wagner, ICML 2018; Carlini & Wagner, AISec 2017; Tramèr,
Carlini, Brendel & Madry, NeurIPS 2020; Madry et al., ICLR 2018; Sotgiu et al., EURASIP JIS 2020.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from course.ground.threat import ABSTAIN
from course.science import models
from course.science.models import Ensemble, probabilities, probability_gradient  # re-exported: the believed mitigation and its maths
from course.science.services import PredictionAPI

__all__ = [
    "ABSTAIN",
    "Defence",
    "Secret",
    "Preprocessed",
    "squeeze",
    "rounding",
    "median_smoothing",
    "RandomNoise",
    "Detector",
    "Ensemble",
    "Retraining",
    "HumanReview",
    "RejectOption",
    "adversarial_training",
    "probabilities",
    "probability_gradient",
    "defended_model",
    "handed_model",
]


# --------------------------------------------------------------------------- shared pieces


class Defence:
    """A classifier that wraps another one. Subclasses set `name` and implement `predict`."""

    name = "defence"

    def __init__(self, model):
        self._model = model

    @property
    def classes_(self):
        return np.asarray(self._model.classes_)

    def predict(self, X):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


# --------------------------------------------------------------------------- secrecy
class Secret(Defence):
    """The model behind an API: only labels come out (or scores, with `output="scores"`).

    The belief: "attackers cannot attack what they cannot see". There is no gradient, no
    preprocessing hook and no model to download. The answers come from the course's counted
    service (`course.science.services.PredictionAPI`), so every row asked about is counted in
    `queries_used` (what a rate limit would meter). Attack it with a surrogate trained on its
    answers (transfer) or with queries alone (lesson 04; Tramèr et al., USENIX Security 2016).
    """

    name = "secrecy (model behind an API)"

    def __init__(self, model, output: str = "label"):
        if output not in ("label", "scores"):
            raise ValueError(f"output must be 'label' or 'scores'; got {output!r}")
        super().__init__(model)
        self._output = output
        self._service = PredictionAPI(_ScoresOf(model) if output == "scores" else model, output=output)
        if output == "scores":
            self.decision_function = self._service.decision_function

    @property
    def queries_used(self) -> int:
        """Rows answered so far."""
        return self._service.queries_used

    def predict(self, X):
        return np.asarray(self._service.predict(X))

    def __getattr__(self, item):
        # the wrapped model's internals are not part of the API
        if item.startswith("_"):
            raise AttributeError(item)
        offered = "predict/decision_function" if self._output == "scores" else "predict"
        raise AttributeError(f"{type(self).__name__} exposes only {offered}; no {item!r}")


class _ScoresOf:
    """A model whose decision_function is its score of every class (the course's exact scores where it has them)."""

    def __init__(self, model):
        self.classes_, self.predict, self._model = model.classes_, model.predict, model

    def decision_function(self, X):
        return models.class_scores(self._model, X)


# --------------------------------------------------------------------------- input preprocessing
class Preprocessed(Defence):
    """A classifier behind an input transformation: predict(X) = classifier.predict(preprocess(X)).

    The belief: "sanitising the input (rounding, squeezing, smoothing) removes adversarial
    perturbations". The transformation is usually non-differentiable, so a gradient attack
    through the whole system sees zero gradient and fails: the defence *looks* robust.
    Athalye et al. (ICML 2018) attack straight through it: the gradient of the classifier at
    preprocess(x) is used as if preprocess were the identity (BPDA).

    Build one with `squeeze`, `rounding` or `median_smoothing`, or give any function.
    """

    def __init__(self, classifier, transform, name: str = "input preprocessing"):
        super().__init__(classifier)
        self.classifier = classifier
        self._transform = transform
        self.name = name

    def preprocess(self, X):
        """The input transformation this defence applies before its classifier."""
        return self._transform(np.atleast_2d(np.asarray(X, dtype=float)))

    def predict(self, X):
        return np.asarray(self.classifier.predict(self.preprocess(X)))

    def decision_function(self, X):
        return models.class_scores(self.classifier, self.preprocess(X))


def squeeze(classifier, bits: int = 2, bounds=(0.0, 1.0)) -> Preprocessed:
    """Bit-depth reduction ("feature squeezing", Xu et al., NDSS 2018): each feature is rounded
    to one of 2**bits levels between the bounds."""
    lo, hi = map(float, bounds)
    levels = 2 ** int(bits) - 1

    def transform(X):
        return lo + np.round((np.clip(X, lo, hi) - lo) / (hi - lo) * levels) / levels * (hi - lo)

    d = Preprocessed(classifier, transform, f"bit-depth squeezing ({bits} bits)")
    d.recipe = {"kind": "squeeze", "bits": int(bits), "bounds": [lo, hi]}
    return d


def rounding(classifier, decimals: int = 1) -> Preprocessed:
    """Round every feature to a number of decimals (input "sanitisation" of tabular data)."""
    d = Preprocessed(classifier, lambda X: np.round(X, int(decimals)), f"rounding ({decimals} decimals)")
    d.recipe = {"kind": "rounding", "decimals": int(decimals)}
    return d


def median_smoothing(classifier, size: int = 3, shape=(8, 8)) -> Preprocessed:
    """A median filter over images stored as rows (spatial smoothing, Xu et al., NDSS 2018)."""
    h, w = shape
    r = int(size) // 2

    def transform(X):
        imgs = X.reshape(len(X), h, w)
        padded = np.pad(imgs, ((0, 0), (r, r), (r, r)), mode="edge")
        windows = np.stack([padded[:, i:i + h, j:j + w] for i in range(2 * r + 1) for j in range(2 * r + 1)], axis=-1)
        return np.median(windows, axis=-1).reshape(len(X), h * w)

    d = Preprocessed(classifier, transform, f"median smoothing ({size}x{size})")
    d.recipe = {"kind": "median", "size": int(size), "shape": [int(h), int(w)]}
    return d


def recipe_of(model):
    """A mitigation as plain data, so that a grader can rebuild it on its own side: the course's input
    preprocessing (`squeeze`, `rounding`, `median_smoothing`) or `RandomNoise` around a classifier, as
    {"kind": ..., its parameters, "classifier": the classifier}; a scikit-learn estimator as
    {"kind": "estimator", "classifier": it}. None for anything else (a class the grader cannot rebuild)."""
    if isinstance(model, RandomNoise):
        return {"kind": "noise", "sigma": model.sigma, "bounds": [float(b) for b in model.bounds],
                "classifier": model.classifier}
    recipe = getattr(model, "recipe", None)
    if isinstance(model, Preprocessed) and isinstance(recipe, dict):
        return dict(recipe, classifier=model.classifier)
    if type(model).__module__.startswith("sklearn.") and hasattr(model, "predict"):
        return {"kind": "estimator", "classifier": model}
    return None


def rebuild(recipe: dict, random_state: int = 0):
    """The mitigation a `recipe_of` describes, around its (already rebuilt) classifier."""
    kind, clf = recipe.get("kind"), recipe.get("classifier")
    if kind == "estimator":
        return clf
    if kind == "squeeze":
        return squeeze(clf, int(recipe["bits"]), tuple(recipe["bounds"]))
    if kind == "rounding":
        return rounding(clf, int(recipe["decimals"]))
    if kind == "median":
        return median_smoothing(clf, int(recipe["size"]), tuple(recipe["shape"]))
    if kind == "noise":
        return RandomNoise(clf, float(recipe["sigma"]), tuple(recipe["bounds"]), random_state=random_state)
    raise ValueError(f"cannot rebuild a mitigation of kind {kind!r}")


# --------------------------------------------------------------------------- randomness
class RandomNoise(Defence):
    """Random noise added to every input at prediction time (a fresh draw on every call).

    The belief: "randomness makes the model a moving target". Adversarial examples found
    with one draw of the noise, just across the boundary, often fall back under another
    draw. An attacker who averages gradients (or queries) over the noise (Expectation over
    Transformation, Athalye et al. 2018) finds points that are misclassified under almost
    every draw. `preprocess` is exposed (noise added, then clipped to the bounds).
    """

    def __init__(self, classifier, sigma: float = 0.2, bounds=(0.0, 1.0), random_state: int = 0):
        super().__init__(classifier)
        self.classifier = classifier
        self.sigma = float(sigma)
        self.bounds = bounds
        self._rng = np.random.default_rng(random_state)
        self.name = f"random noise (sigma {sigma:g})"

    def preprocess(self, X):
        """Add fresh Gaussian noise (and clip to the bounds): a new draw on every call."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return np.clip(X + self.sigma * self._rng.standard_normal(size=X.shape, dtype=np.float32), *self.bounds)

    def predict(self, X):
        return np.asarray(self.classifier.predict(self.preprocess(X)))

    def decision_function(self, X):
        return models.class_scores(self.classifier, self.preprocess(X))


# --------------------------------------------------------------------------- abstaining defences
class _Abstaining(Defence):
    """A classifier that may answer ABSTAIN. Its scores have one more column, for ABSTAIN:

        s_abstain(x) = max_k s_k(x) + scale * a(x)

    so that the largest score is ABSTAIN exactly when the "alarm" a(x) > 0. Subclasses give
    a(x) (`_alarm`) and its input gradient (`_alarm_gradient`); white-box attackers get the
    exact gradient of the whole system through `input_gradient` (when the classifier has one).
    """

    scale = 1.0

    def __init__(self, model):
        super().__init__(model)
        self.classifier = model

    @property
    def classes_(self):
        return np.append(np.asarray(self._model.classes_), ABSTAIN)

    def _alarm(self, X, S):
        raise NotImplementedError

    def _alarm_gradient(self, X, S):
        raise NotImplementedError

    def decision_function(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        S = models.class_scores(self._model, X)
        a = self._alarm(X, S)
        return np.column_stack([S, S.max(axis=1) + self.scale * a])

    def predict(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        S = models.class_scores(self._model, X)
        labels = np.asarray(self._model.classes_)[np.argmax(S, axis=1)]
        return np.where(self._alarm(X, S) > 0, ABSTAIN, labels)

    def input_gradient(self, X, W):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        S = models.class_scores(self._model, X)
        W = np.broadcast_to(np.asarray(W, dtype=float), (len(X), S.shape[1] + 1))
        Wc = np.array(W[:, :-1])
        Wc[np.arange(len(X)), S.argmax(axis=1)] += W[:, -1]  # d max_k s_k = d s_top
        return models.class_score_gradient(self._model, X, Wc) + self.scale * W[:, -1:] * self._alarm_gradient(X, S)

    def abstain_rate(self, X) -> float:
        """Share of inputs the defence does not decide automatically (its cost on clean traffic)."""
        return float(np.mean(self.predict(X) == ABSTAIN))


class Detector(_Abstaining):
    """An adversarial-input detector in front of the classifier: flagged inputs are rejected.

    `Detector.train(classifier, X_clean, X_adv)` fits a small MLP that tells clean inputs
    from adversarial examples (made by the attack the team knew). The belief: "we detect
    adversarial inputs". Against the attack it was trained on it catches most; an attacker
    who attacks detector and classifier together evades both (Carlini & Wagner, AISec 2017:
    ten detectors bypassed).
    """

    name = "adversarial-input detector"

    def __init__(self, classifier, detector, threshold: float = 0.0):
        super().__init__(classifier)
        self.detector = detector
        self.threshold = float(threshold)
        self.scale = 1.0

    @classmethod
    def train(cls, classifier, X_clean, X_adv, *, hidden=(64,), random_state: int = 0, threshold: float = 0.0):
        from threadpoolctl import threadpool_limits

        X = np.vstack([X_clean, X_adv])
        y = np.r_[np.zeros(len(X_clean), int), np.ones(len(X_adv), int)]
        with threadpool_limits(limits=1):
            det = models.fit("mlp", X, y, hidden=hidden, random_state=random_state, max_iter=500)
        return cls(classifier, det, threshold)

    def _alarm(self, X, S):
        return models.decision_scores(self.detector, X)[:, 1] - self.threshold

    def _alarm_gradient(self, X, S):
        return models.input_gradient(self.detector, X, np.array([0.0, 1.0]))


class HumanReview(_Abstaining):
    """Low-confidence decisions go to a person (who, we assume, decides them correctly).

    The belief: "a human checks the borderline cases". A minimal adversarial example lands
    just across the boundary, where confidence is low, and is sent to review; an attacker
    who knows the threshold pushes further, to high confidence, and nothing is reviewed.
    `threshold` is the smallest top-class probability decided automatically.
    """

    def __init__(self, classifier, threshold: float = 0.9):
        super().__init__(classifier)
        self.threshold = float(threshold)
        self.scale = 10.0
        self.name = f"human review below {threshold:.0%} confidence"

    def _alarm(self, X, S):
        c = models.binary_scale(self._model, S)
        return self.threshold - models.softmax(S * c).max(axis=1)

    def _alarm_gradient(self, X, S):
        c = models.binary_scale(self._model, S)
        P = models.softmax(S * c)
        W = np.zeros_like(P)
        W[np.arange(len(X)), P.argmax(axis=1)] = -1.0  # d(threshold - p_top)
        return models.probability_gradient(self._model, X, W)


class RejectOption(_Abstaining):
    """Reject inputs that lie far from the training data of the class they would be given.

    Prototypes of each class (k-means centres of its training points) stand for the data;
    an input is rejected when its distance to the nearest prototype of its predicted class
    is above the `quantile` of those distances on the training data. An adversarial example
    must then not only cross the boundary but land *among the other class's data*, which
    takes a much larger perturbation than crossing (the idea behind Sotgiu et al., "Deep
    neural rejection against adversarial examples", EURASIP JIS 2020). Its cost is the share
    of legitimate inputs rejected (about 1 - quantile).
    """

    def __init__(self, classifier, X_train, y_train, *, prototypes: int = 10, quantile: float = 0.95,
                 random_state: int = 0):
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        super().__init__(classifier)
        X_train = np.asarray(X_train, dtype=float)
        y_train = np.asarray(y_train)
        self.quantile = float(quantile)
        self.name = f"reject option (distance to class data, {quantile:.0%} kept)"
        classes = list(np.asarray(classifier.classes_))
        # prototypes from two thirds of the training data, the radius from the other third, so that
        # the share of new, legitimate inputs rejected is about 1 - quantile
        rng = np.random.default_rng(random_state)
        calib = rng.random(len(y_train)) < 1 / 3
        centres, owner = [], []
        with threadpool_limits(limits=1):
            for k, c in enumerate(classes):
                Xc = X_train[(y_train == c) & ~calib]
                m = min(int(prototypes), len(Xc))
                km = KMeans(n_clusters=m, n_init=2, random_state=random_state).fit(Xc)
                centres.append(km.cluster_centers_)
                owner += [k] * m
        self.prototypes_ = np.vstack(centres)
        self.owner_ = np.asarray(owner)
        known = np.isin(y_train, classes) & calib
        d = self._distance(X_train[known], np.searchsorted(classes, y_train[known]))[0]
        self.radius_ = float(np.quantile(d, quantile))
        self.scale = 10.0

    def _distance(self, X, k):
        """Distance of each row to the nearest prototype of class index k[i], and that prototype."""
        D = (X ** 2).sum(1)[:, None] + (self.prototypes_ ** 2).sum(1)[None, :] - 2 * X @ self.prototypes_.T
        D = np.where(self.owner_[None, :] == np.asarray(k)[:, None], D, np.inf)
        j = D.argmin(axis=1)
        return np.sqrt(np.maximum(D[np.arange(len(X)), j], 0.0)), self.prototypes_[j]

    def _alarm(self, X, S):
        return self._distance(X, S.argmax(axis=1))[0] - self.radius_

    def _alarm_gradient(self, X, S):
        d, p = self._distance(X, S.argmax(axis=1))
        return (X - p) / np.maximum(d, 1e-12)[:, None]


# --------------------------------------------------------------------------- ensembles


# --------------------------------------------------------------------------- retraining
class Retraining(Defence):
    """A model retrained on fresh data on a schedule; `predict` uses the current one.

    The belief: "we retrain every week, so whatever an attacker found stops working".
    Examples crafted against last week's model partly fail on this week's; an attacker who
    probes the deployed model again (it answers the same queries to everyone) finds new
    ones as easily, because the new model is the same kind of model, trained the same way.
    Only `predict` is exposed: the deployed model is behind the same API as before.
    """

    name = "retraining on fresh data"

    def __init__(self, kind: str, X, y, *, batches: int = 2, random_state: int = 0, **params):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        rng = np.random.default_rng(random_state)
        parts = np.array_split(rng.permutation(len(y)), int(batches))
        self.history = [
            models.fit(kind, X[idx], y[idx], random_state=random_state + i, **params) for i, idx in enumerate(parts)
        ]
        super().__init__(self.history[0])
        self.week = 0

    def retrain(self) -> "Retraining":
        """Deploy the next model (trained on the next batch of fresh data)."""
        if self.week + 1 >= len(self.history):
            raise RuntimeError(f"only {len(self.history)} training batches were given")
        self.week += 1
        self._model = self.history[self.week]
        return self

    @property
    def previous(self):
        """Last week's model (what an attacker may have studied)."""
        return self.history[max(self.week - 1, 0)]

    def predict(self, X):
        return np.asarray(self._model.predict(np.atleast_2d(np.asarray(X, dtype=float))))

    def __getattr__(self, item):
        if item.startswith("_"):
            raise AttributeError(item)
        raise AttributeError(f"{type(self).__name__} exposes only predict (and its retraining history); no {item!r}")


# --------------------------------------------------------------------------- adversarial training
def adversarial_training(X, y, budget: float, *, norm: str = "linf", bounds=(0.0, 1.0), hidden=(64,),
                         epochs: int = 30, steps: int = 7, warmup: float = 0.3, alpha: float = 1e-3,
                         random_state: int = 0, progress: bool = False):
    """Train an MLP on adversarial examples of itself (Madry et al., ICLR 2018).

    Every epoch, each training point is replaced by the strongest point a `steps`-step PGD
    attack finds within `budget` against the current model, and the model takes one pass of
    gradient steps on those points. The budget grows linearly over the first `warmup` share
    of the epochs (a small MLP trained at the full budget from the start can collapse).

    Returns a fitted scikit-learn MLPClassifier: a plain model, white-box attackable,
    which the evaluation harness attacks with all its gradients.
    """
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from course.science.attacks import pgd

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    model = MLPClassifier(hidden_layer_sizes=tuple(hidden), alpha=alpha, batch_size=64, learning_rate_init=1e-3,
                          random_state=random_state)
    classes = np.unique(y)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X, y, classes=classes)
        for epoch in tqdm(range(int(epochs)), desc="adversarial training", disable=not progress, leave=False):
            eps = budget * min(1.0, (epoch + 1) / max(1.0, warmup * epochs))
            X_adv = pgd(model, X, y, eps, norm=norm, bounds=bounds, steps=steps, step_size=eps / 3 if norm == "linf" else eps / 2,
                        random_start=True, random_state=random_state + epoch, early_stop=False)
            model.partial_fit(X_adv, y)
    return model


# --------------------------------------------------------------------------- the lessons' setting
def digits_setting(random_state: int = 0, n_eval: int = 200, fit_mlp: bool = True):
    """The setting of lesson 09 and its exercise, in one call.

    The 8x8 digits (pixels in [0, 1]) split into training images (55%), `n_eval` images to
    evaluate on, and the rest as the attacker's own unlabelled images; an MLP trained on the
    training images; and the threat model: every pixel may change by at most 0.1 (L-inf),
    within [0, 1], 1000 queries per image. Returns a Bunch with X_train, y_train, X, y,
    X_attacker, mlp and threat (`fit_mlp=False`: the split alone, mlp None).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch
    from threadpoolctl import threadpool_limits

    from course.science import datasets
    from course.science.evaluation import ThreatModel

    digits = datasets.load_digits()
    X_train, X_rest, y_train, y_rest = train_test_split(digits.X, digits.y, test_size=0.45, stratify=digits.y,
                                                        random_state=random_state)
    mlp = None
    if fit_mlp:
        with threadpool_limits(limits=1):
            mlp = models.fit("mlp", X_train, y_train, hidden=(64,), random_state=random_state)
    threat = ThreatModel(budget=0.1, norm="linf", budgets=(0, 0.05, 0.1, 0.2), bounds=(0, 1), query_budget=1000)
    return Bunch(X_train=X_train, y_train=y_train, X=X_rest[:n_eval], y=y_rest[:n_eval], X_attacker=X_rest[n_eval:],
                 mlp=mlp, threat=threat)


def fit_quietly(kind, X, y, **params):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return models.fit(kind, X, y, **params)


def defended_model(family: str, setting, random_state: int = 0):
    """A "defended" model of the kinds in lesson 09a, its classifier trained on transformed images.

    family: "median" (3x3 median smoothing), "squeeze" (3-bit squeezing) or "noise" (Gaussian noise,
    sigma 0.2, at prediction time).
    """
    X_train, y_train = setting.X_train, setting.y_train
    if family == "median":
        smooth = median_smoothing(None, 3)
        clf = fit_quietly("mlp", smooth.preprocess(X_train), y_train, hidden=(64,), random_state=random_state)
        return median_smoothing(clf, 3)
    if family == "squeeze":
        clf = fit_quietly("mlp", np.round(X_train * 7) / 7, y_train, hidden=(64,), random_state=random_state)
        return squeeze(clf, bits=3)
    if family == "noise":
        rng = np.random.default_rng(random_state)
        noisy = np.clip(X_train + rng.normal(0, 0.2, X_train.shape), 0, 1)
        clf = fit_quietly("mlp", np.vstack([X_train, noisy]), np.r_[y_train, y_train], hidden=(64,),
                           random_state=random_state)
        return RandomNoise(clf, sigma=0.2, random_state=random_state)
    raise ValueError(f"family must be 'median', 'squeeze' or 'noise'; got {family!r}")


def handed_model(setting):
    """The model the exercise hands out: median smoothing in front of an MLP trained on smoothed images."""
    return defended_model("median", setting, 0)

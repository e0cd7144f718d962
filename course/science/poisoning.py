"""Poisoning: what an attacker who supplies some of the training data can do, numpy in, numpy out.

Three settings, each with the attacker's capability explicit:

* **Injection against an SVM** (`random_flips`, `svm_poison`, `error_curve`): the attacker adds
  `n_points` labelled points to the training set. Random label flips (copies of training
  points with the other label) against points optimised by secml's poisoning attack on SVMs
  (Biggio, Nelson & Laskov, ICML 2012), on the same budget.
* **A retraining loop fed by user feedback** (`make_mail`, `feedback_loop`): a spam filter is
  retrained every round on the labels its users report; attacker-controlled accounts add a
  few percent of those labels ("not spam" on mail they wrote). The loop records what the
  team's dashboard shows (overall accuracy) next to the behaviour the attacker targets.
* **The believed mitigations** (`sanitise_with_trusted`, `remove_outliers`, `knn_relabel_check`,
  `measure_mitigation`): each returns a mask of the training points it keeps, so what it
  removes, what it misses and what it costs in clean accuracy can be measured.

secml is imported only through `course.science._secml` (quietly); no secml type leaves this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from course.science import datasets

__all__ = [
    "SVM_SETTINGS",
    "svm",
    "blobs_split",
    "random_flips",
    "svm_poison",
    "test_error",
    "PoisoningCurve",
    "error_curve",
    "regions",
    "VOCABULARY",
    "CAMPAIGN_WORDS",
    "MAX_COUNT",
    "make_mail",
    "campaign_mail",
    "ham_mail",
    "spam_filter",
    "copy_reports",
    "LoopResult",
    "feedback_loop",
    "sanitise_with_trusted",
    "remove_outliers",
    "knn_relabel_check",
    "measure_mitigation",
]

# The settings of the SVM that is poisoned (data scaled to [0, 1]); STACK.md: convincing in 1-3 s.
SVM_SETTINGS = {"kernel": "rbf", "gamma": 10.0, "C": 1.0}
_SOLVER = {"eta": 0.25, "eta_min": 0.25, "eta_max": None, "max_iter": 100, "eps": 1e-6}


# --------------------------------------------------------------------------- injection against an SVM


def svm(kernel: str = "rbf", gamma: float = 10.0, C: float = 1.0) -> SVC:
    """An unfitted scikit-learn SVC with the given settings (the model the attack targets)."""
    if kernel not in ("rbf", "linear"):
        raise ValueError(f"kernel must be 'rbf' or 'linear'; got {kernel!r}")
    return SVC(kernel=kernel, gamma=gamma, C=C) if kernel == "rbf" else SVC(kernel="linear", C=C)


def blobs_split(random_state: int = 0, n_train: int = 50, n_val: int = 100, n_test: int = 400) -> Bunch:
    """2-D blobs (`course.science.datasets.make_2d`) scaled to [0, 1], split into train / validation / test.

    The validation set is the attacker's: the points on which secml measures the damage while
    it optimises. The test set is the defender's, never seen by the attack.
    """
    n = n_train + n_val + n_test
    X, y = datasets.make_2d("blobs", n_samples=n, random_state=random_state)
    X = MinMaxScaler().fit_transform(X)
    a, b = n_train, n_train + n_val
    return Bunch(X_train=X[:a], y_train=y[:a], X_val=X[a:b], y_val=y[a:b], X_test=X[b:], y_test=y[b:],
                 bounds=(0.0, 1.0))


def random_flips(X, y, n_points: int, random_state: int = 0):
    """The naive attacker: `n_points` copies of random training points with the other label (0/1).

    Returns (X_poison, y_poison), to be *added* to the training set.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    rng = np.random.default_rng(random_state)
    if not 0 <= n_points <= len(y):
        raise ValueError(f"n_points must be in [0, {len(y)}]; got {n_points}")
    idx = rng.choice(len(y), size=int(n_points), replace=False)
    return X[idx].copy(), 1 - y[idx]


def svm_poison(X_train, y_train, X_val, y_val, n_points: int, *, batch: int | None = None, kernel: str = "rbf",
               gamma: float = 10.0, C: float = 1.0, bounds=(0.0, 1.0), steps: int = 100, step_size: float = 0.25,
               random_state: int = 0):
    """Optimised poisoning points against an SVM (secml's CAttackPoisoningSVM, Biggio et al. 2012).

    The attacker knows the training set and the learning algorithm (a white-box, worst-case
    attacker), and adds `n_points` points with labels of its choice, inside `bounds`. Each
    point starts as a random label flip (a copy of a training point with the other label) and
    is moved by gradient ascent on the SVM's hinge loss on the attacker's validation set
    (X_val, y_val), the SVM retrained at every step.

    With `batch`, points are added `batch` at a time, each batch optimised against the
    training set poisoned by the batches before it: the first k * batch rows are then an
    attack with k * batch points, so one run gives a whole curve.

    Returns (X_poison, y_poison): numpy arrays, to be *added* to the training set.
    """
    from threadpoolctl import threadpool_limits

    from course.science import _secml

    X_train = np.asarray(X_train, dtype=float)
    y_train = np.asarray(y_train).astype(int)
    n_points = int(n_points)
    batch = n_points if not batch else int(batch)
    if n_points <= 0:
        return np.empty((0, X_train.shape[1])), np.empty(0, dtype=int)
    with _secml.quiet():
        from secml.adv.attacks.poisoning import CAttackPoisoningSVM
        from secml.data import CDataset
        from secml.ml.classifiers import CClassifierSVM
        from secml.ml.kernels import CKernelLinear, CKernelRBF
    CArray = _secml.CArray
    val = CDataset(CArray(np.asarray(X_val, dtype=float)), CArray(np.asarray(y_val).astype(int)))
    solver = dict(_SOLVER, eta=float(step_size), eta_min=float(step_size), max_iter=int(steps))
    Xp, yp = np.empty((0, X_train.shape[1])), np.empty(0, dtype=int)
    stage = 0
    with _secml.quiet(), threadpool_limits(1):
        while len(yp) < n_points:
            k = min(batch, n_points - len(yp))
            X_now, y_now = np.vstack([X_train, Xp]), np.concatenate([y_train, yp])
            tr = CDataset(CArray(X_now), CArray(y_now))
            clf = CClassifierSVM(C=C, kernel=CKernelRBF(gamma=gamma) if kernel == "rbf" else CKernelLinear())
            clf.fit(tr.X, tr.Y)
            attack = CAttackPoisoningSVM(classifier=clf, training_data=tr, val=val, lb=bounds[0], ub=bounds[1],
                                         solver_params=solver, random_seed=int(random_state) + stage)
            attack.n_points = k
            X0, y0 = random_flips(X_train, y_train, k, random_state=int(random_state) * 1000 + stage)
            X0 = np.clip(X0 + np.random.default_rng(stage).uniform(-1e-3, 1e-3, X0.shape), bounds[0], bounds[1])
            _, _, poison, _ = attack.run(val.X[:5, :], val.Y[:5], ds_init=CDataset(CArray(X0), CArray(y0)))
            Xp = np.vstack([Xp, poison.X.tondarray()])
            yp = np.concatenate([yp, poison.Y.tondarray().astype(int)])
            stage += 1
    return Xp, yp


def test_error(X_train, y_train, X_test, y_test, X_poison=None, y_poison=None, **settings) -> float:
    """Test error of the SVM trained on the training set plus the poisoning points (if any)."""
    cfg = dict(SVM_SETTINGS, **settings)
    if X_poison is not None and len(X_poison):
        X_train = np.vstack([X_train, X_poison])
        y_train = np.concatenate([np.asarray(y_train).astype(int), np.asarray(y_poison).astype(int)])
    model = svm(**cfg).fit(X_train, y_train)
    return float(np.mean(model.predict(X_test) != y_test))


@dataclass
class PoisoningCurve:
    """Test error against the number of injected points, for random flips and optimised poisoning."""

    counts: np.ndarray  # poisoning points added
    n_train: int  # clean training points
    n_test: int
    random_error: np.ndarray  # (n_splits, len(counts))
    optimised_error: np.ndarray  # (n_splits, len(counts))
    poison: list = field(default_factory=list)  # per split: (X_poison, y_poison) of the largest count

    @property
    def fractions(self) -> np.ndarray:
        """Share of the poisoned training set that is poison: n / (n_train + n)."""
        return self.counts / (self.n_train + self.counts)


def error_curve(splits, counts, *, flip_repeats: int = 5, progress: bool = True, **settings) -> PoisoningCurve:
    """Random flips against optimised poisoning, for each number of points in `counts`.

    `splits` is a list of `blobs_split`-like Bunches. Random flips are averaged over
    `flip_repeats` draws per split; the optimised points are added in batches (the greatest
    common divisor of the counts) with `svm_poison(..., batch=...)`, so the attack with k
    points is the first k points of one run.
    """
    counts = np.asarray(sorted({int(c) for c in counts}))
    cfg = dict(SVM_SETTINGS, **settings)
    batch = int(np.gcd.reduce(counts[counts > 0])) if np.any(counts > 0) else 1
    rnd = np.zeros((len(splits), len(counts)))
    opt = np.zeros_like(rnd)
    poison = []
    for s, d in enumerate(tqdm(splits, desc="poisoning the SVM", disable=not progress, leave=False)):
        Xp, yp = svm_poison(d.X_train, d.y_train, d.X_val, d.y_val, int(counts.max()), batch=batch, random_state=s,
                            bounds=d.bounds, **cfg)
        poison.append((Xp, yp))
        for j, n in enumerate(counts):
            rnd[s, j] = np.mean([
                test_error(d.X_train, d.y_train, d.X_test, d.y_test,
                           *random_flips(d.X_train, d.y_train, n, 100 * s + r), **cfg)
                for r in range(flip_repeats)
            ])
            opt[s, j] = test_error(d.X_train, d.y_train, d.X_test, d.y_test, Xp[:n], yp[:n], **cfg)
    return PoisoningCurve(counts, len(splits[0].y_train), len(splits[0].y_test), rnd, opt, poison)


PLOT_BOX = (-0.05, 1.05)


def regions(d, X_poison, y_poison, resolution: int = 150, **settings) -> np.ndarray:
    """The poisoned SVM's predictions on a resolution x resolution grid over the box (for plots)."""
    cfg = dict(SVM_SETTINGS, **settings)
    X = np.vstack([d.X_train, np.asarray(X_poison, dtype=float).reshape(-1, 2)])
    y = np.concatenate([d.y_train, np.asarray(y_poison).astype(int)])
    model = svm(**cfg).fit(X, y)
    gx, gy = np.meshgrid(np.linspace(*PLOT_BOX, resolution), np.linspace(*PLOT_BOX, resolution))
    return model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)


# --------------------------------------------------------------------------- a spam filter fed by feedback

VOCABULARY = (
    # everyday work mail
    "meeting", "report", "project", "schedule", "team", "thanks", "invoice", "lunch", "review", "deadline",
    # generic spam
    "free", "winner", "prize", "click", "offer", "urgent", "cheap", "unsubscribe",
    # the attacker's campaign (a crypto "airdrop" scam)
    "crypto", "wallet", "bonus", "airdrop",
    # everywhere
    "hello", "today", "please", "link",
)
CAMPAIGN_WORDS = ("crypto", "wallet", "bonus", "airdrop")
MAX_COUNT = 20  # a word count in one mail is an integer in [0, MAX_COUNT]

_W = {w: i for i, w in enumerate(VOCABULARY)}


def _profile(weights: dict) -> np.ndarray:
    p = np.full(len(VOCABULARY), 0.02)
    for w, v in weights.items():
        p[_W[w]] = v
    return p / p.sum()


_HAM = _profile({"meeting": 1, "report": 1, "project": 1, "schedule": .8, "team": 1, "thanks": 1.2, "invoice": .5,
                 "lunch": .5, "review": .8, "deadline": .6, "hello": 1, "today": 1, "please": 1, "link": .4,
                 "free": .1, "offer": .08, "bonus": .04, "wallet": .02, "click": .05, "urgent": .08})
_SPAM = _profile({"free": 1.2, "winner": .8, "prize": .8, "click": 1.2, "offer": 1, "urgent": .7, "cheap": .8,
                  "unsubscribe": .7, "hello": .6, "today": .6, "please": .5, "link": 1, "thanks": .15, "team": .1})
_CAMPAIGN = _profile({"crypto": 1.2, "wallet": 1, "bonus": 1, "airdrop": .8, "free": .5, "click": .5, "link": .8,
                      "hello": .7, "today": .6, "please": .6, "thanks": .4, "team": .5, "urgent": .2, "project": .2})


def _mails(rng, profile, n, length=12.0, concentration=4.0) -> np.ndarray:
    """n mails: word counts drawn from a Dirichlet-perturbed word profile, capped at MAX_COUNT."""
    if n == 0:
        return np.zeros((0, len(VOCABULARY)))
    lengths = rng.poisson(length, n) + 5
    probs = rng.dirichlet(profile * concentration, size=n)
    counts = np.array([rng.multinomial(L, p) for L, p in zip(lengths, probs)], dtype=float)
    return np.minimum(counts, MAX_COUNT)


def make_mail(n_samples: int = 1000, spam_rate: float = 0.3, campaign_rate: float = 0.015,
              random_state: int = 0) -> Bunch:
    """Synthetic mail as word counts over `VOCABULARY`, labelled spam (1) or not (0).

    A share `spam_rate` of mail is spam; of all mail, a share `campaign_rate` is the attacker's
    crypto "airdrop" campaign (spam that mixes campaign words with friendly everyday words).
    Each mail's words are drawn from its kind's word profile, perturbed per mail, so the kinds
    overlap. Returns a Bunch with X (n, 26) word counts, y (1 = spam), campaign (bool),
    feature_names and bounds (0, MAX_COUNT).
    """
    rng = np.random.default_rng(datasets.validate_seed(random_state))
    n = datasets.validate_count(n_samples, 10)
    n_campaign = int(round(n * campaign_rate))
    n_spam = max(int(round(n * spam_rate)) - n_campaign, 0)
    n_ham = n - n_spam - n_campaign
    X = np.vstack([_mails(rng, _HAM, n_ham), _mails(rng, _SPAM, n_spam), _mails(rng, _CAMPAIGN, n_campaign)])
    y = np.r_[np.zeros(n_ham), np.ones(n_spam + n_campaign)].astype(np.int64)
    campaign = np.r_[np.zeros(n_ham + n_spam, bool), np.ones(n_campaign, bool)]
    order = rng.permutation(n)
    return Bunch(X=X[order], y=y[order], campaign=campaign[order], feature_names=list(VOCABULARY),
                 bounds=(0, MAX_COUNT))


def campaign_mail(n: int, random_state: int = 0) -> np.ndarray:
    """n mails of the attacker's campaign (word counts): what the attacker will send."""
    return _mails(np.random.default_rng(random_state), _CAMPAIGN, int(n))


def ham_mail(n: int, random_state: int = 0) -> np.ndarray:
    """n everyday (not spam) mails: what anybody, the attacker included, has in their inbox."""
    return _mails(np.random.default_rng(random_state), _HAM, int(n))


def spam_filter(X, y):
    """The team's spam filter: log word counts, standardised, logistic regression; fitted."""
    from threadpoolctl import threadpool_limits

    model = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                          LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200))
    with threadpool_limits(1):  # tiny problems: one BLAS thread is faster and never oversubscribes
        return model.fit(np.asarray(X, dtype=float), np.asarray(y).astype(int))


def copy_reports(X_campaign, X_ham, n_reports: int, spam_score=None, random_state: int = 0) -> np.ndarray:
    """The simplest poisoning through feedback: send your own campaign mail to accounts you
    control and press "not spam" on it. Returns n_reports rows (resampled campaign mail)."""
    rng = np.random.default_rng(random_state)
    X_campaign = np.asarray(X_campaign, dtype=float)
    return X_campaign[rng.integers(len(X_campaign), size=int(n_reports))].copy()


@dataclass
class LoopResult:
    """What happened over the retraining rounds (round 0 is the filter trained on vetted mail)."""

    rounds: np.ndarray
    dashboard_accuracy: np.ndarray  # accuracy on a fixed sample of ordinary traffic: what the team watches
    spam_caught: np.ndarray  # share of ordinary spam flagged
    campaign_caught: np.ndarray  # share of the campaign's mail flagged: what the attacker targets
    reports: np.ndarray  # attacker labels accepted into training in each round
    labels: np.ndarray  # all labels accepted in each round (users + attacker)
    X_train: np.ndarray = None  # the final training set
    y_train: np.ndarray = None
    is_poison: np.ndarray = None  # True for the attacker's rows of the final training set
    is_noise: np.ndarray = None  # True for honest users' wrong labels
    n_trusted: int = 0  # the first n_trusted rows are the vetted initial set
    model: object = None  # the final filter

    @property
    def poisoned_share(self) -> float:
        """Share of all labels accepted since round 1 that came from the attacker."""
        return float(self.reports[1:].sum() / max(self.labels[1:].sum(), 1))


def _probe(model):
    """The attacker's probe: the spam score (probability) the current filter gives to mail they
    send to their own accounts (filters such as SpamAssassin write it into a header). It scores
    a private copy of the filter, so nothing the attacker does to it reaches the real one."""
    import copy

    private = copy.deepcopy(model)

    def spam_score(X):
        return private.predict_proba(np.atleast_2d(np.asarray(X, dtype=float)))[:, 1]

    return spam_score


def feedback_loop(craft=None, *, rounds: int = 6, batch: int = 1000, initial: int = 2000, budget: float = 0.03,
                  label_noise: float = 0.01, start: int = 1, ignore_above: float | None = None, random_state: int = 0,
                  progress: bool = False) -> LoopResult:
    """Retrain a spam filter on user feedback, round after round, with attacker accounts among the users.

    Round 0: the filter is trained on `initial` vetted mails. In each round r >= 1, `batch`
    new mails arrive labelled by their users (each label wrong with probability
    `label_noise`: honest mistakes); from round `start` on, attacker-controlled accounts add
    `craft(X_campaign, X_ham, n_reports, spam_score)` rows, all labelled 0 ("not spam"), with
    n_reports the largest number that keeps the attacker's share of the round's labels
    <= `budget`. `craft` gets 200 mails of the attacker's own campaign, 200 everyday mails,
    the number of reports and `spam_score(X)`, the current filter's spam probability of any
    mail (the attacker's probe). Returned rows are rounded and clipped to whole counts in
    [0, MAX_COUNT]. With `ignore_above`, the team drops every new label that the current filter
    finds absurd (spam probability above it for "not spam", below 1 - it for "spam").
    The filter is then retrained on everything so far. With `craft=None`, nobody attacks.
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(random_state)
    seeds = rng.integers(2**31, size=rounds + 4)
    base = make_mail(initial, random_state=int(seeds[0]))
    watch = make_mail(3000, random_state=int(seeds[1]))  # the dashboard's sample of ordinary traffic
    target = campaign_mail(500, random_state=int(seeds[2]))  # the campaign as it will be sent
    X, y = base.X.copy(), base.y.copy()
    poison, noise = np.zeros(len(y), bool), np.zeros(len(y), bool)
    n_reports = int(np.floor(budget * batch / (1 - budget) + 1e-9)) if craft is not None else 0
    hist = {k: [] for k in ("acc", "spam", "camp", "rep", "lab")}

    def record(model, rep, lab):
        with threadpool_limits(1):
            pred = model.predict(watch.X)
            ordinary_spam = (watch.y == 1) & ~watch.campaign
            hist["acc"].append(float(np.mean(pred == watch.y)))
            hist["spam"].append(float(np.mean(pred[ordinary_spam] == 1)))
            hist["camp"].append(float(np.mean(model.predict(target) == 1)))
        hist["rep"].append(rep)
        hist["lab"].append(lab)

    model = spam_filter(X, y)
    record(model, 0, len(y))
    for r in tqdm(range(1, rounds + 1), desc="retraining rounds", disable=not progress, leave=False):
        new = make_mail(batch, random_state=int(seeds[3 + r]))
        flip = np.random.default_rng(int(seeds[3 + r]) + 1).random(batch) < label_noise
        y_new = np.where(flip, 1 - new.y, new.y)
        X_add, y_add, p_add, n_add = [new.X], [y_new], [np.zeros(batch, bool)], [flip]
        if craft is not None and r >= start and n_reports > 0:
            own = np.random.default_rng(int(seeds[3 + r]) + 2)
            Xc = campaign_mail(200, random_state=int(own.integers(2**31)))
            Xh = ham_mail(200, random_state=int(own.integers(2**31)))
            R = np.asarray(craft(Xc, Xh, n_reports, _probe(model)), dtype=float)
            if R.ndim != 2 or R.shape[1] != len(VOCABULARY) or len(R) > n_reports:
                raise ValueError(f"craft must return at most {n_reports} rows of {len(VOCABULARY)} word counts; "
                                 f"got shape {R.shape}")
            R = np.clip(np.round(np.nan_to_num(R)), 0, MAX_COUNT)
            X_add.append(R)
            y_add.append(np.zeros(len(R), dtype=np.int64))
            p_add.append(np.ones(len(R), bool))
            n_add.append(np.zeros(len(R), bool))
        X_add, y_add, p_add, n_add = (np.concatenate(a) for a in (X_add, y_add, p_add, n_add))
        if ignore_above is not None:  # the team ignores labels the current filter finds absurd
            with threadpool_limits(1):
                s = model.predict_proba(X_add)[:, 1]
            ok = np.where(y_add == 0, s <= ignore_above, s >= 1 - ignore_above)
            X_add, y_add, p_add, n_add = X_add[ok], y_add[ok], p_add[ok], n_add[ok]
        X = np.vstack([X, X_add])
        y = np.concatenate([y, y_add])
        poison = np.concatenate([poison, p_add])
        noise = np.concatenate([noise, n_add])
        model = spam_filter(X, y)
        record(model, int(p_add.sum()), len(y_add))
    return LoopResult(np.arange(rounds + 1), np.array(hist["acc"]), np.array(hist["spam"]), np.array(hist["camp"]),
                      np.array(hist["rep"]), np.array(hist["lab"]), X, y, poison, noise, initial, model)


# --------------------------------------------------------------------------- the believed mitigations


def sanitise_with_trusted(X, y, X_trusted, y_trusted, threshold: float = 0.9, fit=None) -> np.ndarray:
    """Keep a point unless a model trained on trusted (vetted) data is confident its label is wrong.

    `fit(X, y)` trains that model (default: `spam_filter`); a point is dropped when the
    model gives its label a probability below 1 - threshold. Returns a boolean keep mask.
    """
    model = (fit or spam_filter)(X_trusted, y_trusted)
    proba = model.predict_proba(np.asarray(X, dtype=float))
    classes = list(model.classes_)
    p_label = proba[np.arange(len(y)), [classes.index(v) for v in np.asarray(y)]]
    return p_label >= 1 - threshold


def remove_outliers(X, y, share: float = 0.05, transform=np.log1p) -> np.ndarray:
    """Outlier removal per class (the "sphere" defence, Steinhardt et al. 2017): drop the `share`
    of each class farthest from its class centroid (after `transform` and standardising).
    Returns a boolean keep mask."""
    Z = StandardScaler().fit_transform(transform(np.asarray(X, dtype=float)) if transform else np.asarray(X, dtype=float))
    y = np.asarray(y)
    keep = np.ones(len(y), bool)
    for c in np.unique(y):
        m = np.flatnonzero(y == c)
        dist = np.linalg.norm(Z[m] - Z[m].mean(0), axis=1)
        cut = np.quantile(dist, 1 - share)
        keep[m[dist > cut]] = False
    return keep


def knn_relabel_check(X, y, k: int = 10, min_agree: float = 0.5, transform=np.log1p) -> np.ndarray:
    """Keep a point if at least `min_agree` of its k nearest neighbours share its label.
    Returns a boolean keep mask."""
    Z = StandardScaler().fit_transform(transform(np.asarray(X, dtype=float)) if transform else np.asarray(X, dtype=float))
    y = np.asarray(y)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    agree = np.mean(y[idx[:, 1:]] == y[:, None], axis=1)
    return agree >= min_agree


def measure_mitigation(keep, is_poison, X, y, X_test, y_test, *, X_target=None, fit=None) -> dict:
    """What a sanitiser did: poison removed and missed, clean points lost, and the model after it.

    Returns a dict with poison_removed (share of the poison dropped), clean_removed (share of
    clean points dropped), accuracy_all (model trained on everything), accuracy_kept (on the
    kept points), and, with X_target (mail the attacker wants delivered),
    target_caught_all / target_caught_kept (share of it flagged as spam).
    """
    fit = fit or spam_filter
    keep = np.asarray(keep, bool)
    is_poison = np.asarray(is_poison, bool)
    m_all, m_kept = fit(X, y), fit(X[keep], y[keep])
    out = {
        "poison_removed": float(np.mean(~keep[is_poison])) if is_poison.any() else 0.0,
        "clean_removed": float(np.mean(~keep[~is_poison])),
        "accuracy_all": float(np.mean(m_all.predict(X_test) == y_test)),
        "accuracy_kept": float(np.mean(m_kept.predict(X_test) == y_test)),
    }
    if X_target is not None:
        out["target_caught_all"] = float(np.mean(m_all.predict(X_target) == 1))
        out["target_caught_kept"] = float(np.mean(m_kept.predict(X_target) == 1))
    return out


# --------------------------------------------------------------------------- exercise 06: a compromised labeller
FLIP_N_TRAIN = 300


FLIP_TARGETS = 5


def flip_svm():
    """The model the labeller's victim trains: an RBF SVM with gamma=1, C=1 (raw 2-D blobs)."""
    return SVC(kernel="rbf", gamma=1.0, C=1.0)


def flip_case(seed: int):
    """Training data and target points for the labeller task: 300 training points of 2-D blobs,
    and FLIP_TARGETS test points that the clean model classifies correctly and with some margin."""
    X, y = datasets.make_2d("blobs", n_samples=2 * FLIP_N_TRAIN, random_state=seed % (2**31))
    X_tr, y_tr, X_te, y_te = X[:FLIP_N_TRAIN], y[:FLIP_N_TRAIN], X[FLIP_N_TRAIN:], y[FLIP_N_TRAIN:]
    model = flip_svm().fit(X_tr, y_tr)
    f = model.decision_function(X_te)
    ok = np.flatnonzero((model.predict(X_te) == y_te) & (np.abs(f) > 0.5))
    rng = np.random.default_rng(seed)
    targets = rng.choice(ok, size=FLIP_TARGETS, replace=False)
    return X_tr, y_tr, X_te, y_te, X_te[targets], y_te[targets], model

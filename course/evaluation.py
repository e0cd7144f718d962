"""How robustness is reported: accuracy next to robust accuracy, the security evaluation curve,
and an adaptive evaluation harness that any model can be pointed at.

A single number is never enough: `security_curve` measures accuracy under attack for a
range of budgets (Biggio & Roli, 2018), starting at budget 0, where it equals clean accuracy.

A robustness claim also needs the *right* attacker. `evaluate_defence(model, X, y, threat)`
runs every attack the model's interface allows - white-box PGD, PGD straight through exposed
preprocessing (BPDA), expectation over randomness (EOT), transfer from surrogates trained on
the model's answers, a query-only attack - and reports accuracy under each, the worst case
per point, the security evaluation curve, and the gradient-masking warning signs of Athalye,
Carlini & Wagner (ICML 2018) (`masking_checklist`). It needs nothing but `predict`:

    from course.evaluation import ThreatModel, evaluate_defence
    threat = ThreatModel(budget=0.1, norm="linf", bounds=(0, 1), query_budget=1000)
    report = evaluate_defence(my_sklearn_model, X_test[:200], y_test[:200], threat)
    print(report.summary()); report.plot()

The hooks a defended model may offer (`decision_function`, `input_gradient`, `preprocess` +
`classifier`, the `ABSTAIN` label) are documented in `course.defenses`.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm


def accuracy(model, X, y) -> float:
    """Share of rows the model classifies correctly."""
    return float(np.mean(np.asarray(model.predict(X)) == np.asarray(y)))


def robust_accuracy(model, X, y, budget: float, **attack) -> float:
    """Accuracy on the adversarial points `course.attacks.evade` finds within the budget."""
    from course.attacks import evade

    return accuracy(model, evade(model, X, y, budget, **attack), y)


@dataclass
class SecurityCurve:
    budgets: np.ndarray
    accuracy: np.ndarray
    norm: str
    n_samples: int
    label: str = ""

    def at(self, budget: float) -> float:
        """Accuracy at one of the measured budgets."""
        i = int(np.argmin(np.abs(self.budgets - budget)))
        if not np.isclose(self.budgets[i], budget):
            raise ValueError(f"budget {budget} was not measured; measured: {list(self.budgets)}")
        return float(self.accuracy[i])


def security_curve(model, X, y, budgets, *, label: str = "", progress: bool = True, **attack) -> SecurityCurve:
    """Accuracy under attack for each budget (the first budget should be 0: clean accuracy).

    A point that is evaded at a small budget counts as evaded at every larger one, so the
    curve never rises with the budget (an optimiser that misses at a larger budget is not
    evidence of robustness).
    """
    from course.attacks import evade

    budgets = np.asarray(sorted(budgets), dtype=float)
    y = np.asarray(y)
    correct = np.asarray(model.predict(X)) == y
    still = correct.copy()
    accs = []
    for b in tqdm(budgets, desc="security evaluation", disable=not progress, leave=False):
        if b > 0 and still.any():
            idx = np.flatnonzero(still)
            X_adv = evade(model, X[idx], y[idx], b, progress=False, **attack)
            still[idx] = np.asarray(model.predict(X_adv)) == y[idx]
        accs.append(float(still.mean()))
    return SecurityCurve(budgets, np.asarray(accs), attack.get("norm", "l2"), len(y), label)


# =========================================================================== the evaluation harness
#
# An adaptive security evaluation of any classifier, in the spirit of Athalye, Carlini & Wagner
# (ICML 2018) and Tramèr, Carlini, Brendel & Madry (NeurIPS 2020): every attack the model's
# interface allows is run, and the model is as robust as the strongest one says. Only numpy,
# scikit-learn and `course.models` are used; attacks are batched (all points at once).

from course.defenses import ABSTAIN  # noqa: E402  (the label of "not decided automatically")

__all__ = [
    "accuracy", "robust_accuracy", "SecurityCurve", "security_curve",
    "ThreatModel", "DefenceReport", "MaskingCheck", "evaluate_defence", "masking_checklist",
    "accuracy_under_attack", "replay_curve", "plot_naive_vs_adaptive", "pgd", "fgsm", "ABSTAIN", "ATTACKS",
]


@dataclass(frozen=True)
class ThreatModel:
    """What the attacker may do: the claim of robustness is always "under this threat model".

    budget : the perturbation budget the robustness claim is about.
    norm : "linf", "l2" or "l1" (the norm the budget is measured in).
    budgets : the budgets of the security evaluation curve (default 0, budget/2, budget,
        1.5 budget, 2 budget); 0 is always included (clean accuracy).
    bounds : (lower, upper), scalars or per feature: the valid input range.
    changeable : boolean mask of the features the attacker may change (default: all).
    query_budget : queries per attacked point the query-based attack may spend.
    pool_queries : queries the attacker spends labelling data to train surrogate models
        (the attacker's own inputs, see `evaluate_defence(X_pool=...)`).
    """

    budget: float
    norm: str = "linf"
    budgets: tuple | None = None
    bounds: tuple = (-np.inf, np.inf)
    changeable: object = None
    query_budget: int = 1000
    pool_queries: int = 2000

    def curve_budgets(self) -> np.ndarray:
        b = float(self.budget)
        raw = self.budgets if self.budgets is not None else (0.0, b / 2, b, 1.5 * b, 2 * b)
        return np.unique(np.r_[0.0, np.asarray(raw, dtype=float), b])

    def describe(self) -> str:
        norm = {"l2": "L2", "l1": "L1", "linf": "L∞"}.get(self.norm, self.norm)
        lo, hi = self.bounds
        fixed = "" if self.changeable is None else f", {int(np.sum(self.changeable))} changeable features"
        return (f"{norm} budget {self.budget:g}, bounds [{np.min(lo):g}, {np.max(hi):g}]{fixed}, "
                f"{self.query_budget} queries per point")


@dataclass
class MaskingCheck:
    """One warning sign of gradient masking (Athalye et al. 2018, section 3.1)."""

    sign: str
    status: str  # "ok", "WARNING" or "n/a"
    detail: str

    @property
    def warning(self) -> bool:
        return self.status == "WARNING"


@dataclass
class DefenceReport:
    """What `evaluate_defence` found: robust accuracy per attack, the worst case, the curve, the checks."""

    label: str
    threat: ThreatModel
    n_samples: int
    clean_accuracy: float
    clean_abstain_rate: float
    randomised: bool
    access: dict
    curves: dict  # attack name -> SecurityCurve (accuracy under that attack, per budget)
    worst: SecurityCurve
    unbounded_success: float | None
    checks: list
    queries: dict  # attack name -> largest number of queries spent on one point (or in total, for the pool)
    seconds: float
    notes: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # budget -> the worst-case adversarial points (one per input)

    @property
    def robust(self) -> dict:
        """Accuracy under each attack at the threat model's budget."""
        return {name: c.at(self.threat.budget) for name, c in self.curves.items()}

    @property
    def worst_case(self) -> float:
        """Accuracy when, for each point, the best of all attacks is used (at the stated budget)."""
        return self.worst.at(self.threat.budget)

    @property
    def strongest(self) -> str:
        r = self.robust
        return min(r, key=r.get) if r else ""

    def warnings(self) -> list:
        return [c for c in self.checks if c.warning]

    def summary(self) -> str:
        t = self.threat
        lines = [
            f"Adaptive evaluation of {self.label or 'the model'} (n={self.n_samples}; {t.describe()})",
            f"  access found: " + ", ".join(k for k, v in self.access.items() if v) + ("; randomised" if self.randomised else ""),
            f"  clean accuracy {self.clean_accuracy:.3f}" + (f" (abstains on {self.clean_abstain_rate:.1%})" if self.clean_abstain_rate else ""),
            f"  accuracy under attack at budget {t.budget:g}:",
        ]
        for name, acc in sorted(self.robust.items(), key=lambda kv: -kv[1]):
            q = self.queries.get(name)
            lines.append(f"    {name:<40} {acc:6.3f}" + (f"   ({q} queries/point)" if q else ""))
        lines.append(f"    {'WORST CASE (best attack per point)':<40} {self.worst_case:6.3f}")
        if self.unbounded_success is not None:
            lines.append(f"  unbounded attack success: {self.unbounded_success:.1%}")
        lines.append("  gradient-masking warning signs (Athalye et al. 2018):")
        for c in self.checks:
            lines.append(f"    [{c.status:^7}] {c.sign}: {c.detail}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines.append(f"  ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None, title=None):
        """Security evaluation curve of every attack, and the worst case (thick black)."""
        from course import plots

        ax = plots._ax(ax, (6, 4))
        for i, (name, c) in enumerate(self.curves.items()):
            ax.plot(c.budgets, c.accuracy, marker=plots.MARKERS[i % len(plots.MARKERS)], color=plots.PALETTE[i % len(plots.PALETTE)],
                    linestyle=plots.LINESTYLES[i % len(plots.LINESTYLES)], alpha=0.8, label=name)
        ax.plot(self.worst.budgets, self.worst.accuracy, color="black", linewidth=2.5, marker="*", markersize=9,
                label="worst case")
        norm = {"l2": "L2", "l1": "L1", "linf": "L∞"}.get(self.threat.norm, self.threat.norm)
        ax.set_xlabel(f"perturbation budget ({norm} norm)")
        ax.set_ylabel("accuracy under attack")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(title or f"{self.label or 'model'}: adaptive evaluation (n={self.n_samples})")
        ax.legend(fontsize="x-small")
        return ax


# --------------------------------------------------------------------------- helpers
def _single_thread(fn):
    """Run with one BLAS thread: the small matrix products of these attacks are several times faster."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


def _index_of(cls, y):
    """Column of each label in `cls` (-1 where a label is not among them)."""
    cls = np.asarray(cls)
    order = np.argsort(cls, kind="stable")
    pos = np.clip(np.searchsorted(cls[order], y), 0, len(cls) - 1)
    idx = order[pos]
    return np.where(cls[idx] == np.asarray(y), idx, -1)


def _margin_weights(S, cls, y, valid, with_second=False):
    """Weights W of the attacker's margin W . s, and the margin, for scores S over classes `cls`.

    The margin is (best wrong valid class) - (what defends). What defends is the true class
    while it still beats every wrong class; once it does not, it is the ABSTAIN column (if the
    model abstains there). Crossing the boundary first and escaping the abstention second
    keeps the attacker from "escaping" an abstention by making the true class more certain.
    """
    n = len(S)
    rows = np.arange(n)
    iy = _index_of(cls, y)
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


_ABSTAIN_LABEL = contextvars.ContextVar("abstain_label", default=ABSTAIN)


def _labels_decide_abstain(fn):
    """ABSTAIN (-1) means "not decided" - unless -1 is one of the true labels (e.g. classes -1 / +1):
    then it is an ordinary class. Decided from the `y` of each call to the harness's public functions."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        y = kwargs.get("y", args[2] if len(args) > 2 else None)
        ys = np.asarray(y) if y is not None else np.array([])
        label = None if ys.dtype.kind in "iuf" and np.any(ys == ABSTAIN) else ABSTAIN
        token = _ABSTAIN_LABEL.set(label)
        try:
            return fn(*args, **kwargs)
        finally:
            _ABSTAIN_LABEL.reset(token)

    return wrapper


def _flat(pred):
    pred = np.asarray(pred)
    return pred.reshape(len(pred), -1)[:, 0] if pred.ndim > 1 else pred


def _predict(model, X):
    """The model's labels for a copy of X (a model may not change our arrays), one per row."""
    return _flat(model.predict(np.array(X, dtype=float)))


def _is_abstain(pred):
    pred = _flat(pred)
    label = _ABSTAIN_LABEL.get()
    return pred == label if label is not None and pred.dtype.kind in "iuf" else np.zeros(pred.shape, bool)


def _evaded(pred, y):
    pred = _flat(pred)
    return (pred != np.asarray(y)) & ~_is_abstain(pred)


def _sample_ball(rng, X, budget, norm, size=None):
    shape = X.shape if size is None else (X.shape[0], size, X.shape[1])
    if norm == "linf":
        return rng.choice([-budget, budget], size=shape) if budget > 0 else np.zeros(shape)
    u = rng.normal(size=shape)
    u /= np.maximum(np.linalg.norm(u, ord=1 if norm == "l1" else 2, axis=-1, keepdims=True), 1e-12)
    return budget * u


def _step(g, alpha, norm):
    if norm == "linf":
        return alpha * np.sign(g)
    n = np.linalg.norm(g, axis=1, keepdims=True)
    return alpha * g / np.maximum(n, 1e-12)


def _project(X_adv, X, budget, norm, bounds, changeable):
    from course.attacks import project

    return project(X_adv, X, budget, norm, bounds, changeable)


def _public_scores(model):
    """The scores a model's public interface offers: decision_function, else log predict_proba, else None."""
    if callable(getattr(model, "decision_function", None)):
        def scores(X):
            s = np.asarray(model.decision_function(X), dtype=float)
            return np.stack([-s, s], axis=1) if s.ndim == 1 else s
        return scores
    if callable(getattr(model, "predict_proba", None)):
        return lambda X: np.log(np.clip(np.asarray(model.predict_proba(X), dtype=float), 1e-12, None))
    return None


class _Counted:
    """The model seen through its public interface only, with every queried row counted."""

    def __init__(self, model):
        self.model = model
        self.count = 0
        self._scores = _public_scores(model)

    def predict(self, X):
        self.count += len(X)
        return _predict(self.model, X)

    def decision_function(self, X):
        self.count += len(X)
        return self._scores(np.array(X, dtype=float))


class _View:
    """An attacker's differentiable view: scores over `classes`, their input gradient, randomness."""

    def __init__(self, scores, grad, classes, samples=1, name=""):
        self._scores, self._grad, self.classes, self.samples, self.name = scores, grad, np.asarray(classes), samples, name

    def scores(self, X):
        return np.mean([self._scores(X) for _ in range(self.samples)], axis=0) if self.samples > 1 else self._scores(X)

    def grad_and_scores(self, X, y, valid):
        """Expectation (over `samples` draws) of the margin's gradient; returns (gradient, mean margin)."""
        G = np.zeros_like(X)
        M = np.zeros(len(X))
        for _ in range(self.samples):
            S, g = self._grad(X, y, valid)
            G += g
            M += S
        return G / self.samples, M / self.samples


def _direct_view(model, trust):
    """The exact gradient of a model, if the course knows it (or the model offers it and we trust it)."""
    from course import models

    if models.has_gradient(model):
        sc, gr = (lambda X: models.decision_scores(model, X)), (lambda X, W: models.input_gradient(model, X, W))
    elif trust and callable(getattr(model, "input_gradient", None)) and callable(getattr(model, "decision_function", None)) \
            and hasattr(model, "classes_"):
        def sc(X):
            s = np.asarray(model.decision_function(X), dtype=float)
            return np.stack([-s, s], axis=1) if s.ndim == 1 else s

        def gr(X, W):
            return np.asarray(model.input_gradient(X, W), dtype=float)
    else:
        return None
    classes = np.asarray(model.classes_)

    def margin_grad(X, y, valid):
        S = sc(X)
        W, m, W2 = _margin_weights(S, classes, y, valid, with_second=True)
        G = gr(X, W)
        if W2 is not None:  # two goals (cross, escape the abstention): each gradient counts equally
            rows = np.flatnonzero(np.abs(W2).sum(axis=1) > 0)
            G2 = gr(X[rows], W2[rows])
            unit = lambda A: A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # noqa: E731
            G[rows] = unit(G[rows]) + unit(G2)
        return m, G

    return sc, margin_grad, classes


def _make_view(model, trust, pre=None, samples=1, name=""):
    got = _direct_view(model, trust)
    if got is None:
        return None
    sc, mg, classes = got
    if pre is None:
        return _View(sc, mg, classes, samples, name)
    # straight-through (BPDA): gradient of the classifier at preprocess(x), used as the gradient at x
    return _View(lambda X: sc(pre(X)), lambda X, y, v: mg(pre(X), y, v), classes, samples, name)


def _valid(classes):
    return ~_is_abstain(classes)


# --------------------------------------------------------------------------- attacks (batched numpy)
def _pgd_view(view, X, y, budget, *, norm, bounds, changeable, steps, step_size, random_start, rng, evaded_fn=None,
              X_start=None):
    """Projected gradient ascent on the margin; with `evaded_fn`, points stop moving once evaded."""
    X = np.asarray(X, dtype=float)
    if budget <= 0 or len(X) == 0:
        return X.copy()
    valid = _valid(view.classes)
    alpha = step_size if step_size else (budget / 8 if norm == "linf" else budget / 5)
    Xa = X.copy() if X_start is None else np.array(X_start, dtype=float)
    if random_start:
        Xa = Xa + _sample_ball(rng, X, budget, norm) * rng.uniform(0, 1, (len(X), 1))
    Xa = _project(Xa, X, budget, norm, bounds, changeable)
    active = np.ones(len(X), bool)
    if evaded_fn is not None:
        active &= ~evaded_fn(Xa, np.arange(len(X)))
    for _ in range(int(steps)):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        G, _ = view.grad_and_scores(Xa[idx], y[idx], valid)
        if changeable is not None:
            G = G * np.asarray(changeable, dtype=float)
        Xa[idx] = _project(Xa[idx] + _step(G, alpha, norm), X[idx], budget, norm, bounds, changeable)
        if evaded_fn is not None:
            active[idx] &= ~evaded_fn(Xa[idx], idx)
    return Xa


@_single_thread
@_labels_decide_abstain
def pgd(model, X, y, budget: float, *, norm: str = "linf", bounds=(-np.inf, np.inf), changeable=None, steps: int = 40,
        step_size: float | None = None, random_start: bool = False, early_stop: bool = False, random_state: int = 0,
        use_model_gradients: bool = True):
    """Fast, batched PGD (Madry et al. 2018) on the margin loss of a differentiable model.

    `model` is a scikit-learn model the course can differentiate (`course.models.has_gradient`)
    or any object with `decision_function`, `input_gradient` and `classes_`. With
    `early_stop=True` each point stops moving as soon as it is misclassified: a *minimal*
    adversarial example, just across the boundary (what many evaluations use, and why
    many defences look better than they are). Returns X_adv within the threat model.
    """
    view = _make_view(model, use_model_gradients)
    if view is None:
        raise TypeError(f"{type(model).__name__}: no gradient available; use evaluate_defence, which attacks "
                        "opaque models with surrogates and queries")
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    fn = None
    if early_stop:
        def fn(Xa, idx):
            return _evaded(view.classes[np.argmax(view.scores(Xa), axis=1)], y[idx])
    return _pgd_view(view, X, y, budget, norm=norm, bounds=bounds, changeable=changeable, steps=steps,
                     step_size=step_size, random_start=random_start, rng=rng, evaded_fn=fn)


@_labels_decide_abstain
def fgsm(model, X, y, budget: float, *, norm: str = "linf", bounds=(-np.inf, np.inf), changeable=None,
         use_model_gradients: bool = True):
    """One-step attack (FGSM, Goodfellow et al. 2015): one step of the full budget along the gradient sign."""
    view = _make_view(model, use_model_gradients)
    if view is None:
        raise TypeError(f"{type(model).__name__}: no gradient available")
    return _pgd_view(view, np.atleast_2d(np.asarray(X, dtype=float)), np.asarray(y), budget, norm=norm, bounds=bounds,
                     changeable=changeable, steps=1, step_size=budget, random_start=False, rng=np.random.default_rng(0))


def _nes_attack(oracle, X, y, budget, *, norm, bounds, changeable, classes, use_scores, query_budget, rng, X_init=None,
                random=False, pairs=10):
    """Query-only attack: estimate the gradient from queries (antithetic NES, Ilyas et al. 2018) and step.

    With scores, the loss is the margin; with labels only, it is the share of a small neighbourhood
    that is misclassified (a smoothed decision). Each point spends at most `query_budget` queries.
    Returns (X_adv, queries spent per point).
    """
    n, d = X.shape
    Xa = X.copy() if X_init is None else _project(np.array(X_init, dtype=float), X, budget, norm, bounds, changeable)
    used = np.zeros(n, int)
    valid = _valid(classes) if classes is not None else None
    sigma = budget / (4 if use_scores else 2)
    alpha = budget / 10 if norm == "linf" else budget / 5
    lb, ub = bounds
    mask = None if changeable is None else np.asarray(changeable, dtype=float)

    def loss(P, yy):
        if use_scores:
            return _margin_weights(oracle.decision_function(P), classes, yy, valid)[1]
        return _evaded(oracle.predict(P), yy).astype(float)

    active = np.ones(n, bool)
    if not random:
        active &= ~_evaded(oracle.predict(Xa), y)
        used += 1
    cost = 2 * pairs + (0 if random else 1)
    while True:
        idx = np.flatnonzero(active & (used + cost <= query_budget))
        if not len(idx) or budget <= 0:
            break
        U = rng.integers(0, 2, size=(len(idx), pairs, d), dtype=np.int8) * 2.0 - 1.0  # random +-1 directions (SPSA)
        if mask is not None:
            U *= mask
        base = Xa[idx][:, None, :]
        P = np.clip(np.concatenate([base + sigma * U, base - sigma * U], axis=1), lb, ub).reshape(-1, d)
        yy = np.repeat(y[idx], 2 * pairs)
        L = loss(P, yy).reshape(len(idx), 2 * pairs)
        diff = L[:, :pairs] - L[:, pairs:]
        G = np.einsum("np,npd->nd", diff, U)
        flat = np.all(diff == 0, axis=1)
        if flat.any():  # no signal: explore in a random direction
            G[flat] = rng.normal(size=(int(flat.sum()), d)) * (1 if mask is None else mask)
        Xa[idx] = _project(Xa[idx] + _step(G, alpha, norm), X[idx], budget, norm, bounds, changeable)
        used[idx] += 2 * pairs
        if not random:
            active[idx] &= ~_evaded(oracle.predict(Xa[idx]), y[idx])
            used[idx] += 1
    return Xa, used


def _train_surrogates(X_pool, labels, random_state):
    """Surrogate models trained on the target's answers: an MLP and a logistic regression, soft-voted."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from course.defenses import Ensemble

    keep = ~_is_abstain(labels)
    Xp, yp = X_pool[keep], labels[keep]
    if len(np.unique(yp)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(64,), solver="lbfgs", alpha=1e-3, max_iter=150,
                            random_state=random_state).fit(Xp, yp)
        lin = make_pipeline(StandardScaler(), LogisticRegression(C=10.0, max_iter=2000)).fit(Xp, yp)
    return Ensemble([mlp, lin])


@_labels_decide_abstain
def accuracy_under_attack(model, X_adv, y, *, repeats: int = 1) -> float:
    """Share of (adversarial) inputs on which the attack failed: the model answered the true label,
    or abstained (rejected it, or sent it to a human). For a randomised model, the average over
    `repeats` calls."""
    return float(np.mean(_defended(model, X_adv, y, repeats)))


def _defended(model, X, y, repeats):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return np.mean([~_evaded(_predict(model, X), y) for _ in range(max(1, int(repeats)))], axis=0)


def _probe(model, X, y, trust, notes):
    """What the model's interface offers an attacker, checked against what it does."""
    from course import models

    P = X[: min(len(X), 100)]
    p1, p2, p3 = (_predict(model, P) for _ in range(3))
    randomised = bool(np.any(p1 != p2) or np.any(p1 != p3))
    agree_min = 0.75 if randomised else 0.99
    classes = np.asarray(model.classes_) if hasattr(model, "classes_") else np.unique(np.r_[np.asarray(y), p1, p2])
    access = {"predict": True, "scores": False, "gradient": False, "preprocessing": False}
    public = _public_scores(model)
    if public is not None and hasattr(model, "classes_"):
        try:
            S = public(P)
            ok = S.shape == (len(P), len(classes)) and np.mean(classes[S.argmax(1)] == p1) >= agree_min
            access["scores"] = bool(ok)
            if not ok:
                notes.append("the scores (decision_function or predict_proba) do not agree with predict: not used")
        except Exception as e:  # noqa: BLE001 - an interface that fails is an interface we do not use
            notes.append(f"asking for scores failed ({type(e).__name__}): scores not used")
    direct = _make_view(model, trust) if (models.has_gradient(model) or trust) else None
    if direct is not None:
        try:
            direct.grad_and_scores(P[:5], np.asarray(y)[:5], _valid(direct.classes))
            access["gradient"] = True
        except Exception as e:  # noqa: BLE001
            notes.append(f"input_gradient failed ({type(e).__name__}): no white-box attack")
            direct = None
    bpda = None
    pre, inner = getattr(model, "preprocess", None), getattr(model, "classifier", None)
    if callable(pre) and inner is not None and hasattr(inner, "predict"):
        try:
            agree = np.mean(_predict(inner, pre(np.array(P))) == p1)
            view = _make_view(inner, trust, pre=pre)
            if agree < agree_min:
                notes.append(f"preprocess + classifier agree with predict on only {agree:.0%}: hook ignored")
            elif view is None:
                notes.append("preprocessing hook found, but its classifier has no gradient: no BPDA")
            else:
                view.grad_and_scores(P[:5], np.asarray(y)[:5], _valid(view.classes))
                access["preprocessing"] = True
                bpda = view
        except Exception as e:  # noqa: BLE001
            notes.append(f"preprocessing hook failed ({type(e).__name__}): no BPDA")
    return randomised, classes, access, direct, bpda


ATTACKS = ("white-box", "one-step", "bpda", "transfer", "query", "random")


@_single_thread
@_labels_decide_abstain
def evaluate_defence(model, X, y, threat: ThreatModel, *, X_pool=None, label: str = "", attacks=ATTACKS,
                     repeats: int = 10, eot_samples: int = 10, steps: int = 40, use_model_gradients: bool = True,
                     unbounded: bool = True, random_state: int = 0, progress: bool = True) -> DefenceReport:
    """Run the adaptive battery against any classifier and report the strongest attack's result.

    Point it at your own model: anything with `predict(X)` works (a fitted scikit-learn
    estimator, a wrapper around a web API, a defended model). What runs depends on what the
    model's interface offers, found out by probing it (never by its class):

    - always: "transfer" - PGD against surrogate models (an MLP and a logistic regression)
      trained on the model's answers to `threat.pool_queries` queries about the attacker's own
      data `X_pool` (default: the attacked points and noisy copies of them); "query" - a
      query-only attack (gradients estimated from `threat.query_budget` queries per point,
      from scores when `decision_function` or `predict_proba` is offered, else labels, started at the
      transfer attack's points); "random" - random points in the budget (for the checks);
    - with gradients (a model `course.models` can differentiate, or one offering
      `input_gradient(X, W)` next to `decision_function` and `classes_`): "white-box" PGD on
      the margin loss, two starts; "one-step" (FGSM), for the masking checks;
    - with a preprocessing hook (`preprocess(X)` and `classifier`, consistent with `predict`):
      "bpda" - PGD straight through the preprocessing (Athalye et al.'s BPDA);
    - when the model is randomised (two calls disagree): gradients are averaged over
      `eot_samples` draws (EOT), and every accuracy is the average over `repeats` calls.

    Parameters
    ----------
    model : any object with `predict`; see above for what else it may offer.
    X, y : the points to attack and their true labels (a few hundred are enough).
    threat : a `ThreatModel` (norm, budget, curve budgets, bounds, changeable features,
        query budget, queries to label surrogate data).
    X_pool : inputs the attacker owns (unlabelled) for training surrogates.
    attacks : the subset of `ATTACKS` to run (those the interface allows are run).
    use_model_gradients : set False to ignore gradients a model reports about itself
        (e.g. when grading someone else's model); `course.models`' own gradients are kept.
    unbounded : also run the strongest attack with no budget (a masking check).

    A model may abstain: a prediction equal to `ABSTAIN` (-1) (rejected, or sent to review)
    counts as the attack failing; on clean data it counts as an error (`clean_abstain_rate`).
    A point counts as evaded at a budget if any attack evades it at that budget or a smaller
    one (the worst case).

    Returns a `DefenceReport`: `.robust` (per attack), `.worst_case`, `.worst` (the curve),
    `.examples[budget]` (the worst-case adversarial points), `.checks` (the masking warning
    signs), `.summary()`, `.plot()`.
    """
    import time

    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    if threat.norm not in ("linf", "l2", "l1"):
        raise ValueError(f"norm must be 'linf', 'l2' or 'l1'; got {threat.norm!r}")
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        raise ValueError(f"unknown attacks {sorted(unknown)}; choose from {ATTACKS}")
    d = X.shape[1]
    lb = np.broadcast_to(np.asarray(threat.bounds[0], dtype=float), (d,)).copy()
    ub = np.broadcast_to(np.asarray(threat.bounds[1], dtype=float), (d,)).copy()
    bounds = (lb, ub)
    mask = None if threat.changeable is None else np.asarray(threat.changeable, dtype=bool)
    if mask is not None and mask.shape != (d,):
        raise ValueError(f"changeable must be a boolean mask of length {d}; got shape {mask.shape}")
    norm = threat.norm
    kw = dict(norm=norm, bounds=bounds, changeable=mask)
    rng = np.random.default_rng(random_state)
    notes: list = []

    randomised, classes, access, direct, bpda = _probe(model, X, y, use_model_gradients, notes)
    R = repeats if randomised else 1
    for v in (direct, bpda):
        if v is not None and randomised:
            v.samples = int(eot_samples)
    oracle = _Counted(model)
    budgets = threat.curve_budgets()
    clean_preds = [_predict(model, X) for _ in range(R)]
    clean_acc = float(np.mean([p == y for p in clean_preds]))
    abstain = float(np.mean([_is_abstain(p) for p in clean_preds]))
    base = np.mean([~_evaded(p, y) for p in clean_preds], axis=0)  # budget 0

    def evaded_by_model(Xa, idx):
        return _evaded(_predict(model, Xa), y[idx])

    # ---- the attacks, each a function of the budget returning adversarial points
    def white_box(b, view=None):
        view = view or direct
        best, best_X = None, None
        for restart in range(1 if randomised else 2):
            Xa = _pgd_view(view, X, y, b, steps=steps, step_size=None, random_start=restart > 0, rng=rng,
                           evaded_fn=None if randomised else evaded_by_model, **kw)
            score = _defended(model, Xa, y, R)
            if best is None:
                best, best_X = score, Xa
            else:
                better = score < best
                best, best_X = np.where(better, score, best), np.where(better[:, None], Xa, best_X)
        return best_X, best

    def one_step(b):
        return _pgd_view(direct, X, y, b, steps=1, step_size=b, random_start=False, rng=rng, **kw), None

    transfer_points = {}

    def transfer(b):
        return transfer_points[b], None

    spent = {}

    def query(b):
        Xa, used = _nes_attack(oracle, X, y, b, classes=classes if access["scores"] else None, use_scores=access["scores"],
                               query_budget=threat.query_budget, rng=rng, X_init=transfer_points.get(b),
                               random=randomised, **kw)
        spent[qname] = int(max(spent.get(qname, 0), used.max(initial=0)))
        return Xa, None

    def random_noise(b, tries=20):
        Xa = X.copy()
        found = np.zeros(len(X), bool)
        for _ in range(tries):
            cand = _project(X + _sample_ball(rng, X, b, norm), X, b, norm, bounds, mask)
            ev = _evaded(_predict(model, cand), y) & ~found
            Xa[ev] = cand[ev]
            found |= ev
        spent["random noise"] = tries
        return Xa, None

    qname = "query-based (" + ("scores" if access["scores"] else "labels") + ")"
    plan = {}
    if direct is not None and "white-box" in attacks:
        plan["white-box PGD" + (" + EOT" if randomised else "")] = white_box
    if direct is not None and "one-step" in attacks:
        plan["one-step (FGSM)"] = one_step
    if bpda is not None and "bpda" in attacks:
        plan["PGD through preprocessing (BPDA" + (" + EOT)" if randomised else ")")] = lambda b: white_box(b, bpda)

    surrogate, pool_count = None, 0
    if "transfer" in attacks or "query" in attacks:
        # the attacker's data, labelled by the model (counted queries)
        # the attacker's own images (default: the attacked ones), and noisy copies up to `pool_queries`
        own = X if X_pool is None else np.atleast_2d(np.asarray(X_pool, dtype=float))
        copies = max(1, -(-int(threat.pool_queries) // max(len(own), 1)))
        jitter = [np.clip(own + _sample_ball(rng, own, threat.budget, norm) * rng.uniform(0, 1, (len(own), 1)), lb, ub)
                  for _ in range(copies - 1)]
        Xp = np.vstack([own] + jitter)[: max(int(threat.pool_queries), 1)]
        pool_labels = oracle.predict(Xp)
        pool_count = oracle.count
        surrogate = _train_surrogates(Xp, pool_labels, random_state)
        if surrogate is None:
            notes.append("the model's answers on the attacker's data have fewer than two classes: no transfer attack")
        else:
            notes.append(f"surrogates trained on the model's answers to {pool_count} queries")
            sview = _make_view(surrogate, True)
            for b in budgets[budgets > 0]:
                transfer_points[b] = _pgd_view(sview, X, y, b, steps=steps, step_size=None, random_start=False, rng=rng, **kw)
    if surrogate is not None and "transfer" in attacks:
        plan["transfer from surrogate"] = transfer
    if "query" in attacks:
        plan[qname] = query
    if "random" in attacks:
        plan["random noise"] = random_noise
    if not plan:
        raise ValueError("none of the requested attacks can run against this model")

    per_attack = {name: np.zeros((len(budgets), len(y))) for name in plan}
    worst_pts = np.tile(base, (len(budgets), 1))
    examples = {float(b): X.copy() for b in budgets}
    bar = tqdm(total=len(plan) * (len(budgets) - 1) + (1 if unbounded else 0), desc=f"evaluating {label or 'model'}",
               disable=not progress, leave=False)
    for bi, b in enumerate(budgets):
        for name, attack in plan.items():
            if b == 0:
                per_attack[name][bi] = base
                continue
            Xa, score = attack(b)
            score = _defended(model, Xa, y, R) if score is None else score
            per_attack[name][bi] = score
            better = score < worst_pts[bi]
            worst_pts[bi] = np.where(better, score, worst_pts[bi])
            examples[float(b)][better] = Xa[better]
            bar.update(1)
    # a point evaded at a smaller budget is evaded at every larger one
    for name in plan:
        per_attack[name] = np.minimum.accumulate(per_attack[name], axis=0)
    for bi in range(1, len(budgets)):
        carry = worst_pts[bi - 1] < worst_pts[bi]
        worst_pts[bi] = np.where(carry, worst_pts[bi - 1], worst_pts[bi])
        examples[float(budgets[bi])][carry] = examples[float(budgets[bi - 1])][carry]
    curves = {name: SecurityCurve(budgets, per_attack[name].mean(axis=1), norm, len(y), name) for name in plan}
    worst = SecurityCurve(budgets, worst_pts.mean(axis=1), norm, len(y), f"{label or 'model'}: worst case")

    # unbounded attack: the strongest available, no budget and every feature changeable
    unb = None
    if unbounded:
        big = float(np.max(ub - lb)) if np.all(np.isfinite(ub - lb)) else 100.0 * threat.budget
        if norm != "linf" and np.all(np.isfinite(ub - lb)):
            big = float(np.linalg.norm(ub - lb, ord=1 if norm == "l1" else 2))
        idx = np.flatnonzero(base >= 0.5)
        view = direct or bpda
        if len(idx):
            start = examples[float(budgets[-1])][idx]  # continue from the best points found within the budgets
            if view is not None:
                Xa = _pgd_view(view, X[idx], y[idx], big, norm=norm, bounds=bounds, changeable=None,
                               steps=50 if randomised else 100, step_size=max(budgets[-1], threat.budget) / 4,
                               random_start=False, rng=rng, X_start=start,
                               evaded_fn=None if randomised else (lambda Xa, j: _evaded(_predict(model, Xa), y[idx][j])))
                left = np.flatnonzero(~_evaded(_predict(model, Xa), y[idx])) if not randomised else []
                if len(left):  # a second try from random starting points, for what the first missed
                    sub = idx[left]
                    Xa[left] = _pgd_view(view, X[sub], y[sub], big, norm=norm, bounds=bounds, changeable=None, steps=100,
                                         step_size=max(budgets[-1], threat.budget) / 4, random_start=True, rng=rng,
                                         evaded_fn=lambda Xb, j: _evaded(_predict(model, Xb), y[sub][j]))
            else:
                init = start
                if surrogate is not None:
                    init = _pgd_view(_make_view(surrogate, True), X[idx], y[idx], big, norm=norm, bounds=bounds,
                                     changeable=None, steps=steps, step_size=max(budgets[-1], threat.budget) / 4,
                                     random_start=False, rng=rng, X_start=start)
                Xa, _ = _nes_attack(oracle, X[idx], y[idx], big, norm=norm, bounds=bounds, changeable=None,
                                    classes=classes if access["scores"] else None, use_scores=access["scores"],
                                    query_budget=threat.query_budget, rng=rng, X_init=init, random=randomised)
            unb = float(1 - np.mean(_defended(model, Xa, y[idx], R)))
        bar.update(1)
    bar.close()
    queries = dict(spent)
    if "transfer from surrogate" in plan:
        queries["transfer from surrogate"] = 0
    if pool_count:
        queries["labelling the surrogates' data (in total)"] = pool_count
    report = DefenceReport(label, threat, len(y), clean_acc, abstain, randomised, access, curves, worst, unb, [],
                           queries, 0.0, notes, examples)
    report.checks = masking_checklist(report)
    report.seconds = time.perf_counter() - t0
    return report


@_labels_decide_abstain
def replay_curve(model, adversarial: dict, y, *, label: str = "", repeats: int = 10, norm: str = "linf") -> SecurityCurve:
    """A *naive* evaluation: accuracy of `model` on a fixed set of adversarial examples per budget.

    `adversarial` maps each budget to adversarial points crafted once, e.g. against the model
    before a defence was added (budget 0: the clean points). Replaying them on a defended model
    is a common evaluation and measures only whether *those* points still work; an attacker
    who knows the defence attacks it directly (`evaluate_defence`). Abstentions count as the
    attack failing; a randomised model is asked `repeats` times.
    """
    budgets = np.asarray(sorted(adversarial), dtype=float)
    y = np.asarray(y)
    pts = np.array([_defended(model, adversarial[b], y, repeats) for b in sorted(adversarial)])
    pts = np.minimum.accumulate(pts, axis=0)
    return SecurityCurve(budgets, pts.mean(axis=1), norm, len(y), label)


def plot_naive_vs_adaptive(naive: SecurityCurve, report: DefenceReport, reference: DefenceReport | None = None, *,
                           title: str = "", ax=None):
    """One defence's two evaluations on one plot: the naive curve, the adaptive worst case and
    (optionally) the undefended model's adaptive worst case; a dotted line marks the stated budget."""
    from copy import copy

    from course import plots

    curves = [copy(naive), copy(report.worst)] + ([copy(reference.worst)] if reference is not None else [])
    for c, name in zip(curves, ["naive evaluation", "adaptive evaluation (worst case)", "undefended model, adaptive"]):
        c.label = name
    b = report.threat.budget
    head = f"{title}\n" if title else ""
    ax = plots.security_curves(curves, ax=ax, title=f"{head}naive {naive.at(b):.2f} vs adaptive {report.worst_case:.2f} at budget {b:g}")
    ax.axvline(b, color="grey", linewidth=0.8, linestyle=":")
    return ax


def masking_checklist(report_or_model, X=None, y=None, threat: ThreatModel | None = None, tolerance: float = 0.03,
                      **kwargs) -> list:
    """The warning signs of gradient masking (Athalye, Carlini & Wagner, ICML 2018), checked.

    Pass a `DefenceReport`, or a model with X, y and a ThreatModel (the harness is run first).
    Each sign that shows means the *gradient-based* evaluation cannot be trusted: the defence
    has hidden its gradients rather than removed its adversarial examples, and the robust
    accuracy to believe is the worst case over all attacks, including the black-box ones.

    1. a one-step attack does better than the iterative one;
    2. black-box attacks (transfer, queries) do better than white-box ones;
    3. an unbounded attack does not reach 100% success;
    4. random sampling in the budget finds adversarial examples the gradient attack missed;
    5. the attack's success does not rise with the budget.

    Returns a list of `MaskingCheck(sign, status, detail)`; status "WARNING", "ok" or "n/a".
    """
    if isinstance(report_or_model, DefenceReport):
        report = report_or_model
    else:
        if X is None or y is None or threat is None:
            raise ValueError("pass a DefenceReport, or a model with X, y and threat")
        return evaluate_defence(report_or_model, X, y, threat, **kwargs).checks
    r = report.robust
    tol = tolerance
    grad_names = [n for n in r if n.startswith("white-box") or n.startswith("PGD through")]
    box_names = [n for n in r if n.startswith("transfer") or n.startswith("query")]
    best_grad = min((r[n] for n in grad_names), default=None)
    checks = []
    if "one-step (FGSM)" in r and best_grad is not None:
        one, it = r["one-step (FGSM)"], best_grad
        checks.append(MaskingCheck("one-step beats iterative", "WARNING" if one < it - tol else "ok",
                                   f"one-step {one:.3f} vs iterative {it:.3f}"))
    else:
        checks.append(MaskingCheck("one-step beats iterative", "n/a", "no gradient: no white-box attack to compare"))
    if best_grad is not None and box_names:
        bb = min(r[n] for n in box_names)
        checks.append(MaskingCheck("black-box beats white-box", "WARNING" if bb < best_grad - tol else "ok",
                                   f"black-box {bb:.3f} vs white-box {best_grad:.3f}"))
    else:
        checks.append(MaskingCheck("black-box beats white-box", "n/a", "no white-box attack possible"))
    if report.unbounded_success is not None:
        s = report.unbounded_success
        checks.append(MaskingCheck("unbounded attack below 100% success", "WARNING" if s < 0.99 else "ok",
                                   f"{s:.1%} of correctly classified points evaded with no budget"))
    else:
        checks.append(MaskingCheck("unbounded attack below 100% success", "n/a", "not run"))
    if "random noise" in r:
        ref = best_grad if best_grad is not None else min((r[n] for n in box_names), default=None)
        if ref is not None:
            rn = r["random noise"]
            checks.append(MaskingCheck("random sampling beats the attack", "WARNING" if rn < ref - tol else "ok",
                                       f"random noise {rn:.3f} vs {'gradient' if best_grad is not None else 'black-box'} attack {ref:.3f}"))
    name = min(grad_names, key=r.get) if grad_names else (min(box_names, key=r.get) if box_names else None)
    if name is not None:
        c = report.curves[name]
        pos = c.budgets > 0
        if pos.sum() >= 2:
            first, last = c.accuracy[pos][0], c.accuracy[pos][-1]
            flat = last > 0.05 and last >= first - tol
            checks.append(MaskingCheck("success not rising with the budget", "WARNING" if flat else "ok",
                                       f"{name}: accuracy {first:.3f} at budget {c.budgets[pos][0]:g}, "
                                       f"{last:.3f} at {c.budgets[pos][-1]:g}"))
    return checks

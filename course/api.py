"""A deployed model as its users meet it: a prediction API that counts every query.

`PredictionAPI` wraps a fitted model the way a service exposes it: you send rows, you get
answers (labels only, a score, or class probabilities, optionally rounded), and every row you
send is counted against an optional budget. Past the budget it refuses with
`QueryBudgetExceeded`. Attacks in this module see the model *only* through such an API.

The attacks, each short enough to read:

* `score_attack` - score-based (SimBA, Guo et al. 2019): change one feature at a time and keep
  the change when the probability of the true class drops. Needs scores or probabilities.
* `boundary_attack` - decision-based (after Brendel et al. 2018): start from a point that is
  already misclassified and walk along the decision boundary towards the original. Needs
  labels only.
* `probe_fraud` - a fraudster's semi-automated probing of a fraud model: change only what the
  fraudster controls (a data set's `constraints`), within bounds, integers kept integers,
  until the transaction is approved or the per-transaction budget is spent.

Helpers: `evasion_rate` (the share of points an attack turned from right to wrong) and
`success_by_queries` (the share evaded within each query budget, from one attack run).
numpy in, numpy out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

OUTPUTS = ("label", "score", "proba")


class QueryBudgetExceeded(RuntimeError):
    """The API refused a request: answering it would exceed the query budget."""


class OutputNotAvailable(PermissionError):
    """The API does not expose this kind of output (e.g. probabilities from a labels-only API)."""


class PredictionAPI:
    """A fitted model behind a prediction service that counts every row it is sent.

    In cohort grading (`course grade`), an API handed to a learner's function stays in the grading
    process and the learner's code reaches it through a proxy (`course._remote`): its model, its count
    and its budget cannot be touched from the sandbox.

    Parameters
    ----------
    model : a fitted classifier with `predict` (and `predict_proba` or `decision_function`
        for score or probability outputs).
    output : "label", "score" or "proba" - what `query` returns:
        "label" the predicted class; "score" one number per row, the model's score of the
        positive class of a binary model (its probability if the model has `predict_proba`,
        else its `decision_function`); "proba" the class probabilities, shape (n, n_classes).
        An API always answers `predict` (a service that returns scores returns decisions too);
        `predict_proba` / `score` only when `output` allows it.
    max_queries : the largest number of rows the API answers in total (None: unlimited).
        A request that would go past it is refused as a whole, with `QueryBudgetExceeded`,
        and is not counted.
    round_to : round scores and probabilities to this many decimals (None: full precision).
    threshold : for a binary model, the label is the positive class when the positive-class
        score is >= threshold (a deployed fraud model flags at a threshold chosen by the bank,
        not at 0.5). None: the model's own `predict`.
    record : keep every answered request (rows and answers) in `log`, as the service's
        operator would; `history()` returns them stacked.

    Attributes
    ----------
    queries_used, queries_left, max_queries, output, classes_ (the label set is public).
    """

    _course_remote_ = True  # may be handed to a sandboxed learner function as a served proxy
    _course_private_ = ("log",)

    def __init__(self, model, output: str = "label", max_queries: int | None = None, round_to: int | None = None,
                 threshold: float | None = None, record: bool = False):
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}; got {output!r}")
        if not hasattr(model, "predict"):
            raise TypeError(f"model must be a fitted classifier with predict(); got {type(model).__name__}")
        if max_queries is not None and (isinstance(max_queries, bool) or int(max_queries) != max_queries or max_queries < 0):
            raise ValueError(f"max_queries must be a non-negative integer or None; got {max_queries!r}")
        if round_to is not None and (isinstance(round_to, bool) or int(round_to) != round_to or round_to < 0):
            raise ValueError(f"round_to must be a non-negative integer or None; got {round_to!r}")
        self.__model = model
        self.classes_ = np.asarray(model.classes_)
        binary = len(self.classes_) == 2
        if output == "score" and not binary:
            raise ValueError("output='score' is one number per row, defined for binary models; use output='proba'")
        if threshold is not None and not binary:
            raise ValueError("threshold is defined for binary models only")
        if output in ("score", "proba") or threshold is not None:
            if output == "proba" and not hasattr(model, "predict_proba"):
                raise ValueError(f"{type(model).__name__} has no predict_proba: use output='label' or 'score'")
            if not (hasattr(model, "predict_proba") or hasattr(model, "decision_function")):
                raise ValueError(f"{type(model).__name__} has neither predict_proba nor decision_function")
        self.output = output
        self.max_queries = None if max_queries is None else int(max_queries)
        self.round_to = None if round_to is None else int(round_to)
        self.threshold = None if threshold is None else float(threshold)
        self.record = bool(record)
        self.log: list = []
        self.__used = 0

    # ----------------------------------------------------------------- bookkeeping
    @property
    def queries_used(self) -> int:
        """Rows answered so far."""
        return self.__used

    @property
    def queries_left(self) -> float:
        """Rows the API will still answer (inf without a budget)."""
        return np.inf if self.max_queries is None else self.max_queries - self.__used

    def __repr__(self) -> str:
        budget = "unlimited" if self.max_queries is None else f"{self.max_queries}"
        extra = f", round_to={self.round_to}" if self.round_to is not None else ""
        return f"PredictionAPI(output={self.output!r}, queries used {self.__used} of {budget}{extra})"

    def _take(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2:
            raise ValueError(f"send rows: a 2-D array (n, d) or one row (d,); got {X.ndim} dimensions")
        n = len(X)
        if self.max_queries is not None and self.__used + n > self.max_queries:
            raise QueryBudgetExceeded(
                f"query budget exceeded: {self.__used} of {self.max_queries} rows used, {n} more requested "
                f"({self.max_queries - self.__used} left). The request was refused and not answered."
            )
        self.__used += n
        return X

    def _log(self, X, answer):
        if self.record:
            self.log.append((X.copy(), np.array(answer, copy=True)))
        return answer

    # ----------------------------------------------------------------- the model's view
    def _positive_score(self, X) -> np.ndarray:
        m = self.__model
        if hasattr(m, "predict_proba"):
            return np.asarray(m.predict_proba(X))[:, 1]
        return np.asarray(m.decision_function(X)).ravel()

    def _labels(self, X) -> np.ndarray:
        if self.threshold is None:
            return np.asarray(self.__model.predict(X))
        return np.where(self._positive_score(X) >= self.threshold, self.classes_[1], self.classes_[0])

    def _round(self, a):
        return a if self.round_to is None else np.round(a, self.round_to)

    # ----------------------------------------------------------------- the public calls
    def predict(self, X) -> np.ndarray:
        """Labels for the rows of X (counted)."""
        X = self._take(X)
        return self._log(X, self._labels(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (counted); only from an API with output='proba'."""
        if self.output != "proba":
            raise OutputNotAvailable(f"this API returns {self.output}s only, not probabilities")
        X = self._take(X)
        return self._log(X, self._round(np.asarray(self.__model.predict_proba(X))))

    def score(self, X) -> np.ndarray:
        """The positive class's score, one number per row (counted); only from an API with output='score'."""
        if self.output != "score":
            raise OutputNotAvailable(f"this API returns {self.output}s only, not scores")
        X = self._take(X)
        return self._log(X, self._round(self._positive_score(X)))

    def query(self, X) -> np.ndarray:
        """The API's answer in its output kind: labels, scores or probabilities (counted)."""
        return {"label": self.predict, "score": self.score, "proba": self.predict_proba}[self.output](X)

    __call__ = query

    def history(self):
        """(rows, answers) of every request answered so far, stacked (needs record=True)."""
        if not self.record:
            raise ValueError("this API does not record its requests; create it with record=True")
        if not self.log:
            return np.empty((0, 0)), np.empty((0,))
        return np.vstack([x for x, _ in self.log]), np.concatenate([a for _, a in self.log])


# --------------------------------------------------------------------------- measuring attacks
def evasion_rate(model, X_adv, X, y) -> float:
    """Share of the points the model classified correctly before the attack that it gets wrong after.

    `model` is anything with `predict` (the hidden target itself, for the experimenter).
    """
    y = np.asarray(y)
    right = np.asarray(model.predict(X)) == y
    if not right.any():
        return float("nan")
    return float(np.mean(np.asarray(model.predict(np.asarray(X_adv)[right])) != y[right]))


@dataclass
class QueryAttackResult:
    """What a query attack found, and what it cost.

    X_adv : the adversarial points (each within the budget, in bounds; the original where the attack failed).
    success : bool per point: misclassified by the API's model and within the budget.
    queries : queries spent per point.
    queries_to_success : per point, the queries spent when it first succeeded (inf if never).
    distance : per point, the L2 size of the perturbation returned.
    """

    X_adv: np.ndarray
    success: np.ndarray
    queries: np.ndarray
    queries_to_success: np.ndarray
    distance: np.ndarray = field(default=None)

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.success))


def success_by_queries(result: QueryAttackResult, budgets) -> np.ndarray:
    """Share of points evaded within each query budget (per point), from one attack run."""
    q = np.asarray(result.queries_to_success, dtype=float)
    return np.array([float(np.mean(q <= b)) for b in budgets])


def _project_l2(X_adv, X, budget, lb, ub):
    delta = X_adv - X
    size = np.linalg.norm(delta, axis=1, keepdims=True)
    delta = delta * np.minimum(1.0, budget / np.maximum(size, 1e-12))
    return np.clip(X + delta, lb, ub)


# --------------------------------------------------------------------------- score-based
def _true_class_proba(api, rows, col):
    """The API's probability of each row's true class, and whether its top class is another one."""
    proba = api.predict_proba(rows)
    p = proba[np.arange(len(rows)), col]
    return p, np.argmax(proba, axis=1) != col


def score_attack(api: PredictionAPI, X, y, budget: float, *, max_queries: int = 500, step: float = 0.5,
                 bounds=(0.0, 1.0), random_state: int = 0, progress: bool | None = None) -> QueryAttackResult:
    """Score-based evasion with queries only (SimBA, Guo et al. 2019), within an L2 budget.

    For each point, visit the features in a random order; for each, try x + step and then
    x - step on that feature, and keep the change if the API's probability of the true class
    went down. A point stops when the API misclassifies it, when it has spent `max_queries`,
    or when every feature has been tried. A change that would leave the L2 ball of radius
    `budget` or the bounds is never sent. All points are attacked together, one batch of
    queries per round. The API must return probabilities (output="proba").
    """
    if api.output != "proba":
        raise OutputNotAvailable("score_attack needs an API that returns probabilities; use boundary_attack for labels")
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    n, d = X.shape
    lb, ub = bounds
    col = np.searchsorted(api.classes_, y)
    rng = np.random.default_rng(random_state)

    X_adv = X.copy()
    p, done = _true_class_proba(api, X_adv, col)  # one query per point to start
    queries = np.ones(n, dtype=int)
    first = np.where(done, 1.0, np.inf)
    order = np.argsort(rng.random((n, d)), axis=1)  # each point's own random order of features
    show = progress if progress is not None else n * d > 5000
    for k in tqdm(range(d), desc="score-based attack", disable=not show, leave=False):
        improved = np.zeros(n, dtype=bool)
        for sign in (+1.0, -1.0):
            active = np.flatnonzero(~done & ~improved & (queries < max_queries))
            if not len(active):
                continue
            rows = np.arange(len(active))
            cand = X_adv[active].copy()
            j = order[active, k]
            cand[rows, j] = np.clip(cand[rows, j] + sign * step, lb, ub)
            send = (cand[rows, j] != X_adv[active, j]) & (np.linalg.norm(cand - X[active], axis=1) <= budget)
            if not send.any():
                continue
            idx = active[send]
            p_new, wrong = _true_class_proba(api, cand[send], col[idx])
            queries[idx] += 1
            better = p_new < p[idx]
            keep = idx[better]
            X_adv[keep], p[keep] = cand[send][better], p_new[better]
            improved[keep] = True
            newly = idx[better & wrong]
            done[newly] = True
            first[newly] = queries[newly]
    return QueryAttackResult(X_adv, done, queries, first, np.linalg.norm(X_adv - X, axis=1))


# --------------------------------------------------------------------------- decision-based
def _labels_wrong(api, rows, y):
    return np.asarray(api.predict(rows)) != y


def boundary_attack(api: PredictionAPI, X, y, budget: float, starts, start_labels=None, *, max_queries: int = 1000,
                    bounds=(0.0, 1.0), search_steps: int = 8, orthogonal: float = 0.2,
                    random_state: int = 0, progress: bool | None = None) -> QueryAttackResult:
    """Decision-based evasion with labels only (after Brendel et al. 2018's boundary attack).

    1. Start each point from the nearest of `starts` (inputs the attacker has, e.g. their own
       examples of other classes; with `start_labels`, only those of another class are tried)
       that the API labels differently: one query per candidate tried, at most 10.
    2. Binary search on the line between the point and its start, `search_steps` queries, to
       land just on the wrong side of the decision boundary.
    3. Walk along the boundary towards the original: a random step (sideways, `orthogonal`
       times the current distance) plus a step towards the original point; keep it if the API
       still gives a wrong label. Step sizes grow after a success and shrink after a failure.

    A point stops when its perturbation is within the L2 `budget` (success) or after
    `max_queries`. Only labels are used: this works against any model behind any API.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    n, d = X.shape
    lb, ub = bounds
    rng = np.random.default_rng(random_state)
    queries = np.zeros(n, dtype=int)
    X_adv = X.copy()
    found = np.zeros(n, dtype=bool)

    # 1. a misclassified start for each point, nearest first (at most 10 tries each)
    sq = ((X[:, None, :] - starts[None, :, :]) ** 2).sum(-1)
    if start_labels is not None:
        sq = np.where(np.asarray(start_labels)[None, :] == y[:, None], np.inf, sq)  # other classes first
    near = np.argsort(sq, axis=1)[:, :10]
    for t in range(near.shape[1]):
        idx = np.flatnonzero(~found & (queries < max_queries))
        if not len(idx):
            break
        cand = starts[near[idx, t]]
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        X_adv[idx[wrong]] = cand[wrong]
        found[idx[wrong]] = True

    # 2. binary search between the point (right side) and its start (wrong side)
    lo = np.zeros(n)  # fraction of the way to the start that is still right
    hi = np.ones(n)  # fraction that is wrong
    start_pts = X_adv.copy()
    for _ in range(search_steps):
        idx = np.flatnonzero(found & (queries < max_queries))
        if not len(idx):
            break
        mid = (lo[idx] + hi[idx]) / 2
        cand = X[idx] + mid[:, None] * (start_pts[idx] - X[idx])
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        hi[idx[wrong]], lo[idx[~wrong]] = mid[wrong], mid[~wrong]
    X_adv[found] = X[found] + hi[found, None] * (start_pts[found] - X[found])

    # 3. the walk along the boundary
    dist = np.where(found, np.linalg.norm(X_adv - X, axis=1), np.inf)
    first = np.where(found & (dist <= budget), queries.astype(float), np.inf)
    towards = np.full(n, 0.1)  # share of the distance to step towards the original
    side = np.full(n, orthogonal)
    show = progress if progress is not None else n * max_queries > 50000
    bar = tqdm(total=int(max_queries), desc="decision-based attack", disable=not show, leave=False)
    while True:
        idx = np.flatnonzero(found & ~np.isfinite(first) & (queries < max_queries))
        if not len(idx):
            break
        delta = X_adv[idx] - X[idx]
        r = dist[idx][:, None]
        eta = rng.normal(size=delta.shape)
        eta -= (np.sum(eta * delta, axis=1, keepdims=True) / np.maximum(r**2, 1e-12)) * delta  # sideways only
        eta *= side[idx][:, None] * r / np.maximum(np.linalg.norm(eta, axis=1, keepdims=True), 1e-12)
        step = delta + eta
        step *= r * (1 - towards[idx])[:, None] / np.linalg.norm(step, axis=1, keepdims=True)  # sphere, then closer
        cand = np.clip(X[idx] + step, lb, ub)
        wrong = _labels_wrong(api, cand, y[idx])
        queries[idx] += 1
        new_dist = np.linalg.norm(cand - X[idx], axis=1)
        ok = wrong & (new_dist < dist[idx])
        X_adv[idx[ok]], dist[idx[ok]] = cand[ok], new_dist[ok]
        towards[idx] = np.clip(np.where(ok, towards[idx] * 1.5, towards[idx] * 0.8), 1e-3, 0.5)
        side[idx] = np.clip(np.where(ok, side[idx] * 1.1, side[idx] * 0.95), 0.01, 1.0)
        hit = idx[ok & (new_dist <= budget)]
        first[hit] = queries[hit]
        bar.update(max(0, int(queries[idx].min()) - bar.n))  # queries spent by the slowest active point
    bar.close()
    success = np.isfinite(first)
    # where the walk did not get within the budget, return the original point (no attack within budget)
    X_out = np.where(success[:, None], X_adv, X)
    return QueryAttackResult(X_out, success, queries, first, np.linalg.norm(X_out - X, axis=1))


# --------------------------------------------------------------------------- fraud probing
def respect_constraints(X_new, X_orig, constraints) -> np.ndarray:
    """Bring rows back into a data set's attacker constraints: fixed features reset to the
    original, every feature clipped to its bounds, integer features rounded."""
    X_new = np.array(X_new, dtype=float)
    X_orig = np.asarray(X_orig, dtype=float)
    changeable = np.asarray(constraints["changeable"], dtype=bool)
    integer = np.asarray(constraints["integer"], dtype=bool)
    X_new = np.where(changeable, X_new, X_orig)
    X_new = np.where(integer, np.round(X_new), X_new)
    return np.clip(X_new, constraints["lower"], constraints["upper"])


@dataclass
class FraudProbeResult:
    """The outcome of probing, per intended transaction.

    X_final : the approved transaction, or the last one tried where none was approved.
    approved : bool, whether some attempt was approved (that attempt is the purchase).
    queries : attempts made (each attempt is one query: a real authorisation request).
    """

    X_final: np.ndarray
    approved: np.ndarray
    queries: np.ndarray

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.approved))

    @property
    def queries_to_success(self) -> np.ndarray:
        """Attempts until approval (inf where none was approved), for `success_by_queries`."""
        return np.where(self.approved, self.queries, np.inf)

    def within(self, attempts: int) -> "FraudProbeResult":
        """The same campaign cut off after `attempts` attempts per card (the script is the same
        attempt by attempt, so this is what a fraudster allowed only that many would have got)."""
        ok = self.approved & (self.queries <= attempts)
        return FraudProbeResult(self.X_final, ok, np.minimum(self.queries, attempts))


DISGUISE = (("hour", 14), ("online", 1), ("merchant_category", 3))  # a 2 pm online-retail purchase


def probe_fraud(api: PredictionAPI, X, constraints, feature_names, *, max_queries: int = 10, shrink: float = 0.8,
                disguise=DISGUISE, progress: bool | None = None) -> FraudProbeResult:
    """A fraudster's semi-automated probing of a deployed fraud model, through its API.

    Each row of X is a purchase the fraudster wants to make with a stolen card. The script:
    attempt 1 is the purchase as intended; each of the next attempts adds one more piece of
    `disguise` (by default: at 2 pm, then online, then at an online retailer - everyday
    spending that can still be resold); every attempt after that keeps the disguise and asks
    for `shrink` times the previous amount. The first approved attempt is the purchase; a
    transaction stops after `max_queries` attempts (one number, or one per transaction, e.g.
    what a velocity limit leaves on each card). Only features that `constraints` lets the
    fraudster change are changed, within bounds, integers kept integers. Every attempt is one
    query (a real authorisation request), counted by the API, whose answer is a label:
    1 = declined (flagged as fraud), 0 = approved.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n = len(X)
    limit = np.broadcast_to(np.asarray(max_queries, dtype=int), (n,))
    names = list(feature_names)
    amount = names.index("amount")
    steps = [(names.index(f), float(v)) for f, v in disguise]
    X_final = X.copy()
    approved = np.zeros(n, dtype=bool)
    queries = np.zeros(n, dtype=int)
    cand = X.copy()
    for attempt in tqdm(range(int(limit.max(initial=0))), desc="probing", disable=not progress, leave=False):
        idx = np.flatnonzero(~approved & (queries < limit))
        if not len(idx):
            break
        if 1 <= attempt <= len(steps):
            j, v = steps[attempt - 1]
            cand[:, j] = v
        elif attempt > len(steps):
            cand[:, amount] *= shrink
        cand = respect_constraints(cand, X, constraints)
        ok = np.asarray(api.predict(cand[idx])) == 0
        queries[idx] += 1
        X_final[idx] = cand[idx]
        approved[idx[ok]] = True
    return FraudProbeResult(X_final, approved, queries)


# --------------------------------------------------------------------------- practice targets and figures
SECRET_FAMILIES = ("rbf-svm", "forest", "knn")


def make_secret_model(X, y, random_state: int = 0, families=SECRET_FAMILIES):
    """A fitted model of a family drawn from `random_state` among `families` ("rbf-svm", "forest",
    "knn"), with settings drawn too. What graders build as hidden targets."""
    from course import models

    unknown = set(families) - set(SECRET_FAMILIES)
    if unknown or not families:
        raise ValueError(f"families must be a non-empty subset of {SECRET_FAMILIES}; got {families!r}")
    rng = np.random.default_rng(random_state)
    kind = tuple(families)[int(rng.integers(len(families)))]
    params = {
        "rbf-svm": {"C": float(rng.choice([1.0, 3.0, 10.0]))},
        "forest": {"n_estimators": int(rng.choice([30, 50])), "max_depth": int(rng.choice([10, 20]))},
        "knn": {"n_neighbors": int(rng.choice([3, 5, 7]))},
    }[kind]
    return models.fit(kind, X, y, random_state=int(rng.integers(1000)), **params)


def secret_model(X, y, random_state: int = 0, max_queries: int | None = None, families=SECRET_FAMILIES) -> PredictionAPI:
    """A model of a family you are not told, trained on (X, y), behind a labels-only prediction API.

    The family (an RBF SVM, a random forest or k-nearest neighbours) and its settings are drawn
    from `random_state` (see `make_secret_model`). For practice in the exercises: the graders
    build their own hidden targets the same way, from seeds you do not know.
    """
    return PredictionAPI(make_secret_model(X, y, random_state, families), output="label", max_queries=max_queries)


def draw_rates(x, curves: dict, *, ax=None, xlabel="", ylabel="success rate", title=None, logx=False, baseline=None):
    """Lines of success rates against x (a budget, a number of queries), one per named curve,
    in the course palette with distinct markers and line styles; `baseline` adds a dashed
    grey reference line (e.g. random noise of the same size): (label, values)."""
    from course import plots

    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    for i, (label, ys) in enumerate(curves.items()):
        ax.plot(x, ys, marker=plots.MARKERS[i % len(plots.MARKERS)], color=plots.PALETTE[i % len(plots.PALETTE)],
                linestyle=plots.LINESTYLES[i % len(plots.LINESTYLES)], label=label)
    if baseline is not None:
        ax.plot(x, baseline[1], color="grey", linestyle=(0, (2, 2)), marker="x", label=baseline[0])
    if logx:
        ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def draw_grouped_bars(values: dict, *, ax=None, ylabel="", title=None, fmt="{:.0%}"):
    """Grouped bars: `values[group][member]`, one group per outer key (e.g. a surrogate), one bar per
    inner key (e.g. a target), hatched so the bars differ without colour, each labelled with its value."""
    from course import plots

    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    groups = list(values)
    members = list(values[groups[0]])
    width = 0.8 / len(members)
    hatches = ["", "//", "..", "xx", "\\\\", "oo"]
    for j, member in enumerate(members):
        xs = np.arange(len(groups)) + (j - (len(members) - 1) / 2) * width
        vals = [values[g][member] for g in groups]
        ax.bar(xs, vals, width, color=plots.PALETTE[j % len(plots.PALETTE)], edgecolor="black",
               hatch=hatches[j % len(hatches)], label=member)
        for x, v in zip(xs, vals):
            ax.text(x, v + 0.01, fmt.format(v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return ax

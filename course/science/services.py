"""A deployed model as its users meet it: a prediction service that counts every query.

`PredictionAPI` is the course's one counted service. It wraps a fitted model the way a
service exposes it: you send rows, you get answers (labels only, a score, or class
probabilities, optionally rounded or otherwise restricted), and every row you send is counted
in `queries_used` against an optional budget. Past the budget it refuses with
`QueryBudgetExceeded`. The query attacks (`course.science.attacks`), the fraud probing of lesson 05,
the extraction and membership attacks of lesson 08 and the harness's attacker's view all see a
model through it. `SecuredAPI` (lesson 02) adds what classic security asks: keys, per-key
daily limits, an audit log. `CardGateway` (exercise 05) is a bank's card authorisation in front of a
fraud model: one counted API, and a card blocked after a few declines.

`secret_model` builds lesson 04's hidden target: a model whose family you are not told.
"""
from __future__ import annotations

import numpy as np

OUTPUTS = ("label", "score", "scores", "proba")


class QueryBudgetExceeded(RuntimeError):
    """The API refused a request: answering it would exceed the query budget."""


class OutputNotAvailable(PermissionError):
    """The API does not expose this kind of output (e.g. probabilities from a labels-only API)."""


class PredictionAPI:
    """A fitted model behind a prediction service that counts every row it is sent.

    In cohort grading (`course grade`), an API handed to a learner's function stays in the grading
    process and the learner's code reaches it through a proxy (`course.grader.remote`): its model, its count
    and its budget cannot be touched from the sandbox.

    Parameters
    ----------
    model : a fitted classifier with `predict` (and `predict_proba` or `decision_function`
        for score or probability outputs).
    output : "label", "score", "scores" or "proba" - what `query` returns:
        "label" the predicted class; "score" one number per row, the model's score of the
        positive class of a binary model (its probability if the model has `predict_proba`,
        else its `decision_function`); "scores" the model's score of every class, shape
        (n, n_classes) (`decision_function`); "proba" the class probabilities, shape (n, n_classes).
        An API always answers `predict` (a service that returns scores returns decisions too);
        `predict_proba` / `score` / `decision_function` only when `output` allows it.
    max_queries : the largest number of rows the API answers in total (None: unlimited).
        A request that would go past it is refused as a whole, with `QueryBudgetExceeded`,
        and is not counted.
    round_to : round scores and probabilities to this many decimals (None: full precision).
    threshold : for a binary model, the label is the positive class when the positive-class
        score is >= threshold (a deployed fraud model flags at a threshold chosen by the bank,
        not at 0.5). None: the model's own `predict`.
    record : keep every answered request (rows and answers) in `log`, as the service's
        operator would; `history()` returns them stacked.
    transform : a function applied to the class probabilities before they leave the service
        (an output restriction such as `course.science.privacy.restrict`), before rounding.

    Attributes
    ----------
    queries_used, queries_left, max_queries, output, classes_ (the label set is public).
    """

    _course_remote_ = True  # may be handed to a sandboxed learner function as a served proxy
    _course_private_ = ("log",)

    def __init__(self, model, output: str = "label", max_queries: int | None = None, round_to: int | None = None,
                 threshold: float | None = None, record: bool = False, transform=None):
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
        if output == "scores" and not hasattr(model, "decision_function"):
            raise ValueError(f"{type(model).__name__} has no decision_function: use output='label' or 'proba'")
        self.output = output
        self.max_queries = None if max_queries is None else int(max_queries)
        self.round_to = None if round_to is None else int(round_to)
        self.threshold = None if threshold is None else float(threshold)
        self.record = bool(record)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be a function of the probabilities; got {type(transform).__name__}")
        self.transform = transform
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
        P = np.asarray(self.__model.predict_proba(X), dtype=float)
        if self.transform is not None:
            P = np.asarray(self.transform(P), dtype=float)
        return self._log(X, self._round(P))

    def score(self, X) -> np.ndarray:
        """The positive class's score, one number per row (counted); only from an API with output='score'."""
        if self.output != "score":
            raise OutputNotAvailable(f"this API returns {self.output}s only, not scores")
        X = self._take(X)
        return self._log(X, self._round(self._positive_score(X)))

    def decision_function(self, X) -> np.ndarray:
        """The model's score of every class, shape (n, n_classes) (counted); only from an API with output='scores'."""
        if self.output != "scores":
            raise OutputNotAvailable(f"this API returns {self.output}s only, not per-class scores")
        X = self._take(X)
        s = np.asarray(self.__model.decision_function(X), dtype=float)
        return self._log(X, self._round(np.stack([-s, s], axis=1) if s.ndim == 1 else s))

    def query(self, X) -> np.ndarray:
        """The API's answer in its output kind: labels, scores or probabilities (counted)."""
        kinds = {"label": self.predict, "score": self.score, "scores": self.decision_function, "proba": self.predict_proba}
        return kinds[self.output](X)

    __call__ = query

    def history(self):
        """(rows, answers) of every request answered so far, stacked (needs record=True)."""
        if not self.record:
            raise ValueError("this API does not record its requests; create it with record=True")
        if not self.log:
            return np.empty((0, 0)), np.empty((0,))
        return np.vstack([x for x, _ in self.log]), np.concatenate([a for _, a in self.log])


# --------------------------------------------------------------------------- practice targets and figures
SECRET_FAMILIES = ("rbf-svm", "forest", "knn")


def make_secret_model(X, y, random_state: int = 0, families=SECRET_FAMILIES):
    """A fitted model of a family drawn from `random_state` among `families` ("rbf-svm", "forest",
    "knn"), with settings drawn too. What graders build as hidden targets."""
    from course.science import models

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


class SecuredAPI:
    """A model behind an API that does everything classic security asks (lesson 02).

    Every request needs a valid key (access control), is logged, and is counted against a daily
    limit per key (rate limit); we assume TLS and a patched server. Only labels are returned.
    The rows are answered and counted by one `PredictionAPI` (`queries_used` is its count);
    a refused request raises `PermissionError` and is not counted.
    """

    def __init__(self, model, keys, daily_limit: int = 2000):
        self._service = PredictionAPI(model, output="label")
        self._keys = set(keys)
        self.daily_limit = int(daily_limit)
        self.log = []  # (day, key, rows, status)
        self._used = {}

    @property
    def queries_used(self) -> int:
        """Rows answered so far, over every key and day."""
        return self._service.queries_used

    def predict(self, key: str, X, day: int = 0):
        """Labels for the rows of X, if `key` is valid and today's quota allows."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if key not in self._keys:
            self.log.append((day, key, len(X), "rejected: invalid key"))
            raise PermissionError("invalid API key")
        used = self._used.get((day, key), 0)
        if used + len(X) > self.daily_limit:
            self.log.append((day, key, len(X), "rejected: rate limit"))
            raise PermissionError(f"rate limit: {self.daily_limit} predictions per key per day")
        self._used[(day, key)] = used + len(X)
        self.log.append((day, key, len(X), "ok"))
        return self._service.predict(X)

    def audit(self) -> dict:
        """What the security team sees: requests, predictions served, rejections, the busiest key-day."""
        ok = [r for r in self.log if r[3] == "ok"]
        busiest = max(self._used.values(), default=0)
        return {"requests": len(self.log), "predictions_served": sum(r[2] for r in ok),
                "rejected": len(self.log) - len(ok), "busiest_key_day": busiest, "daily_limit": self.daily_limit}


class CardGateway:
    """A bank's card authorisation, as a fraudster holding stolen cards meets it (exercise 05).

    Each row sent is one purchase attempt with one of the `cards` (a row is that card's when its features
    that the fraudster cannot change, per `constraints`, are the card's). The answer is the fraud
    model's label at `threshold` (1 = declined, 0 = approved), and every row counts as a query in one
    `PredictionAPI` (with its budget `max_queries`). Unlike the bare API of lesson 05, the bank blocks a
    card after `block_after` declines: every later attempt with it is declined (and still counted), and
    a blocked card makes no purchase. A row that is none of the cards is refused (`ValueError`): the
    fraudster can only try purchases with the cards they hold.
    """

    _course_remote_ = True

    def __init__(self, model, threshold: float, cards, constraints, max_queries: int | None = None, block_after: int = 3):
        cards = np.atleast_2d(np.asarray(cards, dtype=float))
        self.__api = PredictionAPI(model, output="label", threshold=threshold, max_queries=max_queries)
        self.__fixed = ~np.asarray(constraints["changeable"], dtype=bool)
        self.__index = {tuple(r): i for i, r in enumerate(cards[:, self.__fixed])}
        if len(self.__index) != len(cards):
            raise ValueError("two cards have the same fixed features: the gateway could not tell them apart")
        self.__declines = np.zeros(len(cards), dtype=int)
        self.block_after = int(block_after)
        self.max_queries = self.__api.max_queries

    @property
    def queries_used(self) -> int:
        """Rows answered so far (attempts with blocked cards included)."""
        return self.__api.queries_used

    @property
    def queries_left(self) -> float:
        return self.__api.queries_left

    @property
    def declines(self) -> np.ndarray:
        """Declined attempts per card so far (a copy)."""
        return self.__declines.copy()

    @property
    def blocked(self) -> np.ndarray:
        """Whether each card is blocked (declined `block_after` times)."""
        return self.__declines >= self.block_after

    def cards_of(self, X) -> np.ndarray:
        """The card (index into `cards`) of each row; ValueError for a row that is none of them."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        try:
            return np.array([self.__index[tuple(r)] for r in X[:, self.__fixed]], dtype=int)
        except KeyError:
            raise ValueError("a row is none of the stolen cards: its card history or location (the features the "
                             "fraudster cannot change) matches no card; keep them as they are") from None

    def predict(self, X) -> np.ndarray:
        """Approve (0) or decline (1) each attempt (counted); a card is blocked after `block_after` declines."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        cards = self.cards_of(X)
        answers = np.asarray(self.__api.predict(X)).astype(int)
        for k, card in enumerate(cards):  # in order: a card blocked by an attempt in this request stays blocked
            if self.__declines[card] >= self.block_after:
                answers[k] = 1
            self.__declines[card] += answers[k] == 1
        return answers

    def __repr__(self) -> str:
        return (f"CardGateway({len(self.__declines)} cards, blocked after {self.block_after} declines, "
                f"{int(self.blocked.sum())} blocked; queries used {self.queries_used} of {self.max_queries})")

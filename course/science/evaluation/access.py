"""What a model offers the harness, found by probing it (never by its class).

`probe` asks the model a few questions and returns an `Access`: whether its answers vary
between calls (randomised) or depend on what it was asked before (stateful), the scores it
offers that agree with its labels, its exact gradient, a preprocessing hook (`preprocess` +
`classifier`), a rejection score (`rejection_score(X)`, > 0 where it abstains), and, in owner
mode, the members of an ensemble as its owner built it.

Queries go through `Counted` (each row counted). A stateful model (a query-history detector,
say) is judged on fresh copies (`Fresh`): each adversarial input is a first contact, as it is
for a user the detector has not seen; in owner mode the attacks query fresh copies too (the
owner can, and an attacker with many accounts can: Chen, Carlini & Wagner 2020).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from course.ground.threat import ABSTAIN
from course.science.attacks.base import is_abstain, predict_labels, valid_classes
from course.science.attacks.gradient import GradientView, gradient_view
from course.science.attacks.query import public_scores


class Counted:
    """The model seen through its public interface only, with every queried row counted."""

    def __init__(self, model, scores=None):
        self.model = model
        self.queries_used = 0
        self._scores = scores if scores is not None else public_scores(model)

    def predict(self, X):
        self.queries_used += len(X)
        return predict_labels(self.model, X)

    def decision_function(self, X):
        self.queries_used += len(X)
        return self._scores(np.array(X, dtype=float))


class Fresh:
    """A stateful model answered by a fresh copy of its first state on every call (no history)."""

    def __init__(self, pristine):
        self._pristine = pristine

    def __getattr__(self, item):
        if item.startswith("_"):
            raise AttributeError(item)
        attr = getattr(copy.deepcopy(self._pristine), item)
        return attr


def _copy(model):
    try:
        return copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - a model that cannot be copied (a client of a service) is used live
        return None


@dataclass
class Access:
    """What probing found; `flags` is what the report lists as "access found"."""

    model: object
    judge: object  # what adversarial points are scored on
    target: object  # what the attacks query
    classes: np.ndarray
    randomised: bool = False
    stateful: bool = False
    flags: dict = field(default_factory=dict)
    scores: object = None  # X -> scores over `score_classes` (an ABSTAIN column when there is a rejection score)
    score_classes: np.ndarray | None = None
    score_of: object = None  # obj -> the same scores, of another copy of the model
    direct: GradientView | None = None
    straight: GradientView | None = None  # BPDA: the classifier's gradient at preprocess(x)
    classifier_view: GradientView | None = None  # the classifier behind the preprocessing, on its own
    preprocess: object = None
    classifier: object = None
    members: list = field(default_factory=list)
    member_classes: np.ndarray | None = None
    replay: object = None  # () -> scores under one fixed draw of the randomness (owner mode, randomised models)

    def oracle(self) -> Counted:
        return Counted(self.target, self.scores)


def _state(model, pristine, P, p1, varies):
    """(randomised, stateful): a stateful model answers as it first did when asked afresh, even after
    being asked about something else; a randomised one does not."""
    if not varies or pristine is None:
        return varies, False
    fresh = _copy(pristine)
    warm = _copy(pristine)
    rng = np.random.default_rng(0)
    warm.predict(rng.uniform(P.min(), P.max(), size=P.shape))
    again = np.array_equal(predict_labels(fresh, P), p1) and np.array_equal(predict_labels(warm, P), p1)
    return not again, again


def _score_builder(model, classes):
    """(build, classes): build(obj) gives obj's scores as a function of X, over `classes` - with an ABSTAIN
    column, max_k s_k + rejection_score, when the model offers a rejection score and no ABSTAIN class."""
    if public_scores(model) is None or not hasattr(model, "classes_"):
        return None, None
    if callable(getattr(model, "rejection_score", None)) and not is_abstain(classes).any():
        def build(obj):
            public, rejection = public_scores(obj), obj.rejection_score

            def scores(X):
                S = public(X)
                return np.column_stack([S, S.max(axis=1) + np.asarray(rejection(X), dtype=float)])

            return scores

        return build, np.append(classes, ABSTAIN)
    return public_scores, classes


def _scores(model, classes, P, p1, agree_min, notes):
    """The public scores (see `_score_builder`) and their classes, if they agree with predict."""
    build, cls = _score_builder(model, classes)
    if build is None:
        return None, None, None
    try:
        S = build(model)(P)
        if S.shape != (len(P), len(cls)):
            notes.append("the scores do not have one column per class: not used")
            return None, None, None
        decided = np.ones(len(P), bool) if is_abstain(cls).any() else ~is_abstain(p1)
        agree = np.mean(cls[S.argmax(1)][decided] == p1[decided]) if decided.any() else 0.0
        if agree < agree_min:
            notes.append("the scores (decision_function or predict_proba) do not agree with predict: not used")
            return None, None, None
        return build(model), cls, build
    except Exception as e:  # noqa: BLE001 - an interface that fails is an interface we do not use
        notes.append(f"asking for scores failed ({type(e).__name__}): scores not used")
        return None, None, None


def _members(model, notes):
    """The members of an ensemble the course can differentiate (scikit-learn's voting or stacking, or `members`)."""
    from course.science import models

    found = getattr(model, "estimators_", None)
    if found is None:
        found = getattr(model, "members", None)
    if not isinstance(found, (list, tuple)) or not found:
        return [], None
    usable = [m for m in found if models.has_gradient(m)]
    if not usable:
        return [], None
    encoder = getattr(model, "le_", None)  # VotingClassifier trains its members on encoded labels
    classes = np.asarray(usable[0].classes_)
    if encoder is not None:
        classes = np.asarray(encoder.classes_)[classes.astype(int)]
    if any(not np.array_equal(np.asarray(m.classes_), np.asarray(usable[0].classes_)) for m in usable):
        return [], None
    notes.append(f"ensemble: {len(usable)} of {len(found)} members can be differentiated; attacked together")
    return usable, classes


def _generators(obj) -> list:
    """The numpy random generators an object keeps (in its attributes, or its attributes' attributes)."""
    kinds = (np.random.Generator, np.random.RandomState)
    found = []
    for value in vars(obj).values() if hasattr(obj, "__dict__") else ():
        if isinstance(value, kinds):
            found.append(value)
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            found += [v for v in vars(value).values() if isinstance(v, kinds)]
    return found


def _state_of(gen):
    return copy.deepcopy(gen.bit_generator.state if isinstance(gen, np.random.Generator) else gen.get_state())


def _set_state(gen, state):
    if isinstance(gen, np.random.Generator):
        gen.bit_generator.state = copy.deepcopy(state)
    else:
        gen.set_state(state)


def _replayer(pristine, build, x):
    """() -> ask, where ask(X) gives the model's scores under one fixed draw of its randomness (a new draw
    for each ask made): the generators the model keeps are set back before each question, or, when it keeps
    none we can find, a copy of one snapshot answers."""
    runner = copy.deepcopy(pristine)
    gens = _generators(runner)
    scores = build(runner)

    def snapshot():
        if gens:
            states = [_state_of(g) for g in gens]

            def ask(X):
                for g, st in zip(gens, states):
                    _set_state(g, st)
                return np.asarray(scores(X), dtype=float)
        else:
            snap = copy.deepcopy(runner)

            def ask(X):
                return np.asarray(build(copy.deepcopy(snap))(X), dtype=float)
        runner.predict(x)  # advance the draws for the next snapshot
        return ask

    return snapshot


def probe(model, X, y, *, trust: bool, mode: str, notes: list) -> Access:
    """Find out what `model` offers an attacker (and, in owner mode, its owner)."""
    from course.science import models

    P = X[: min(len(X), 100)]
    pristine = _copy(model)
    p1, p2, p3 = (predict_labels(model, P) for _ in range(3))
    varies = bool(np.any(p1 != p2) or np.any(p1 != p3))
    randomised, stateful = _state(model, pristine, P, p1, varies)
    judge = target = model
    if stateful:
        judge = Fresh(pristine)
        target = judge if mode == "owner" else model
        notes.append("stateful: answers depend on earlier queries (a query-history detector?); adversarial points are "
                     "scored on a fresh copy" + ("; the attacks query fresh copies (many accounts)" if mode == "owner"
                                                 else "; the attacks query the model itself (one account)"))
    agree_min = 0.75 if randomised else 0.99
    classes = np.asarray(model.classes_) if hasattr(model, "classes_") else np.unique(np.r_[np.asarray(y), p1, p2])
    a = Access(model, judge, target, classes, randomised, stateful)
    a.flags = {"predict": True, "scores": False, "rejection score": False, "gradient": False, "preprocessing": False,
               "members": False}
    a.scores, a.score_classes, a.score_of = _scores(model, classes, P, p1, agree_min, notes)
    a.flags["scores"] = a.scores is not None
    a.flags["rejection score"] = a.scores is not None and is_abstain(a.score_classes).any() and not is_abstain(classes).any()
    direct = gradient_view(model, trust) if (models.has_gradient(model) or trust) else None
    if direct is not None:
        try:
            direct.grad_and_scores(P[:5], np.asarray(y)[:5], valid_classes(direct.classes))
            a.direct, a.flags["gradient"] = direct, True
        except Exception as e:  # noqa: BLE001
            notes.append(f"input_gradient failed ({type(e).__name__}): no white-box attack")
    pre, inner = getattr(model, "preprocess", None), getattr(model, "classifier", None)
    if callable(pre) and inner is not None and hasattr(inner, "predict"):
        try:
            agree = np.mean(predict_labels(inner, pre(np.array(P))) == p1)
            view = gradient_view(inner, trust, pre=pre)
            if agree < agree_min:
                notes.append(f"preprocess + classifier agree with predict on only {agree:.0%}: hook ignored")
            elif view is None:
                notes.append("preprocessing hook found, but its classifier has no gradient: no BPDA")
            else:
                view.grad_and_scores(P[:5], np.asarray(y)[:5], valid_classes(view.classes))
                a.straight, a.preprocess, a.classifier, a.flags["preprocessing"] = view, pre, inner, True
                a.classifier_view = gradient_view(inner, trust)
        except Exception as e:  # noqa: BLE001
            notes.append(f"preprocessing hook failed ({type(e).__name__}): no BPDA")
    if mode == "owner" and a.direct is None:
        a.members, a.member_classes = _members(model, notes)
        a.flags["members"] = bool(a.members)
    if mode == "owner" and randomised and pristine is not None:
        one, two = _copy(pristine), _copy(pristine)
        if np.array_equal(predict_labels(one, P), predict_labels(two, P)):
            a.replay = _replayer(pristine, a.score_of, P[:1]) if a.score_of is not None else None
    return a

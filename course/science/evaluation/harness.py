"""The adaptive evaluation harness: point it at any model, get the strongest attack's result.

A robustness claim needs the *right* attacker. `evaluate_defence(model, X, y, threat)`
runs every attack the model's interface allows - white-box PGD, PGD straight through exposed
preprocessing (BPDA), expectation over randomness (EOT), transfer from surrogates trained on
the model's answers, a query-only attack - and reports accuracy under each, the worst case
per point, the security evaluation curve, and the gradient-masking warning signs of Athalye,
Carlini & Wagner (ICML 2018) (`masking_checklist`), in the spirit of Tramèr, Carlini, Brendel
& Madry (NeurIPS 2020): the model is as robust as the strongest attack says. It needs nothing
but `predict`:

    from course.science.evaluation import ThreatModel, evaluate_defence
    threat = ThreatModel(budget=0.1, norm="linf", bounds=(0, 1), query_budget=1000)
    report = evaluate_defence(my_sklearn_model, X_test[:200], y_test[:200], threat)
    print(report.summary()); report.plot()

The attacks themselves live in `course.science.attacks`; the hooks a defended model may offer
(`decision_function`, `input_gradient`, `preprocess` + `classifier`, the `ABSTAIN` label) are
documented in `course.science.defences`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from course.ground.threat import ThreatModel, project
from course.science.attacks.base import (
    evaded,
    is_abstain,
    labels_decide_abstain,
    predict_labels,
    sample_ball,
    single_thread,
    valid_classes,
)
from course.science.attacks.gradient import gradient_view, pgd_steps
from course.science.attacks.query import nes_attack, public_scores
from course.science.attacks.transfer import train_surrogates
from course.science.evaluation.metrics import SecurityCurve

__all__ = ["DefenceReport", "MaskingCheck", "evaluate_defence", "masking_checklist", "accuracy_under_attack",
           "replay_curve", "ATTACKS"]


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
            "  access found: " + ", ".join(k for k, v in self.access.items() if v) + ("; randomised" if self.randomised else ""),
            f"  clean accuracy {self.clean_accuracy:.3f}"
            + (f" (abstains on {self.clean_abstain_rate:.1%})" if self.clean_abstain_rate else ""),
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
        from course.science import plots

        return plots.defence_report(self, ax=ax, title=title)


# --------------------------------------------------------------------------- helpers


class _Counted:
    """The model seen through its public interface only, with every queried row counted."""

    def __init__(self, model):
        self.model = model
        self.queries_used = 0
        self._scores = public_scores(model)

    def predict(self, X):
        self.queries_used += len(X)
        return predict_labels(self.model, X)

    def decision_function(self, X):
        self.queries_used += len(X)
        return self._scores(np.array(X, dtype=float))


# --------------------------------------------------------------------------- attacks (batched numpy)


@labels_decide_abstain
def accuracy_under_attack(model, X_adv, y, *, repeats: int = 1) -> float:
    """Share of (adversarial) inputs on which the attack failed: the model answered the true label,
    or abstained (rejected it, or sent it to a human). For a randomised model, the average over
    `repeats` calls."""
    return float(np.mean(_defended(model, X_adv, y, repeats)))


def _defended(model, X, y, repeats):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return np.mean([~evaded(predict_labels(model, X), y) for _ in range(max(1, int(repeats)))], axis=0)


def _probe(model, X, y, trust, notes):
    """What the model's interface offers an attacker, checked against what it does."""
    from course.science import models

    P = X[: min(len(X), 100)]
    p1, p2, p3 = (predict_labels(model, P) for _ in range(3))
    randomised = bool(np.any(p1 != p2) or np.any(p1 != p3))
    agree_min = 0.75 if randomised else 0.99
    classes = np.asarray(model.classes_) if hasattr(model, "classes_") else np.unique(np.r_[np.asarray(y), p1, p2])
    access = {"predict": True, "scores": False, "gradient": False, "preprocessing": False}
    public = public_scores(model)
    if public is not None and hasattr(model, "classes_"):
        try:
            S = public(P)
            ok = S.shape == (len(P), len(classes)) and np.mean(classes[S.argmax(1)] == p1) >= agree_min
            access["scores"] = bool(ok)
            if not ok:
                notes.append("the scores (decision_function or predict_proba) do not agree with predict: not used")
        except Exception as e:  # noqa: BLE001 - an interface that fails is an interface we do not use
            notes.append(f"asking for scores failed ({type(e).__name__}): scores not used")
    direct = gradient_view(model, trust) if (models.has_gradient(model) or trust) else None
    if direct is not None:
        try:
            direct.grad_and_scores(P[:5], np.asarray(y)[:5], valid_classes(direct.classes))
            access["gradient"] = True
        except Exception as e:  # noqa: BLE001
            notes.append(f"input_gradient failed ({type(e).__name__}): no white-box attack")
            direct = None
    bpda = None
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
                access["preprocessing"] = True
                bpda = view
        except Exception as e:  # noqa: BLE001
            notes.append(f"preprocessing hook failed ({type(e).__name__}): no BPDA")
    return randomised, classes, access, direct, bpda


ATTACKS = ("white-box", "one-step", "bpda", "transfer", "query", "random")


@single_thread
@labels_decide_abstain
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
    - with gradients (a model `course.science.models` can differentiate, or one offering
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
        (e.g. when grading someone else's model); `course.science.models`' own gradients are kept.
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
    clean_preds = [predict_labels(model, X) for _ in range(R)]
    clean_acc = float(np.mean([p == y for p in clean_preds]))
    abstain = float(np.mean([is_abstain(p) for p in clean_preds]))
    base = np.mean([~evaded(p, y) for p in clean_preds], axis=0)  # budget 0

    def evaded_by_model(Xa, idx):
        return evaded(predict_labels(model, Xa), y[idx])

    # ---- the attacks, each a function of the budget returning adversarial points
    def white_box(b, view=None):
        view = view or direct
        best, best_X = None, None
        for restart in range(1 if randomised else 2):
            Xa = pgd_steps(view, X, y, b, steps=steps, step_size=None, random_start=restart > 0, rng=rng,
                           evaded_fn=None if randomised else evaded_by_model, **kw)
            score = _defended(model, Xa, y, R)
            if best is None:
                best, best_X = score, Xa
            else:
                better = score < best
                best, best_X = np.where(better, score, best), np.where(better[:, None], Xa, best_X)
        return best_X, best

    def one_step(b):
        return pgd_steps(direct, X, y, b, steps=1, step_size=b, random_start=False, rng=rng, **kw), None

    transfer_points = {}

    def transfer(b):
        return transfer_points[b], None

    spent = {}

    def query(b):
        Xa, used = nes_attack(oracle, X, y, b, classes=classes if access["scores"] else None, use_scores=access["scores"],
                               query_budget=threat.query_budget, rng=rng, X_init=transfer_points.get(b),
                               random=randomised, **kw)
        spent[qname] = int(max(spent.get(qname, 0), used.max(initial=0)))
        return Xa, None

    def random_noise(b, tries=20):
        Xa = X.copy()
        found = np.zeros(len(X), bool)
        for _ in range(tries):
            cand = project(X + sample_ball(rng, X, b, norm), X, b, norm, bounds, mask)
            ev = evaded(predict_labels(model, cand), y) & ~found
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
        jitter = [np.clip(own + sample_ball(rng, own, threat.budget, norm) * rng.uniform(0, 1, (len(own), 1)), lb, ub)
                  for _ in range(copies - 1)]
        Xp = np.vstack([own] + jitter)[: max(int(threat.pool_queries), 1)]
        pool_labels = oracle.predict(Xp)
        pool_count = oracle.queries_used
        surrogate = train_surrogates(Xp, pool_labels, random_state)
        if surrogate is None:
            notes.append("the model's answers on the attacker's data have fewer than two classes: no transfer attack")
        else:
            notes.append(f"surrogates trained on the model's answers to {pool_count} queries")
            sview = gradient_view(surrogate, True)
            for b in budgets[budgets > 0]:
                transfer_points[b] = pgd_steps(sview, X, y, b, steps=steps, step_size=None, random_start=False, rng=rng, **kw)
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
                Xa = pgd_steps(view, X[idx], y[idx], big, norm=norm, bounds=bounds, changeable=None,
                               steps=50 if randomised else 100, step_size=max(budgets[-1], threat.budget) / 4,
                               random_start=False, rng=rng, X_start=start,
                               evaded_fn=None if randomised else (lambda Xa, j: evaded(predict_labels(model, Xa), y[idx][j])))
                left = np.flatnonzero(~evaded(predict_labels(model, Xa), y[idx])) if not randomised else []
                if len(left):  # a second try from random starting points, for what the first missed
                    sub = idx[left]
                    Xa[left] = pgd_steps(view, X[sub], y[sub], big, norm=norm, bounds=bounds, changeable=None, steps=100,
                                         step_size=max(budgets[-1], threat.budget) / 4, random_start=True, rng=rng,
                                         evaded_fn=lambda Xb, j: evaded(predict_labels(model, Xb), y[sub][j]))
            else:
                init = start
                if surrogate is not None:
                    init = pgd_steps(gradient_view(surrogate, True), X[idx], y[idx], big, norm=norm, bounds=bounds,
                                     changeable=None, steps=steps, step_size=max(budgets[-1], threat.budget) / 4,
                                     random_start=False, rng=rng, X_start=start)
                Xa, _ = nes_attack(oracle, X[idx], y[idx], big, norm=norm, bounds=bounds, changeable=None,
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


@labels_decide_abstain
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

"""The adaptive evaluation harness: point it at any model, get the strongest attack's result.

A robustness claim needs the *right* attacker. `evaluate_defence(model, X, y, threat)` probes
what the model offers (`access.probe`) and runs every attack of the battery that applies to it
(`battery`: one module per attack behind one small interface) at every budget of the security
evaluation curve; the model is as robust as the strongest attack says, point by point
(Tramèr, Carlini, Brendel & Madry, NeurIPS 2020). It then reads the gradient-masking warning
signs of Athalye, Carlini & Wagner (ICML 2018) off the result (`report.checks`), and when one
fires it *escalates*: it runs the stronger remedies itself - BPDA with a learned
approximation, finite differences through the whole pipeline (with the randomness replayed),
more restarts and steps, a label-only boundary search - on the points still standing, and
reports both figures with the reason (`report.escalation`).

Two modes. **Owner mode** (the default): you evaluate your own model and hand over what you
have - the model object, its training data (`X_train`) - and query budgets are your choice,
not an attacker's limit. **Attacker's view** (`mode="attacker"`): only the public interface,
within `threat.query_budget` queries per point and `threat.pool_queries` for surrogate data.

    from course.science.evaluation import ThreatModel, evaluate_defence
    threat = ThreatModel(budget=0.1, norm="linf", bounds=(0, 1), query_budget=1000)
    report = evaluate_defence(my_model, X_test[:200], y_test[:200], threat, X_train=X_train)
    print(report.summary()); report.plot()

The hooks a defended model may offer (`decision_function`, `input_gradient`, `preprocess` +
`classifier`, `rejection_score`, the `ABSTAIN` label) are documented in
`course.science.defences`.
"""
from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from course.ground.threat import ThreatModel
from course.science.attacks.base import evaded, is_abstain, labels_decide_abstain, predict_labels, single_thread
from course.science.attacks.gradient import gradient_view, pgd_steps
from course.science.attacks.query import nes_attack
from course.science.evaluation import access as access_
from course.science.evaluation.battery import ATTACKS, BATTERY, ESCALATION
from course.science.evaluation.battery.base import Context
from course.science.evaluation.metrics import SecurityCurve
from course.science.evaluation.report import DefenceReport, MaskingCheck, checks

__all__ = ["DefenceReport", "MaskingCheck", "evaluate_defence", "masking_checklist", "accuracy_under_attack",
           "replay_curve", "ATTACKS", "MODES"]

MODES = ("owner", "attacker")


@labels_decide_abstain
def accuracy_under_attack(model, X_adv, y, *, repeats: int = 1) -> float:
    """Share of (adversarial) inputs on which the attack failed: the model answered the true label,
    or abstained (rejected it, or sent it to a human). For a randomised model, the average over
    `repeats` calls."""
    return float(np.mean(_defended(model, X_adv, y, repeats)))


def _defended(model, X, y, repeats):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return np.mean([~evaded(predict_labels(model, X), y) for _ in range(max(1, int(repeats)))], axis=0)


def _check_arguments(X, y, threat, attacks, mode):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y).ravel()
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    if threat.norm not in ("linf", "l2", "l1"):
        raise ValueError(f"norm must be 'linf', 'l2' or 'l1'; got {threat.norm!r}")
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        raise ValueError(f"unknown attacks {sorted(unknown)}; choose from {ATTACKS}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    d = X.shape[1]
    lb = np.broadcast_to(np.asarray(threat.bounds[0], dtype=float), (d,)).copy()
    ub = np.broadcast_to(np.asarray(threat.bounds[1], dtype=float), (d,)).copy()
    mask = None if threat.changeable is None else np.asarray(threat.changeable, dtype=bool)
    if mask is not None and mask.shape != (d,):
        raise ValueError(f"changeable must be a boolean mask of length {d}; got shape {mask.shape}")
    return X, y, (lb, ub), mask


def _own_inputs(mode, X, X_train, X_pool):
    """The inputs surrogates and approximations are fitted on: the attacker's (`X_pool`), and in owner mode the
    owner's training data too; the attacked points when there are none."""
    given = [np.atleast_2d(np.asarray(c, dtype=float)) for c in ((X_train, X_pool) if mode == "owner" else (X_pool,))
             if c is not None]
    return np.vstack(given) if given else X


def _run_base(ctx, plan, budgets, base, examples, bar):
    """Every base attack at every budget; returns (per-attack defended shares, per-point worst case)."""
    per_attack = {name: np.zeros((len(budgets), len(ctx.y))) for name in plan}
    worst = np.tile(base, (len(budgets), 1))
    for bi, b in enumerate(budgets):
        for name, attack in plan.items():
            if b == 0:
                per_attack[name][bi] = base
                continue
            X_adv, score = attack.run(ctx, b)
            score = ctx.defended(X_adv) if score is None else score
            per_attack[name][bi] = score
            better = score < worst[bi]
            worst[bi] = np.where(better, score, worst[bi])
            examples[float(b)][better] = X_adv[better]
            bar.update(1)
    return per_attack, worst


def _carry(worst, examples, budgets):
    """A point evaded at a smaller budget is evaded at every larger one."""
    for bi in range(1, len(budgets)):
        carry = worst[bi - 1] < worst[bi]
        worst[bi] = np.where(carry, worst[bi - 1], worst[bi])
        examples[float(budgets[bi])][carry] = examples[float(budgets[bi - 1])][carry]


def _unbounded(ctx, base, start_points, budgets):
    """The strongest available attack with no budget and every feature changeable: share of points evaded."""
    a, X, y = ctx.access, ctx.X, ctx.y
    lb, ub = ctx.bounds
    big = float(np.max(ub - lb)) if np.all(np.isfinite(ub - lb)) else 100.0 * ctx.stated
    if ctx.norm != "linf" and np.all(np.isfinite(ub - lb)):
        big = float(np.linalg.norm(ub - lb, ord=1 if ctx.norm == "l1" else 2))
    idx = np.flatnonzero(base >= 0.5)
    if not len(idx):
        return None
    kw = dict(norm=ctx.norm, bounds=ctx.bounds, changeable=None)
    step = max(budgets[-1], ctx.stated) / 4
    start = start_points[idx]  # continue from the best points found within the budgets
    view = a.direct or a.straight

    def stop(rows):
        return lambda Xb, j: evaded(predict_labels(a.judge, Xb), y[rows][j])

    if view is not None:
        X_adv = pgd_steps(view, X[idx], y[idx], big, steps=50 if a.randomised else 100, step_size=step,
                          random_start=False, rng=ctx.rng, X_start=start, evaded_fn=None if a.randomised else stop(idx),
                          **kw)
        left = np.flatnonzero(~evaded(predict_labels(a.judge, X_adv), y[idx])) if not a.randomised else []
        if len(left):  # a second try from random starting points, for what the first missed
            sub = idx[left]
            X_adv[left] = pgd_steps(view, X[sub], y[sub], big, steps=100, step_size=step, random_start=True,
                                    rng=ctx.rng, evaded_fn=stop(sub), **kw)
    else:
        init = start
        surrogate = ctx.shared.get("surrogate")
        if surrogate is not None:
            init = pgd_steps(gradient_view(surrogate, True), X[idx], y[idx], big, steps=ctx.steps, step_size=step,
                             random_start=False, rng=ctx.rng, X_start=start, **kw)
        X_adv, _ = nes_attack(a.oracle(), X[idx], y[idx], big, classes=a.score_classes, use_scores=a.scores is not None,
                              query_budget=ctx.query_budget, rng=ctx.rng, X_init=init, random=a.randomised, **kw)
    return float(1 - np.mean(ctx.defended(X_adv, idx)))


def _escalate(ctx, attacks, reasons, worst, examples, budgets, bar):
    """Run the escalation attacks at the stated budget on the points still defended; update the worst case.

    For a randomised model each point keeps the candidate (its current worst-case point, or one an
    escalation attack found) that a larger sample of calls says is best, and the figures before and after
    are fresh estimates: the minimum of noisy estimates would flatter the attacker.
    """
    bi = int(np.flatnonzero(np.isclose(budgets, ctx.stated))[0])
    stated = float(ctx.stated)
    if ctx.access.randomised:  # which points still stand: a fresh estimate, not the minimum of noisy ones
        worst[bi] = ctx.defended(examples[stated])
    before = float(worst[bi].mean())
    rows = np.flatnonzero(worst[bi] > 0)
    candidates, scores, found = [examples[stated][rows]], [worst[bi, rows]], {}
    ctx.shared["escalation start"] = examples[stated].copy()
    for attack in attacks:
        if len(rows):
            X_adv, score = attack.run(ctx, ctx.stated, rows=rows)
            score = ctx.defended(X_adv, rows) if score is None else score
            found[attack.label(ctx)] = float(score.mean())
            candidates.append(X_adv)
            scores.append(score)
        bar.update(1)
    if len(rows) and len(candidates) > 1:
        if ctx.access.randomised:
            scores = [ctx.defended(c, rows, repeats=3 * ctx.repeats) for c in candidates]
        pick = np.argmin(np.array(scores), axis=0)
        chosen = np.stack(candidates)[pick, np.arange(len(rows))]
        examples[stated][rows] = chosen
        worst[bi, rows] = ctx.defended(chosen, rows) if ctx.access.randomised else np.min(scores, axis=0)
    for bj in range(bi + 1, len(budgets)):  # what is evaded at the stated budget is evaded at larger ones
        carry = worst[bi] < worst[bj]
        worst[bj] = np.where(carry, worst[bi], worst[bj])
        examples[float(budgets[bj])][carry] = examples[stated][carry]
    return dict(reasons=reasons, before=before, after=float(worst[bi].mean()), points=int(len(rows)), attacks=found)


@single_thread
@labels_decide_abstain
def evaluate_defence(model, X, y, threat: ThreatModel, *, mode: str = "owner", X_train=None, X_pool=None,
                     label: str = "", attacks=ATTACKS, repeats: int = 10, eot_samples: int = 10, steps: int = 40,
                     use_model_gradients: bool = True, unbounded: bool = True, escalate: bool = True,
                     random_state: int = 0, progress: bool = True) -> DefenceReport:
    """Run the adaptive battery against any classifier and report the strongest attack's result.

    Point it at your own model: anything with `predict(X)` works (a fitted scikit-learn
    estimator, a wrapper around a web API, a defended model). What runs depends on what the
    model offers, found out by probing it (never by its class):

    - always: "transfer" - PGD against surrogates (an MLP and a logistic regression) trained on
      the model's answers about the owner's data (`X_train`) or, in the attacker's view, the
      attacker's (`X_pool`, `threat.pool_queries` queries); "query" - gradients estimated from
      `threat.query_budget` queries per point (scores if offered, else labels); "random" -
      random points in the budget (for the checks);
    - with gradients (a model `course.science.models` can differentiate, or one offering
      `input_gradient(X, W)` next to `decision_function` and `classes_`): "white-box" PGD on the
      margin, two starts, and "one-step" (FGSM) for the checks;
    - with a preprocessing hook (`preprocess(X)` and `classifier`): "bpda" - PGD straight
      through the preprocessing (Athalye et al.'s BPDA);
    - owner mode, no known gradient: PGD on finite-difference gradients of the scores through
      the whole pipeline ("white-box"); the members of an ensemble (scikit-learn's
      `estimators_`, or `members`) attacked together ("white-box"); for labels only, a
      boundary search ("boundary");
    - a rejection score (`rejection_score(X)`, > 0 where the model abstains) becomes an
      ABSTAIN column of the scores: attacks seek points misclassified *and* accepted;
    - randomised (two calls disagree): gradients averaged over `eot_samples` draws (EOT), every
      accuracy the average over `repeats` calls; stateful (answers depend on earlier queries):
      points scored on fresh copies, and in owner mode queried on fresh copies too.

    When a warning sign fires (`masking_checklist`) and `escalate` is on, the escalation attacks
    run at the stated budget on the points still defended: more restarts and steps, BPDA with a
    learned affine approximation, finite differences with replayed randomness (owner mode), and
    the boundary search. `report.escalation` gives the reasons and the worst case before and after.

    Parameters
    ----------
    model : any object with `predict`; see above for what else it may offer.
    X, y : the points to attack and their true labels (a few hundred are enough).
    threat : a `ThreatModel` (norm, budget, curve budgets, bounds, changeable features,
        query budget, queries to label surrogate data).
    mode : "owner" (default: everything you have, budgets your choice) or "attacker" (the
        public interface within the threat model's query budgets).
    X_train : the owner's inputs (owner mode), e.g. the training data: surrogates (labelled by the model)
        and approximations of a preprocessing step are fitted on them, with `X_pool`.
    X_pool : inputs the attacker owns (unlabelled) for training surrogates.
    attacks : the subset of `ATTACKS` to run (those the interface allows are run).
    use_model_gradients : set False to ignore gradients a model reports about itself
        (e.g. when grading someone else's model); `course.science.models`' own gradients are kept.
    unbounded : also run the strongest attack with no budget (a masking check).
    escalate : run the stronger remedies when a warning sign fires.

    A model may abstain: a prediction equal to `ABSTAIN` (-1) (rejected, or sent to review)
    counts as the attack failing; on clean data it counts as an error (`clean_abstain_rate`).
    A point counts as evaded at a budget if any attack evades it at that budget or a smaller one.

    Returns a `DefenceReport`: `.robust` (per attack), `.worst_case`, `.worst` (the curve),
    `.examples[budget]` (the worst-case adversarial points), `.checks` (the masking warning
    signs), `.escalation`, `.summary()`, `.plot()`.
    """
    t0 = time.perf_counter()
    X, y, bounds, mask = _check_arguments(X, y, threat, attacks, mode)
    notes: list = []
    a = access_.probe(model, X, y, trust=use_model_gradients, mode=mode, notes=notes)
    for view in (a.direct, a.straight):
        if view is not None and a.randomised:
            view.samples = int(eot_samples)
    ctx = Context(X, y, threat.norm, bounds, mask, float(threat.budget), int(threat.query_budget), a, mode,
                  np.random.default_rng(random_state), int(steps), int(eot_samples), repeats if a.randomised else 1,
                  random_state, _own_inputs(mode, X, X_train, X_pool), notes)
    ctx.shared["pool_queries"] = threat.pool_queries
    budgets = threat.curve_budgets()
    clean_preds = [predict_labels(a.judge, X) for _ in range(ctx.repeats)]
    clean_acc = float(np.mean([p == y for p in clean_preds]))
    abstain = float(np.mean([is_abstain(p) for p in clean_preds]))
    base = np.mean([~evaded(p, y) for p in clean_preds], axis=0)  # budget 0

    plan = {}
    for cls in BATTERY:
        attack = cls()
        if attack.key in attacks and attack.applies(ctx):
            plan[attack.label(ctx)] = attack
    if not plan:
        raise ValueError("none of the requested attacks can run against this model")
    later = [cls() for cls in ESCALATION] if escalate else []
    later = [e for e in later if e.key in attacks and e.applies(ctx)]
    examples = {float(b): X.copy() for b in budgets}
    bar = tqdm(total=len(plan) * (len(budgets) - 1) + bool(unbounded) + len(later),
               desc=f"evaluating {label or 'model'}", disable=not progress, leave=False)
    per_attack, worst = _run_base(ctx, plan, budgets, base, examples, bar)
    for name in plan:
        per_attack[name] = np.minimum.accumulate(per_attack[name], axis=0)
    _carry(worst, examples, budgets)
    unb = None
    if unbounded:
        unb = _unbounded(ctx, base, examples[float(budgets[-1])], budgets)
        bar.update(1)
    curves = {name: SecurityCurve(budgets, per_attack[name].mean(axis=1), threat.norm, len(y), name) for name in plan}
    report = DefenceReport(label, threat, len(y), clean_acc, abstain, a.randomised, a.flags, curves,
                           SecurityCurve(budgets, worst.mean(axis=1), threat.norm, len(y), ""), unb, [], ctx.queries,
                           0.0, notes, examples, mode, a.stateful)
    report.checks = checks(report)
    reasons = [c.sign for c in report.warnings()]
    standing = worst[int(np.flatnonzero(np.isclose(budgets, threat.budget))[0])].max() > 0
    if later and reasons and standing:
        report.escalation = _escalate(ctx, later, reasons, worst, examples, budgets, bar)
    bar.close()
    report.worst = SecurityCurve(budgets, worst.mean(axis=1), threat.norm, len(y), f"{label or 'model'}: worst case")
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
    2. black-box attacks (transfer, queries, boundary search) do better than white-box ones;
    3. an unbounded attack does not reach 100% success;
    4. random sampling in the budget finds adversarial examples the gradient attack missed;
    5. the attack's success does not rise with the budget;
    6. the only gradients were approximations (straight-through BPDA, EOT, finite differences).

    Returns a list of `MaskingCheck(sign, status, detail)`; status "WARNING", "ok" or "n/a".
    """
    if isinstance(report_or_model, DefenceReport):
        return checks(report_or_model, tolerance)
    if X is None or y is None or threat is None:
        raise ValueError("pass a DefenceReport, or a model with X, y and threat")
    return evaluate_defence(report_or_model, X, y, threat, **kwargs).checks

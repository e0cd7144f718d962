"""Checks of exercise 06 (poisoning): a few percent of the data, well placed, is enough (M8),
and it enters through the workflow (M6); sanitisers find some of it (M1)."""
from __future__ import annotations

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.checks.keys.poisoning import gated_reports
from course.science import poisoning

A = "06-poisoning"

# ---------------------------------------------------------------------------- task 1: a compromised labeller
FLIP_BUDGET = 15  # 5% of the training labels
FLIP_NEEDED = 4


def _as_indices(chk, got, n, budget, what):
    try:
        idx = np.asarray(got).ravel()
        ok = idx.dtype.kind in "iu" or (idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)))
    except Exception:  # noqa: BLE001
        ok = False
    chk.require(ok, expected=f"{what} to return an array of integer row indices", seen=f"{fmt(got)}")
    idx = np.unique(idx.astype(np.int64))
    chk.require(np.all((idx >= 0) & (idx < n)), expected=f"indices in [0, {n})",
               seen=f"values from {idx.min() if len(idx) else '-'} to {idx.max() if len(idx) else '-'}")
    if budget is not None:
        chk.require(len(idx) <= budget, expected=f"at most {budget} distinct indices (the budget)",
                   seen=f"{len(idx)} indices",
                   why="a threat model is a budget: an attack that exceeds it proves nothing about this attacker")
    return idx


@task(f"{A}/flip-to-target", answer="flip_to_target", misconceptions=["M8"])
def check_flip_to_target(flip_to_target, seed, chk):
    X_tr, y_tr, X_te, y_te, targets, t_labels, clean = poisoning.flip_case(seed)
    clean_acc = float(np.mean(clean.predict(X_te) == y_te))
    hits, accs, random_hits = 0, [], 0
    rng = np.random.default_rng(seed + 1)
    for x_t, y_t in zip(targets, t_labels):
        got = call(chk, flip_to_target, X_tr.copy(), y_tr.copy(), x_t.copy(), FLIP_BUDGET, what="flip_to_target")
        idx = _as_indices(chk, got, len(y_tr), FLIP_BUDGET, "flip_to_target")
        y_bad = y_tr.copy()
        y_bad[idx] = 1 - y_bad[idx]
        model = poisoning.flip_svm().fit(X_tr, y_bad)
        hits += int(model.predict(x_t[None, :])[0] != y_t)
        accs.append(float(np.mean(model.predict(X_te) == y_te)))
        r = rng.choice(len(y_tr), size=FLIP_BUDGET, replace=False)
        y_rnd = y_tr.copy()
        y_rnd[r] = 1 - y_rnd[r]
        random_hits += int(poisoning.flip_svm().fit(X_tr, y_rnd).predict(x_t[None, :])[0] != y_t)
    chk.expect(
        hits >= FLIP_NEEDED,
        expected=f"at least {FLIP_NEEDED} of {poisoning.FLIP_TARGETS} target points misclassified after retraining "
                 f"on your {FLIP_BUDGET} flipped labels (5% of {len(y_tr)})",
        seen=f"{hits} of {poisoning.FLIP_TARGETS} (the same number of random flips: {random_hits} of {poisoning.FLIP_TARGETS})",
        why="poisoning does not need much of the data, it needs the right data: flips placed where they "
            "matter for the target move its prediction, random ones do not",
    )
    return chk.passed(f"{hits}/{poisoning.FLIP_TARGETS} targets flipped with {FLIP_BUDGET} labels (random flips: "
                      f"{random_hits}/{poisoning.FLIP_TARGETS}); overall test accuracy {clean_acc:.3f} -> {np.mean(accs):.3f} on average")


# ---------------------------------------------------------------------------- task 2: poisoning the feedback loop
LOOP = {"rounds": 6, "batch": 1000, "initial": 2000, "budget": 0.03, "ignore_above": 0.9}
LOOP_MAX_CAUGHT = 0.70
LOOP_MAX_DASHBOARD_DROP = 0.02
LOOP_BELOW_COPIES = 0.10  # the baseline: lesson 06's copies of the campaign, on the same loop and gate


class _Strict:
    """Wraps the learner's craft function: every call is checked against the threat model."""

    def __init__(self, chk, fn):
        self.chk, self.fn, self.calls = chk, fn, 0

    def __call__(self, X_campaign, X_ham, n_reports, spam_score):
        self.calls += 1
        R = call(self.chk, self.fn, X_campaign.copy(), X_ham.copy(), n_reports, spam_score, what="craft_reports")
        try:
            R = np.asarray(R, dtype=float)
        except Exception:  # noqa: BLE001
            self.chk.require(False, expected="an array of word counts", seen=fmt(R))
        d = len(poisoning.VOCABULARY)
        self.chk.require(R.ndim == 2 and R.shape[1] == d and len(R) <= n_reports,
                        expected=f"at most {n_reports} rows of {d} word counts (the round's budget)",
                        seen=f"shape {R.shape}",
                        why="the attacker controls at most 3% of each round's labels")
        self.chk.require(np.all(np.isfinite(R)) and np.all(R == np.round(R)) and np.all((R >= 0) & (R <= poisoning.MAX_COUNT)),
                        expected=f"mails: whole word counts between 0 and {poisoning.MAX_COUNT}",
                        seen=f"values from {np.nanmin(R) if R.size else '-'} to {np.nanmax(R) if R.size else '-'}"
                             f"{'' if np.all(R == np.round(R)) else ', not all whole numbers'}",
                        why="a report is a real mail the attacker sent: counts of words")
        return R


@task(f"{A}/craft-reports", answer="craft_reports", misconceptions=["M8", "M6"])
def check_craft_reports(craft_reports, seed, chk):
    rs = int(seed % (2**31))
    clean = poisoning.feedback_loop(None, random_state=rs, **LOOP)
    copies = float(poisoning.feedback_loop(poisoning.copy_reports, random_state=rs, **LOOP).campaign_caught[-1])
    bar = min(LOOP_MAX_CAUGHT, copies - LOOP_BELOW_COPIES)
    strict = _Strict(chk, craft_reports)
    attacked = poisoning.feedback_loop(strict, random_state=rs, **LOOP)
    caught, before = float(attacked.campaign_caught[-1]), float(clean.campaign_caught[-1])
    drop = float(clean.dashboard_accuracy[-1] - attacked.dashboard_accuracy[-1])
    accepted = int(attacked.reports.sum())
    chk.expect(
        caught <= bar + 1e-9,
        expected=f"at most {bar:.0%} of the campaign caught after {LOOP['rounds']} rounds (at most "
                 f"{LOOP_MAX_CAUGHT:.0%}, and {LOOP_BELOW_COPIES:.0%} below copies of the campaign: {copies:.0%}; "
                 f"without an attacker: {before:.0%})",
        seen=f"{caught:.0%} caught; {accepted} of your reports passed the team's gate",
        why="a few percent of the labels, placed where the filter still accepts them, are enough to shift a "
            "targeted behaviour; reports the gate finds absurd are simply dropped",
    )
    chk.expect(
        drop <= LOOP_MAX_DASHBOARD_DROP,
        expected=f"the dashboard's overall accuracy within {LOOP_MAX_DASHBOARD_DROP:.0%} of the unattacked loop",
        seen=f"{clean.dashboard_accuracy[-1]:.3f} without you, {attacked.dashboard_accuracy[-1]:.3f} with you",
        why="a targeted attack that the team's dashboard notices gets investigated",
    )
    return chk.passed(f"campaign caught {before:.0%} -> {caught:.0%} with {accepted} accepted reports "
                      f"({attacked.poisoned_share:.1%} of the labels); dashboard "
                      f"{clean.dashboard_accuracy[-1]:.3f} -> {attacked.dashboard_accuracy[-1]:.3f}")


# ---------------------------------------------------------------------------- task 3: finding the poison
FIND_MIN_PRECISION = 0.6
FIND_MIN_RECALL = 0.6
ADAPTIVE_GATES = (0.25, 0.88)  # how far inside the acceptance region the adaptive poisoner stays
ADAPTIVE_MIN_CAUGHT = 0.80  # the campaign caught by the filter retrained on what the detector keeps
_SPAM_WORDS = [poisoning.VOCABULARY.index(w) for w in
               ("free", "winner", "prize", "click", "offer", "urgent", "cheap", "unsubscribe")]


def _plain_reports(X_campaign, X_ham, n_reports, spam_score=None):
    """A poisoner of the check's own: copies of the campaign with the generic spam words deleted."""
    R = poisoning.copy_reports(X_campaign, X_ham, n_reports)
    R[:, _SPAM_WORDS] = 0
    return R


def find_case(seed: int, style: str):
    """A loop poisoned by `style` ("copies" or "plain"), with its shape drawn from the seed (rounds,
    batch size, the attacker's share); returns the rows added after round 0 in a seeded random order
    (row order says nothing about who supplied a row) with their labels and the truth, and the
    vetted initial rows."""
    craft = poisoning.copy_reports if style == "copies" else _plain_reports
    rng = np.random.default_rng([int(seed % (2**31)), style == "plain"])
    shape = {"rounds": int(rng.integers(4, 9)), "batch": int(rng.choice([600, 800, 1000, 1200, 1400])),
             "budget": float(rng.choice([0.02, 0.03, 0.04]))}
    r = poisoning.feedback_loop(craft, random_state=int(rng.integers(2**31)), **shape)
    t = r.n_trusted
    order = rng.permutation(len(r.y_train) - t)
    return r.X_train[t:][order], r.y_train[t:][order], r.is_poison[t:][order], r.X_train[:t], r.y_train[:t]


@task(f"{A}/find-poisoned", answer="find_poisoned", misconceptions=["M8", "M1"])
def check_find_poisoned(find_poisoned, seed, chk):
    summary = []
    for style, role in (("copies", "a loop poisoned with copies of the campaign"),
                        ("plain", "a loop poisoned with plain-looking reports (the generic spam words removed)")):
        chk.current_case = role
        X_new, y_new, truth, X_tr, y_tr = find_case(seed + (style == "plain"), style)
        got = call(chk, find_poisoned, X_new.copy(), y_new.copy(), X_tr.copy(), y_tr.copy(), what="find_poisoned")
        idx = _as_indices(chk, got, len(y_new), None, "find_poisoned")
        flagged = np.zeros(len(y_new), bool)
        flagged[idx] = True
        tp = int(np.sum(flagged & truth))
        precision = tp / max(int(flagged.sum()), 1)
        recall = tp / int(truth.sum())
        seen = (f"precision {precision:.2f}, recall {recall:.2f} ({int(flagged.sum())} flagged, {tp} of "
                f"{int(truth.sum())} attacker reports among them; {len(y_new)} rows)")
        chk.expect(
            recall >= FIND_MIN_RECALL,
            expected=f"recall >= {FIND_MIN_RECALL}",
            seen=seen,
            why="a sanitiser that misses most of the poison leaves the attack in place",
        )
        chk.expect(
            precision >= FIND_MIN_PRECISION,
            expected=f"precision >= {FIND_MIN_PRECISION}",
            seen=seen,
            why="flagging everything unusual also throws away honest users' data: a sanitiser has a cost",
        )
        summary.append(f"{style}: precision {precision:.2f}, recall {recall:.2f}")
    worst, before = _against_an_adaptive_poisoner(find_poisoned, seed, chk)
    summary.append(f"a poisoner who knows your detector: campaign caught {worst:.0%} after sanitising "
                   f"({before:.0%} without it)")
    chk.current_case = ""
    return chk.passed("; ".join(summary))


def _against_an_adaptive_poisoner(find_poisoned, seed, chk):
    """The campaign caught by the filter retrained on what the detector keeps, against a poisoner who
    crafts reports to sit inside the detector's acceptance region (at several depths: the worst counts)."""
    chk.current_case = "a poisoner who knows your detector (reports crafted to look acceptable)"
    rng = np.random.default_rng([int(seed % (2**31)), 7])
    fresh = poisoning.make_mail(3000, random_state=int(rng.integers(2**31)))
    campaign = poisoning.campaign_mail(500, random_state=int(rng.integers(2**31)))
    worst, before, worst_gate = 1.0, 1.0, None
    for gate in ADAPTIVE_GATES:
        r = poisoning.feedback_loop(gated_reports(gate), random_state=int(rng.integers(2**31)), budget=0.03)
        t = r.n_trusted
        order = rng.permutation(len(r.y_train) - t)
        got = call(chk, find_poisoned, r.X_train[t:][order].copy(), r.y_train[t:][order].copy(),
                   r.X_train[:t].copy(), r.y_train[:t].copy(), what="find_poisoned")
        idx = _as_indices(chk, got, len(order), None, "find_poisoned")
        keep = np.ones(len(r.y_train), bool)
        keep[t + order[idx]] = False
        m = poisoning.measure_mitigation(keep, r.is_poison, r.X_train, r.y_train, fresh.X, fresh.y, X_target=campaign)
        if m["target_caught_kept"] < worst:
            worst, before, worst_gate = m["target_caught_kept"], m["target_caught_all"], gate
    chk.expect(
        worst >= ADAPTIVE_MIN_CAUGHT,
        expected=f"at least {ADAPTIVE_MIN_CAUGHT:.0%} of the campaign caught by the filter retrained on the rows you "
                 f"keep, whatever the poisoner does",
        seen=f"{worst:.0%} caught ({before:.0%} without your detector) against reports crafted to score at most "
             f"{worst_gate} on the team's filter",
        why="a sanitiser is a mitigation only against the attacker who knows it: poison that stays inside what it "
            "accepts must either be caught or be too weak to matter",
    )
    return worst, before

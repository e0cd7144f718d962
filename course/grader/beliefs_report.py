"""The cohort's beliefs: the mental-model check before and after, its items, and predicted vs measured.

One call from the misconception report (`section(course_dir)`, in `course.grader.report`) adds, in aggregate
only (no learner named, no figure from fewer than `MIN_GROUP` learners):

- **Before and after**, per misconception, from exercise 00 (form A) and exercise 10 (form B): the share of
  answers that were right, the share of learners *holding the belief* (more than half of its items on their
  form answered wrongly, `HELD`), and the normalised gain g = (after - before) / (1 - before) of the share
  right (Hake, Am. J. Phys. 66, 1998): the share of the possible improvement that was made. The forms hold
  different, parallel items, so the comparison is per misconception, never item by item.
- **The items**, once `MIN_ITEM_LEARNERS` or more learners answered a form: each item's difficulty (share
  right) and discrimination (corrected item-total correlation), `beliefs.item_statistics`; an item with a
  discrimination under `WEAK_DISCRIMINATION` is flagged for revision.
- **Predicted vs measured**, per misconception, from the prediction cells of exercises 00-09
  (`course.checks.predictions`): the cohort's median prediction and its spread beside the measurement
  (the course's reference run, or for exercise 00 the learners' own count of right answers).
"""
from __future__ import annotations

import html
import math
import statistics

from course.checks import predictions
from course.ground.misconceptions import MISCONCEPTIONS
from course.science import beliefs

BEFORE, AFTER = "00-welcome", "10-wrap-up"
HELD = 0.5  # a learner holds a belief when they answer more than this share of its items wrongly
MIN_GROUP = 3  # no aggregate figure from fewer learners
MIN_ITEM_LEARNERS = 10
WEAK_DISCRIMINATION = 0.2


def _decode(value):
    from course.grader import protocol

    try:
        return protocol.decode_value(value)
    except Exception:  # noqa: BLE001 - a report never fails on one malformed value
        return None


def _once(results) -> list:
    seen, kept = set(), []
    for r in sorted(results, key=lambda r: r.get("student", "")):
        key = r.get("submission_sha256") or r.get("student")
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return kept


def answer_sets(results, assignment: str) -> list:
    """One merged answers dict per learner, from the exported values of the assignment's check halves."""
    out = []
    for r in _once(results):
        merged = {}
        for task_id, value in (r.get("values") or {}).items():
            if task_id.startswith(f"{assignment}/") and task_id.endswith("-half"):
                answers = _decode(value)
                if isinstance(answers, dict):
                    merged.update(answers)
        if merged:
            out.append(merged)
    return out


def prediction_values(results, assignment: str) -> list:
    """[(the learner's prediction, their answers or None)] for an assignment's prediction cell."""
    out = []
    for r in _once(results):
        value = _decode((r.get("values") or {}).get(f"{assignment}/{predictions.TASK}"))
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out.append(float(value))
    return out


def holding(answer_sets_, form: str) -> dict:
    """misconception -> share of the learners (complete answer sets only) who hold it."""
    complete = [a for a in answer_sets_ if not beliefs.problems(a, beliefs.FORMS[form])]
    if not complete:
        return {m: math.nan for m in MISCONCEPTIONS}
    scores = [beliefs.score(a, form) for a in complete]
    return {m: sum((1 - s[m]) > HELD for s in scores) / len(scores) for m in MISCONCEPTIONS}


def normalised_gain(before: float, after: float) -> float:
    """Hake's g: (after - before) / (1 - before); NaN when before is already 1 or either is missing."""
    if any(not isinstance(x, float) or math.isnan(x) for x in (before, after)) or before >= 1:
        return math.nan
    return (after - before) / (1 - before)


def before_after(before_sets, after_sets) -> dict:
    """misconception -> dict(right_before, right_after, held_before, held_after, gain)."""
    b, a = beliefs.aggregate(before_sets), beliefs.aggregate(after_sets)
    hb, ha = holding(before_sets, "A"), holding(after_sets, "B")
    return {m: {"right_before": b[m], "right_after": a[m], "held_before": hb[m], "held_after": ha[m],
                "gain": normalised_gain(b[m], a[m])} for m in MISCONCEPTIONS}


def predicted_vs_measured(results_by_assignment: dict) -> list:
    """[(assignment, misconceptions, n, median predicted, (quartiles), measured or None)] with n >= MIN_GROUP."""
    rows = []
    for assignment, prompt in predictions.PROMPTS.items():
        results = results_by_assignment.get(assignment) or []
        values = prediction_values(results, assignment)
        if len(values) < MIN_GROUP:
            continue
        if assignment == BEFORE:
            counts = [sum(beliefs.correct(a).values()) for a in answer_sets(results, BEFORE)]
            measured = statistics.median(counts) if len(counts) >= MIN_GROUP else None
        else:
            measured = predictions.reference(assignment)
        q = statistics.quantiles(values, n=4) if len(values) >= 2 else [values[0]] * 3
        rows.append((assignment, prompt.misconceptions, len(values), statistics.median(values), (q[0], q[2]), measured))
    return rows


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _num(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _plot_before_after(ba: dict, png) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    from course.science import plots

    ms = list(ba)
    x = np.arange(len(ms))
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.bar(x - 0.2, [ba[m]["held_before"] for m in ms], 0.4, label="before (exercise 00, form A)",
           color=plots.PALETTE[1], edgecolor="black", hatch="..")
    ax.bar(x + 0.2, [ba[m]["held_after"] for m in ms], 0.4, label="after (exercise 10, form B)",
           color=plots.PALETTE[0], edgecolor="black")
    ax.set_xticks(x, ms)
    ax.set_ylim(0, 1)
    ax.set_xlabel("misconception")
    ax.set_ylabel("share of learners holding the belief")
    ax.set_title("The mental-model check, before and after (cohort)")
    ax.legend()
    return f'<img alt="share holding each belief, before and after" src="{png(fig)}">'


def section(course_dir, png=None) -> str:
    """The beliefs part of the misconception report, as HTML ("" when no graded data bear on it).

    `png(fig)` turns a matplotlib figure into an image address (the report's own helper)."""
    from course.grader.results import load_results

    results = {a: load_results(course_dir, a) for a in predictions.PROMPTS}
    results[AFTER] = load_results(course_dir, AFTER)
    before_sets, after_sets = answer_sets(results[BEFORE], BEFORE), answer_sets(results[AFTER], AFTER)
    parts = []
    if before_sets and after_sets:
        ba = before_after(before_sets, after_sets)
        parts.append("<h2>Before and after</h2>"
                     f"<p>{len(before_sets)} learners answered form A (exercise 00), {len(after_sets)} form B "
                     "(exercise 10). The forms hold different, parallel items: compared per misconception. "
                     f"A learner holds a belief when more than {HELD:.0%} of its items were answered wrongly; "
                     "the normalised gain is (after − before) / (1 − before) of the share right (Hake, 1998).</p>")
        if png is not None:
            parts.append(_plot_before_after(ba, png))
        parts.append(_table(["", "belief", "right before", "right after", "holding before", "holding after",
                             "normalised gain"],
                            [(m, MISCONCEPTIONS[m], _pct(r["right_before"]), _pct(r["right_after"]),
                              _pct(r["held_before"]), _pct(r["held_after"]), _num(r["gain"])) for m, r in ba.items()]))
    for form, sets in (("A", before_sets), ("B", after_sets)):
        if not sets:
            continue
        stats = {i: s for i, s in beliefs.item_statistics(sets).items() if i in beliefs.FORMS[form]}
        n = max((s[0] for s in stats.values()), default=0)
        if n < MIN_ITEM_LEARNERS:
            parts.append(f"<p>Item difficulty and discrimination of form {form} appear once {MIN_ITEM_LEARNERS} or "
                         f"more learners have answered it completely ({n} so far).</p>")
            continue
        rows = [(i, beliefs.BY_ID[i].misconception, beliefs.DIFFICULTY[beliefs.BY_ID[i].difficulty], f"{d:.2f}",
                 _num(r), "revise" if not math.isnan(r) and r < WEAK_DISCRIMINATION else "")
                for i, (_, d, r) in stats.items()]
        parts.append(f"<h2>The items of form {form} ({n} learners)</h2>" + _table(
            ["item", "misconception", "written as", "difficulty (share right)", "discrimination", ""], rows))
    pvm = predicted_vs_measured(results)
    if pvm:
        rows = [(a, ", ".join(ms) if len(ms) < 8 else "all", n, f"{med:g}", f"{lo:g} – {hi:g}",
                 "not recorded" if meas is None else f"{meas:g}",
                 "" if meas is None else f"{meas - med:+g}") for a, ms, n, med, (lo, hi), meas in pvm]
        parts.append("<h2>Predicted vs measured</h2><p>Each exercise opens with a prediction, graded for completion "
                     "only. The cohort's median prediction and middle half beside the measurement: how far the "
                     f"cohort's intuition is off (exercises with at least {MIN_GROUP} predictions).</p>"
                     + _table(["exercise", "misconception", "n", "median predicted", "middle half", "measured",
                               "measured − predicted"], rows))
    return "".join(parts)

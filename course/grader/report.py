"""What `course grade` writes besides the gradebook: scores, flags, feedback files and the misconception report.

`reports/<assignment>/` holds:
- `scores.csv` — one row per learner, one column per graded test cell, the total and the number of flags;
- `flags.csv` — what happened while grading each submission (for the instructor);
- `feedback/<student>.html` — nbgrader's feedback for that learner (hidden tests cleared);
- `misconceptions.html` — an aggregate-only page (no learner named): per misconception, the share of the
  cohort that failed the tests tagged with it; the tasks most failed; and, where the mental-model check was
  graded at the start (00-welcome) and at the end (10-wrap-up), the before/after shift;
- `run.json` — the protections that were active, unrecognised files, timings.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import course
from course.ground.misconceptions import MISCONCEPTIONS

BEFORE, AFTER = "00-welcome", "10-wrap-up"


def write_all(course_dir: Path, assignment: str, summary) -> None:
    from course.grader.results import load_results

    out = Path(course_dir) / "reports" / assignment
    results = load_results(course_dir, assignment)
    _scores_csv(out / "scores.csv", results)
    _flags_csv(out / "flags.csv", results)
    fb = out / "feedback"
    fb.mkdir(parents=True, exist_ok=True)
    for r in results:
        if r.get("feedback") and Path(r["feedback"]).exists():
            shutil.copy(r["feedback"], fb / f"{r['student']}.html")
    (out / "misconceptions.html").write_text(misconception_page(course_dir, assignment, results))
    run = {k: v for k, v in asdict(summary).items() if k not in ("graded", "out_dir")}
    run.update(graded=len(summary.graded), out_dir=str(summary.out_dir), course_version=course.__version__)
    (out / "run.json").write_text(json.dumps(run, indent=1, default=str))


def _test_ids(results) -> list:
    ids = []
    for r in results:
        for gid in r.get("tests", {}):
            if gid not in ids:
                ids.append(gid)
    return ids


def _scores_csv(path: Path, results) -> None:
    ids = _test_ids(results)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *ids, "total", "max", "flags"])
        for r in results:
            w.writerow([r["student"], *[r["tests"].get(g, {}).get("score", "") for g in ids], r["score"], r["max_score"], len(r["flags"])])


def _flags_csv(path: Path, results) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "flag"])
        for r in results:
            for flag in r["flags"]:
                w.writerow([r["student"], flag])


def misconception_shares(results) -> dict:
    """misconception -> (share of learners who failed at least one test tagged with it, number of learners)."""
    shares = {}
    for m in MISCONCEPTIONS:
        tagged = [r for r in results if any(m in t.get("misconceptions", []) for t in r.get("tests", {}).values())]
        if tagged:
            failed = sum(any(m in t["misconceptions"] and not t["passed"] for t in r["tests"].values()) for r in tagged)
            shares[m] = (failed / len(tagged), len(tagged))
    return shares


def task_failure_rates(results) -> list:
    """[(grade_id, share failed, n)] most failed first."""
    rates = []
    for gid in _test_ids(results):
        rows = [r["tests"][gid] for r in results if gid in r.get("tests", {})]
        if rows:
            rates.append((gid, sum(not t["passed"] for t in rows) / len(rows), len(rows)))
    return sorted(rates, key=lambda x: -x[1])


def before_after(course_dir) -> dict | None:
    """misconception -> (share correct before, share correct after), from the mental-model check, if graded."""
    from course.grader.results import load_results

    try:
        from course.science import beliefs
    except ImportError:
        return None
    before, after = load_results(course_dir, BEFORE), load_results(course_dir, AFTER)
    # one answer set per learner (both halves of the check export the same dict)
    answers_before = [next(iter(r["values"].values())) for r in before if r.get("values")]
    answers_after = [next(iter(r["values"].values())) for r in after if r.get("values")]
    if not answers_before or not answers_after or not hasattr(beliefs, "aggregate"):
        return None
    from course.grader import protocol

    def dec(xs):
        return [protocol.decode_value(x) for x in xs]

    try:
        b, a = beliefs.aggregate(dec(answers_before)), beliefs.aggregate(dec(answers_after))
    except Exception:  # noqa: BLE001 - a report never fails on one malformed answer set
        return None
    return {m: (b.get(m), a.get(m)) for m in MISCONCEPTIONS if m in b or m in a}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def misconception_page(course_dir, assignment: str, results) -> str:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from course.science import plots

    n = len(results)
    parts = [f"<h1>Misconception report: {html.escape(assignment)}</h1>",
             f"<p>{n} submissions graded. Aggregate figures only: no learner is named on this page. "
             f"Course {course.__version__}.</p>"]
    shares = misconception_shares(results)
    if shares:
        fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * len(shares)))
        ms = list(shares)
        vals = [shares[m][0] for m in ms]
        ax.barh(range(len(ms)), vals, color=plots.PALETTE[5], edgecolor="black", hatch="//")
        ax.set_yticks(range(len(ms)), [f"{m}: {MISCONCEPTIONS[m][:48]}" for m in ms])
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("share of learners who failed a test targeting it")
        ax.set_title(f"Misconceptions still held after {assignment} (n={n})")
        for i, v in enumerate(vals):
            ax.text(min(v + 0.02, 0.9), i, f"{v:.0%}", va="center")
        parts.append(f'<img alt="share failing per misconception" src="{_png(fig)}">')
    rates = task_failure_rates(results)
    if rates:
        rows = "".join(f"<tr><td>{html.escape(g)}</td><td>{s:.0%}</td><td>{k}</td></tr>" for g, s, k in rates)
        parts.append("<h2>Tasks, most failed first</h2><table><tr><th>task</th><th>failed</th><th>n</th></tr>" + rows + "</table>")
    ba = before_after(course_dir)
    if ba:
        fig, ax = plt.subplots(figsize=(6.5, 3.5))
        ms = list(ba)
        import numpy as np

        x = np.arange(len(ms))
        ax.bar(x - 0.2, [ba[m][0] or 0 for m in ms], 0.4, label="before (lesson 00)", color=plots.PALETTE[1], edgecolor="black", hatch="..")
        ax.bar(x + 0.2, [ba[m][1] or 0 for m in ms], 0.4, label="after (lesson 10)", color=plots.PALETTE[0], edgecolor="black")
        ax.set_xticks(x, ms)
        ax.set_ylim(0, 1)
        ax.set_xlabel("misconception")
        ax.set_ylabel("share of answers that were right")
        ax.set_title("The mental-model check, before and after (cohort)")
        ax.legend()
        parts.append("<h2>Before and after</h2>" + f'<img alt="before and after per misconception" src="{_png(fig)}">')
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:.2em .6em}")
    head = f"<meta charset='utf-8'><title>Misconception report</title><style>{style}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>"

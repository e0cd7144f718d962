"""What `course grade` writes besides the gradebook: scores, flags, feedback files and the misconception report.

`reports/<assignment>/` holds:
- `scores.csv` — one row per learner, one column per graded test cell, the total and the number of flags;
- `flags.csv` — what happened while grading each submission (for the instructor);
- `identity.csv` — who each result belongs to: the name found, on the roster or not, late, submission time,
  files not graded; and the roster's learners with no submission;
- `feedback/<student>.html` — nbgrader's feedback for that learner (hidden tests cleared);
- `misconceptions.html` — an aggregate-only page (no learner named): per misconception, the share of the
  learners *judged* on the tests tagged with it who made the belief error (not attempted, crashed, computation
  errors and wrong assignments are counted apart, per task, with `Failure`'s names); each learner once (the same
  notebook graded under two names counts once); and the cohort's beliefs (`course.grader.beliefs_report`): the
  mental-model check before (00-welcome) and after (10-wrap-up), its items, and predicted vs measured;
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
from course.checks.feedback import Failure
from course.ground.misconceptions import MISCONCEPTIONS


def write_all(course_dir: Path, assignment: str, summary) -> None:
    from course.grader.results import load_results

    out = Path(course_dir) / "reports" / assignment
    results = load_results(course_dir, assignment)
    _scores_csv(out / "scores.csv", results)
    _flags_csv(out / "flags.csv", results)
    _identity_csv(out / "identity.csv", results, getattr(summary, "missing", []))
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
        w.writerow(["student", *ids, "total", "max", "flags", "late", "submitted_at"])
        for r in results:
            who = r.get("identity", {})
            w.writerow([r["student"], *[r["tests"].get(g, {}).get("score", "") for g in ids], r["score"], r["max_score"],
                        len(r["flags"]), "late" if who.get("late") else "", who.get("timestamp", "")])


def _identity_csv(path: Path, results, missing) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "name_found", "on_roster", "found_as", "file", "late", "submitted_at", "files_not_graded"])
        for r in results:
            who = r.get("identity", {})
            on = who.get("on_roster")
            w.writerow([r["student"], who.get("name_found", ""), "" if on is None else ("yes" if on else "NO"), r.get("found_as", ""),
                        who.get("file", ""), "late" if who.get("late") else "", who.get("timestamp", ""),
                        "; ".join(who.get("not_graded", []))])
        for sid, name in missing:
            w.writerow([sid, name, "yes", "NO SUBMISSION", "", "", "", ""])


def _flags_csv(path: Path, results) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "flag"])
        for r in results:
            for flag in r["flags"]:
                w.writerow([r["student"], flag])


def failure_of(test: dict) -> str | None:
    """A test's failure type (`Failure`'s value), None if it passed; old results without one count as belief errors."""
    if test.get("passed"):
        return None
    return test.get("failure") or Failure.BELIEF.value


JUDGED = (None, Failure.BELIEF.value)  # a belief can be read only from a pass or a belief error


def once_per_learner(results) -> tuple:
    """(results, how many were dropped): the same submitted notebook graded under two ids counts once."""
    seen, kept = set(), []
    for r in sorted(results, key=lambda r: r["student"]):
        key = r.get("submission_sha256") or r["student"]
        if key in seen:
            continue
        seen.add(key)
        kept.append(r)
    return kept, len(results) - len(kept)


def misconception_shares(results) -> dict:
    """misconception -> (share of the learners judged on it who made the belief error, number judged).

    A learner is judged on a misconception when every test tagged with it passed or failed by a belief
    error; blanks, crashes, computation errors and wrong assignments say nothing about the belief.
    """
    shares = {}
    for m in MISCONCEPTIONS:
        held = judged = 0
        for r in results:
            tagged = [t for t in r.get("tests", {}).values() if m in t.get("misconceptions", [])]
            if tagged and all(failure_of(t) in JUDGED for t in tagged):
                judged += 1
                held += any(failure_of(t) == Failure.BELIEF.value for t in tagged)
        if judged:
            shares[m] = (held / judged, judged)
    return shares


def failure_counts(results) -> list:
    """[(grade_id, {"passed": n, <Failure value>: n, ...})] in the order of the tests."""
    rows = []
    for gid in _test_ids(results):
        counts = {"passed": 0, **{f.value: 0 for f in Failure}}
        for r in results:
            if gid in r.get("tests", {}):
                counts[failure_of(r["tests"][gid]) or "passed"] += 1
        rows.append((gid, counts))
    return rows


def task_failure_rates(results) -> list:
    """[(grade_id, share failed, n)] most failed first."""
    rates = []
    for gid in _test_ids(results):
        rows = [r["tests"][gid] for r in results if gid in r.get("tests", {})]
        if rows:
            rates.append((gid, sum(not t["passed"] for t in rows) / len(rows), len(rows)))
    return sorted(rates, key=lambda x: -x[1])


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

    results, merged = once_per_learner(results)
    n = len(results)
    same = f" ({merged} result(s) were the same notebook graded under another name: counted once)" if merged else ""
    parts = [f"<h1>Misconception report: {html.escape(assignment)}</h1>",
             f"<p>{n} learners graded{same}. Aggregate figures only: no learner is named on this page. "
             f"Course {course.__version__}.</p>",
             "<p>A misconception is counted as held only from a <em>belief error</em>: a well-formed answer that shows it. "
             "Answers not attempted, crashed, with a computation error or for the wrong assignment are counted apart "
             "(table below) and left out of the shares.</p>"]
    shares = misconception_shares(results)
    if shares:
        fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * len(shares)))
        ms = list(shares)
        vals = [shares[m][0] for m in ms]
        ax.barh(range(len(ms)), vals, color=plots.PALETTE[5], edgecolor="black", hatch="//")
        ax.set_yticks(range(len(ms)), [f"{m}: {MISCONCEPTIONS[m][:40]} (n={shares[m][1]})" for m in ms])
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("share of the learners judged on it who made the belief error")
        ax.set_title(f"Misconceptions still held after {assignment} ({n} learners)")
        for i, v in enumerate(vals):
            ax.text(min(v + 0.02, 0.9), i, f"{v:.0%}", va="center")
        parts.append(f'<img alt="share failing per misconception" src="{_png(fig)}">')
    kinds = ["passed", *(f.value for f in Failure)]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in kinds)
    body = "".join(f"<tr><td>{html.escape(g)}</td>" + "".join(f"<td>{c[k]}</td>" for k in kinds) + "</tr>"
                   for g, c in failure_counts(results))
    if body:
        parts.append(f"<h2>Outcomes per test (learners)</h2><table><tr><th>test</th>{head}</tr>{body}</table>"
                     "<p>" + "<br>".join(f"<b>{html.escape(f.value)}</b>: {html.escape(f.meaning)}" for f in Failure) + "</p>")
    rates = task_failure_rates(results)
    if rates:
        rows = "".join(f"<tr><td>{html.escape(g)}</td><td>{s:.0%}</td><td>{k}</td></tr>" for g, s, k in rates)
        parts.append("<h2>Tasks, most failed first</h2><table><tr><th>task</th><th>failed</th><th>n</th></tr>" + rows + "</table>")
    from course.grader import beliefs_report

    parts.append(beliefs_report.section(course_dir, _png))  # before/after, items, predicted vs measured
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:.2em .6em}")
    head = f"<meta charset='utf-8'><title>Misconception report</title><style>{style}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>"

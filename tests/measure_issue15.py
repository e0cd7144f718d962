# ruff: noqa
"""Issue 15 before/after table: `PYTHONPATH=<checkout> .venv/bin/python tests/measure_issue15.py OUT_DIR` (about 2 min; not a test)."""
import copy
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat

import course

ROOT = Path(course.__file__).resolve().parent.parent
A = "01-ml-recap"
out = Path(sys.argv[1]); shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
SOL = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
BLANK = nbformat.read(ROOT / "exercises" / A / f"{A}.ipynb", as_version=4)
OTHER = nbformat.read(ROOT / "exercises" / "03-evasion-white-box" / "03-evasion-white-box.ipynb", as_version=4)
gid = lambda c: c.metadata.get("nbgrader", {}).get("grade_id")
def answered(edit=None):
    nb = copy.deepcopy(BLANK)
    ans = {gid(c): c.source for c in SOL.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for c in nb.cells:
        if gid(c) in ans:
            c.source = "\n".join(l for l in ans[gid(c)].splitlines() if "### " not in l)
            c.source = c.source.replace("w_norm", "wn").replace("margin", "mg")  # renamed: a near-copy
    if edit: edit(nb)
    return nb
def syntax(nb):
    for c in nb.cells:
        if gid(c) == "task3-answer": c.source = "def distance_to_boundary(w, b, X)\n    return 1"
HELP = subprocess.run([sys.executable, "-m", "course", "grade", "--help"], capture_output=True, text=True).stdout
def run(*args, env=None):
    if "--public-seed" not in HELP:
        args = [a for a in args if a != "--public-seed"]
    r = subprocess.run([sys.executable, "-m", "course", *args], capture_output=True, text=True, env={**os.environ, **(env or {})})
    return r
rows = []
def row(case, value): rows.append((case, value)); print(f"{case}\t{value}", flush=True)
# 1. bad input
(out / "empty").mkdir(); r = run("grade", A, str(out / "empty"), "--course-dir", str(out / "c0"), "--public-seed", "--no-sandbox")
row("empty folder: exit code", r.returncode)
(out / "nonb").mkdir(); (out / "nonb" / "notes.txt").write_text("x")
r = run("grade", A, str(out / "nonb"), "--course-dir", str(out / "c0"), "--public-seed", "--no-sandbox")
row("folder without notebooks: exit code / lists notes.txt", f"{r.returncode} / {'notes.txt' in r.stderr + r.stdout}")
# 2. seed: no --seed
r = run("grade", A, str(out / "nonb"), "--course-dir", str(out / "c0"), "--no-sandbox", env={"COURSE_GRADING_SEED": ""})
row("no --seed, no --public-seed: exit code", r.returncode)
# 3. an nbgrader tree in the course's own submitted/
cd = out / "course"; sub = cd / "submitted"
learners = {"alice": answered(), "bob": BLANK, "carol": answered(syntax), "dave": OTHER, "erin": copy.deepcopy(SOL)}
for name, nb in learners.items():
    d = sub / name / A; d.mkdir(parents=True); nbformat.write(nb, d / f"{A}.ipynb")
    (d / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
before = {str(p.relative_to(sub)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sub.rglob("*") if p.is_file()}
r = run("grade", A, str(sub), "--course-dir", str(cd), "--seed", "4242", "--workers", "2")
print(r.stdout[-3000:], r.stderr[-3000:])
after = {str(p.relative_to(sub)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sub.rglob("*") if p.is_file()}
row("grading submitted/: files changed or deleted", sum(before[k] != after.get(k) for k in before))
row("timestamp.txt files kept", sum(k.endswith("timestamp.txt") for k in after))
db = sqlite3.connect(cd / "gradebook.db")
row("gradebook timestamps set", db.execute("select count(*) from submitted_assignment where timestamp is not null").fetchone()[0])
try:
    row("gradebook notebooks flagged", db.execute("select count(*) from submitted_notebook where flagged").fetchone()[0])
except Exception as e: row("gradebook notebooks flagged", e)
res = {p.stem: json.loads(p.read_text()) for p in (cd / "reports" / A / "results").glob("*.json")}
for n, r_ in sorted(res.items()):
    row(f"{n}: score / flags", f"{r_['score']} / {r_['flags']}")
    row(f"{n}: failure types", sorted({str(t.get('failure')) for t in r_['tests'].values()}))
fb = [p.read_text() for p in (cd / "feedback").rglob("*.html")]
row("feedback files with 'Fontconfig'", sum("Fontconfig" in t for t in fb))
row("feedback files loading MathJax", sum(bool(re.search(r"<script[^>]*>[^<]*MathJax|<script[^>]*mathjax", t, re.I)) for t in fb))
row("feedback with a hidden 'seen:' value", sum(bool(re.search(r"hidden check\)[^<]*?\n\s*expected:.*?\n\s*seen:\s+(?!not shown)", t)) for t in fb))
row("feedback with 'is not defined' for the syntax error", "is not defined" in (cd / "feedback" / "carol" / A / f"{A}.html").read_text() if (cd / "feedback" / "carol").exists() else "n/a")
page = (cd / "reports" / A / "misconceptions.html").read_text()
row("misconceptions.html: learners counted", re.search(r"<p>(\d+) (submissions|learners) graded", page).group(1))
# 4. regrade with another seed
r = run("grade", A, str(sub), "--course-dir", str(cd), "--seed", "999", "--workers", "2")
res2 = {p.stem: json.loads(p.read_text())["seed_fingerprint"] for p in (cd / "reports" / A / "results").glob("*.json")}
row("regrade under another seed: exit code / results overwritten", f"{r.returncode} / {sum(res2[k] != res[k]['seed_fingerprint'] for k in res)}")
(out / "table.json").write_text(json.dumps(rows, default=str))

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
import zipfile
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
TEX = re.compile(r"[^$]\$[^$<>]{1,80}\$")
n_math, n_tex = sum(t.count("<math") for t in fb), sum(len(TEX.findall(t)) for t in fb)
row("feedback: MathML elements / remaining $TeX$ in Markdown", f"{n_math} / {n_tex}")
row("feedback: links to other hosts (src/href=http)", sum(len(re.findall(r'(src|href)="http', t)) for t in fb))
row("feedback with a hidden 'seen:' value", sum(bool(re.search(r"hidden check\)[^<]*?\n\s*expected:.*?\n\s*seen:\s+(?!not shown)", t)) for t in fb))
row("feedback with 'is not defined' for the syntax error", "is not defined" in (cd / "feedback" / "carol" / A / f"{A}.html").read_text() if (cd / "feedback" / "carol").exists() else "n/a")
page = (cd / "reports" / A / "misconceptions.html").read_text()
row("misconceptions.html: learners counted", re.search(r"<p>(\d+) (submissions|learners) graded", page).group(1))
# 4. regrade with another seed
r = run("grade", A, str(sub), "--course-dir", str(cd), "--seed", "999", "--workers", "2")
res2 = {p.stem: json.loads(p.read_text())["seed_fingerprint"] for p in (cd / "reports" / A / "results").glob("*.json")}
row("regrade under another seed: exit code / results overwritten", f"{r.returncode} / {sum(res2[k] != res[k]['seed_fingerprint'] for k in res)}")
(out / "table.json").write_text(json.dumps(rows, default=str))
# 5. identities (discovery only, no grading), in the module of whichever version runs
try:  # the old layout first: an editable install of the new one can shadow it
    from course import submissions as S
except ImportError:
    from course.grader import submissions as S
def tmpdir(name):
    d = out / name; d.mkdir(parents=True); return d
def disc(src, roster=None):
    try:
        return S.discover(A, src, roster, tmpdir("scratch-" + Path(str(src)).name))
    except S.SubmissionsError as e:
        return e
def notes_of(f):
    return {s.student: list(getattr(s, "notes", [])) for s in f.submissions}
roster = out / "roster.csv"
roster.write_text("student_id,name,email,moodle_id,canvas_id\ns1,Alice Adams,alice@uni.edu,101,201\n"
                  "s2,Bob Brown,bob@uni.edu,102,202\ns3,Gina Gómez,gina@uni.edu,,204\n", encoding="utf-8")
def mkzip(name, files):
    z = out / name
    with zipfile.ZipFile(z, "w") as f:
        for n, t in files.items(): f.writestr(n, t)
    return z
f = disc(mkzip("moodle.zip", {f"Alice Adams_101_assignsubmission_file_/{A}.ipynb": '{"a":1}',
                              f"Zoe Zed_555_assignsubmission_file_/{A}.ipynb": '{"z":1}',
                              "Alice Adams_101_assignsubmission_file_/notes.pdf": "x"}), roster)
row("Moodle+roster: learner not on roster -> id / flagged / listed as unmatched",
    f"{sorted(s.student for s in f.submissions)} / {any('roster' in n for ns in notes_of(f).values() for n in ns)} / {getattr(f, 'unmatched', 'n/a')}")
row("Moodle+roster: roster learners with no submission reported", getattr(f, "missing", "not reported"))
row("Moodle zip: non-notebook file listed", any("notes.pdf" in str(p) for p, _ in f.unrecognised))
f = disc(mkzip("canvas.zip", {f"adamsalice_201_9001_{A}.ipynb": '{"a":1}', f"brownbob_LATE_202_9002_{A}.ipynb": '{"b":1}'}), roster)
row("Canvas+roster: ids / LATE flagged", f"{sorted(s.student for s in f.submissions)} / {any('late' in n.lower() for ns in notes_of(f).values() for n in ns)}")
d = tmpdir("flat")
for n, t in {"alice (1).ipynb": '{"a":1}', "Untitled.ipynb": '{"u":1}', "1.ipynb": '{"o":1}', "erin.ipynb": '{"e":1}',
             "erin_v2_fixed.ipynb": '{"e":2}', "bob.ipynb": '{"same":1}', "carl.ipynb": '{"same":1}'}.items():
    (d / n).write_text(t)
f = disc(d)
row("flat: learners found", sorted(s.student for s in f.submissions))
row("flat: erin's two files flagged", any("erin" in s.student and s.notes for s in f.submissions))
row("flat: identical bob/carl flagged", sum(any("identical" in n for n in s.notes) for s in f.submissions))
r2 = out / "names-only.csv"
r2.write_text("name,student_id\nAlice Adams,s1\nBob Brown,s2\n", encoding="utf-8")
f = disc(mkzip("canvas2.zip", {f"adamsalice_201_9001_{A}.ipynb": '{"a":1}', f"brownbob_LATE_202_9002_{A}.ipynb": '{"b":1}'}), r2)
row("Canvas + roster with only name,student_id: ids", sorted(s.student for s in f.submissions))
f = disc(mkzip("moodle2.zip", {f"Gina Gómez_777_assignsubmission_file_/{A}.ipynb": '{"g":1}',
                               f"Alice Adams_101_assignsubmission_file_/{A}.ipynb": '{"a":2}'}), r2)
row("Moodle: Gina Gómez not on a name-only roster -> id / flagged", f"{sorted(s.student for s in f.submissions)} / {any('roster' in n for ns in notes_of(f).values() for n in ns)}")
# 6. reports: misconception shares (M7) in the graded scenario, each learner once across two formats
try:
    from course.grader import report as R, results as RS
    results = RS.load_results(cd, A)
except ImportError:
    from course import report as R
    from course.cohort import load_results
    results = load_results(cd, A)
row("M7 'still held' share (alice ok, bob blank, carol syntax error, dave wrong assignment, erin ok)",
    {m: f"{v[0]:.0%} of {v[1]}" for m, v in R.misconception_shares(results).items()})
flat2 = tmpdir("flat2")
for name in ("alice", "bob"):
    shutil.copy(sub / name / A / f"{A}.ipynb", flat2 / f"{name}.ipynb")
z = mkzip("two.zip", {f"Alice Adams_101_assignsubmission_file_/{A}.ipynb": (flat2 / "alice.ipynb").read_text(),
                      f"Bob Brown_102_assignsubmission_file_/{A}.ipynb": (flat2 / "bob.ipynb").read_text()})
cd2 = out / "course2"
r1 = run("grade", A, str(flat2), "--course-dir", str(cd2), "--seed", "4242", "--workers", "2")
HAS_ROSTER = "--roster" in HELP
r2 = run("grade", A, str(z), "--course-dir", str(cd2), "--seed", "4242", "--workers", "2", "--roster", str(roster))
row("grading a Moodle zip with a roster: the roster learner with no submission is named on screen", "s3" in r2.stdout)
page = (cd2 / "reports" / A / "misconceptions.html").read_text()
row("two formats of the same 2 learners into one folder: learners counted", re.search(r"<p>(\d+) (submissions|learners) graded", page).group(1))
row("flat naming: flags per learner (alice, bob)", re.findall(r"\[(\d+) flag", r1.stdout) or "none")
(out / "table.json").write_text(json.dumps(rows, default=str))

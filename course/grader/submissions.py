"""Find a cohort's submissions, whatever shape they arrive in, and name each by a student id.

Recognised (first match wins):

1. **nbgrader's tree**: `SUBMISSIONS/<student>/<assignment>/*.ipynb` (e.g. the course's `submitted/`).
2. **A flat folder** of notebooks named by student: `<student>.ipynb`, or `<student>_<anything>.ipynb`,
   or `<anything>_<student>.ipynb` when the roster knows that name.
3. **A zip file** (as downloaded from a learning-management system), unpacked to a scratch folder:
   - Moodle, one folder per submission: `Full Name_12345_assignsubmission_file_/<notebook>.ipynb`
   - Moodle, flattened: `Full Name_12345_assignsubmission_file_<notebook>.ipynb`
   - Canvas: `<lastfirst>_<userid>_<submissionid>_<original name>.ipynb`, also with `_LATE_` after the name
   - otherwise the zip's contents are read as 1. or 2.

A roster (CSV with the columns `name` and `student_id`, optional `first_name`, `last_name`) maps the names
found to student ids; Moodle and Canvas ids are matched too. Files that match nothing are reported, never
silently dropped; a student with several notebooks gets the one whose name matches the assignment, else
the newest, and a note. Student ids are reduced to letters, digits, `_` and `-` (nbgrader's rule).
"""
from __future__ import annotations

import csv
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$")
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<rest>.+)$")
MAX_ZIP_BYTES = 2 * 1024**3
MAX_ZIP_FILES = 20000


@dataclass
class Submission:
    student: str  # nbgrader student id
    path: Path
    found_as: str  # what it was recognised as (for the report)
    notes: list = field(default_factory=list)


@dataclass
class Found:
    submissions: list
    unrecognised: list  # (path, reason)
    layout: str


class SubmissionsError(Exception):
    pass


def safe_id(text: str) -> str:
    """A student id nbgrader accepts: letters, digits, _ and -."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_")
    return s or "unnamed"


def read_roster(path) -> dict:
    """name (and any id) -> student_id, from a CSV with columns `name`, `student_id` (case-insensitive)."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionsError(f"roster not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SubmissionsError(f"roster {path} is empty")
    cols = {c.lower().strip(): c for c in rows[0]}
    if "student_id" not in cols:
        raise SubmissionsError(f"roster {path} needs a 'student_id' column; it has {list(rows[0])}")
    mapping = {}
    for r in rows:
        sid = safe_id(r[cols["student_id"]])
        for key in ("name", "student_id", "email", "lms_id", "moodle_id", "canvas_id"):
            if key in cols and r[cols[key]].strip():
                mapping[_norm(r[cols[key]])] = sid
        if "first_name" in cols and "last_name" in cols:
            first, last = r[cols["first_name"]], r[cols["last_name"]]
            mapping[_norm(f"{first} {last}")] = sid
            mapping[_norm(f"{last}{first}")] = sid
    return mapping


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _resolve(names: list, roster: dict | None) -> str:
    if roster:
        for n in names:
            if _norm(n) in roster:
                return roster[_norm(n)]
    return safe_id(names[0])


def _pick(assignment: str, notebooks: list) -> tuple:
    exact = [p for p in notebooks if p.stem == assignment or p.stem.endswith(assignment)]
    pool = exact or notebooks
    chosen = max(pool, key=lambda p: p.stat().st_mtime)
    notes = [f"{len(notebooks)} notebooks submitted; graded {chosen.name}"] if len(notebooks) > 1 else []
    return chosen, notes


def _notebooks(folder: Path) -> list:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("._"))


def discover(assignment: str, source, roster=None, scratch: Path | None = None) -> Found:
    """Find the submissions of `assignment` in a folder or zip (see the module docstring)."""
    source = Path(source)
    if not source.exists():
        raise SubmissionsError(f"no such file or folder: {source}")
    roster_map = read_roster(roster) if roster else None
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise SubmissionsError(f"{source} is neither a folder nor a zip file")
        if scratch is None:
            raise SubmissionsError("a scratch folder is needed to unpack a zip")
        source = _unzip(source, scratch)
        found = _from_lms(assignment, source, roster_map)
        if found.submissions:
            return found
    tree = [d for d in source.iterdir() if d.is_dir() and (d / assignment).is_dir()] if source.is_dir() else []
    if tree:
        subs, bad = [], []
        for d in sorted(tree):
            nbs = _notebooks(d / assignment)
            if not nbs:
                bad.append((d / assignment, "no notebook in this submission folder"))
                continue
            chosen, notes = _pick(assignment, nbs)
            subs.append(Submission(_resolve([d.name], roster_map), chosen, "nbgrader tree", notes))
        return _dedupe(Found(subs, bad, "nbgrader tree"))
    return _flat(assignment, source, roster_map)


def _flat(assignment, folder: Path, roster) -> Found:
    subs, bad = [], []
    by_student: dict = {}
    for nb in _notebooks(folder):
        stem = nb.stem
        if stem == assignment:
            bad.append((nb, "named like the assignment, not like a student: cannot tell whose it is"))
            continue
        parts = [p for p in re.split(r"[_\s]+", stem.replace(assignment, "")) if p and p != "-"]
        if not parts:
            bad.append((nb, "no student name in the file name"))
            continue
        candidates = [stem.replace(assignment, "").strip("_- "), parts[0], parts[-1]]
        sid = _resolve([c for c in candidates if c], roster)
        if roster and _norm(sid) not in {_norm(v) for v in roster.values()}:
            bad.append((nb, "no roster entry matches this file name"))
            continue
        by_student.setdefault(sid, []).append(nb)
    for sid, nbs in sorted(by_student.items()):
        chosen, notes = _pick(assignment, nbs)
        subs.append(Submission(sid, chosen, "flat folder", notes))
    return Found(subs, bad, "flat folder")


def _from_lms(assignment, folder: Path, roster) -> Found:
    subs, bad, by_student = [], [], {}
    layout = ""
    for nb in _notebooks(folder):
        rel = nb.relative_to(folder)
        top = rel.parts[0]
        m = MOODLE.match(top) or (MOODLE.match(nb.name) if len(rel.parts) == 1 else None)
        if m:
            sid = _resolve([m.group("name"), m.group("id")], roster)
            by_student.setdefault(sid, []).append(nb)
            layout = "Moodle"
            continue
        c = CANVAS.match(nb.name)
        if c:
            sid = _resolve([c.group("name"), c.group("uid")], roster)
            by_student.setdefault(sid, []).append(nb)
            layout = "Canvas"
            continue
        bad.append((rel, "not a Moodle or Canvas file name"))
    for sid, nbs in sorted(by_student.items()):
        chosen, notes = _pick(assignment, nbs)
        subs.append(Submission(sid, chosen, f"{layout} zip", notes))
    return _dedupe(Found(subs, bad if subs else [], f"{layout} zip" if subs else "zip"))


def _dedupe(found: Found) -> Found:
    seen = {}
    for s in found.submissions:
        if s.student in seen:
            found.unrecognised.append((s.path, f"a second submission for {s.student}: not graded"))
        else:
            seen[s.student] = s
    found.submissions = list(seen.values())
    return found


def _unzip(path: Path, scratch: Path) -> Path:
    dest = Path(scratch) / "unzipped"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise SubmissionsError(f"{path} is too large to unpack (over {MAX_ZIP_FILES} files or 2 GiB)")
        for info in infos:
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + "/") and target != dest.resolve():
                raise SubmissionsError(f"{path} holds a path outside its folder: {info.filename!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest

"""Find a cohort's submissions, whatever shape they arrive in, and name each by a student id you can audit.

Recognised (first match wins):

1. **nbgrader's tree**: `SUBMISSIONS/<student>/<assignment>/*.ipynb` (e.g. the course's `submitted/`), with
   nbgrader's `timestamp.txt` when there is one.
2. **A flat folder** of notebooks named by learner: `<learner>.ipynb` or `<learner>_<anything>.ipynb`.
3. **A zip file** (as downloaded from a learning-management system), unpacked to a scratch folder:
   - Moodle, one folder per submission: `Full Name_12345_assignsubmission_file_/<notebook>.ipynb`
   - Moodle, flattened: `Full Name_12345_assignsubmission_file_<notebook>.ipynb`
   - Canvas: `<lastfirst>_<userid>_<submissionid>_<original name>.ipynb`, with `_LATE_` after the name when late
   - otherwise the zip's contents are read as 1. or 2.

**Names.** In a flat folder the learner's name is the file name without the assignment's name, copy and
version markers (`(1)`, `-Copy1`, `v2`, `final`, `fixed`, `new`, `late`, numbers); a name that identifies
nobody (`Untitled`, `1`, `notebook`, ...) is refused and listed. A roster (CSV with the columns `student_id`
and `name`, optional `first_name`, `last_name`, `email`, `moodle_id`, `canvas_id`, `lms_id`) maps what was
found to student ids in every format, with the LMS name forms normalised: case, accents and punctuation are
ignored, "First Last", "Last, First" and Canvas's "lastfirst" all match, and Moodle and Canvas user ids
match their columns. A name the roster does not know is graded under the name found (accents transliterated)
and reported as unmatched; a roster learner with no submission is reported as missing.

**Several files from one learner** (the rule, stated once): in nbgrader's tree the notebook named like the
assignment wins; otherwise the newest file (its modification time; for a zip, the time stored in the zip),
ties broken by the file name, last in sort order. The others are listed in a flag and never graded.

**Nothing is dropped silently.** Every file that is not graded is listed with the reason (not a notebook,
no learner's name, a second file of a learner ...). An input with no gradable notebook is an error.
Student ids are reduced to letters, digits, `_` and `-` (nbgrader's rule).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import shutil
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<rest>.*)$")
CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<rest>.+)$")
# tokens of a flat file name that say which copy or version it is, not whose it is
NOISE = re.compile(r"^(v\d+|version\d*|final|fixed|new|late|resubmit(ted)?|revised|updated|copy\d*|draft\d*|\d+)$", re.I)
# names that identify nobody
NOBODY = re.compile(r"^(untitled\d*|notebook\d*|copy\d*|submission\d*|assignment\d*|answers?|solutions?|exercises?\d*|"
                    r"homework\d*|hw\d*|student|learner|unnamed|\d+)$", re.I)
SYSTEM_FILES = ("__MACOSX", ".DS_Store", ".ipynb_checkpoints", "Thumbs.db")
MAX_ZIP_BYTES = 2 * 1024**3
MAX_ZIP_FILES = 20000
RULE = "newest file wins (ties: last by name)"


@dataclass
class Submission:
    student: str  # nbgrader student id
    path: Path
    found_as: str  # what it was recognised as (for the report)
    notes: list = field(default_factory=list)  # flags about this submission's identity
    name: str = ""  # the learner's name as found (file or folder name, LMS name)
    on_roster: bool | None = None  # None: graded without a roster
    late: bool = False  # the LMS marked it late
    timestamp: str = ""  # when it was submitted (nbgrader's timestamp.txt), if known
    not_graded: list = field(default_factory=list)  # the same learner's other files


@dataclass
class Found:
    submissions: list
    unrecognised: list  # (path, reason): every file that is not graded
    layout: str
    unmatched: list = field(default_factory=list)  # (name found, graded as) not on the roster
    missing: list = field(default_factory=list)  # (student_id, name) on the roster with no submission


class SubmissionsError(Exception):
    def __init__(self, message: str, skipped=()):
        super().__init__(message)
        self.skipped = list(skipped)


def ascii_fold(text: str) -> str:
    """Accents removed (Gómez -> Gomez), for names and ids."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def safe_id(text: str) -> str:
    """A student id nbgrader accepts: letters, digits, _ and -."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_fold(text).strip()).strip("_")
    return s or "unnamed"


def norm(s: str) -> str:
    """A name as a roster key: lower case, no accents, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", ascii_fold(s).lower())


@dataclass
class Roster:
    keys: dict  # normalised name or id -> student_id
    learners: dict  # student_id -> display name

    def match(self, names) -> str | None:
        for n in names:
            if n and norm(n) in self.keys:
                return self.keys[norm(n)]
        return None


def read_roster(path) -> Roster:
    """The roster: a CSV with `student_id` and `name` (case-insensitive), optionally names split and LMS ids."""
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
    keys, learners, clashes = {}, {}, []

    def add(key, sid):
        k = norm(key)
        if not k:
            return
        if k in keys and keys[k] != sid:
            clashes.append(key)
        keys[k] = sid

    for r in rows:
        raw = (r.get(cols["student_id"]) or "").strip()
        if not raw:
            continue
        sid = safe_id(raw)
        get = {k: (r.get(c) or "").strip() for k, c in cols.items()}
        name = get.get("name") or f"{get.get('first_name', '')} {get.get('last_name', '')}".strip() or raw
        learners[sid] = name
        for key in ("student_id", "name", "email", "lms_id", "moodle_id", "canvas_id"):
            if get.get(key):
                add(get[key], sid)
        if get.get("email") and "@" in get["email"]:
            add(get["email"].split("@")[0], sid)
        first, last = get.get("first_name", ""), get.get("last_name", "")
        if not (first and last) and " " in get.get("name", ""):
            first, last = get["name"].split(" ", 1)  # "First Last"
        if "," in get.get("name", ""):
            last, first = [p.strip() for p in get["name"].split(",", 1)]  # "Last, First"
        if first and last:
            for key in (f"{first} {last}", f"{last}{first}", f"{last} {first}"):
                add(key, sid)
    if clashes:
        raise SubmissionsError(f"roster {path}: these names or ids belong to more than one learner: {sorted(set(clashes))}")
    return Roster(keys, learners)


def learner_name(stem: str, assignment: str) -> str:
    """The learner's name in a flat file name: without the assignment, copy and version markers."""
    s = stem.replace(assignment, " ")
    s = re.sub(r"\(\d+\)", " ", s)
    s = re.sub(r"-copy\d*$", " ", s, flags=re.I)
    tokens = [t.strip("-") for t in re.split(r"[\s_.]+", s)]
    return "_".join(t for t in tokens if t and not NOISE.match(t))


def _notebooks(folder: Path) -> list:
    return sorted(p for p in folder.rglob("*.ipynb") if not _system(p, folder))


def _system(p: Path, folder: Path) -> bool:
    rel = p.relative_to(folder).parts
    return any(part in SYSTEM_FILES or part.startswith("._") for part in rel)


def _other_files(folder: Path, used: set) -> list:
    """Every file under `folder` that is not a notebook looked at (for the list of skipped files)."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p not in used and p.suffix != ".ipynb" and not _system(p, folder) and p.name != "timestamp.txt":
            out.append((p, "not a notebook"))
    return out


def _pick(assignment: str, notebooks: list, prefer_assignment_name: bool) -> tuple:
    """(chosen, the others, note) by the stated rule."""
    if len(notebooks) == 1:
        return notebooks[0], [], []
    pool = [p for p in notebooks if p.stem == assignment] if prefer_assignment_name else []
    rule = f"the one named {assignment}.ipynb" if pool else RULE
    chosen = max(pool or notebooks, key=lambda p: (p.stat().st_mtime, p.name))
    others = [p for p in notebooks if p != chosen]
    note = (f"{len(notebooks)} files from this learner: graded {chosen.name} ({rule}); "
            f"not graded: {', '.join(p.name for p in others)}")
    return chosen, others, [note]


def _read_timestamp(folder: Path) -> str:
    f = folder / "timestamp.txt"
    try:
        return f.read_text(errors="replace").strip()[:64] if f.is_file() else ""  # not a time: `_is_time` says so
    except OSError:
        return ""


def _is_time(text: str) -> bool:
    """Whether nbgrader can read this submission time (it parses timestamp.txt with dateutil)."""
    from nbgrader.utils import parse_utc

    try:
        parse_utc(text)
        return True
    except (ValueError, OverflowError, TypeError):
        return False


class _Collector:
    """Groups the notebooks found by learner, resolving names through the roster."""

    def __init__(self, assignment, roster: Roster | None, layout: str):
        self.assignment, self.roster, self.layout = assignment, roster, layout
        self.by_student: dict = {}
        self.meta: dict = {}
        self.bad: list = []
        self.unmatched: list = []

    def add(self, path: Path, names: list, shown: str, *, late=False, timestamp="", fallback: str | None = None,
            named_by_nbgrader=False):
        sid = self.roster.match(names) if self.roster else None
        on_roster = None if self.roster is None else sid is not None
        if sid is None:
            base = fallback if fallback is not None else names[0]
            if not named_by_nbgrader and (not norm(base) or NOBODY.match(norm(base))):
                self.bad.append((path, f"the name {shown!r} identifies nobody: rename the file after its learner"))
                return
            sid = safe_id(base)
            if self.roster is not None and (shown, sid) not in self.unmatched:
                self.unmatched.append((shown, sid))
        self.by_student.setdefault(sid, []).append(path)
        m = self.meta.setdefault(sid, {"name": shown, "on_roster": on_roster, "late": False, "timestamp": ""})
        m["late"] |= late
        m["timestamp"] = m["timestamp"] or timestamp

    def found(self, folder: Path, prefer_assignment_name=False) -> Found:
        subs, used = [], set()
        for sid, nbs in sorted(self.by_student.items()):
            chosen, others, notes = _pick(self.assignment, nbs, prefer_assignment_name)
            m = self.meta[sid]
            if m["on_roster"] is False:
                notes.append(f"not on the roster: graded as {sid!r} (the name found: {m['name']!r})")
            if m["late"]:
                notes.append("late: marked late by the LMS")
            timestamp = m["timestamp"]
            if timestamp and not _is_time(timestamp):  # nbgrader would refuse to record the learner at all
                notes.append(f"timestamp.txt holds {timestamp!r}, not a time: recorded without a submission time")
                timestamp = ""
            subs.append(Submission(sid, chosen, self.layout, notes, m["name"], m["on_roster"], m["late"],
                                   timestamp, others))
            used.update(nbs)
            self.bad += [(p, f"another file of {sid}: not graded ({RULE})") for p in others]
        used.update(p for p, _ in self.bad)
        return Found(subs, self.bad + _other_files(folder, used), self.layout, self.unmatched)


def discover(assignment: str, source, roster=None, scratch: Path | None = None) -> Found:
    """Find the submissions of `assignment` in a folder or zip (see the module docstring)."""
    source = Path(source)
    if not source.exists():
        raise SubmissionsError(f"no such file or folder: {source}")
    roster_map = read_roster(roster) if roster else None
    found = None
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise SubmissionsError(f"{source} is neither a folder nor a zip file")
        if scratch is None:
            raise SubmissionsError("a scratch folder is needed to unpack a zip")
        source = _unzip(source, scratch)
        found = _from_lms(assignment, source, roster_map)
    if found is None or not found.submissions:
        tree = [d for d in source.iterdir() if d.is_dir() and (d / assignment).is_dir()]
        found = _tree(assignment, source, tree, roster_map) if tree else _flat(assignment, source, roster_map)
    if roster_map is not None:
        got = {s.student for s in found.submissions}
        found.missing = [(sid, name) for sid, name in sorted(roster_map.learners.items()) if sid not in got]
    if not found.submissions:
        listed = "".join(f"\n  skipped {p}: {why}" for p, why in found.unrecognised) or " (it holds no files)"
        raise SubmissionsError(f"no gradable notebook of {assignment} in {source}{listed}", found.unrecognised)
    _identical(found)
    return found


def _tree(assignment, source: Path, tree: list, roster) -> Found:
    col = _Collector(assignment, roster, "nbgrader tree")
    for d in sorted(tree):
        nbs = _notebooks(d / assignment)
        if not nbs:
            col.bad.append((d / assignment, "no notebook in this submission folder"))
        for p in nbs:
            col.add(p, [d.name], d.name, timestamp=_read_timestamp(d / assignment), named_by_nbgrader=True)
    found = col.found(source, prefer_assignment_name=True)
    inside = {(d / assignment).resolve() for d in tree} | {source.resolve()}
    found.unrecognised = [(p, why) for p, why in found.unrecognised  # not other assignments' files
                          if why != "not a notebook" or Path(p).resolve().parent in inside
                          or any(q in inside for q in Path(p).resolve().parents if q != source.resolve())]
    for p in sorted(source.iterdir()):
        if p.is_dir() and p not in tree and p.name not in SYSTEM_FILES:
            found.unrecognised.append((p, f"no {assignment}/ folder inside: not a submission of this assignment"))
    return found


def _flat(assignment, folder: Path, roster) -> Found:
    col = _Collector(assignment, roster, "flat folder")
    for nb in _notebooks(folder):
        stem = nb.stem
        if stem == assignment:
            col.bad.append((nb, "named like the assignment, not like a learner: cannot tell whose it is"))
            continue
        name = learner_name(stem, assignment)
        tokens = name.split("_")
        candidates = [name, stem.replace(assignment, "").strip("_- "), *tokens,
                      *(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))]
        col.add(nb, candidates, nb.name, fallback=name)
    return col.found(folder)


def _from_lms(assignment, folder: Path, roster) -> Found:
    moodle, canvas = _Collector(assignment, roster, "Moodle zip"), _Collector(assignment, roster, "Canvas zip")
    bad = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or _system(p, folder):
            continue
        rel = p.relative_to(folder)
        m = MOODLE.match(rel.parts[0]) if len(rel.parts) > 1 else MOODLE.match(p.name)
        c = CANVAS.match(p.name) if len(rel.parts) == 1 else None
        if p.suffix != ".ipynb":
            bad.append((rel, "not a notebook" + (f" (from {(m or c).group('name')})" if m or c else "")))
        elif m:
            moodle.add(p, [m.group("name"), m.group("id")], m.group("name"))
        elif c:
            canvas.add(p, [c.group("name"), c.group("uid")], c.group("name"), late=bool(c.group("late")))
        else:
            bad.append((rel, "not a Moodle or Canvas file name"))
    col = moodle if moodle.by_student or moodle.bad else canvas
    if not (col.by_student or col.bad):
        return Found([], bad, "zip")
    found = col.found(folder)
    found.unrecognised = [(Path(p).relative_to(folder) if Path(p).is_absolute() else p, why)
                          for p, why in found.unrecognised if why != "not a notebook"] + bad
    return found


def _identical(found: Found) -> None:
    """Flag byte-identical notebooks handed in by different learners."""
    by_hash: dict = {}
    for s in found.submissions:
        try:
            by_hash.setdefault(hashlib.sha256(s.path.read_bytes()).hexdigest(), []).append(s)
        except OSError:
            continue
    for group in by_hash.values():
        if len(group) > 1:
            for s in group:
                others = ", ".join(o.student for o in group if o is not s)
                s.notes.append(f"identical submission: byte for byte the same notebook as {others}")


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
            try:  # keep the zip's time: "the newest file" means the one handed in last
                stamp = time.mktime(dt.datetime(*info.date_time).timetuple())
                os.utime(target, (stamp, stamp))
            except (OverflowError, ValueError, OSError):
                pass
    return dest

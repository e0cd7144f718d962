"""The workshop catalogue: the course's lessons and exercises as they describe themselves, and the tracks.

`lessons()` reads each lesson's opening cell (title, time, misconceptions); `load_tracks()` reads
workshop/tracks.toml and `track_problems` checks it against the lessons that exist.
"""
from __future__ import annotations

import html
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from course import ROOT

WORKSHOP = ROOT / "workshop"


TRACKS = WORKSHOP / "tracks.toml"


GUIDE = WORKSHOP / "facilitator-guide.md"


REQ = ROOT / "requirements"


BUILD = ROOT / "build"


CACHE = ROOT / ".course" / "site-cache"


KINDS = ("welcome", "lesson", "exercise", "discussion", "demo", "check", "break", "wrap-up")


MISCONCEPTION_IDS = tuple(f"M{i}" for i in range(1, 9))


@dataclass
class Lesson:
    number: str
    path: Path
    title: str
    misconceptions: list
    time: str
    minutes: int | None

    @property
    def slug(self) -> str:
        return self.path.stem


def _first_markdown(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    return ""


def lesson_info(path: Path) -> Lesson:
    """Title, targeted misconceptions and time, read from a lesson's first cell (the template)."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = _first_markdown(nb)
    title = next((l.lstrip("#").strip() for l in first.splitlines() if l.startswith("# ")), path.stem)
    belief = next((l for l in first.splitlines() if "belief this lesson tests" in l.lower()), first)
    found = re.findall(r"\bM[1-8]\b", belief)
    misconceptions = sorted(set(found), key=found.index)
    time_line = next((l for l in first.splitlines() if re.match(r"\s*\*\*Time:?\*\*", l)), "")
    time_text = re.sub(r"^\s*\*\*Time:?\*\*:?\s*", "", time_line).strip()
    m = re.search(r"(\d+)", time_text)
    return Lesson(path.stem.split("-")[0], path, title, misconceptions, time_text, int(m.group(1)) if m else None)


def lessons() -> list:
    """Every lesson of the course, in course order."""
    return [lesson_info(p) for p in sorted((ROOT / "lessons").glob("*.ipynb"))]


def _numbered(paths, number: str) -> list:
    """Paths whose name starts with the lesson number NN, or NN plus a part letter (09a, 09b)."""
    return sorted(p for p in paths if re.match(rf"{re.escape(number)}[a-z]?-", p.name))


def find_lessons(number: str) -> list:
    """The lesson notebooks of number NN: lessons/NN-*.ipynb, or its parts lessons/NNa-*.ipynb, ..."""
    return _numbered((ROOT / "lessons").glob("*.ipynb"), number)


def find_lesson(number: str) -> Path | None:
    found = find_lessons(number)
    return found[0] if found else None


def find_exercises(number: str) -> list:
    """The released exercise notebooks of number NN (exercises/NN-topic/NN-topic.ipynb, or its parts)."""
    return [p for p in _numbered((ROOT / "exercises").glob("*/*.ipynb"), number) if p.stem == p.parent.name]


def find_exercise(number: str) -> Path | None:
    found = find_exercises(number)
    return found[0] if found else None


def load_tracks(path: Path = TRACKS) -> dict:
    """workshop/tracks.toml as data: {"course": {...}, "track": [{..., "item": [...], "homework": [...]}]}."""
    with open(path, "rb") as f:
        return tomllib.load(f)


def track_problems(data: dict) -> list:
    """What is wrong with the tracks (an empty list when nothing is): timings, kinds, references."""
    problems = []
    planned = set(data.get("course", {}).get("planned_lessons", []))
    ids = [t.get("id") for t in data.get("track", [])]
    if len(set(ids)) != len(ids):
        problems.append(f"track ids are not unique: {ids}")
    for t in data.get("track", []):
        tid = t.get("id", "?")
        items = t.get("item", [])
        total = sum(int(i.get("minutes", 0)) for i in items)
        if total != int(t.get("minutes", -1)):
            problems.append(f"{tid}: its items add up to {total} min, the track says {t.get('minutes')} min")
        for i in items:
            what = i.get("title", "?")
            if i.get("kind") not in KINDS:
                problems.append(f"{tid}: item {what!r} has kind {i.get('kind')!r}, not one of {KINDS}")
            if int(i.get("minutes", 0)) <= 0:
                problems.append(f"{tid}: item {what!r} has no positive duration")
            for key in ("lesson", "exercise"):
                for ref in as_list(i.get(key)):
                    if ref not in planned:
                        problems.append(f"{tid}: item {what!r} names {key} {ref!r}, not in the course's lesson map")
            if i.get("kind") == "discussion" and not i.get("prompt"):
                problems.append(f"{tid}: discussion {what!r} has no prompt")
        for h in t.get("homework", []):
            for ref in as_list(h.get("exercise")):
                if ref not in planned:
                    problems.append(f"{tid}: homework names exercise {ref!r}, not in the course's lesson map")
    return problems


def as_list(value) -> list:
    """A track field that may be one name or several, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def track_references(track: dict) -> dict:
    """{"lesson": [...], "exercise": [...]} numbers a track names (in the room and as homework)."""
    refs = {"lesson": [], "exercise": []}
    for i in track.get("item", []):
        for key in refs:
            refs[key] += [r for r in as_list(i.get(key)) if r not in refs[key]]
    for h in track.get("homework", []):
        refs["exercise"] += [r for r in as_list(h.get("exercise")) if r not in refs["exercise"]]
    return refs


def missing_references(data: dict) -> list:
    """(track, kind, number) for every lesson or exercise a track names that the repository lacks."""
    missing = []
    for t in data.get("track", []):
        refs = track_references(t)
        missing += [(t["id"], "lesson", n) for n in refs["lesson"] if find_lesson(n) is None]
        missing += [(t["id"], "exercise", n) for n in refs["exercise"] if find_exercise(n) is None]
    return missing


def schedule(track: dict) -> list:
    """[(start "HH:MM", end "HH:MM", item)] for a track's items from its start time."""
    clock = datetime.strptime(track.get("start", "09:00"), "%H:%M")
    rows = []
    for item in track.get("item", []):
        end = clock + timedelta(minutes=int(item["minutes"]))
        rows.append((clock.strftime("%H:%M"), end.strftime("%H:%M"), item))
        clock = end
    return rows


def escape(text) -> str:
    """Text made safe for HTML (the agenda and the site)."""
    return html.escape(str(text), quote=True)

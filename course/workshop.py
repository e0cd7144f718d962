"""Workshop delivery: tracks and agendas, the course site, the offline bundle, the hub's environment.

`course agenda`  renders the tracks (workshop/tracks.toml) and the facilitator guide to printable
                 HTML, and to PDF with headless Chromium where it is installed.
`course site`    builds a static HTML site from the executed lessons: navigation in course order,
                 each lesson's misconceptions and time, no asset from a CDN, internal links checked
                 offline, external links listed (never fetched).
`course bundle`  builds an offline bundle: a wheelhouse of the pinned packages for chosen
                 platforms, the repository as a git archive, and install scripts that install with
                 `pip --no-index --find-links` through run.py.

Only the standard library is imported at module level: `.ci/install-system` runs
`python3 course/workshop.py hub-env` before any course environment exists.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
WORKSHOP = ROOT / "workshop"
TRACKS = WORKSHOP / "tracks.toml"
LESSON_PREFIX = "lesson-"  # lessons/lesson-NN-topic.ipynb; exercises keep NN-topic.ipynb
GUIDE = WORKSHOP / "facilitator-guide.md"
REQ = ROOT / "requirements"
BUILD = ROOT / "build"
CACHE = ROOT / ".course" / "site-cache"

KINDS = ("welcome", "lesson", "exercise", "discussion", "demo", "check", "break", "wrap-up")
MISCONCEPTION_IDS = tuple(f"M{i}" for i in range(1, 9))


# --------------------------------------------------------------------------------------------
# Lessons and exercises: what the notebooks say about themselves
# --------------------------------------------------------------------------------------------
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
    return Lesson(path.stem.removeprefix(LESSON_PREFIX).split("-")[0], path, title, misconceptions, time_text, int(m.group(1)) if m else None)


def lessons() -> list:
    """Every lesson of the course, in course order."""
    return [lesson_info(p) for p in sorted((ROOT / "lessons").glob("*.ipynb"))]


def _numbered(paths, number: str) -> list:
    """Paths whose name starts with the lesson number NN, or NN plus a part letter (09a, 09b), after
    the lessons' prefix "lesson-" (lessons are named apart from their exercises: nbgrader knows an
    exercise by its file name, and a learner tells the tabs apart)."""
    return sorted(p for p in paths if re.match(rf"(?:{LESSON_PREFIX})?{re.escape(number)}[a-z]?-", p.name))


def find_lessons(number: str) -> list:
    """The lesson notebooks of number NN: lessons/lesson-NN-*.ipynb, or its parts lesson-NNa-*.ipynb, ..."""
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


# --------------------------------------------------------------------------------------------
# Tracks and agendas
# --------------------------------------------------------------------------------------------
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
                for ref in _refs(i.get(key)):
                    if ref not in planned:
                        problems.append(f"{tid}: item {what!r} names {key} {ref!r}, not in the course's lesson map")
            if i.get("kind") == "discussion" and not i.get("prompt"):
                problems.append(f"{tid}: discussion {what!r} has no prompt")
        for h in t.get("homework", []):
            for ref in _refs(h.get("exercise")):
                if ref not in planned:
                    problems.append(f"{tid}: homework names exercise {ref!r}, not in the course's lesson map")
    return problems


def _refs(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def track_references(track: dict) -> dict:
    """{"lesson": [...], "exercise": [...]} numbers a track names (in the room and as homework)."""
    refs = {"lesson": [], "exercise": []}
    for i in track.get("item", []):
        for key in refs:
            refs[key] += [r for r in _refs(i.get(key)) if r not in refs[key]]
    for h in track.get("homework", []):
        refs["exercise"] += [r for r in _refs(h.get("exercise")) if r not in refs["exercise"]]
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


_PRINT_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; line-height: 1.4; color: #111;
       max-width: 60em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 18pt; margin-bottom: 0.2em; } h2 { font-size: 14pt; margin-top: 1.4em; } h3 { font-size: 12pt; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #eee; } td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.kind { font-size: 9pt; text-transform: uppercase; letter-spacing: 0.05em; color: #444; }
.meta { color: #333; } .prompt { font-style: italic; } .missing { color: #a00; }
.track, .guide { page-break-before: always; } .first { page-break-before: avoid; }
nav.toc { border: 1px solid #ccc; padding: 0.5em 1em; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 10pt; background: #f4f4f4; padding: 0 0.2em; }
pre { background: #f4f4f4; padding: 0.5em; overflow-x: auto; }
@media print { body { margin: 0; max-width: none; } nav.toc { display: none; } a { color: inherit; } }
@page { size: A4; margin: 15mm; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Escape text, then turn `code` and **bold** into HTML (the only markup tracks.toml uses)."""
    out = _e(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _describe_ref(kind: str, number: str) -> str:
    paths = find_lessons(number) if kind == "lesson" else find_exercises(number)
    if not paths:
        return f'<span class="missing">{kind} {_e(number)} (not in this copy of the course yet)</span>'
    parts = []
    for path in paths:
        if kind == "lesson":
            info = lesson_info(path)
            ms = ", ".join(info.misconceptions)
            parts.append(f"<code>lessons/{_e(path.name)}</code> — {_e(info.title)}"
                         + (f" <span class='meta'>[{_e(ms)}]</span>" if ms else ""))
        else:
            parts.append(f"<code>my-work/{_e(path.parent.name)}/{_e(path.name)}</code>")
    return "<br>".join(parts)


def render_track_html(track: dict, first: bool = False) -> str:
    rows = []
    for start, end, item in schedule(track):
        refs = [_describe_ref("lesson", n) for n in _refs(item.get("lesson"))]
        refs += ["exercise " + _describe_ref("exercise", n) for n in _refs(item.get("exercise"))]
        detail = [f"<strong>{_inline(item['title'])}</strong>"]
        if refs:
            detail.append("<br>" + "<br>".join(refs))
        if item.get("notes"):
            detail.append(f"<br>{_inline(item['notes'])}")
        if item.get("prompt"):
            detail.append(f"<br><span class='prompt'>Ask: {_inline(item['prompt'])}</span>")
        if item.get("listen_for"):
            detail.append(f"<br>Listen for: {_inline(item['listen_for'])}")
        rows.append(
            f"<tr><td class='time'>{start}–{end}<br>{item['minutes']} min</td>"
            f"<td><span class='kind'>{_e(item['kind'])}</span></td><td>{''.join(detail)}</td></tr>"
        )
    homework = "".join(
        f"<li>exercise {_describe_ref('exercise', n)}: {_inline(h.get('why', ''))}</li>"
        for h in track.get("homework", []) for n in _refs(h.get("exercise"))
    )
    in_room = [n for i in track.get("item", []) if i.get("kind") == "exercise" for n in _refs(i.get("exercise"))]
    return (
        f"<section class='track{' first' if first else ''}' id='track-{_e(track['id'])}'>"
        f"<h1>{_e(track['title'])}</h1>"
        f"<p class='meta'><strong>{track['minutes']} minutes</strong>, from {_e(track.get('start', '09:00'))}. "
        f"For {_inline(track.get('audience', ''))}</p>"
        f"<p>{_inline(track.get('goal', ''))}</p>"
        f"<p><strong>Before:</strong> {_inline(track.get('before', ''))}</p>"
        "<table><tr><th>when</th><th>what</th><th>details</th></tr>" + "".join(rows) + "</table>"
        f"<p><strong>Exercises done in the room:</strong> {', '.join(in_room) or 'none'}. "
        "Everything else is homework, checked by each learner with <code>course check</code>.</p>"
        + (f"<h2>Homework</h2><ul>{homework}</ul>" if homework else "")
        + "</section>"
    )


def render_guide_html(path: Path = GUIDE) -> str:
    import mistune  # in the course environment (nbconvert's markdown renderer)

    return mistune.html(path.read_text(encoding="utf-8"))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
        f"<style>{_PRINT_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
]


def print_pdf(html_file: Path, pdf_file: Path, timeout: int = 90) -> bool:
    """Print an HTML file to PDF with headless Chromium; False when Chromium is missing or fails."""
    exe = chromium()
    if exe is None:
        return False
    pdf_file.unlink(missing_ok=True)  # a PDF left by an earlier run proves nothing
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_file}", Path(html_file).resolve().as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return False
    return pdf_file.exists() and pdf_file.stat().st_size > 0


def agenda(out: Path | None = None, track_ids=None, pdf: bool = True) -> dict:
    """Render every track (or the chosen ones) and the guide; return {"html": [...], "pdf": [...]}."""
    out = Path(out or BUILD / "workshop")
    out.mkdir(parents=True, exist_ok=True)
    data = load_tracks()
    problems = track_problems(data)
    if problems:
        raise ValueError("workshop/tracks.toml: " + "; ".join(problems))
    tracks = [t for t in data["track"] if not track_ids or t["id"] in track_ids]
    unknown = set(track_ids or []) - {t["id"] for t in data["track"]}
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; the tracks are {[t['id'] for t in data['track']]}")
    written = {"html": [], "pdf": []}
    guide = render_guide_html()
    for t in tracks:
        f = out / f"agenda-{t['id']}.html"
        f.write_text(_page(t["title"], render_track_html(t, first=True)), encoding="utf-8")
        written["html"].append(f)
    g = out / "facilitator-guide.html"
    g.write_text(_page("Facilitator guide", f"<section class='guide first'>{guide}</section>"), encoding="utf-8")
    written["html"].append(g)
    toc = "".join(f"<li><a href='#track-{_e(t['id'])}'>{_e(t['title'])}</a></li>" for t in tracks)
    body = (
        f"<nav class='toc'><strong>{_e(data.get('course', {}).get('title', 'Workshop'))}</strong><ul>{toc}"
        "<li><a href='#guide'>Facilitator guide</a></li></ul></nav>"
        + "".join(render_track_html(t, first=(k == 0)) for k, t in enumerate(tracks))
        + f"<section class='guide' id='guide'>{guide}</section>"
    )
    everything = out / "workshop.html"
    everything.write_text(_page("Workshop: agendas and facilitator guide", body), encoding="utf-8")
    written["html"].insert(0, everything)
    if pdf and chromium():
        for f in list(written["html"]):
            p = f.with_suffix(".pdf")
            if print_pdf(f, p):
                written["pdf"].append(p)
    return written


# --------------------------------------------------------------------------------------------
# The course site
# --------------------------------------------------------------------------------------------
_SITE_CSS = """
body.jp-Notebook { margin: 0; }
.site { display: flex; align-items: flex-start; }
.site nav.lessons { position: sticky; top: 0; flex: 0 0 16em; max-height: 100vh; overflow-y: auto;
  padding: 1em; border-right: 1px solid #ddd; font-family: var(--jp-ui-font-family, sans-serif); font-size: 14px; }
.site nav.lessons ul { padding-left: 0; list-style: none; } .site nav.lessons li { margin: 0.3em 0; }
.site nav.lessons .current { font-weight: bold; }
.site .content { flex: 1 1 auto; min-width: 0; padding: 1em 2em; }
.lesson-meta { font-family: var(--jp-ui-font-family, sans-serif); background: #f5f7fa; border: 1px solid #dde;
  padding: 0.6em 1em; margin: 0 0 1em 0; }
.pager { display: flex; justify-content: space-between; margin: 2em 0; font-family: var(--jp-ui-font-family, sans-serif); }
.widget-note { border-left: 4px solid #0072B2; background: #eef6fb; padding: 0.4em 0.8em; margin: 0.4em 0;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; }
table.lessons td, table.lessons th { padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; text-align: left; }
@media print { .site nav.lessons, .pager { display: none; } }
"""

_SITE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">{{ resources.site.css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<div class="site">{{ resources.site.nav }}<div class="content">{{ resources.site.meta }}
{%- endblock body_header -%}
{%- block body_footer -%}
{{ resources.site.pager }}</div></div>
{{ super() }}
{%- endblock body_footer -%}
"""

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])", re.S)
_CODE_SPANS = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def math_to_mathml(markdown: str) -> str:
    """Replace $...$ and $$...$$ outside code with MathML (rendered by browsers, no script needed).

    Without latex2mathml (requirements/site.txt) the TeX stays as it is, still readable.
    """
    try:
        from latex2mathml.converter import convert
    except ImportError:
        return markdown

    def repl(m):
        tex, display = (m.group(1), "block") if m.group(1) is not None else (m.group(2), "inline")
        try:
            return convert(tex.strip(), display=display)
        except Exception:  # noqa: BLE001 - leave TeX that the converter does not understand as it is
            return m.group(0)

    parts = _CODE_SPANS.split(markdown)
    return "".join(p if k % 2 else _MATH.sub(repl, p) for k, p in enumerate(parts))


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _widget_outputs(state: dict, model_id: str, seen=None) -> tuple:
    """(outputs captured by Output widgets under this model, descriptions of its controls)."""
    seen = seen or set()
    if model_id in seen or model_id not in state:
        return [], []
    seen.add(model_id)
    model = state[model_id]
    name, s = model.get("model_name", ""), model.get("state", {})
    outputs, controls = [], []
    if name == "OutputModel":
        outputs += s.get("outputs", [])
    elif name.endswith("ProgressModel"):
        controls.append("progress")
    elif s.get("description") or name.endswith(("SliderModel", "DropdownModel", "ToggleButtonsModel")):
        opts = s.get("_options_labels") or []
        span = f" ({opts[0]} … {opts[-1]})" if opts else ""
        controls.append(f"{s.get('description') or name.replace('Model', '')}{span}")
    for child in s.get("children", []):
        cid = child.replace("IPY_MODEL_", "") if isinstance(child, str) else ""
        o, c = _widget_outputs(state, cid, seen)
        outputs += o
        controls += c
    return outputs, controls


def static_widgets(nb) -> None:
    """Replace widget views by the output their Output widgets held, with a note; drop widget state.

    A static page cannot run a widget; it shows what the widget showed at its first value, and
    no widget script is needed (nbconvert would otherwise load one from a CDN).
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if isinstance(out, dict) else {}
            if WIDGET_VIEW not in data:
                new.append(out)
                continue
            outputs, controls = _widget_outputs(state, data[WIDGET_VIEW].get("model_id", ""))
            if "progress" in controls and not outputs:
                continue  # a progress bar (tqdm.auto): nothing to show once the work is done
            controls = [c for c in controls if c != "progress"]
            what = "; ".join(controls) or "a widget"
            note = (f"<div class='widget-note'>Interactive in JupyterLab: {html.escape(what)}. "
                    "Shown here at its first value; run the lesson to move it.</div>")
            import nbformat

            new.append(nbformat.v4.new_output("display_data", data={"text/html": note}))
            new += [nbformat.from_dict(o) for o in outputs]
        cell.outputs = new
    nb.metadata.pop("widgets", None)


def _lesson_links(markdown: str, slugs: set) -> str:
    """Links to another lesson's .ipynb become links to its page."""
    def repl(m):
        target = m.group(2)
        stem = Path(urlsplit(target).path).stem
        if target.endswith(".ipynb") and stem in slugs and "://" not in target:
            return f"{m.group(1)}({stem}.html)"
        return m.group(0)
    return re.sub(r"(\[[^\]]*\])\(([^)\s]+)\)", repl, markdown)


def _notebook_key(path: Path) -> str:
    h = hashlib.sha256(Path(path).read_bytes())
    for f in sorted((ROOT / "course").rglob("*.py")):
        if f.name == "workshop.py":  # the site builder does not change what a lesson computes
            continue
        h.update(f.relative_to(ROOT).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _execute_one(path: str) -> tuple:
    from course import bench

    try:
        nb, secs = bench.execute(Path(path))
    except Exception as e:  # noqa: BLE001 - say which lesson failed, in a picklable error
        raise RuntimeError(f"executing {path} failed: {type(e).__name__}: {str(e)[-2000:]}") from None
    import nbformat

    return nbformat.writes(nb), secs


def executed_notebooks(paths: list, jobs: int = 2, use_cache: bool = True, log=print) -> dict:
    """{path: executed notebook}, each run once in a fresh kernel (cached by content in .course/)."""
    import nbformat
    from concurrent.futures import ProcessPoolExecutor

    result, todo = {}, []
    for p in paths:
        cached = CACHE / f"{p.stem}-{_notebook_key(p)}.ipynb"
        if use_cache and cached.exists():
            result[p] = nbformat.read(cached, as_version=4)
        else:
            todo.append(p)
    if todo:
        CACHE.mkdir(parents=True, exist_ok=True)
        workers = max(1, min(jobs, len(todo)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for p, (text, secs) in zip(todo, pool.map(_execute_one, [str(p) for p in todo])):
                log(f"executed {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} in {secs:.1f} s")
                nb = nbformat.reads(text, as_version=4)
                (CACHE / f"{p.stem}-{_notebook_key(p)}.ipynb").write_text(text, encoding="utf-8")
                result[p] = nb
    return result


@dataclass
class SiteReport:
    out: Path
    pages: list
    seconds: float
    broken: list = field(default_factory=list)
    remote_assets: list = field(default_factory=list)
    external: dict = field(default_factory=dict)

    def summary(self) -> str:
        n_ext = len({u for urls in self.external.values() for u in urls})
        lines = [f"site: {len(self.pages)} page(s) in {self.out} ({self.seconds:.1f} s)",
                 f"internal links broken: {len(self.broken)}; remote assets: {len(self.remote_assets)}; "
                 f"external links listed (not fetched): {n_ext} in external-links.html"]
        lines += [f"  broken: {page}: {href}" for page, href in self.broken]
        lines += [f"  remote asset: {page}: {url}" for page, url in self.remote_assets]
        return "\n".join(lines)


def _misconception_names() -> dict:
    try:
        from course.feedback import MISCONCEPTIONS

        return dict(MISCONCEPTIONS)
    except Exception:  # noqa: BLE001 - the site still builds without the names
        return {m: m for m in MISCONCEPTION_IDS}


def _nav(infos: list, current: str | None) -> str:
    items = "".join(
        f"<li{' class=current' if i.slug == current else ''}><a href='{_e(i.slug)}.html'>{_e(i.title)}</a></li>"
        for i in infos
    )
    return f"<nav class='lessons' aria-label='Lessons'><a href='index.html'>Course home</a><ul>{items}</ul></nav>"


def build_site(out: Path | None = None, only=None, jobs: int = 2, use_cache: bool = True, log=print) -> SiteReport:
    """Build the static site from the executed lessons into `out` (default build/site/)."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    start = time.perf_counter()
    out = Path(out or BUILD / "site")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    infos = [i for i in lessons() if not only or i.number in only or i.slug in only]
    if not infos:
        raise ValueError("no lessons to build")
    names = _misconception_names()
    executed = executed_notebooks([i.path for i in infos], jobs=jobs, use_cache=use_cache, log=log)
    slugs = {i.slug for i in infos}
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"aml-site.html.j2": _SITE_TEMPLATE})],
                            template_file="aml-site.html.j2", embed_images=True)
    pages = []
    for k, info in enumerate(infos):
        nb = nbformat.reads(nbformat.writes(executed[info.path]), as_version=4)  # a copy
        static_widgets(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = math_to_mathml(_lesson_links(cell.source, slugs))
        nb.metadata["title"] = info.title
        ms = ", ".join(f"<abbr title='{_e(names.get(m, m))}'>{m}</abbr> {_e(names.get(m, ''))}" for m in info.misconceptions)
        meta = (f"<div class='lesson-meta'><strong>Targets:</strong> {ms or '—'}<br>"
                f"<strong>Time:</strong> {_e(info.time or '—')}<br>"
                f"<strong>Run it yourself:</strong> <code>python3 run.py</code>, then open "
                f"<code>lessons/{_e(info.path.name)}</code></div>")
        prev_link = f"<a href='{_e(infos[k - 1].slug)}.html'>← {_e(infos[k - 1].title)}</a>" if k else "<span></span>"
        next_link = f"<a href='{_e(infos[k + 1].slug)}.html'>{_e(infos[k + 1].title)} →</a>" if k + 1 < len(infos) else "<span></span>"
        resources = {"metadata": {"name": info.slug, "path": str(info.path.parent)},
                     "site": {"css": _SITE_CSS, "nav": _nav(infos, info.slug), "meta": meta,
                              "pager": f"<div class='pager'>{prev_link}{next_link}</div>"}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        page = out / f"{info.slug}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    pages.insert(0, _write_index(out, infos, names))
    report = SiteReport(out, pages, 0.0)
    report.broken, report.remote_assets, report.external = check_site(out)
    _write_external(out, report.external)
    report.pages.append(out / "external-links.html")
    report.broken, report.remote_assets, _ = check_site(out)
    report.seconds = time.perf_counter() - start
    return report


def _course_title() -> str:
    readme = ROOT / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return "The course"


def _site_page(title: str, body: str) -> str:
    css = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}" + _SITE_CSS
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{_e(title)}</title><style>{css}</style></head>"
            f"<body>{body}</body></html>\n")


def _write_index(out: Path, infos: list, names: dict) -> Path:
    rows = "".join(
        f"<tr><td>{_e(i.number)}</td><td><a href='{_e(i.slug)}.html'>{_e(i.title)}</a></td>"
        f"<td>{_e(', '.join(i.misconceptions))}</td><td>{_e(i.time)}</td></tr>" for i in infos
    )
    legend = "".join(f"<li><strong>{_e(m)}</strong>: {_e(n)}</li>" for m, n in names.items())
    body = (
        f"<h1>{_e(_course_title())}</h1>"
        "<p>The lessons, executed, in course order. To run them and do the exercises: "
        "<code>python3 run.py</code> in a clone of the repository (see its README).</p>"
        "<table class='lessons'><tr><th>#</th><th>lesson</th><th>targets</th><th>time</th></tr>" + rows + "</table>"
        f"<h2>The misconceptions</h2><ul>{legend}</ul>"
        "<p><a href='external-links.html'>Sources and external links cited by the lessons</a></p>"
    )
    f = out / "index.html"
    f.write_text(_site_page(_course_title(), body), encoding="utf-8")
    return f


def _write_external(out: Path, external: dict) -> None:
    items = []
    for page in sorted(external):
        links = "".join(f"<li><a href='{_e(u)}'>{_e(u)}</a></li>" for u in sorted(set(external[page])))
        items.append(f"<h2><a href='{_e(page)}'>{_e(page)}</a></h2><ul>{links}</ul>")
    body = ("<p><a href='index.html'>Course home</a></p><h1>External links</h1>"
            "<p>Links to other sites in the lessons, listed for reference. The build does not fetch them; "
            "check them by hand before a workshop if you rely on them.</p>" + ("".join(items) or "<p>None.</p>"))
    (out / "external-links.html").write_text(_site_page("External links", body), encoding="utf-8")


def check_site(out: Path) -> tuple:
    """Check a built site offline: (broken internal links, remote assets, {page: external links}).

    Internal links (href/src without a scheme) must name a file of the site, and a #fragment an
    id or anchor in it. Assets (`<script src>`, `<link href>`, `<img src>`, `<iframe src>`,
    `<source src>`) must not come from http(s). External `<a href>` links are collected, never fetched.
    """
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.refs, self.ids = [], set()

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            for key in ("id", "name"):
                if a.get(key) and (key == "id" or tag == "a"):
                    self.ids.add(a[key])
            for key in ("href", "src"):
                if a.get(key) is not None:
                    self.refs.append((tag, key, a[key], a.get("rel", "")))

    parsed = {}
    for page in sorted(Path(out).rglob("*.html")):
        c = Collect()
        c.feed(page.read_text(encoding="utf-8"))
        parsed[page.resolve()] = c
    broken, remote, external = [], [], {}
    for page, c in parsed.items():
        rel = page.relative_to(Path(out).resolve()).as_posix()
        for tag, key, value, _rel in c.refs:
            value = value.strip()
            parts = urlsplit(value)
            asset = (tag, key) in {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                                   ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src")}
            if parts.scheme in ("http", "https") or value.startswith("//"):
                if asset:
                    remote.append((rel, value))
                elif tag == "a":
                    external.setdefault(rel, []).append(value)
                continue
            if parts.scheme:  # data:, mailto:, javascript: ...
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append((rel, value))
            elif parts.fragment and target.suffix == ".html":
                ids = parsed.get(target).ids if target in parsed else set()
                if parts.fragment not in ids and unquote(parts.fragment) not in ids:  # as browsers match
                    broken.append((rel, value))
    return broken, remote, external


# --------------------------------------------------------------------------------------------
# The offline bundle
# --------------------------------------------------------------------------------------------
def _manylinux(arch: str, newest: int = 28) -> list:
    """manylinux tags from glibc 2.<newest> down to 2.17 (pip expands only the legacy aliases itself)."""
    tags = [f"manylinux_2_{m}_{arch}" for m in range(newest, 16, -1)] + [f"manylinux2014_{arch}"]
    if arch == "x86_64":
        tags += [f"manylinux_2_12_{arch}", f"manylinux2010_{arch}", f"manylinux_2_5_{arch}", f"manylinux1_{arch}"]
    return tags


# pip --platform tags per platform: glibc 2.28+ (Debian 10, Ubuntu 18.10, RHEL 8 and later); pip
# itself expands a macOS tag to the older macOS versions and universal2.
PLATFORMS = {
    "linux-x86_64": _manylinux("x86_64"),
    "linux-aarch64": _manylinux("aarch64"),
    "macos-x86_64": ["macosx_13_0_x86_64"],
    "macos-arm64": ["macosx_14_0_arm64"],
    "windows-x86_64": ["win_amd64"],
}
# The marker environment of each platform, to pick the conditional dependencies of the lock
# (pip evaluates markers for the machine it runs on, not for --platform).
MARKERS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
}
PLATFORM_PINS = WORKSHOP / "bundle" / "platform-pins.txt"


def current_platform() -> str:
    import platform

    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)
    if sys.platform.startswith("linux"):
        return f"linux-{arch}"
    if sys.platform == "darwin":
        return f"macos-{'arm64' if arch in ('arm64', 'aarch64') else arch}"
    if sys.platform == "win32":
        return f"windows-{arch}"
    return f"{sys.platform}-{arch}"


def platform_pins(platform_name: str) -> list:
    """The pins of workshop/bundle/platform-pins.txt whose marker holds on that platform."""
    env = dict(MARKERS.get(platform_name, {}))
    pins = []
    for line in PLATFORM_PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req, _, marker = line.partition(";")
        if not marker.strip() or _marker_holds(marker.strip(), env):
            pins.append(req.strip())
    return pins


def _marker_holds(marker: str, env: dict) -> bool:
    """Evaluate a simple marker (`name == "value"` joined by and/or) against env, stdlib only."""
    def atom(m):
        name, op, value = m.group(1), m.group(2), m.group(3)
        have = env.get(name, "")
        return str(have == value if op == "==" else have != value)
    expr = re.sub(r'(\w+)\s*(==|!=)\s*["\']([^"\']*)["\']', atom, marker)
    if not re.fullmatch(r"[\s()]*((True|False)[\s()]*((and|or)[\s()]*)?)*", expr):
        raise ValueError(f"unsupported marker: {marker!r}")
    return bool(eval(expr, {"__builtins__": {}}))  # noqa: S307 - only True/False/and/or/() remain


@dataclass
class BundleReport:
    out: Path
    platforms: list
    wheels: int
    size_bytes: int
    seconds: float
    incomplete: dict = field(default_factory=dict)

    def summary(self) -> str:
        text = (f"bundle: {self.out} — {self.wheels} wheels for {', '.join(self.platforms) or 'no platform'}, "
                f"{self.size_bytes / 1e6:.0f} MB, built in {self.seconds:.0f} s")
        for plat, pins in self.incomplete.items():
            text += f"\n  NOT for {plat}: no wheel of {', '.join(pins)} (those learners need the hub or Binder)"
        return text


def _pip_download(args: list, pins: list, env: dict) -> list:
    """Download exact pins (no dependency resolution: the pins are the complete set); return the
    pins that have no wheel for the target, after fetching all the others."""
    noise = "WARNING: Location"
    pins, missing = list(pins), []
    with tempfile.TemporaryDirectory() as tmp:
        while pins:
            req = Path(tmp) / "pins.txt"
            req.write_text("\n".join(pins) + "\n")
            cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "download", "--quiet",
                   "--no-deps", *args, "-r", str(req)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode == 0:
                break
            msg = "\n".join(l for l in (res.stdout + res.stderr).splitlines() if not l.startswith(noise))
            m = re.search(r"No matching distribution found for (\S+)", msg)
            found = [p for p in pins if m and _pin_name(p) == _pin_name(m.group(1))]
            if not found:
                raise RuntimeError(f"pip download failed:\n{msg[-3000:]}")
            missing.append(found[0])
            pins.remove(found[0])
    return missing


def build_bundle(out: Path | None = None, platforms=None, python: str = "3.11", with_tests: bool = True,
                 ref: str = "HEAD", log=print) -> BundleReport:
    """Build the offline bundle into `out` (default build/bundle/aml-course-bundle)."""
    start = time.perf_counter()
    requested = list(platforms or ["current"])
    if "all" in requested:
        requested = list(PLATFORMS)
    unknown = [p for p in requested if p not in PLATFORMS and p != "current"]
    if unknown:
        raise ValueError(f"unknown platform(s) {unknown}; choose from current, all, {', '.join(PLATFORMS)}")
    here = current_platform()
    out = Path(out or BUILD / "bundle" / "aml-course-bundle")
    if out.exists():
        shutil.rmtree(out)
    wheelhouse = out / "wheelhouse"
    wheelhouse.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the tests' no-network sitecustomize must not reach pip
    env.pop("PIP_NO_INDEX", None)
    major_minor = ".".join(python.split(".")[:2])
    pyver = major_minor.replace(".", "")
    same_python = f"{sys.version_info[0]}{sys.version_info[1]}" == pyver
    # pip checks Requires-Python against a full version: "3.11" would mean 3.11.0, and some pins
    # need a later 3.11 (soupsieve 4 needs 3.11.5). Use this interpreter's release of that minor.
    if python.count(".") < 2:
        python = f"{major_minor}.{sys.version_info[2]}" if same_python else f"{major_minor}.0"
    platforms, missing = [], {}
    for plat in dict.fromkeys(requested):
        name = here if plat == "current" else plat
        platforms.append(name)
        log(f"downloading wheels for {name}, Python {python} ...")
        target = ["--only-binary=:all:", "-d", str(wheelhouse)]
        if plat != "current" or not same_python:
            target += ["--python-version", python, "--implementation", "cp",
                       "--abi", f"cp{pyver}", "--abi", "abi3", "--abi", "none"]
        if plat != "current":  # the named platforms: wheels for the oldest systems they cover
            for tag in PLATFORMS[plat]:
                target += ["--platform", tag]
        pins = _pins(REQ / "lock.txt") + platform_pins(name) + (_pins(REQ / "test.txt") if with_tests else [])
        missing[name] = _pip_download(target, pins, env)
        # secml's metadata caps Python below 3.11 (wrongly): fetched as run.py installs it.
        missing[name] += _pip_download(target + ["--ignore-requires-python"], _pins(REQ / "secml.txt"), env)
        if missing[name]:
            log(f"  no wheel for {name}: {', '.join(missing[name])} — learners on {name} cannot install offline")
    if missing.get(here) and "current" in requested:
        raise RuntimeError(f"no wheel for this platform ({here}): {', '.join(missing[here])}")
    log("archiving the repository ...")
    archive = out / "aml-course.zip"
    res = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=zip", "--prefix=aml-course/",
                          "-o", str(archive), ref], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"git archive failed: {res.stderr.strip()}")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True).stdout.strip()
    for name in ("install.py", "install.sh", "install.bat", "README.txt"):
        shutil.copy2(WORKSHOP / "bundle" / name, out / name)
    (out / "install.sh").chmod(0o755)
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    complete = [p for p in platforms if not missing.get(p)]
    manifest = {"commit": commit, "ref": ref, "python": major_minor, "pip_python_version": python,
                "platforms": complete, "incomplete": {p: m for p, m in missing.items() if m},
                "built": datetime.now().isoformat(timespec="seconds"), "wheels": wheels}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return BundleReport(out, complete, len(wheels), size, time.perf_counter() - start,
                        {p: m for p, m in missing.items() if m})


# --------------------------------------------------------------------------------------------
# The hub's user environment (workshop/hub/README.md): used by .ci/install-system and the hub test
# --------------------------------------------------------------------------------------------
HUB_ENV = Path(os.environ.get("COURSE_HUB_ENV", "/opt/aml-course/hub-env"))
HUB_PYTHON = os.environ.get("COURSE_HUB_PYTHON", "/usr/bin/python3.11")


def _pin_name(line: str) -> str:
    return re.split(r"[=<>!~ ;\[]", line, 1)[0].strip().lower().replace("_", "-")


def _pins(path: Path) -> list:
    return [l.split("#", 1)[0].strip() for l in Path(path).read_text().splitlines() if l.split("#", 1)[0].strip()]


def hub_requirements() -> list:
    """The hub's pins: requirements/hub.txt, plus the lock's pins that hub.txt does not replace."""
    def pins(path):
        return [l.split("#", 1)[0].strip() for l in Path(path).read_text().splitlines() if l.split("#", 1)[0].strip()]
    hub = pins(REQ / "hub.txt")
    replaced = {_pin_name(p) for p in hub}
    return [p for p in pins(REQ / "lock.txt") if _pin_name(p) not in replaced] + hub


def ensure_hub_env(env_dir: Path = HUB_ENV, python: str = HUB_PYTHON, log=print) -> Path:
    """Create (or update) the hub's environment; a no-op when its pins have not changed."""
    env_dir = Path(env_dir)
    reqs = hub_requirements()
    secml = (REQ / "secml.txt").read_text()
    stamp = hashlib.sha256(("\n".join(reqs) + secml + python).encode()).hexdigest()
    stamp_file = env_dir / ".hub-stamp"
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp and (env_dir / "bin" / "jupyterhub").exists():
        return env_dir
    log(f"building the hub's user environment in {env_dir} with {python} ...")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if not (env_dir / "bin" / "python").exists():
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True, env=env)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input", "install", "--quiet"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(reqs) + "\n")
    try:
        for cmd in (pip + ["-r", f.name], pip + ["--no-deps", "--ignore-requires-python", "-r", str(REQ / "secml.txt")]):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode != 0:
                noise = "WARNING: Location"
                raise RuntimeError("building the hub environment failed:\n" + "\n".join(
                    l for l in (res.stdout + res.stderr).splitlines() if not l.startswith(noise))[-3000:])
    finally:
        os.unlink(f.name)
    _readable(env_dir)
    stamp_file.write_text(stamp + "\n")
    return env_dir


def install_course(env_dir: Path = HUB_ENV) -> None:
    """Install this repository's `course` package (a copy, not a link) into the hub's environment."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "course", src / "course", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "pyproject.toml", src / "pyproject.toml")
        shutil.copy2(ROOT / "README.md", src / "README.md")
        res = subprocess.run([str(Path(env_dir) / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
                              "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall", str(src)],
                             env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("installing the course package into the hub environment failed:\n" + res.stderr[-2000:])
    _readable(env_dir)


def _readable(path: Path) -> None:
    """Every user must be able to read and run the environment (chmod -R a+rX)."""
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=False)


# --------------------------------------------------------------------------------------------
# The `course` subcommands
# --------------------------------------------------------------------------------------------
def _cmd_agenda(args) -> int:
    try:
        written = agenda(Path(args.out) if args.out else None, args.track or None, pdf=not args.no_pdf)
    except ValueError as e:
        print(f"course agenda: {e}", file=sys.stderr)
        return 2
    for f in written["html"] + written["pdf"]:
        print(f)
    if not args.no_pdf and not written["pdf"]:
        print("(no PDF: Chromium is not installed; print the HTML from a browser instead)")
    missing = missing_references(load_tracks())
    if missing:
        print("note: not in this copy of the course yet: " + ", ".join(f"{k} {n} ({t})" for t, k, n in missing))
    return 0


def _cmd_site(args) -> int:
    report = build_site(Path(args.out) if args.out else None, only=args.lessons or None, jobs=args.jobs,
                        use_cache=not args.no_cache)
    print(report.summary())
    print(f"open {report.out / 'index.html'}")
    return 1 if report.broken or report.remote_assets else 0


def _cmd_bundle(args) -> int:
    try:
        report = build_bundle(Path(args.out) if args.out else None, platforms=args.platform or None,
                              python=args.python, with_tests=not args.no_tests, ref=args.ref)
    except (ValueError, RuntimeError) as e:
        print(f"course bundle: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"hand out the folder {report.out} (e.g. on a USB stick); learners run install.sh, or install.bat on Windows")
    return 0


def add_commands(subparsers) -> None:
    """Add `agenda`, `site` and `bundle` to the `course` command's subparsers."""
    a = subparsers.add_parser("agenda", help="render the workshop tracks and the facilitator guide (HTML, and PDF with Chromium)")
    a.add_argument("--track", action="append", help="a track id (repeatable; default: all tracks)")
    a.add_argument("--out", help="output folder (default: build/workshop)")
    a.add_argument("--no-pdf", action="store_true", help="HTML only")
    a.set_defaults(func=_cmd_agenda)
    s = subparsers.add_parser("site", help="build the static course site from the executed lessons (offline)")
    s.add_argument("--out", help="output folder (default: build/site)")
    s.add_argument("--lessons", nargs="*", help="lesson numbers or names (default: all)")
    s.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    s.add_argument("--no-cache", action="store_true", help="execute every lesson again, ignoring .course/site-cache")
    s.set_defaults(func=_cmd_site)
    b = subparsers.add_parser("bundle", help="build an offline install bundle (wheelhouse + repository + install scripts)")
    b.add_argument("--platform", action="append", choices=["current", "all", *PLATFORMS],
                   help="target platform (repeatable; default: current)")
    b.add_argument("--python", default="3.11", help="Python version of the learners' machines (default: 3.11)")
    b.add_argument("--out", help="output folder (default: build/bundle/aml-course-bundle)")
    b.add_argument("--no-tests", action="store_true", help="leave out the test tools (pytest)")
    b.add_argument("--ref", default="HEAD", help="git revision to archive (default: HEAD)")
    b.set_defaults(func=_cmd_bundle)


def main(argv=None) -> int:
    """`python3 course/workshop.py hub-env` (stdlib only), or the three commands as `course` has them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["hub-env"]:
        env_dir = ensure_hub_env(Path(argv[1]) if len(argv) > 1 else HUB_ENV)
        print(f"hub environment ready: {env_dir}")
        return 0
    p = argparse.ArgumentParser(prog="workshop")
    add_commands(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

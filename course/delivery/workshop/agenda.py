"""`course agenda`: the tracks and the facilitator guide as printable HTML, and PDF through headless Chromium."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from course.delivery.workshop.catalogue import (
    BUILD,
    GUIDE,
    as_list,
    escape,
    find_exercises,
    find_lessons,
    lesson_info,
    load_tracks,
    schedule,
    track_problems,
)

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


def _inline(text: str) -> str:
    """Escape text, then turn `code` and **bold** into HTML (the only markup tracks.toml uses)."""
    out = escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _describe_ref(kind: str, number: str) -> str:
    paths = find_lessons(number) if kind == "lesson" else find_exercises(number)
    if not paths:
        return f'<span class="missing">{kind} {escape(number)} (not in this copy of the course yet)</span>'
    parts = []
    for path in paths:
        if kind == "lesson":
            info = lesson_info(path)
            ms = ", ".join(info.misconceptions)
            parts.append(f"<code>lessons/{escape(path.name)}</code> — {escape(info.title)}"
                         + (f" <span class='meta'>[{escape(ms)}]</span>" if ms else ""))
        else:
            parts.append(f"<code>my-work/{escape(path.parent.name)}/{escape(path.name)}</code>")
    return "<br>".join(parts)


def render_track_html(track: dict, first: bool = False) -> str:
    rows = []
    for start, end, item in schedule(track):
        refs = [_describe_ref("lesson", n) for n in as_list(item.get("lesson"))]
        refs += ["exercise " + _describe_ref("exercise", n) for n in as_list(item.get("exercise"))]
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
            f"<td><span class='kind'>{escape(item['kind'])}</span></td><td>{''.join(detail)}</td></tr>"
        )
    homework = "".join(
        f"<li>exercise {_describe_ref('exercise', n)}: {_inline(h.get('why', ''))}</li>"
        for h in track.get("homework", []) for n in as_list(h.get("exercise"))
    )
    in_room = [n for i in track.get("item", []) if i.get("kind") == "exercise" for n in as_list(i.get("exercise"))]
    return (
        f"<section class='track{' first' if first else ''}' id='track-{escape(track['id'])}'>"
        f"<h1>{escape(track['title'])}</h1>"
        f"<p class='meta'><strong>{track['minutes']} minutes</strong>, from {escape(track.get('start', '09:00'))}. "
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
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
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
    """Render every track (or the chosen ones) and the guide; return {"html": [...], "pdf": [...]}.

    One file per track (agenda-<id>.html) and the guide; the page of all tracks (workshop.html) is
    written only when every track is chosen, so `--track 90min` never replaces it: a chosen subset
    gets its own combined page, workshop-<ids>.html.
    """
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
    toc = "".join(f"<li><a href='#track-{escape(t['id'])}'>{escape(t['title'])}</a></li>" for t in tracks)
    body = (
        f"<nav class='toc'><strong>{escape(data.get('course', {}).get('title', 'Workshop'))}</strong><ul>{toc}"
        "<li><a href='#guide'>Facilitator guide</a></li></ul></nav>"
        + "".join(render_track_html(t, first=(k == 0)) for k, t in enumerate(tracks))
        + f"<section class='guide' id='guide'>{guide}</section>"
    )
    chosen = [t["id"] for t in tracks]
    everything = out / ("workshop.html" if len(tracks) == len(data["track"]) else f"workshop-{'-'.join(chosen)}.html")
    everything.write_text(_page("Workshop: agendas and facilitator guide", body), encoding="utf-8")
    written["html"].insert(0, everything)
    if pdf and chromium():
        for f in list(written["html"]):
            p = f.with_suffix(".pdf")
            if print_pdf(f, p):
                written["pdf"].append(p)
    return written

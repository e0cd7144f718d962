"""`course site` builds a static HTML site from the executed lessons: navigation in course order,
                 each lesson's misconceptions and time, no asset from a CDN, internal links checked
                 offline, external links listed (never fetched).
"""
from __future__ import annotations

import hashlib
import html
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from course import ROOT
from course.delivery.workshop.catalogue import (
    BUILD,
    CACHE,
    MISCONCEPTION_IDS,
    escape,
    lessons,
)
from course.ground.maths import math_to_mathml  # shared with the grader's feedback pages

# --------------------------------------------------------------------------------------------
# Lessons and exercises: what the notebooks say about themselves
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Tracks and agendas
# --------------------------------------------------------------------------------------------


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
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
{%- set alt=output | get_metadata('alt', 'image/png') -%}
{%- if alt is not none %} alt="{{ alt | escape_html }}"{%- endif %}>
</div>
{%- endblock data_png %}
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

    A static page cannot run a widget; it shows what the widget's output area held (a slider: its
    first, middle and last values when the site's figures module drew them), and no widget script
    is needed (nbconvert would otherwise load one from a CDN).
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
            drawn = sum(1 for o in outputs if "text/markdown" in o.get("data", {}))
            shown = f"Shown here at {drawn} of its values" if drawn > 1 else "Shown here at its first value"
            note = (f"<div class='widget-note'>Interactive in JupyterLab: {html.escape(what)}. "
                    f"{shown}; run the lesson to move it.</div>")
            import nbformat

            new.append(nbformat.v4.new_output("display_data", data={"text/html": note}))
            new += [nbformat.from_dict(o) for o in outputs]
        cell.outputs = new
    nb.metadata.pop("widgets", None)


def _lesson_links(markdown: str, slugs: set) -> str:
    """Links to another lesson's .ipynb become links to its page; a link to an exercise in the learner's
    workspace (the site does not host exercises) keeps its text and loses the link."""
    def repl(m):
        target = m.group(2)
        stem = Path(urlsplit(target).path).stem
        if target.endswith(".ipynb") and "://" not in target:
            return f"{m.group(1)}({stem}.html)" if stem in slugs else m.group(1)[1:-1]
        return m.group(0)
    return re.sub(r"(\[[^\]]*\])\(([^)\s]+)\)", repl, markdown)


def _notebook_key(path: Path) -> str:
    h = hashlib.sha256(Path(path).read_bytes())
    for f in sorted((ROOT / "course").rglob("*.py")):
        if "delivery" in f.relative_to(ROOT / "course").parts and f.name != "figures.py":
            continue  # delivery does not change what a lesson computes (figures.py changes what it shows)
        h.update(f.relative_to(ROOT).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _execute_one(path: str) -> tuple:
    from course.delivery import bench
    from course.delivery.workshop import figures

    try:
        nb, secs = bench.execute(Path(path), setup=figures.SETUP)
    except Exception as e:  # noqa: BLE001 - say which lesson failed, in a picklable error
        raise RuntimeError(f"executing {path} failed: {type(e).__name__}: {str(e)[-2000:]}") from None
    import nbformat

    return nbformat.writes(nb), secs


def executed_notebooks(paths: list, jobs: int = 2, use_cache: bool = True, log=print) -> dict:
    """{path: executed notebook}, each run once in a fresh kernel (cached by content in .course/)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import nbformat

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
        # spawned, not forked: the caller may run threads (a test run, a server), and a forked child gets their
        # locks in whatever state they were (Python 3.12 warns about forking such a process)
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
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
        from course.ground.misconceptions import MISCONCEPTIONS

        return dict(MISCONCEPTIONS)
    except Exception:  # noqa: BLE001 - the site still builds without the names
        return {m: m for m in MISCONCEPTION_IDS}


def _nav(infos: list, current: str | None) -> str:
    items = "".join(
        f"<li{' class=current' if i.slug == current else ''}><a href='{escape(i.slug)}.html'>{escape(i.title)}</a></li>"
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
                            template_file="aml-site.html.j2", embed_images=False)
    # embed_images=True re-parses the Markdown's HTML and empties every <math> element (the MathML
    # stays as bare text); the lessons have no Markdown images, and figures are embedded either way.
    pages = []
    for k, info in enumerate(infos):
        nb = nbformat.reads(nbformat.writes(executed[info.path]), as_version=4)  # a copy
        static_widgets(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = math_to_mathml(_lesson_links(cell.source, slugs))
        nb.metadata["title"] = info.title
        ms = ", ".join(f"<abbr title='{escape(names.get(m, m))}'>{m}</abbr> {escape(names.get(m, ''))}" for m in info.misconceptions)
        meta = (f"<div class='lesson-meta'><strong>Targets:</strong> {ms or '—'}<br>"
                f"<strong>Time:</strong> {escape(info.time or '—')}<br>"
                f"<strong>Run it yourself:</strong> <code>python3 run.py</code>, then open "
                f"<code>lessons/{escape(info.path.name)}</code></div>")
        prev_link = f"<a href='{escape(infos[k - 1].slug)}.html'>← {escape(infos[k - 1].title)}</a>" if k else "<span></span>"
        following = infos[k + 1] if k + 1 < len(infos) else None
        next_link = f"<a href='{escape(following.slug)}.html'>{escape(following.title)} →</a>" if following else "<span></span>"
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
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title><style>{css}</style></head>"
            f"<body>{body}</body></html>\n")


def _write_index(out: Path, infos: list, names: dict) -> Path:
    rows = "".join(
        f"<tr><td>{escape(i.number)}</td><td><a href='{escape(i.slug)}.html'>{escape(i.title)}</a></td>"
        f"<td>{escape(', '.join(i.misconceptions))}</td><td>{escape(i.time)}</td></tr>" for i in infos
    )
    legend = "".join(f"<li><strong>{escape(m)}</strong>: {escape(n)}</li>" for m, n in names.items())
    body = (
        f"<h1>{escape(_course_title())}</h1>"
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
        links = "".join(f"<li><a href='{escape(u)}'>{escape(u)}</a></li>" for u in sorted(set(external[page])))
        items.append(f"<h2><a href='{escape(page)}'>{escape(page)}</a></h2><ul>{links}</ul>")
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


# --------------------------------------------------------------------------------------------
# The hub's user environment (workshop/hub/README.md): used by .ci/install-system and the hub test
# --------------------------------------------------------------------------------------------


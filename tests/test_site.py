"""The course site (slow): built from every lesson executed offline, nothing from a CDN, links checked.

Lessons are executed in fresh kernels with networking unavailable (the tests' sitecustomize),
two at a time; executions are cached in .course/site-cache by the content of the lesson and the
course package. The build time is written to test-artifacts/site-build.json.
"""
from __future__ import annotations

import html
import json
import re

import pytest
from conftest import ROOT, ensure_extra

from course.delivery.workshop import catalogue, site

ARTIFACTS = ROOT / "test-artifacts"


def _site_extras() -> None:
    """latex2mathml (requirements/site.txt) renders the lessons' maths without MathJax's CDN."""
    ensure_extra("site.txt", "latex2mathml")


@pytest.mark.slow
def test_site_builds_offline_from_the_executed_lessons(tmp_path):
    _site_extras()
    out = tmp_path / "site"
    report = site.build_site(out, jobs=2, log=print)
    infos = catalogue.lessons()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "site-build.json").write_text(json.dumps(
        {"seconds": round(report.seconds, 1), "lessons": len(infos), "pages": len(report.pages),
         "external_links": sorted({u for urls in report.external.values() for u in urls})}, indent=1) + "\n")
    print(report.summary())

    assert report.broken == [], report.summary()
    assert report.remote_assets == [], report.summary()
    # Independently of the checker: no http(s) asset in <script src>, <link href>, <img src>.
    asset = re.compile(r"<(?:script|img|iframe|source)\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//|"
                       r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//", re.I)
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not asset.search(text), f"{page.name} loads an asset from the network"
        assert "cdnjs" not in text and "unpkg.com" not in text and "MathJax" not in text, page.name

    def links(text: str) -> list:
        return re.findall(r"href=[\"']([^\"'#]+)\.html[\"']", text)

    index = (out / "index.html").read_text(encoding="utf-8")
    assert [l for l in links(index) if l != "external-links"] == [i.slug for i in infos], "index in course order"
    for k, info in enumerate(infos):
        page = (out / f"{info.slug}.html").read_text(encoding="utf-8")
        nav = re.search(r"<nav[^>]*class=[\"']lessons[\"'][^>]*>(.*?)</nav>", page, re.S)
        assert nav, f"{info.slug} has no lesson navigation"
        assert [l for l in links(nav.group(1)) if l != "index"] == [i.slug for i in infos]
        meta = re.search(r"class=[\"']lesson-meta[\"']>(.*?)</div>", page, re.S)
        assert meta, f"{info.slug} does not show its misconceptions and time"
        assert all(m in meta.group(1) for m in info.misconceptions), info.slug
        assert html.escape(info.time, quote=False) in meta.group(1), f"{info.slug}: its time is not shown"
        assert "Traceback (most recent call last)" not in page, f"{info.slug} raised while executing"
        if k + 1 < len(infos):
            pager = page[page.rindex("pager"):]
            assert f"{infos[k + 1].slug}.html" in pager
    assert (out / "external-links.html").exists()
    lesson01 = (out / "lesson-01-ml-recap.html").read_text(encoding="utf-8")
    assert "<math" in lesson01 and "Interactive in JupyterLab: L2 budget" in lesson01
    assert "data:image/png;base64," in lesson01, "figures are embedded in the page"
    assert "\\lVert" not in lesson01, "TeX left unconverted"
    for page in out.glob("lesson-*.html"):
        text = page.read_text(encoding="utf-8")
        empty = re.findall(r"<math[^>]*>\s*</math>", text)
        assert not empty, f"{page.name}: {len(empty)} empty <math> elements (the MathML was stripped)"
        assert "No description has been provided" not in text, f"{page.name}: a figure without alt text"
        for alt in re.findall(r"<img[^>]*\balt=\"([^\"]*)\"", text):
            assert alt.startswith("Figure") and len(alt) > 20, f"{page.name}: alt text {alt!r}"
    assert "Shown here at 3 of its values" in lesson01, "the budget slider is shown at first, middle and last values"
    for v in ("0.00", "1.00", "2.00"):
        assert f"L2 budget = {v}" in lesson01

"""TeX in Markdown to MathML, at build time: a page then shows its maths offline, with no MathJax from a CDN.

Shared by the course site (`course.delivery.workshop.site`) and the graders' feedback pages
(`course.grader.cohort`). Without latex2mathml (requirements/site.txt) the TeX stays as it is, still readable.
"""
from __future__ import annotations

import re

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])", re.S)
_CODE_SPANS = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def math_to_mathml(markdown: str) -> str:
    """Replace $...$ and $$...$$ outside code with MathML (rendered by browsers, no script needed)."""
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

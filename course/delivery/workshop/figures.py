"""Figures on the static site: alt text written from what a figure shows, sliders at three states.

The site executes each lesson with `SETUP` as an extra first cell (removed again before export).
It runs `install()` in the lesson's kernel, which
- gives every matplotlib figure's PNG an "alt" in its output metadata, described from the figure
  itself (`describe`: titles, axes and their ranges, the labelled series, image grids); PNG bytes
  a lesson saves itself (`fig.savefig(buffer)`, shown later with `IPython.display.Image`) get the
  description of the figure they were saved from;
- makes `course.science.widgets.slider` draw its first, middle and last values into its output
  area, each under a line naming the value, so a static page shows what moving the slider does
  (lesson 01's budget slider at budget 0 alone hides the lesson's point).
Nothing here changes what a lesson computes, and the learner's JupyterLab never runs it.
"""
from __future__ import annotations

import hashlib

SETUP = "import course.delivery.workshop.figures as _site_figures\n_site_figures.install()"

_SAVED: dict = {}  # sha256 of PNG bytes a lesson saved -> description of the figure they came from


def _span(lo: float, hi: float) -> str:
    return f"from {lo:.3g} to {hi:.3g}"


def _axes_text(ax) -> str:
    """One sentence about one axes: what it plots, on which axes, which series."""
    title = ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right")
    images = ax.get_images()
    if not ax.axison:
        if images:
            return f"an image{f' titled {title!r}' if title else ''}"
        return ""
    parts = [f"a plot titled {title!r}" if title else "a plot"]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xl, yl = ax.get_xlabel(), ax.get_ylabel()
    parts.append(f"x axis {xl!r} {_span(x0, x1)}" if xl else f"x {_span(x0, x1)}")
    parts.append(f"y axis {yl!r} {_span(y0, y1)}" if yl else f"y {_span(y0, y1)}")
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()] if legend else []
    if not labels:
        labels = [a.get_label() for a in (*ax.get_lines(), *ax.collections, *ax.containers)
                  if a.get_label() and not a.get_label().startswith("_")]
    n_lines = sum(1 for line in ax.get_lines() if len(line.get_xdata()) > 1)
    n_points = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    n_bars = sum(len(c) for c in ax.containers)
    shown = [f"{n} {what}{'s' if n > 1 else ''}" for n, what in ((n_lines, "curve"), (n_points, "point"), (n_bars, "bar")) if n]
    if images:
        shown.append("a shaded map")
    if shown:
        parts.append("showing " + ", ".join(shown))
    if labels:
        parts.append("series: " + ", ".join(labels[:8]) + (" …" if len(labels) > 8 else ""))
    return "; ".join(parts)


def describe(fig, limit: int = 600) -> str:
    """Alt text for a matplotlib figure, from its titles, axes, ranges and labelled series."""
    head = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""  # noqa: SLF001
    axes = fig.get_axes()
    off = [ax for ax in axes if not ax.axison and ax.get_images()]
    texts = []
    if len(off) > 3:  # a grid of images (digits): say how many and the first captions
        captions = [ax.get_title() for ax in off if ax.get_title()]
        texts.append(f"a grid of {len(off)} images" + (f", captions such as {', '.join(repr(c) for c in captions[:3])}"
                                                         if captions else ""))
        axes = [ax for ax in axes if ax not in off]
    texts += [t for t in (_axes_text(ax) for ax in axes) if t]
    body = (f"Figure {head!r}: " if head else "Figure: ") + (". ".join(texts) if texts else "an empty figure") + "."
    body = " ".join(body.split())
    return body if len(body) <= limit else body[: limit - 1] + "…"


def slider_states(values) -> list:
    """The first, middle and last of a slider's values (fewer when it has fewer)."""
    values = list(values)
    picks = [0, (len(values) - 1) // 2, len(values) - 1] if values else []
    return [values[k] for k in sorted(set(picks))]


def install() -> None:
    """In a lesson's kernel, for the site only: alt text on every figure, sliders at three states."""
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import Image
    from matplotlib.figure import Figure

    from course.science import widgets

    shell = get_ipython()
    shell.run_line_magic("matplotlib", "inline")  # the kernel's default, set up now so that its formatter can be wrapped
    png = shell.display_formatter.formatters["image/png"]
    original = png.lookup_by_type(Figure)

    def with_alt(fig):
        return original(fig), {"alt": describe(fig)}

    png.for_type(Figure, with_alt)

    savefig = Figure.savefig

    def remembering_savefig(self, fname, *args, **kwargs):
        result = savefig(self, fname, *args, **kwargs)
        if hasattr(fname, "getvalue"):
            _SAVED[hashlib.sha256(fname.getvalue()).hexdigest()] = describe(self)
        return result

    Figure.savefig = remembering_savefig
    bundle = Image._repr_mimebundle_

    def image_with_alt(self, include=None, exclude=None):
        result = bundle(self, include, exclude)
        if not isinstance(result, tuple):
            return result  # not embedded: a link, no image data here
        data, md = result
        alt = _SAVED.get(hashlib.sha256(self.data).hexdigest()) if isinstance(self.data, bytes) else None
        if alt:
            mimetype = next(iter(data))
            md = dict(md or {})
            md[mimetype] = {**md.get(mimetype, {}), "alt": alt}
        return data, md

    Image._repr_mimebundle_ = image_with_alt
    slider = widgets.slider

    def three_states(draw, values, *, description="budget", value=None, fmt=".2f"):
        from IPython.display import Markdown, display

        box = slider(draw, values, description=description, value=value, fmt=fmt)
        out = box.children[-1]
        out.clear_output()
        with out:
            for v in slider_states(values):
                display(Markdown(f"**{description} = {format(float(v), fmt)}**"))
                draw(v)
                plt.show()
        return box

    widgets.slider = three_states

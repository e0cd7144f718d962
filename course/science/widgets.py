"""Interactive widgets: move a parameter, watch what it changes.

Each widget draws from precomputed results, so that every change answers at once
(the course's budget: 300 ms a change).
"""
from __future__ import annotations

import numpy as np


def slider(draw, values, *, description="budget", value=None, fmt=".2f"):
    """A slider over precomputed values; `draw(v)` is called into an output area on every change.

    Returns the ipywidgets VBox: make it the cell's last line so the notebook shows it.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    values = [float(v) for v in values]
    out = w.Output()
    s = w.SelectionSlider(
        options=[(format(v, fmt), v) for v in values], value=values[0] if value is None else value,
        description=description, continuous_update=True, layout=w.Layout(width="60%"),
    )

    def update(change=None):
        with out:
            out.clear_output(wait=True)
            draw(s.value)
            plt.show()

    s.observe(update, names="value")
    update()
    return w.VBox([s, out])


def nearest(values, v):
    """Index of the value closest to v (for looking up precomputed results)."""
    return int(np.argmin(np.abs(np.asarray(values, dtype=float) - v)))

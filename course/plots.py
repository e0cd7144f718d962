"""Figures of the course, readable in greyscale and by colour-blind readers.

Colours come from the Okabe-Ito palette; every class or curve also differs by marker or
line style, every axis is labelled, and every plot of a measurement states its sample size.
"""
from __future__ import annotations

import numpy as np

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":"]
# Light region tints of different lightness, so two regions differ in greyscale too.
REGION_TINTS = ["#B3D4EC", "#F9E0B0", "#B8E3D4", "#EBCCE0"]


def _plt():
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams["axes.prop_cycle"] = cycler(color=PALETTE[:4]) + cycler(linestyle=LINESTYLES)
    return plt


def _ax(ax, figsize=(5, 4)):
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def decision_regions(model, X, y, *, ax=None, adv=None, paths=None, title=None, resolution=200, margin=0.5, labels=None):
    """Draw what a 2-D model predicts everywhere, the data on top, and optionally attacks.

    Parameters
    ----------
    model : fitted classifier on 2 features.
    X, y : points to draw (marker and colour by true class).
    adv : adversarial versions of (some of) the points, drawn as crosses.
    paths : list of arrays of iterates (from `course.attacks.evade(..., return_paths=True)`).
    """
    from matplotlib.colors import ListedColormap

    ax = _ax(ax)
    X = np.asarray(X, dtype=float)
    pts = [X] + ([np.asarray(adv)] if adv is not None else []) + [np.asarray(p) for p in (paths or [])]
    allp = np.vstack(pts)
    (x0, y0), (x1, y1) = allp.min(0) - margin, allp.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    classes = list(model.classes_)
    zz = np.searchsorted(classes, model.predict(grid)).reshape(gx.shape)
    ax.contourf(gx, gy, zz, levels=np.arange(len(classes) + 1) - 0.5, cmap=ListedColormap(REGION_TINTS[: len(classes)]))
    ax.contour(gx, gy, zz, levels=np.arange(len(classes)) + 0.5, colors="black", linewidths=1.2)
    names = labels or [f"class {c}" for c in classes]
    for i, c in enumerate(classes):
        m = np.asarray(y) == c
        ax.scatter(X[m, 0], X[m, 1], c=PALETTE[i], marker=MARKERS[i], edgecolors="black", linewidths=0.5, s=30, label=names[i])
    for p in paths or []:
        p = np.asarray(p)
        ax.plot(p[:, 0], p[:, 1], color="black", linewidth=1.0, linestyle="-")
    if adv is not None:
        adv = np.asarray(adv)
        ax.scatter(adv[:, 0], adv[:, 1], c="black", marker="x", s=40, linewidths=1.5, label="after attack")
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return ax


def security_curves(curves, *, ax=None, title=None):
    """Plot accuracy under attack against the budget, one line per curve (`course.evaluation.SecurityCurve`)."""
    ax = _ax(ax, (5.5, 4))
    curves = curves if isinstance(curves, (list, tuple)) else [curves]
    for i, c in enumerate(curves):
        ax.plot(c.budgets, c.accuracy, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=f"{c.label or 'model'} (n={c.n_samples})")
    norm = {"l2": "L2", "l1": "L1", "linf": "L∞"}.get(curves[0].norm, curves[0].norm)
    ax.set_xlabel(f"perturbation budget ({norm} norm)")
    ax.set_ylabel("accuracy under attack")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title or "Security evaluation curve")
    ax.legend(fontsize="small")
    return ax


def digit_grid(images, titles=None, *, ncols=8, size=1.3):
    """Show 8x8 (or any square) images in a grid with a title under each."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    side = int(round(np.sqrt(images[0].size)))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.3)), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def bars(values: dict, *, ax=None, xlabel="", ylabel="", title=None, fmt="{:.2f}"):
    """A labelled bar chart of named numbers, hatched so bars differ without colour."""
    ax = _ax(ax, (5.5, 3.5))
    names = list(values)
    hatches = ["", "//", "..", "xx", "\\\\", "oo"]
    for i, n in enumerate(names):
        ax.bar(i, values[n], color=PALETTE[i % len(PALETTE)], edgecolor="black", hatch=hatches[i % len(hatches)])
        ax.text(i, values[n], fmt.format(values[n]), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax

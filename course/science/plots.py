"""Figures of the course, readable in greyscale and by colour-blind readers.

Colours come from the Okabe-Ito palette; every class or curve also differs by marker or
line style, every axis is labelled, and every plot of a measurement states its sample size.
"""
from __future__ import annotations

import numpy as np

from course.ground.misconceptions import MISCONCEPTIONS
from course.science import poisoning, supply_chain, threat_modelling

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
    adv : adversarial versions of (some of) the points, drawn as crosses. When there is one per point,
        a point the attack flipped (right before, wrong after) is a large vermilion X joined to where it
        started, and a point that moved but is still right a small grey cross: the legend counts both.
    paths : list of arrays of iterates (from `course.science.attacks.evade(..., return_paths=True)`).
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
        _draw_attacked(ax, model, X, y, np.asarray(adv, dtype=float))
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return ax


def _draw_attacked(ax, model, X, y, adv) -> None:
    """The attacked points of `decision_regions`: flipped ones apart from the others (when one per point)."""
    if len(adv) != len(X):
        ax.scatter(adv[:, 0], adv[:, 1], c="black", marker="x", s=40, linewidths=1.5, label="after attack")
        return
    y = np.asarray(y)
    flipped = (np.asarray(model.predict(X)) == y) & (np.asarray(model.predict(adv)) != y)
    held = ~flipped
    ax.scatter(adv[held, 0], adv[held, 1], c="#7F7F7F", marker="x", s=18, linewidths=1.0,
               label=f"moved, not flipped ({int(held.sum())})")
    for (x0, y0), (x1, y1) in zip(X[flipped], adv[flipped]):
        ax.plot([x0, x1], [y0, y1], color=PALETTE[5], linewidth=0.8, alpha=0.8)
    ax.scatter(adv[flipped, 0], adv[flipped, 1], c=PALETTE[5], marker="X", s=70, edgecolors="black", linewidths=0.6,
               label=f"flipped by the attack ({int(flipped.sum())})")


def security_curves(curves, *, ax=None, title=None):
    """Plot accuracy under attack against the budget, one line per curve (`course.science.evaluation.SecurityCurve`)."""
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


def draw_rates(x, curves: dict, *, ax=None, xlabel="", ylabel="success rate", title=None, logx=False, baseline=None):
    """Lines of success rates against x (a budget, a number of queries), one per named curve,
    in the course palette with distinct markers and line styles; `baseline` adds a dashed
    grey reference line (e.g. random noise of the same size): (label, values)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    for i, (label, ys) in enumerate(curves.items()):
        ax.plot(x, ys, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=label)
    if baseline is not None:
        ax.plot(x, baseline[1], color="grey", linestyle=(0, (2, 2)), marker="x", label=baseline[0])
    if logx:
        ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def draw_grouped_bars(values: dict, *, ax=None, ylabel="", title=None, fmt="{:.0%}"):
    """Grouped bars: `values[group][member]`, one group per outer key (e.g. a surrogate), one bar per
    inner key (e.g. a target), hatched so the bars differ without colour, each labelled with its value."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    groups = list(values)
    members = list(values[groups[0]])
    width = 0.8 / len(members)
    hatches = ["", "//", "..", "xx", "\\\\", "oo"]
    for j, member in enumerate(members):
        xs = np.arange(len(groups)) + (j - (len(members) - 1) / 2) * width
        vals = [values[g][member] for g in groups]
        ax.bar(xs, vals, width, color=PALETTE[j % len(PALETTE)], edgecolor="black",
               hatch=hatches[j % len(hatches)], label=member)
        for x, v in zip(xs, vals):
            ax.text(x, v + 0.01, fmt.format(v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def naive_vs_adaptive(naive, report, reference=None, *, title: str = "", ax=None):
    """One defence's two evaluations on one plot: the naive curve, the adaptive worst case and
    (optionally) the undefended model's adaptive worst case; a dotted line marks the stated budget."""
    from copy import copy

    curves = [copy(naive), copy(report.worst)] + ([copy(reference.worst)] if reference is not None else [])
    for c, name in zip(curves, ["naive evaluation", "adaptive evaluation (worst case)", "undefended model, adaptive"]):
        c.label = name
    b = report.threat.budget
    head = f"{title}\n" if title else ""
    ax = security_curves(curves, ax=ax, title=f"{head}naive {naive.at(b):.2f} vs adaptive {report.worst_case:.2f} at budget {b:g}")
    ax.axvline(b, color="grey", linewidth=0.8, linestyle=":")
    return ax


def belief_comparison(before: dict, after: dict | None = None, *, n_items: int, ax=None, title=None):
    """Horizontal bars of the share correct per misconception: before (hatched), after (solid), if given.

    `before` and `after` map each misconception ID to a share of statements answered correctly
    (`course.science.beliefs.score`); `n_items` is the number of statements per misconception.
    """
    import textwrap

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 6.2))
    ms = list(MISCONCEPTIONS)
    series = [("before" if after is not None else "your answers", before, PALETTE[1], "//")]
    if after is not None:
        series.append(("after", after, PALETTE[0], ""))
    height = 0.8 / len(series)
    for k, (label, shares, colour, hatch) in enumerate(series):
        ys = [i + (k - (len(series) - 1) / 2) * height for i in range(len(ms))]
        ax.barh(ys, [shares[m] for m in ms], height=height * 0.95, color=colour, hatch=hatch,
                edgecolor="black", label=label)
        for y, m in zip(ys, ms):
            ax.text(shares[m] + 0.015, y, f"{round(shares[m] * n_items)}/{n_items}", va="center", fontsize=8.5)
    labels = [f"{m}: " + "\n".join(textwrap.wrap(MISCONCEPTIONS[m], 34)) for m in ms]
    ax.set_yticks(range(len(ms)), labels, fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.5)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("share of statements answered correctly")
    ax.set_title(title or "Mental-model check: before and after", fontsize=11)
    ax.legend(title=f"n = {n_items} statements\nper misconception", fontsize=8.5, title_fontsize=8.5,
              loc="center right")
    ax.grid(axis="x", alpha=0.3)
    ax.figure.tight_layout()
    return ax


def prediction_gap(pairs: dict, *, ax=None, title=None, xlabel: str = "value"):
    """Predicted vs measured, one row per quantity: a hollow circle (predicted), a filled square (measured),
    and the gap between them. `pairs` maps a label to (predicted, measured)."""
    labels = list(pairs)
    ax = _ax(ax, (6, 0.9 + 0.6 * len(labels)))
    for i, name in enumerate(labels):
        predicted, measured = pairs[name]
        ax.plot([predicted, measured], [i, i], color="grey", lw=2, zorder=1)
        ax.scatter([predicted], [i], s=90, facecolors="white", edgecolors=PALETTE[1], linewidths=2, marker=MARKERS[0],
                   zorder=2, label="your prediction" if i == 0 else None)
        ax.scatter([measured], [i], s=90, color=PALETTE[0], marker=MARKERS[1], zorder=3,
                   label="measured" if i == 0 else None)
        ax.annotate(f"gap {measured - predicted:+.2f}", ((predicted + measured) / 2, i), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=9)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title or f"Your prediction and the measurement (n = {len(labels)} quantities)", fontsize=11)
    ax.legend(loc="best", fontsize=8.5)
    ax.grid(axis="x", alpha=0.3)
    return ax


def poisoning_curve(curve, ax=None):
    """Test error against the share of poisoned training points: random flips vs optimised."""
    ax = _ax(ax, (5.5, 4))
    x = 100 * curve.fractions
    n = len(curve.random_error)
    for i, (label, err) in enumerate([("random label flips", curve.random_error),
                                      ("optimised poisoning (secml)", curve.optimised_error)]):
        mean = err.mean(0)
        ax.plot(x, mean, marker=MARKERS[i], color=PALETTE[i], linestyle=LINESTYLES[i], label=label)
        if n > 1:
            ax.fill_between(x, err.min(0), err.max(0), color=PALETTE[i], alpha=0.15)
    ax.set_xlabel("poisoned share of the training set (%)")
    ax.set_ylabel("test error of the RBF SVM")
    ax.set_ylim(0, max(0.3, float(curve.optimised_error.max()) + 0.02))
    ax.grid(alpha=0.3)
    ax.set_title(f"Same budget, different damage ({n} splits, n_train={curve.n_train}, n_test={curve.n_test})",
                 fontsize=10)
    ax.legend(fontsize="small", title="mean; band = min-max over splits" if n > 1 else None, title_fontsize="x-small")
    return ax


def poisoned_regions(d, X_poison, y_poison, ax=None, title=None, resolution: int = 150, grid=None, **settings):
    """The SVM trained on clean + poisoning points over the whole box [0, 1]^2: decision regions,
    the clean training points, and the poisoning points drawn large with a thick black edge
    (marker and colour by the label they carry). `grid`: the output of `regions` for these
    points, precomputed (so that a slider only draws)."""
    from matplotlib.colors import ListedColormap

    X_poison = np.asarray(X_poison, dtype=float).reshape(-1, 2)
    y_poison = np.asarray(y_poison).astype(int)
    zz = poisoning.regions(d, X_poison, y_poison, resolution, **settings) if grid is None else grid
    ax = _ax(ax, (5, 4.5))
    lo, hi = poisoning.PLOT_BOX
    gx, gy = np.meshgrid(np.linspace(lo, hi, zz.shape[1]), np.linspace(lo, hi, zz.shape[0]))
    ax.contourf(gx, gy, zz, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(REGION_TINTS[:2]))
    ax.contour(gx, gy, zz, levels=[0.5], colors="black", linewidths=1.2)
    for c in (0, 1):
        m = d.y_train == c
        ax.scatter(d.X_train[m, 0], d.X_train[m, 1], c=PALETTE[c], marker=MARKERS[c], edgecolors="black",
                   linewidths=0.5, s=30, label=f"class {c}")
    for c in (0, 1):
        m = y_poison == c
        if m.any():
            ax.scatter(X_poison[m, 0], X_poison[m, 1], s=120, marker=MARKERS[c], facecolors=PALETTE[c],
                       edgecolors="black", linewidths=2.2, label=f"poison labelled {c}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize="x-small", framealpha=0.9)
    return ax


def feedback_loop_result(results: dict, axes=None, n_watch: int = 3000, n_target: int = 500):
    """Two panels over the retraining rounds: what the dashboard shows (overall accuracy) and
    what the attacker targets (share of the campaign's mail caught), one line per scenario."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (label, r) in enumerate(results.items()):
        style = dict(marker=MARKERS[i], color=PALETTE[i], linestyle=LINESTYLES[i % 4], label=label)
        axes[0].plot(r.rounds, 100 * r.dashboard_accuracy, **style)
        axes[1].plot(r.rounds, 100 * r.campaign_caught, **style)
    axes[0].set_ylim(90, 100.5)
    axes[0].set_ylabel("overall accuracy (%)")
    axes[0].set_title(f"The team's dashboard (n={n_watch} mails a round)", fontsize=10)
    axes[1].set_ylim(0, 102)
    axes[1].set_ylabel("campaign mail caught as spam (%)")
    axes[1].set_title(f"What the attacker targets (n={n_target} campaign mails)", fontsize=10)
    for ax in axes:
        ax.set_xlabel("retraining round")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize="small", loc="lower left")
    return axes


def backdoor_curve(curve, ax=None, title=None):
    """Clean accuracy and attack success rate against the number of poisoned training images."""
    ax = _ax(ax, (6, 4))
    for i, (label, values) in enumerate([("clean accuracy (your images)", curve.clean_accuracy),
                                         ("attack success rate (triggered images)", curve.attack_success)]):
        ax.plot(curve.n_poisoned, 100 * values, marker=MARKERS[i], color=PALETTE[i],
                linestyle=LINESTYLES[i], label=label)
    ax.set_xlabel("poisoned images in the vendor's training set")
    ax.set_ylabel("%")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center right")
    ax.set_title(title or f"A backdoor is cheap (n_test={curve.n_test})", fontsize=10)
    return ax


def trigger_scans(scans: dict, marks: dict | None = None, axes=None):
    """Heat maps of `scan_patches` results (share of images pushed to one class per patch position)."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, len(scans), figsize=(4.2 * len(scans), 3.8), squeeze=False)
        axes = axes[0]
    for ax, (name, sc) in zip(axes, scans.items()):
        im = ax.imshow(100 * sc.rate, cmap="cividis", vmin=0, vmax=100)
        r, c = sc.best
        ax.scatter([c], [r], marker="s", s=160, facecolors="none", edgecolors="white", linewidths=2)
        if marks and marks.get(name) is not None:
            tr, tc = marks[name]
            ax.scatter([tc], [tr], marker="x", s=90, c="white", linewidths=2)
        ax.set_title(f"{name}\nmax {sc.rate.max():.0%} at {sc.best} -> class {sc.target[sc.best]}", fontsize=9)
        ax.set_xlabel("patch column")
        ax.set_ylabel("patch row")
    plt.colorbar(im, ax=list(axes), label="% of images pushed to one class", shrink=0.85)
    return axes


def responsibility(ax=None):
    """The supply chain of a model, left to right: who supplies each artefact, and the check that
    belongs at that stage of *your* workflow (every one of them is run by the team that uses it)."""
    from matplotlib.patches import FancyBboxPatch

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(14, 4.4))
    n, step, width = len(supply_chain.CHAIN), 2.45, 2.1
    for i, (who, what, check) in enumerate(supply_chain.CHAIN):
        x = i * step
        own = i >= 2
        ax.add_patch(FancyBboxPatch((x, 1.7), width, 0.85, boxstyle="round,pad=0.05",
                                    facecolor=REGION_TINTS[0 if own else 1], edgecolor="black",
                                    linestyle="-" if own else "--", linewidth=1.5))
        ax.text(x + width / 2, 2.3, who, ha="center", va="center", fontsize=9.5, weight="bold")
        ax.text(x + width / 2, 1.95, what, ha="center", va="center", fontsize=8.5)
        ax.text(x + width / 2, 1.45, check, ha="center", va="top", fontsize=8, linespacing=1.3)
        if i < n - 1:
            ax.annotate("", xy=(x + step - 0.02, 2.12), xytext=(x + width + 0.08, 2.12),
                        arrowprops=dict(arrowstyle="->", lw=1.5))
    ax.text(0.0, 2.8, "supplied by others (dashed)", fontsize=9, style="italic")
    ax.text(2 * step, 2.8, "your workflow (solid)", fontsize=9, style="italic")
    ax.text(-0.1, 0.35, "Checks (below each stage) are run by the team that USES the artefact: a vendor cannot test "
            "your data, and nobody else monitors your deployment.", fontsize=9)
    ax.set_xlim(-0.2, (n - 1) * step + width + 0.2)
    ax.set_ylim(0.1, 3.0)
    ax.axis("off")
    ax.set_title("Who supplies what, and where each check belongs", fontsize=10.5)
    return ax


def workflow(*, ax=None, title=None):
    """Draw an ML workflow as a loop of stages, and mark where each AML and classic threat enters.

    Threat labels differ by marker and hatching as well as by colour (readable in greyscale).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 8.4))
    w, h = _STAGE_BOX
    pos = {s.id: s.xy for s in threat_modelling.STAGES}

    # the classic security perimeter: the organisation's servers, storage and code
    ax.add_patch(FancyBboxPatch((-0.1, 0.1), 11.15, 5.0, boxstyle="round,pad=0.05,rounding_size=0.3",
                                fill=False, linestyle="--", linewidth=1.4, edgecolor="#444444"))
    ax.text(10.95, 4.95, "your organisation's servers, storage and code\n(what classic security protects)",
            ha="right", va="top", fontsize=9, color="#222222", style="italic")

    def box(x, y, label, shaded):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    facecolor="#E6E6E6" if shaded else "white", edgecolor="black", linewidth=1.3))
        ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", fontsize=10, weight="bold")

    for s in threat_modelling.STAGES:
        box(*s.xy, s.label, s.id == "sources")
    box(*_USERS, "Users - and\nattackers (same API)", True)

    def arrow(p, q, rad=0.0, style="arc3"):
        conn = f"arc3,rad={rad}" if style == "arc3" else style
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=14, linewidth=1.3, color="black",
                                     connectionstyle=conn, zorder=2))

    def side(sid, where, f=0.5):
        x, y = pos[sid]
        return {"left": (x, y + h * f), "right": (x + w, y + h * f), "top": (x + w * f, y + h),
                "bottom": (x + w * f, y)}[where]

    arrow(side("collection", "right"), side("labelling", "left"))
    arrow(side("labelling", "right"), side("training", "left"))
    arrow(side("training", "right"), side("evaluation", "left"))
    arrow(side("evaluation", "bottom"), side("deployment", "top"))
    arrow(side("deployment", "left"), side("monitoring", "right"))
    arrow(side("monitoring", "left"), side("retraining", "right"))
    arrow(side("retraining", "top"), side("labelling", "bottom"))
    arrow(side("sources", "bottom"), side("collection", "top"))
    arrow(side("sources", "right", 0.85), side("training", "top", 0.5), style="angle,angleA=0,angleB=90,rad=0")
    ux, uy = _USERS
    arrow((ux + 0.6, uy + h), side("deployment", "bottom", 0.29))
    arrow(side("deployment", "bottom", 0.71), (ux + 1.5, uy + h))
    ax.text(ux - 0.1, uy + h + 0.35, "queries,\npredictions", ha="right", va="center", fontsize=8.5, style="italic")
    ax.text(pos["retraining"][0] + w / 2 + 0.1, 2.6, "feedback becomes\nnew labelled data", ha="left", va="center",
            fontsize=8.5, style="italic")
    ax.text(4.6, pos["sources"][1] + h * 0.85 + 0.08, "pretrained model", ha="left", va="bottom", fontsize=8.5,
            style="italic")

    for sid, badges in _BADGES.items():
        x0, y0 = pos[sid]
        for tid, dx, dy in badges:
            t = threat_modelling.BY_ID[tid]
            marker, ci, border, _ = _KIND_STYLE[t.kind]
            bx, by = x0 + dx, y0 + dy + 0.13
            ax.scatter([bx + 0.12], [by], marker=marker, s=80, color=PALETTE[ci], edgecolors="black",
                       linewidths=0.8, zorder=4)
            ax.text(bx + 0.32, by, t.name, va="center", fontsize=9.5, zorder=4,
                    weight="bold" if t.kind == "AML" else "normal",
                    bbox=dict(boxstyle="round,pad=0.18", facecolor="white", edgecolor=PALETTE[ci],
                              linestyle=border, linewidth=1.4 if t.kind == "AML" else 1.2))
    handles = [Line2D([], [], marker=m, linestyle="", markersize=9, markerfacecolor=PALETTE[ci],
                      markeredgecolor="black", label=text) for m, ci, _, text in _KIND_STYLE.values()]
    ax.legend(handles=handles, loc="upper right", fontsize=9, framealpha=1.0, title="where a threat enters",
              title_fontsize=9.5)
    ax.set_xlim(-0.3, 13.8)
    ax.set_ylim(-2.0, 6.75)
    ax.set_aspect("equal")
    ax.axis("off")
    counts = f"{len(threat_modelling.STAGES)} stages, {len(threat_modelling.THREATS)} threats"
    ax.set_title(title or f"An ML workflow and where attacks enter ({counts})",
                 fontsize=12)
    ax.figure.tight_layout()
    return ax


def controls(*, ax=None, title=None):
    """Draw which control stops (dark, "stops"), limits (hatched, "limits") or does nothing against each threat."""
    from matplotlib.patches import Rectangle

    plt = _plt()
    order = [t.id for t in threat_modelling.THREATS if t.kind == "AML"] + [t.id for t in threat_modelling.THREATS if t.kind == "both"] + \
            [t.id for t in threat_modelling.THREATS if t.kind == "classic"]
    controls = list(threat_modelling.CONTROLS)
    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 5.4))
    style = {"stops": (PALETTE[0], "", "stops", "white"),
             "limits": (REGION_TINTS[1], "///", "limits", "black"),
             "no": ("white", "", "-", "#777777")}
    for r, c in enumerate(controls):
        for k, tid in enumerate(order):
            face, hatch, text, colour = style[threat_modelling.EFFECT[c][tid]]
            ax.add_patch(Rectangle((k, r), 1, 1, facecolor=face, hatch=hatch, edgecolor="#999999", linewidth=0.8))
            ax.text(k + 0.5, r + 0.5, text, ha="center", va="center", fontsize=8.5, color=colour,
                    weight="bold" if text == "stops" else "normal",
                    bbox=dict(boxstyle="round,pad=0.1", facecolor=face, edgecolor="none") if text == "limits" else None)
    n_aml = sum(t.kind == "AML" for t in threat_modelling.THREATS)
    for x in (n_aml, n_aml + 1):
        ax.axvline(x, color="black", linewidth=2)
    ax.set_xlim(0, len(order))
    ax.set_ylim(len(controls), 0)
    ax.set_xticks([k + 0.5 for k in range(len(order))], [threat_modelling.BY_ID[t].name for t in order], rotation=30, ha="right")
    ax.set_yticks([r + 0.5 for r in range(len(controls))], [c.replace("_", " ") for c in controls])
    ax.tick_params(length=0)
    ax.text(n_aml / 2, -0.25, "AML threats", ha="center", va="bottom", fontsize=10, weight="bold")
    ax.text(n_aml + 0.5, -0.25, "both", ha="center", va="bottom", fontsize=10, weight="bold")
    ax.text(n_aml + 1 + (len(order) - n_aml - 1) / 2, -0.25, "classic threats", ha="center", va="bottom",
            fontsize=10, weight="bold")
    ax.set_title(title or f"Which control stops which threat ({len(controls)} controls x {len(order)} threats)",
                 pad=22, fontsize=12)
    ax.figure.tight_layout()
    return ax


_STAGE_BOX = (2.1, 1.0)  # width, height of a stage box


_KIND_STYLE = {  # marker, colour index in plots.PALETTE, label border style, legend text
    "AML": ("^", 5, "-", "AML: enters through a legitimate input (data, labels, queries)"),
    "classic": ("s", 0, "--", "classic: breaks in (servers, storage) or floods"),
    "both": ("D", 3, ":", "both: an ML artefact that runs code"),
}


# Where each threat's label sits, per stage: (dx, dy) from the stage box's lower-left corner.
_BADGES = {
    "sources": [("backdoor", 2.25, 0.72), ("poisoning", 2.25, 0.32), ("unsafe_file", 2.25, -0.08)],
    "collection": [("data_breach", 0.0, -0.45), ("poisoning", 0.0, -0.85)],
    "labelling": [("poisoning", 0.1, 1.1)],
    "training": [("code_breach", 0.1, -0.45)],
    "deployment": [("evasion", 2.6, 0.55), ("extraction", 2.6, 0.15), ("membership", 2.6, -0.25),
                   ("dos", 2.6, -0.65)],
    "retraining": [("poisoning", 0.1, -0.45)],
}


_USERS = (8.6, -1.75)  # lower-left corner of the users' box, outside the perimeter


def defence_report(report, *, ax=None, title=None):
    """Security evaluation curve of every attack, and the worst case (thick black)."""
    ax = _ax(ax, (6, 4))
    for i, (name, c) in enumerate(report.curves.items()):
        ax.plot(c.budgets, c.accuracy, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], alpha=0.8, label=name)
    ax.plot(report.worst.budgets, report.worst.accuracy, color="black", linewidth=2.5, marker="*", markersize=9,
            label="worst case")
    norm = {"l2": "L2", "l1": "L1", "linf": "L∞"}.get(report.threat.norm, report.threat.norm)
    ax.set_xlabel(f"perturbation budget ({norm} norm)")
    ax.set_ylabel("accuracy under attack")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{report.label or 'model'}: adaptive evaluation (n={report.n_samples})")
    ax.legend(fontsize="x-small")
    return ax


# --------------------------------------------------------------------------- lesson 11: LLM-integrated applications
def guardrail_curves(report, *, ax=None, title=None):
    """A text guardrail's evaluation (`course.science.llm_apps.evaluate_guardrail`): share of injections stopped
    against the edit budget, one line per attack, the worst case thick and black, the stated budget dotted."""
    ax = _ax(ax, (6, 4))
    for i, (name, c) in enumerate(report.curves.items()):
        ax.plot(c.budgets, c.accuracy, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=name)
    ax.plot(report.worst.budgets, report.worst.accuracy, color="black", linewidth=2.5, marker="*", markersize=9,
            label="worst case")
    b = report.threat.budget
    ax.axvline(b, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("edit budget (edits per prompt)")
    ax.set_ylabel("share of injections stopped")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    naive = report.worst.accuracy[0]
    ax.set_title(title or f"{report.label}: naive {naive:.2f} vs adaptive {report.worst_case:.2f} at {b} edits "
                          f"(n={report.n_samples})", fontsize="medium")
    ax.legend(fontsize="x-small")
    return ax


def rag_poisoning(planted, results: dict, *, n_targets: int, n_others: int, index_size: int, ax=None, title=None):
    """Per way of writing the planted texts (`results`: name -> (steered, kept) shares per count): targeted answers
    changed (solid) and untargeted answers kept (dashed), against the number of texts planted per target."""
    ax = _ax(ax, (6.5, 4))
    for i, (name, (steered, kept)) in enumerate(results.items()):
        ax.plot(planted, steered, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)],
                label=f"{name}: targets steered (of {n_targets})")
        ax.plot(planted, kept, marker=MARKERS[i % len(MARKERS)], color=PALETTE[i % len(PALETTE)], linestyle="--",
                alpha=0.7, label=f"{name}: other answers kept (of {n_others})")
    ax.set_xlabel("texts planted per targeted question")
    ax.set_ylabel("share of questions")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(list(planted))
    ax.grid(alpha=0.3)
    ax.set_title(title or f"Poisoning a retrieval index of {index_size} documents (n={n_targets} targets)",
                 fontsize="medium")
    ax.legend(fontsize="x-small")
    return ax


def sessions(summary: dict, flagged=(), *, ax=None, title=None):
    """Each session of a guardrail's log: prompts sent (log scale) against how alike its prompts are."""
    ax = _ax(ax, (6, 4))
    names = sorted(summary)
    x = np.array([summary[s]["prompts"] for s in names])
    y = np.array([summary[s]["alike"] for s in names])
    mark = np.array([s in set(flagged) for s in names])
    ax.scatter(x[~mark], y[~mark], marker=MARKERS[0], color=PALETTE[0], label="session")
    ax.scatter(x[mark], y[mark], marker=MARKERS[6], s=90, color=PALETTE[5], label="flagged")
    for s, a, b, m in zip(names, x, y, mark):
        if m:
            ax.annotate(s, (a, b), textcoords="offset points", xytext=(5, 5), fontsize="small")
    ax.set_xscale("log")
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if x.min() / 2 <= t <= x.max() * 2]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("prompts sent in the day (log scale)")
    ax.set_ylabel("similarity of consecutive prompts")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"A day of guardrail logs (n={len(names)} sessions, {int(x.sum())} prompts)", fontsize="medium")
    ax.legend(fontsize="x-small")
    return ax

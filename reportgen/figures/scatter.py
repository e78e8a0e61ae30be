"""2-D embeddings (t-SNE) of test images, coloured by true class, one panel per run."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from reportgen.figures.roc import class_colours
from reportgen.figures.style import house_style, new_figure


def plot_embedding(coords, labels, classes: list[str], *, ax: Axes | None = None) -> Axes:
    """Scatter ``coords`` ``(N, 2)`` coloured by ``labels`` ``(N,)`` (class indices into ``classes``).

    Points are rasterized (a few thousand vector dots make a slow PDF); t-SNE axes have no units, so the
    ticks are hidden.
    """
    xy = np.asarray(coords, dtype=float).reshape(-1, 2)
    y = np.asarray(labels, dtype=int)
    colours = np.array(class_colours(len(classes)))
    with house_style():
        if ax is None:
            _, axes = new_figure(width=3.3, aspect=1.0)
            ax = axes[0, 0]
        if len(y):
            # A seeded shuffle draws the classes interleaved, so the last class does not cover the others.
            order = np.random.default_rng(0).permutation(len(y))
            ax.scatter(xy[order, 0], xy[order, 1], c=colours[y[order]], s=4, linewidths=0, alpha=0.85,
                       rasterized=True)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():  # a light frame: t-SNE axes have no scale worth a black axis line
            spine.set_visible(True)
            spine.set_color("0.8")
        ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_embedding_grid(panels: list[dict], classes: list[str]):
    """One panel per run (``{"label", "coords", "labels"}`` and optionally a short ``"note"`` shown right of
    the title), up to three per row, one class legend."""
    ncols = min(len(panels), 3) or 1
    nrows = -(-len(panels) // ncols) if panels else 1
    fig, axes = new_figure(ncols, nrows, aspect=0.95 if ncols > 1 else 0.7)
    flat = axes.ravel()
    for ax, panel in zip(flat, panels, strict=False):
        plot_embedding(panel["coords"], panel["labels"], classes, ax=ax)
        ax.set_title(panel["label"], loc="left")
        if panel.get("note"):
            ax.set_title(panel["note"], loc="right", fontsize=7, color="0.3")
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    with house_style():
        handles = [Line2D([], [], ls="", marker="o", markersize=5, color=c) for c in class_colours(len(classes))]
        fig.legend(handles, [f"class {c}" for c in classes], loc="outside lower center",
                   ncols=min(len(classes), 10), frameon=False, handletextpad=0.2, columnspacing=1.0)
    return fig

"""Confusion broken down by class factors: small annotated per-factor matrices, and a large full matrix kept
legible at ~100 classes (no per-cell numbers, lines between blocks of the outer factors, block labels)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm

from reportgen.figures.confusion import plot_confusion
from reportgen.figures.style import FULL_WIDTH, house_style, new_figure

CMAP = "Blues"
MIN_CELL_PT = 14  # a cell narrower than this (in points) is too small for a 7 pt number ("100" is ~13 pt)
BIG = 6  # a factor with more levels than this gets a larger panel
MAX_TICKS = 16  # at most this many block labels along an axis
MAX_LINES = 24  # a grouping level with more blocks than this gets no lines


def _rows_pct(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=float)
    return 100 * m / np.maximum(m.sum(axis=1, keepdims=True), 1)


def plot_factor_confusion(matrix, levels: list[str], *, name: str = "", annotate: bool = True,
                          ax: Axes | None = None) -> Axes:
    """One factor's ``(L, L)`` confusion counts, drawn row-normalised (%): true level on rows, predicted on
    columns; ``annotate`` writes each cell's percentage."""
    shown = _rows_pct(matrix)
    n = len(levels)
    with house_style():
        if ax is None:
            _, axes = new_figure(width=3.3, aspect=1.0)
            ax = axes[0, 0]
        ax.grid(False)
        ax.spines[:].set_visible(True)  # a closed frame: the house style drops the top and right spines
        ax.imshow(shown, cmap=CMAP, vmin=0, vmax=100)
        if annotate:
            counts = np.asarray(matrix)
            for i in range(n):
                for j in range(n):
                    if counts[i, j] == 0 and i != j:
                        continue  # empty cells stay blank, so the few confusions stand out
                    ax.text(j, i, f"{shown[i, j]:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if shown[i, j] > 50 else "black")
        rotate = 90 if max(map(len, levels)) > 3 and n > 2 else 0
        ax.set_xticks(range(n), levels, rotation=rotate)
        ax.set_yticks(range(n), levels)
        ax.set_xlabel(f"predicted {name}".strip())
        ax.set_ylabel(f"true {name}".strip())
    return ax


def layout(sizes: list[int]) -> list[list[str]]:
    """A ``subplot_mosaic`` layout for factors with ``sizes`` levels (panel ``"0"``, ``"1"``, ...).

    Up to four small factors (at most ``BIG`` levels) share one row. Otherwise bands of 2 rows × 4 columns are
    filled in order: a factor with many levels takes a 2×2 block (room for a number in each cell), a small one
    a single cell, so e.g. length, width, angle (12 levels), colour give ``[[0, 1, 2, 2], [3, ., 2, 2]]``."""
    if all(n <= BIG for n in sizes) and len(sizes) <= 4:
        return [[str(i) for i in range(len(sizes))]]
    bands: list[list[list[str]]] = []
    for i, n in enumerate(sizes):
        for band in [*bands, None]:
            if band is None:
                band = [["."] * 4, ["."] * 4]
                bands.append(band)
            cells = [(r, c) for pair in (0, 2) for r in (0, 1) for c in (pair, pair + 1)]
            if n > BIG:
                free = [p for p in (0, 2) if all(band[r][c] == "." for r in (0, 1) for c in (p, p + 1))]
                if free:
                    for r in (0, 1):
                        band[r][free[0]] = band[r][free[0] + 1] = str(i)
                    break
            else:
                spot = next(((r, c) for r, c in cells if band[r][c] == "."), None)
                if spot:
                    band[spot[0]][spot[1]] = str(i)
                    break
    return [row for band in bands for row in band]


def plot_factor_grid(factors: list[dict]):
    """Every factor's matrix (see :func:`layout`) with one shared colour bar.

    ``factors`` holds dicts with ``name``, ``levels`` and ``matrix`` (counts, true level on rows)."""
    import matplotlib.pyplot as plt

    mosaic = layout([len(f["levels"]) for f in factors])
    ncols, nrows = len(mosaic[0]), len(mosaic)
    cell_in = FULL_WIDTH / ncols
    with house_style():
        fig = plt.figure(figsize=(FULL_WIDTH, cell_in * nrows * 1.05), layout="constrained")
        axes = fig.subplot_mosaic(mosaic, empty_sentinel=".")
    for i, f in enumerate(factors):
        ax = axes[str(i)]
        span = sum(row.count(str(i)) for row in mosaic) ** 0.5  # 1 for a single cell, 2 for a 2×2 block
        cell_pt = cell_in * span * 72 * 0.7 / len(f["levels"])  # about 70 % of a panel's width is the matrix
        plot_factor_confusion(f["matrix"], f["levels"], name=f["name"], annotate=cell_pt >= MIN_CELL_PT, ax=ax)
        m = np.asarray(f["matrix"])
        with house_style():  # the accuracy of the matrix shown (one seed), not the mean over seeds
            ax.set_title(f"{f['name']}: {100 * np.trace(m) / max(m.sum(), 1):.1f} % right")
    with house_style():
        fig.colorbar(axes["0"].images[0], ax=list(axes.values()), shrink=0.6, label="% of true level")
    return fig


def plot_full_confusion(full: dict, *, ax: Axes | None = None) -> Axes:
    """The full ``(N, N)`` matrix (already sorted), row-normalised, without per-cell numbers.

    ``full`` holds ``matrix``, ``classes`` and ``groups``: per grouping depth, ``spans`` of ``[start, stop,
    label]``. Lines separate the blocks of each depth with at most ``MAX_LINES`` blocks (thicker for outer
    factors); the axis labels name the blocks of the deepest depth with at most ``MAX_TICKS`` blocks, or every
    class when there are no factors and few classes."""
    shown = _rows_pct(full["matrix"])
    n = len(full["classes"])
    with house_style():
        if ax is None:
            _, axes = new_figure(width=FULL_WIDTH, aspect=0.9)
            ax = axes[0, 0]
        ax.grid(False)
        ax.spines[:].set_visible(True)
        # A square-root colour scale, so that confusions of a few percent stay visible beside a dark diagonal.
        image = ax.imshow(shown, cmap=CMAP, norm=PowerNorm(0.5, vmin=0, vmax=100), interpolation="nearest")
        drawn = [g for g in full["groups"] if len(g["spans"]) <= MAX_LINES]
        for g in drawn:
            width, colour = (1.0, "0.2") if g["depth"] == 1 else (0.4, "0.5")
            for start, _stop, _label in g["spans"][1:]:
                ax.axhline(start - 0.5, color=colour, linewidth=width)
                ax.axvline(start - 0.5, color=colour, linewidth=width)
        labelled = [g for g in full["groups"] if len(g["spans"]) <= MAX_TICKS]
        if labelled:
            spans = labelled[-1]["spans"]
            centres = [(start + stop - 1) / 2 for start, stop, _ in spans]
            names = [label for _, _, label in spans]
            ax.set_xticks(centres, names, rotation=90)
            ax.set_yticks(centres, names)
            ax.tick_params(length=0)
        else:
            step = max(1, -(-n // 40))  # at most ~40 class labels per axis
            ticks = list(range(0, n, step))
            ax.set_xticks(ticks, [full["classes"][i] for i in ticks], rotation=90 if n > 10 else 0)
            ax.set_yticks(ticks, [full["classes"][i] for i in ticks])
        order = f" (sorted by {', '.join(full['factors'])})" if full.get("factors") else ""
        ax.set_xlabel(f"predicted class{order}")
        ax.set_ylabel(f"true class{order}")
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.6, label="% of true class (square-root scale)")
        bar.set_ticks([0, 5, 20, 50, 100])
    return ax


def plot_full_figure(full: dict):
    """The full matrix as a figure: annotated like ``confusion`` for up to 12 classes without factors, else
    :func:`plot_full_confusion`."""
    n = len(full["classes"])
    if not full["groups"] and n <= 12:
        fig, axes = new_figure(width=4.0, aspect=0.9)
        plot_confusion(full["matrix"], full["classes"], normalize=True, ax=axes[0, 0])
        return fig
    fig, axes = new_figure(width=FULL_WIDTH, aspect=0.85)
    plot_full_confusion(full, ax=axes[0, 0])
    return fig

"""Confusion matrices, legible at 10+ classes."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from reportgen.figures.style import house_style, new_figure


def plot_confusion(matrix, classes: list[str], *, normalize: bool = False, ax: Axes | None = None) -> Axes:
    """Draw ``matrix`` (true class on rows, predicted on columns) with every cell annotated.

    ``normalize`` divides each row by its total, so a cell reads as the percentage of that true class (the
    diagonal is per-class recall).
    """
    m = np.asarray(matrix, dtype=float)
    shown = 100 * m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    n = len(classes)
    with house_style():
        if ax is None:
            _, axes = new_figure(width=3.3, aspect=1.0)
            ax = axes[0, 0]
        ax.grid(False)
        image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=100 if normalize else max(shown.max(), 1))
        size = 7 if n <= 10 else 5 if n <= 20 else 0
        if size:
            threshold = (100 if normalize else shown.max()) / 2
            for i in range(n):
                for j in range(n):
                    value = shown[i, j]
                    if not normalize and value == 0:
                        continue
                    text = f"{value:.0f}" if normalize else f"{int(value)}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=size,
                            color="white" if value > threshold else "black")
        ax.set_xticks(range(n), classes, rotation=90 if max(map(len, classes)) > 3 else 0)
        ax.set_yticks(range(n), classes)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title("row-normalised (%)" if normalize else "counts")
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax


def plot_confusion_pair(matrix, classes: list[str]):
    """Counts (left) and row-normalised percentages (right), side by side."""
    fig, axes = new_figure(2, aspect=0.9)
    plot_confusion(matrix, classes, ax=axes[0, 0])
    plot_confusion(matrix, classes, normalize=True, ax=axes[0, 1])
    return fig

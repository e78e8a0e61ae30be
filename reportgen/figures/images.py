"""Test images with their true and predicted labels, in grids legible at print size."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from reportgen.figures.style import FULL_WIDTH, house_style, new_figure

WRONG = "#c0392b"  # titles and frames of mistakes
LONG = 10  # class names longer than this are shortened in titles


def _short(name: str) -> str:
    return name if len(name) <= LONG else name[: LONG - 1] + "…"


def plot_prediction(item: dict[str, Any], *, wrong: bool = False, fontsize: float = 8,
                    ax: Axes | None = None) -> Axes:
    """One image (``item["image"]``: ``H × W`` grey or ``H × W × 3`` uint8 lists) titled "true t → pred p"
    over "p = 0.98"; a mistake gets a red title and frame."""
    with house_style():
        if ax is None:
            _, axes = new_figure(width=1.6, aspect=1.2)
            ax = axes[0, 0]
        image = np.asarray(item["image"], dtype=np.uint8)
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        colour = WRONG if wrong else "black"
        for spine in ax.spines.values():
            spine.set_visible(wrong)
            spine.set_color(colour)
            spine.set_linewidth(1.5)
        ax.set_title(f"true {_short(item['true'])} → pred {_short(item['pred'])}\np = {item['p']:.2f}",
                     color=colour, fontsize=fontsize, linespacing=1.2)
    return ax


def grid_shape(n: int) -> tuple[int, int]:
    """``(rows, cols)``: 4 per row up to 8 images (2 × 4 fills the text width), then 6, then 8 per row."""
    cols = min(n, 4 if n <= 8 else 6 if n <= 18 else 8)
    return math.ceil(n / cols), cols


def plot_prediction_grid(shown: list[dict[str, Any]], *, wrong: bool = False):
    """A figure of ``shown`` (items as for :func:`plot_prediction`) in rows of 4–8, full text width."""
    rows, cols = grid_shape(len(shown))
    # Panels are at most 1.6 in wide, so two images are not blown up to the full width.
    width = min(FULL_WIDTH, 1.65 * cols)
    fig, axes = new_figure(cols, rows, width=width, aspect=1.3)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for item, ax in zip(shown, axes.flat, strict=False):
        plot_prediction(item, wrong=wrong, fontsize=8 if cols <= 6 else 7, ax=ax)
    return fig

"""Class distributions of a dataset's splits, and a grid of sample images."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from reportgen.figures.style import FULL_WIDTH, house_style, new_figure

SPLIT_COLOURS = {"train": "C0", "val": "C1", "test": "C2"}


def plot_class_counts(counts: dict[str, list[int]], classes: list[str], *, ax: Axes | None = None) -> Axes:
    """Grouped bars: one group per class (x), one bar per split side by side, image count on y.

    ``counts`` maps a split name ("train", "val", "test") to its per-class counts, in ``classes`` order.
    A class whose training count is under half the median is labelled with its count above its bar.
    """
    with house_style():
        if ax is None:
            _, axes = new_figure(aspect=0.4)
            ax = axes[0, 0]
        k = len(classes)
        x = np.arange(k)
        width = 0.8 / max(len(counts), 1)
        for j, (split, values) in enumerate(counts.items()):
            offset = (j - (len(counts) - 1) / 2) * width
            ax.bar(x + offset, values, width, color=SPLIT_COLOURS.get(split, f"C{j}"),
                   label=f"{split} (n = {sum(values):,})")
        train = counts.get("train")
        if train:
            median = float(np.median(train))
            offset = -(len(counts) - 1) / 2 * width
            for i, c in enumerate(train):
                if c < 0.5 * median:
                    ax.annotate(str(c), (i + offset, c), xytext=(0, 2), textcoords="offset points",
                                ha="center", va="bottom", fontsize=7, color="#c62828", fontweight="bold")
        longest = max((len(c) for c in classes), default=0)
        if k > 30:
            # Too many names to print: number the classes (in the order the tables list them).
            step = max(1, k // 12)
            ax.set_xticks(x[::step], [str(i) for i in x[::step]])
            ax.set_xlabel("class index")
        else:
            rotation = 45 if longest * k > 60 else 0
            ax.set_xticks(x, classes, rotation=rotation, ha="right" if rotation == 45 else "center")
            ax.set_xlabel("class")
        ax.set_xlim(-0.6, k - 0.4)
        ax.set_ylabel("images")
        ax.grid(axis="x", visible=False)
        ax.legend(frameon=False, ncols=len(counts), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return ax


def plot_class_counts_figure(counts: dict[str, list[int]], classes: list[str]):
    fig, axes = new_figure(aspect=0.38 if len(classes) <= 30 else 0.45)
    plot_class_counts(counts, classes, ax=axes[0, 0])
    return fig


def plot_samples(images: list[list], classes: list[str]):
    """A grid of images: one column per class, ``images[i]`` the class's ``(C, H, W)`` uint8 images (nested
    lists); greyscale for one channel, RGB for three."""
    cols = len(classes)
    rows = max((len(col) for col in images), default=1) or 1
    side = min(FULL_WIDTH / cols, 0.75)
    fig, axes = new_figure(cols, rows, width=side * cols, aspect=1.0)
    with house_style():
        for j, (name, column) in enumerate(zip(classes, images, strict=True)):
            for i in range(rows):
                ax = axes[i, j]
                ax.set_axis_off()
                if i < len(column):
                    img = np.asarray(column[i], dtype=np.uint8)
                    if img.shape[0] in (3, 4):
                        ax.imshow(np.moveaxis(img[:3], 0, -1))
                    else:  # greyscale (or an unusual channel count: its first channel)
                        ax.imshow(img[0], cmap="gray", vmin=0, vmax=255)
                if i == 0:
                    # "length=7 width=1 angle=0 colour=red" style names: one factor per line.
                    long = len(name) > 10
                    ax.set_title(name.replace(" ", "\n") if long else name, fontsize=6 if long else 8)
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    return fig

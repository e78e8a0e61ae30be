"""Learned convolution filters and feature maps on shared colour scales.

Weights use one symmetric diverging scale per figure (red positive, blue negative, ±max|w| of the layer), so
tiles can be compared with each other; feature maps use one sequential scale from 0 to their largest value.
Many small tiles are drawn as a single image with white gaps (a mosaic), which stays crisp and fast.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from reportgen.figures.style import FULL_WIDTH, house_style

WEIGHTS = "RdBu_r"
MAPS = "magma"
DEAD_COLOUR = "#c0392b"


def mosaic(tiles: np.ndarray, gap: int = 1) -> np.ndarray:
    """``(R, C, h, w)`` tiles → one ``(R·(h+gap)-gap, C·(w+gap)-gap)`` image with NaN between tiles."""
    r, c, h, w = tiles.shape
    out = np.full((r * (h + gap) - gap, c * (w + gap) - gap), np.nan)
    for i in range(r):
        for j in range(c):
            out[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = tiles[i, j]
    return out


def as_grid(stack: np.ndarray, cols: int) -> np.ndarray:
    """``(n, h, w)`` → ``(rows, cols, h, w)`` in reading order, padded with NaN tiles."""
    n, h, w = stack.shape
    rows = math.ceil(n / cols)
    padded = np.full((rows * cols, h, w), np.nan)
    padded[:n] = stack
    return padded.reshape(rows, cols, h, w)


def _ticks(ax: Axes, axis: str, count: int, size: int, labels=None, gap: int = 1) -> None:
    """One tick per tile (every 4th or 8th when there are many) at the tile's centre."""
    step = 1 if count <= 16 else 4 if count <= 64 else 8
    idx = list(range(0, count, step))
    pos = [i * (size + gap) + (size - 1) / 2 for i in idx]
    text = [str(labels[i] if labels is not None else i) for i in idx]
    (ax.set_xticks if axis == "x" else ax.set_yticks)(pos, text)


def tile_columns(n: int) -> int:
    """Tiles per row for ``n`` kernels: one row up to 8, else rows of 8 (up to 16 kernels) or 16."""
    return n if n <= 8 else 8 if n <= 16 else 16


def _grid_ticks(ax: Axes, n: int, cols: int, size: int, what: str) -> None:
    """Label a grid of ``n`` tiles in reading order: plain indices for one row, else "row + column" labels."""
    rows = math.ceil(n / cols)
    if rows == 1:
        _ticks(ax, "x", cols, size)
        ax.set_yticks([])
        ax.set_xlabel(what)
        return
    _ticks(ax, "x", cols, size, labels=[f"+{j}" for j in range(cols)])
    _ticks(ax, "y", rows, size, labels=[i * cols for i in range(rows)])
    ax.set_xlabel(f"{what} (row label + column label)")


def _imshow(ax: Axes, image: np.ndarray, cmap: str, vmin: float, vmax: float):
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax.imshow(image, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")


def plot_weights(layer: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """A conv layer's ``weights`` (n, c, k, k) from the filters section, drawn by kind on ±``absmax``:
    depthwise or single-input kernels as a grid of k×k tiles (filter = row label + column label); a standard
    conv as one row of tiles per output filter, one tile per input channel; a pointwise conv as a matrix."""
    w = np.asarray(layer["weights"], dtype=float)
    vmax = max(layer["absmax"], 1e-12)
    n, c, k, _ = w.shape
    with house_style():
        if ax is None:
            ax = plt.figure(figsize=(FULL_WIDTH, 3), layout="constrained").add_subplot()
        if layer["kind"] == "pointwise":
            _imshow(ax, w[:, :, 0, 0], WEIGHTS, -vmax, vmax)
            _ticks(ax, "x", c, 1, gap=0)
            _ticks(ax, "y", n, 1, gap=0)
            ax.set_xlabel("input channel")
            ax.set_ylabel("output channel")
        elif c == 1:
            cols = tile_columns(n)
            _imshow(ax, mosaic(as_grid(w[:, 0], cols)), WEIGHTS, -vmax, vmax)
            _grid_ticks(ax, n, cols, k, "filter")
        else:
            _imshow(ax, mosaic(w), WEIGHTS, -vmax, vmax)
            _ticks(ax, "x", c, k)
            _ticks(ax, "y", n, k)
            ax.set_xlabel("input channel")
            ax.set_ylabel("output filter")
    return ax


def plot_filter_norms(norms: list[float], threshold: float, *, ax: Axes | None = None) -> Axes:
    """Each output filter's L2 norm; bars under ``threshold`` × the largest (near-dead) in red."""
    values = np.asarray(norms, dtype=float)
    limit = threshold * values.max() if values.size else 0.0
    with house_style():
        if ax is None:
            ax = plt.figure(figsize=(FULL_WIDTH, 1.4), layout="constrained").add_subplot()
        colours = [DEAD_COLOUR if v < limit else "#4c72b0" for v in values]
        ax.bar(range(len(values)), values, color=colours, width=0.8)
        ax.axhline(limit, color=DEAD_COLOUR, linestyle="--", linewidth=0.8)  # the caption says what it is
        ax.set_xlim(-0.6, len(values) - 0.4)
        ax.set_xlabel("output filter")
        ax.set_ylabel("L2 norm")
    return ax


def plot_layer(layer: dict[str, Any]):
    """The layer's weights with a colorbar (top) over every output filter's L2 norm (bottom)."""
    w = np.asarray(layer["weights"], dtype=float)
    n, c, k, _ = w.shape
    if layer["kind"] == "pointwise":
        rows, cols = n, c
    elif c == 1:
        cols = tile_columns(n)
        rows, cols = math.ceil(n / cols) * (k + 1), cols * (k + 1)
    else:
        rows, cols = n * (k + 1), c * (k + 1)
    top = min(4.6, max(1.0, 0.8 * FULL_WIDTH * rows / cols))
    with house_style():
        fig = plt.figure(figsize=(FULL_WIDTH, top + 1.5), layout="constrained")
        ax_w, ax_n = fig.subplots(2, 1, gridspec_kw={"height_ratios": [top, 1.3]})
        plot_weights(layer, ax=ax_w)
        bar = fig.colorbar(ax_w.images[0], ax=ax_w, shrink=0.9, aspect=15)
        bar.set_label("weight")
        plot_filter_norms(layer["norms"], layer["dead_threshold"], ax=ax_n)
    return fig


def plot_maps(maps, *, vmax: float | None = None, cols: int = 8, ax: Axes | None = None) -> Axes:
    """Feature maps ``(C, h, w)`` as a grid of tiles (channel = row label + column label) on 0..``vmax``."""
    m = np.asarray(maps, dtype=float)
    cols = min(cols, len(m))
    vmax = vmax if vmax is not None else float(np.nanmax(m)) if m.size else 1.0
    with house_style():
        if ax is None:
            ax = plt.figure(figsize=(FULL_WIDTH, 3), layout="constrained").add_subplot()
        low = min(0.0, float(m.min()))  # without a ReLU before it, a map can go negative
        _imshow(ax, mosaic(as_grid(m, cols)), MAPS, low, max(vmax, 1e-12))
        _grid_ticks(ax, len(m), cols, m.shape[2], "channel")
    return ax


def plot_feature_maps(entry: dict[str, Any]):
    """The test image, the maps entering global pooling and (if there is one) the pooled vector."""
    maps = np.asarray(entry["before"], dtype=float)
    has_after = entry["after"] is not None
    layout = [["image", "maps"], ["after", "after"]] if has_after else [["image", "maps"]]
    rows = math.ceil(len(maps) / min(8, len(maps)))
    height = max(1.6, min(3.6, 0.62 * rows + 0.6)) + (1.6 if has_after else 0)
    with house_style():
        fig = plt.figure(figsize=(FULL_WIDTH, height), layout="constrained")
        axes = fig.subplot_mosaic(layout, width_ratios=[1, 4],
                                  height_ratios=[height - 1.6, 1.6] if has_after else None)
        image = np.asarray(entry["image"], dtype=np.uint8)
        axes["image"].imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        axes["image"].set_axis_off()
        axes["image"].set_title(f"test image {entry['image_index']}\ntrue {entry['true']}, pred {entry['pred']}")
        plot_maps(maps, ax=axes["maps"])
        c, h, w = entry["before_shape"]
        source = entry.get("maps_source")
        when = f"{source} output" if source else "before pooling"
        axes["maps"].set_title(f"{when}: {_of(len(maps), c)} maps, {h} × {w}")
        fig.colorbar(axes["maps"].images[0], ax=axes["maps"], shrink=0.9).set_label("activation")
        if has_after:
            ax = axes["after"]
            ax.bar(range(len(entry["after"])), entry["after"], color="#4c72b0", width=0.8)
            ax.set_xlim(-0.6, len(entry["after"]) - 0.4)
            ax.set_xlabel("channel")
            ax.set_ylabel("mean activation")
            ax.set_title(f"after {entry.get('pooling') or 'global average pooling'}")
    return fig


def _of(shown: int, total: int) -> str:
    return f"all {total}" if shown == total else f"{shown} of {total}"


def plot_local_pool(local: dict[str, Any]):
    """Maps before and after the first MaxPool2d/AvgPool2d, on one shared scale."""
    before, after = (np.asarray(local[k], dtype=float) for k in ("before", "after"))
    vmax = float(max(before.max(), after.max()))
    with house_style():
        fig = plt.figure(figsize=(FULL_WIDTH, 3.2), layout="constrained")
        axes = fig.subplots(1, 2)
        for ax, maps, key, when in ((axes[0], before, "before_shape", "before"), (axes[1], after, "after_shape",
                                                                                  "after")):
            plot_maps(maps, vmax=vmax, cols=4, ax=ax)
            c, h, w = local[key]
            ax.set_title(f"{when} {local['type']}: {_of(len(maps), c)} maps, {h} × {w}")
        fig.colorbar(axes[1].images[0], ax=axes, shrink=0.8).set_label("activation")
    return fig

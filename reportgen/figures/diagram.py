"""Architecture diagrams drawn from a layer list: one box per leaf layer or block, left to right.

A box's height grows with the logarithm of its output size (how much the tensor shrinks or grows along the
network); its colour says what kind of layer it is; its parameters (and their share of the model's) are
written above it, its type and output shape below it.
"""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle

from reportgen.figures.style import FULL_WIDTH, house_style, new_figure
from reportgen.text import count, pct

COLOURS = {
    "input": "#d9d9d9",
    "conv": "#6a9fd4",
    "linear": "#e8a26a",
    "norm": "#b8b8b8",
    "act": "#8fcf8f",
    "pool": "#b49fd8",
    "reshape": "#f2f2f2",
    "attention": "#d97a9a",
    "product": "#e0b0c0",
    "param": "#cccccc",
    "other": "#e6d58f",
}
NAMES = {"input": "input", "conv": "convolution", "linear": "linear", "norm": "normalisation", "act": "activation",
         "pool": "pooling", "reshape": "reshape", "attention": "attention", "product": "matrix product",
         "param": "parameter", "other": "other"}
ROTATE_ABOVE = 8  # more boxes than this: labels are turned 90° so they fit side by side


def _shape(shape) -> str:
    return "–" if not shape else "×".join(str(s) for s in shape)


def _numel(shape) -> int:
    return math.prod(shape) if shape else 1


def _label(box: dict, sep: str) -> str:
    """``"Conv2d 3×3 s2 32×14×14"``: type, settings tag (kernel, stride, depthwise) and output shape."""
    head = f"{box['type']} {box['tag']}" if box.get("tag") else box["type"]
    return f"{head}{sep}{_shape(box['shape'])}"


def _rotated(boxes: list[dict]) -> bool:
    """Whether labels must be turned 90°: too many boxes, or a label line wider than its box's slot (at 7 pt a
    character is about 0.06 in wide)."""
    widest = max(len(line) for b in boxes for line in (_label(b, "\n").split("\n") + [_params(b)]))
    return len(boxes) > ROTATE_ABOVE or widest * 0.06 > 0.9 * FULL_WIDTH / len(boxes)


def _params(box: dict) -> str:
    """``"9.22 k (32 %)"``: parameters and their share of the model's."""
    share = box["share"]
    shown = "<0.1 %" if share < 0.001 else pct(share, 0 if share >= 0.1 else 1)
    return f"{count(box['params'])} ({shown})"


def plot_architecture(boxes: list[dict], *, ax: Axes | None = None) -> Axes:
    """Draw ``boxes`` (dicts with ``type``, ``shape`` (list or None), ``params``, ``share``, ``kind``) as a chain
    of boxes from left to right."""
    n = len(boxes)
    logs = [math.log10(max(_numel(b["shape"]), 1)) for b in boxes]
    lo, hi = min(logs), max(logs)
    # Heights from 0.2 (smallest tensor) to 1 (largest): a log scale, as sizes span 10 to 10^5 values.
    heights = [0.2 + 0.8 * (v - lo) / (hi - lo) if hi > lo else 0.8 for v in logs]
    rotate = _rotated(boxes)
    with house_style():
        if ax is None:
            _, axes = new_figure(width=FULL_WIDTH, aspect=0.4)
            ax = axes[0, 0]
        ax.grid(False)
        for side in ("left", "top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        width = 0.62
        for i, (b, h) in enumerate(zip(boxes, heights, strict=True)):
            ax.add_patch(Rectangle((i - width / 2, -h / 2), width, h, facecolor=COLOURS.get(b["kind"], "#eeeeee"),
                                   edgecolor="0.25", linewidth=0.6))
            if i + 1 < n:
                ax.annotate("", xy=(i + 1 - width / 2, 0), xytext=(i + width / 2, 0),
                            arrowprops={"arrowstyle": "-|>", "lw": 0.6, "color": "0.3", "shrinkA": 0, "shrinkB": 0})
        sep = " " if rotate else "\n"
        ax.set_xticks(range(n), [_label(b, sep) for b in boxes],
                      rotation=90 if rotate else 0)
        ax.tick_params(axis="x", length=0)
        # Parameters along the top edge, as tick labels of a second axis, so the layout engine makes room for them.
        top = ax.secondary_xaxis("top")
        with_params = [i for i, b in enumerate(boxes) if b["params"]]
        top.set_xticks(with_params, [_params(boxes[i]) for i in with_params], rotation=90 if rotate else 0)
        top.tick_params(axis="x", length=0, pad=1)
        top.spines["top"].set_visible(False)
        ax.set_yticks([])
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_ylim(-0.52, 0.52)
    return ax


def plot_architecture_figure(boxes: list[dict], *, title: str = ""):
    """A full-width figure of :func:`plot_architecture` with a legend of the layer kinds shown."""
    rotate = _rotated(boxes)
    label_len = max(len(_label(b, " ")) for b in boxes)
    params_len = max((len(count(b["params"])) + 7 for b in boxes if b["params"]), default=0)
    # Rotated labels need height: about 0.06 in per character at 7 pt, below (type, shape) and above (params).
    height = 1.6 + (0.06 * (label_len + params_len) if rotate else 0.5)
    fig, axes = new_figure(width=FULL_WIDTH, aspect=height / FULL_WIDTH)
    ax = plot_architecture(boxes, ax=axes[0, 0])
    kinds = [k for k in COLOURS if any(b["kind"] == k for b in boxes)]
    with house_style():
        fig.legend(handles=[Patch(facecolor=COLOURS[k], edgecolor="0.25", label=NAMES[k]) for k in kinds],
                   loc="outside lower center", ncols=len(kinds), frameon=False)
        if title:
            ax.set_title(title, loc="left")
    return fig

"""One-factor-at-a-time sweeps: test accuracy against each factor's values, one small panel per factor."""

from __future__ import annotations

import math
from typing import Any

from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from reportgen.figures.style import FULL_WIDTH, HALF_WIDTH, house_style, new_figure

OK_COLOUR, BASELINE_COLOUR, BROKEN_COLOUR = "C0", "C1", "#c62828"


def tick_label(row: dict[str, Any]) -> str:
    """A compact tick label: split fractions as ``0.6/0.2/0.2`` rather than ``[0.6, 0.2, 0.2]``."""
    value = row["value"]
    if isinstance(value, list):
        return "/".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return row["text"]


def value_ticks(ax: Axes, xs: list[float], labels: list[str], *, numeric: bool, log_x: bool) -> None:
    """An x axis of a factor's values: numeric (log when ``log_x``) or one slot per value, labels slanted when long."""
    if log_x:
        ax.set_xscale("log")
    ax.set_xticks(xs, labels)
    ax.minorticks_off()
    if not numeric:
        ax.set_xlim(-0.5, len(labels) - 0.5)
    elif len(xs) > 1 and not log_x:
        span = max(xs) - min(xs)
        ax.set_xlim(min(xs) - 0.08 * span, max(xs) + 0.08 * span)
    if max((len(t) for t in labels), default=0) * len(labels) > 24:
        ax.tick_params(axis="x", labelrotation=30)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")


def plot_sweep(factor: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Test accuracy (%) against one factor's values, from a ``sweeps`` result's factor entry.

    ``factor["rows"]`` hold ``value``, ``text``, ``baseline``, ``status`` and ``accuracy`` (a summary with
    ``mean`` and ``std``); numeric factors get a numeric x axis (log for ``log_x``), others one slot per
    value. Finished values are dots with ±std bars (joined by a line on a numeric axis), the baseline's
    value an orange diamond, and a value that diverged or failed a red × at the bottom, with the word under it.
    """
    rows = factor["rows"]
    with house_style():
        if ax is None:
            _, axes = new_figure(width=HALF_WIDTH)
            ax = axes[0, 0]
        numeric = factor.get("numeric", False)
        xs = [float(r["value"]) if numeric else float(i) for i, r in enumerate(rows)]
        done = [(x, r) for x, r in zip(xs, rows, strict=True) if r["status"] == "ok" and r["accuracy"]["n"]]
        if numeric:
            done.sort(key=lambda pair: pair[0])
        if numeric and done:  # a line only where the x axis is ordered
            ax.plot([x for x, _ in done], [100 * r["accuracy"]["mean"] for _, r in done], "-", color=OK_COLOUR,
                    lw=1, alpha=0.6, zorder=1)
        for x, r in done:
            colour, marker = (BASELINE_COLOUR, "D") if r["baseline"] else (OK_COLOUR, "o")
            ax.errorbar([x], [100 * r["accuracy"]["mean"]], yerr=[100 * r["accuracy"]["std"]], fmt=marker,
                        color=colour, markersize=5 if r["baseline"] else 4, capsize=2, lw=1, zorder=3)
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        for x, r in zip(xs, rows, strict=True):
            if r["status"] != "ok":
                ax.plot([x], [0.13], "x", color=BROKEN_COLOUR, markersize=7, mew=2, transform=bottom,
                        clip_on=False, zorder=4)
                ax.text(x, 0.03, r["status"], color=BROKEN_COLOUR, fontsize=7, ha="center", va="bottom",
                        transform=bottom)
        if not done:
            ax.set_ylim(0, 100)
        else:
            low, high = ax.get_ylim()
            pad = 0.25 * (high - low) if any(r["status"] != "ok" for r in rows) else 0
            ax.set_ylim(low - pad, high)  # room at the bottom for the × marks
        value_ticks(ax, xs, [tick_label(r) for r in rows], numeric=numeric, log_x=bool(factor.get("log_x")))
        for t, r in zip(ax.get_xticklabels(), rows, strict=True):
            if r["baseline"]:
                t.set_fontweight("bold")
        ax.set_title(factor["factor"])
        ax.set_ylabel("test accuracy (%)")
    return ax


def plot_sweep_grid(factors: list[dict[str, Any]], ncols: int = 3):
    """Panels of :func:`plot_sweep`, ``ncols`` per row (fewer when there are fewer factors)."""
    ncols = max(1, min(ncols, len(factors)))
    nrows = math.ceil(len(factors) / ncols)
    width = HALF_WIDTH if ncols == 1 else FULL_WIDTH
    fig, axes = new_figure(ncols, nrows, width=width, aspect=0.95 if ncols > 1 else 0.8)
    for i, ax in enumerate(axes.flat):
        if i < len(factors):
            plot_sweep(factors[i], ax=ax)
            if i % ncols:
                ax.set_ylabel("")
        else:
            ax.set_axis_off()
    return fig

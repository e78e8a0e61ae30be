"""Full factorial grids: accuracy per value of each factor averaged over the others, and validation against test."""

from __future__ import annotations

import math
from typing import Any

from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from reportgen.figures.style import FULL_WIDTH, HALF_WIDTH, house_style, new_figure
from reportgen.figures.sweep import tick_label, value_ticks

VAL_COLOUR, TEST_COLOUR, CHOSEN_COLOUR, WINNER_COLOUR, BROKEN_COLOUR = "C0", "C2", "C1", "C2", "#c62828"


def plot_grid_marginal(marginal: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Mean validation and test accuracy (%) per value of one factor, from a ``grid`` result's marginal entry.

    ``marginal["values"]`` hold ``value``, ``text`` and ``val``/``test`` (``mean``, ``min``, ``max``, ``n``: over the
    finished configurations having that value). Numeric factors get a numeric x axis (log for ``log_x``) with lines
    and min–max bands; others one slot per value with min–max bars, validation and test side by side. A value with
    no finished configuration is a red × at the bottom.
    """
    entries = marginal["values"]
    with house_style():
        if ax is None:
            _, axes = new_figure(width=HALF_WIDTH)
            ax = axes[0, 0]
        numeric = marginal.get("numeric", False)
        xs = [float(e["value"]) if numeric else float(i) for i, e in enumerate(entries)]
        for key, colour, style, label, shift in (("val", VAL_COLOUR, "-", "validation", -0.1),
                                                 ("test", TEST_COLOUR, "--", "test", 0.1)):
            done = sorted((x, e[key]) for x, e in zip(xs, entries, strict=True) if e[key]["n"])
            if not done:
                continue
            x = [p for p, _ in done] if numeric else [p + shift for p, _ in done]
            mean = [100 * s["mean"] for _, s in done]
            low = [100 * s["min"] for _, s in done]
            high = [100 * s["max"] for _, s in done]
            if numeric:
                ax.plot(x, mean, style, marker="o", color=colour, markersize=4, lw=1.2, label=label, zorder=3)
                ax.fill_between(x, low, high, color=colour, alpha=0.15, lw=0, zorder=1)
            else:
                ax.errorbar(x, mean, yerr=[[m - lo for m, lo in zip(mean, low, strict=True)],
                                           [hi - m for m, hi in zip(mean, high, strict=True)]],
                            fmt="o" if key == "val" else "s", color=colour, markersize=4, capsize=2, lw=1,
                            label=label, zorder=3)
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        empty = [x for x, e in zip(xs, entries, strict=True) if not e["val"]["n"]]
        for x in empty:
            ax.plot([x], [0.13], "x", color=BROKEN_COLOUR, markersize=7, mew=2, transform=bottom, clip_on=False,
                    zorder=4)
            ax.text(x, 0.03, "none finished", color=BROKEN_COLOUR, fontsize=7, ha="center", va="bottom",
                    transform=bottom)
        partial = [(x, e) for x, e in zip(xs, entries, strict=True) if e["val"]["n"] and e.get("excluded")]
        for x, e in partial:  # the mean above this value leaves some configurations out: say how many
            ax.text(x, 0.03, f"{e['excluded']} of {e['configs']} left out", color=BROKEN_COLOUR, fontsize=6,
                    ha="center", va="bottom", transform=bottom)
        if len(empty) == len(entries):
            ax.set_ylim(0, 100)
        elif empty or partial:
            low, high = ax.get_ylim()
            ax.set_ylim(low - (0.25 if empty else 0.12) * (high - low), high)  # room at the bottom for the marks
        value_ticks(ax, xs, [tick_label(e) for e in entries], numeric=numeric, log_x=bool(marginal.get("log_x")))
        ax.set_title(marginal["factor"])
        ax.set_ylabel("accuracy (%)")
    return ax


def plot_grid_marginals(marginals: list[dict[str, Any]], ncols: int = 3):
    """Panels of :func:`plot_grid_marginal`, ``ncols`` per row; one legend, in the first panel."""
    ncols = max(1, min(ncols, len(marginals)))
    nrows = math.ceil(len(marginals) / ncols)
    width = HALF_WIDTH if ncols == 1 else FULL_WIDTH
    fig, axes = new_figure(ncols, nrows, width=width, aspect=0.95 if ncols > 1 else 0.8)
    with house_style():
        for i, ax in enumerate(axes.flat):
            if i < len(marginals):
                plot_grid_marginal(marginals[i], ax=ax)
                if i % ncols:
                    ax.set_ylabel("")
                if i == 0 and ax.get_legend_handles_labels()[0]:
                    ax.legend(loc="best", frameon=False)
            else:
                ax.set_axis_off()
    return fig


def plot_val_test(result: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Validation against test accuracy (%) of every finished configuration of a ``grid`` result (``configs``,
    ``ranking``, ``best``, ``test_winner``), with the diagonal; the configuration chosen on validation is an orange
    diamond, the test-set winner (when another) a green square."""
    configs = result["configs"]
    with house_style():
        if ax is None:
            _, axes = new_figure(width=HALF_WIDTH, aspect=0.9)
            ax = axes[0, 0]
        done = [configs[i] for i in result["ranking"]]
        val = [100 * c["val_accuracy"]["mean"] for c in done]
        test = [100 * c["accuracy"]["mean"] for c in done]
        ax.scatter(val, test, s=12, color=VAL_COLOUR, alpha=0.7, zorder=2, label="configuration")
        low, high = min(val + test), max(val + test)
        pad = 0.05 * (high - low) or 1.0
        ax.plot([low - pad, high + pad], [low - pad, high + pad], ":", color="0.5", lw=1, zorder=1)
        if result["best"] is not None:
            best = configs[result["best"]]
            ax.scatter([100 * best["val_accuracy"]["mean"]], [100 * best["accuracy"]["mean"]], marker="D", s=40,
                       color=CHOSEN_COLOUR, zorder=4, label="chosen on validation")
        if result["test_winner"] not in (None, result["best"]):
            winner = configs[result["test_winner"]]
            ax.scatter([100 * winner["val_accuracy"]["mean"]], [100 * winner["accuracy"]["mean"]], marker="s", s=40,
                       facecolor="none", edgecolor=WINNER_COLOUR, lw=1.5, zorder=4, label="best on test")
        ax.set_xlim(low - pad, high + pad)
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlabel("validation accuracy (%)")
        ax.set_ylabel("test accuracy (%)")
        ax.legend(loc="best", frameon=False)
    return ax

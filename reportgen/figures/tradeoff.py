"""Accuracy against model size or cost, with error bars over seeds and the Pareto front marked."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from reportgen.figures.style import house_style, new_figure

AXIS_NAMES = {"params": "parameters", "macs": "multiply-adds per image"}


def plot_tradeoff(points: list[dict], *, x: str = "params", ax: Axes | None = None) -> Axes:
    """Mean accuracy (%) against ``point[x]`` on a log axis, one labelled point per run.

    Each point is ``{"label", x: number, "accuracy": {"mean", "std"}, f"pareto_{x}": bool}``. Error bars are
    the std over seeds; Pareto-optimal points (no other run is at least as accurate *and* at least as small)
    are filled and joined by a step line, the others hollow.
    """
    shown = [p for p in points if p.get(x) and p["accuracy"]["mean"] is not None]
    with house_style():
        if ax is None:
            _, axes = new_figure(width=3.3, aspect=0.9)
            ax = axes[0, 0]
        for p in shown:
            front = bool(p.get(f"pareto_{x}"))
            ax.errorbar(p[x], 100 * p["accuracy"]["mean"], yerr=100 * (p["accuracy"]["std"] or 0), fmt="o",
                        color="C0", mfc="C0" if front else "white", ms=5, capsize=2, lw=1, zorder=3)
            ax.annotate(p["label"], (p[x], 100 * p["accuracy"]["mean"]), xytext=(5, 3),
                        textcoords="offset points", fontsize=7)
        front = sorted((p for p in shown if p.get(f"pareto_{x}")), key=lambda p: p[x])
        if len(front) > 1:
            ax.plot([p[x] for p in front], [100 * p["accuracy"]["mean"] for p in front], color="C0", lw=0.8,
                    ls="--", drawstyle="steps-post", zorder=2)
        ax.set_xscale("log")
        ax.set_xlabel(f"{AXIS_NAMES.get(x, x)} (log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.margins(x=0.15, y=0.15)  # room for the point labels
    return ax


def plot_tradeoff_pair(points: list[dict]):
    """Accuracy vs parameters (left) and vs multiply-adds (right), one legend for the marker styles."""
    fig, axes = new_figure(2, aspect=0.85)
    plot_tradeoff(points, x="params", ax=axes[0, 0])
    plot_tradeoff(points, x="macs", ax=axes[0, 1])
    axes[0, 1].set_ylabel("")
    with house_style():
        handles = [Line2D([], [], ls="", marker="o", color="C0", mfc="C0"),
                   Line2D([], [], ls="", marker="o", color="C0", mfc="white"),
                   Line2D([], [], color="C0", ls="--", lw=0.8)]
        fig.legend(handles, ["Pareto-optimal", "dominated", "Pareto front"], loc="outside lower center",
                   ncols=3, frameon=False)
    return fig

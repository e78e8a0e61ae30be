"""One-vs-rest ROC curves of a multi-class classifier: one thin line per class, thick micro and macro averages.

When every AUC is close to 1 the curves all hug the top-left corner of a linear plot; a logarithmic FPR axis
spreads out the low false-positive region where such classifiers actually differ (``log_fpr=True``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from reportgen.figures.style import house_style, new_figure


def class_colours(n: int) -> list:
    """One qualitative colour per class (tab10, or tab20 beyond ten classes), the same in every panel."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_roc(roc: dict, *, log_fpr: bool = False, fpr_floor: float = 1e-4, ax: Axes | None = None) -> Axes:
    """Draw ``roc`` = ``{"per_class": [{"fpr", "tpr", "auc"} | None, ...], "micro": {...}, "macro": {...}}``.

    Per-class curves are thin and coloured by class index; micro (solid) and macro (dashed) averages are
    thick and black. With ``log_fpr`` the FPR axis is logarithmic and FPR = 0 is drawn at ``fpr_floor``.
    """
    colours = class_colours(len(roc["per_class"]))

    def x(values):
        values = np.asarray(values, dtype=float)
        return np.maximum(values, fpr_floor) if log_fpr else values

    with house_style():
        if ax is None:
            _, axes = new_figure(width=3.3, aspect=1.0)
            ax = axes[0, 0]
        for colour, curve in zip(colours, roc["per_class"], strict=True):
            if curve is not None:
                ax.plot(x(curve["fpr"]), curve["tpr"], color=colour, lw=0.8, alpha=0.85)
        ax.plot(x(roc["micro"]["fpr"]), roc["micro"]["tpr"], color="black", lw=2.0)
        ax.plot(x(roc["macro"]["fpr"]), roc["macro"]["tpr"], color="black", lw=2.0, ls="--")
        if log_fpr:
            ax.set_xscale("log")
            ax.set_xlim(fpr_floor, 1.0)
            chance = np.logspace(np.log10(fpr_floor), 0, 50)
            ax.plot(chance, chance, ":", color="grey", lw=0.8)
            ax.set_xlabel("false positive rate (log scale)")
        else:
            ax.set_xlim(0, 1)
            ax.plot([0, 1], [0, 1], ":", color="grey", lw=0.8)
            ax.set_xlabel("false positive rate")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("true positive rate")
        ax.text(0.98, 0.04, f"micro AUC {roc['micro']['auc']:.4f}\nmacro AUC {roc['macro']['auc']:.4f}",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    return ax


def plot_roc_grid(panels: list[dict], classes: list[str], *, log_fpr: bool = False, fpr_floor: float = 1e-4):
    """One panel per run (``{"label", "roc"}``), up to three per row, with one legend for all panels."""
    ncols = min(len(panels), 3) or 1
    nrows = -(-len(panels) // ncols) if panels else 1
    fig, axes = new_figure(ncols, nrows, aspect=0.95 if ncols > 1 else 0.6, sharey=True)
    flat = axes.ravel()
    for ax, panel in zip(flat, panels, strict=False):
        plot_roc(panel["roc"], log_fpr=log_fpr, fpr_floor=fpr_floor, ax=ax)
        ax.set_title(panel["label"])
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    with house_style():
        handles = [Line2D([], [], color=c, lw=1.2) for c in class_colours(len(classes))]
        handles += [Line2D([], [], color="black", lw=2.0), Line2D([], [], color="black", lw=2.0, ls="--"),
                    Line2D([], [], color="grey", lw=0.8, ls=":")]
        names = [f"class {c}" for c in classes] + ["micro-average", "macro-average", "chance"]
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 7), frameon=False)
    return fig

"""Transfer between datasets: each run's accuracy on each test set, and fine-tuning against training from scratch."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from reportgen.figures.style import FULL_WIDTH, HALF_WIDTH, house_style, new_figure


def plot_transfer_bars(result: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Grouped bars from a ``transfer`` result: one group per test set (``result["test_sets"]``), one bar per run
    (``result["rows"]``, each with ``scores[test set]`` = a summary or None); ± std error bars, the value on top."""
    sets, rows = result["test_sets"], result["rows"]
    with house_style():
        if ax is None:
            _, axes = new_figure(width=FULL_WIDTH, aspect=0.4)
            ax = axes[0, 0]
        width = 0.8 / max(len(rows), 1)
        for i, row in enumerate(rows):
            xs, ys, errs = [], [], []
            for j, name in enumerate(sets):
                s = row["scores"].get(name)
                if s and s["n"]:
                    xs.append(j - 0.4 + width * (i + 0.5))
                    ys.append(100 * s["mean"])
                    errs.append(100 * s["std"])
            bars = ax.bar(xs, ys, width=width * 0.95, yerr=errs, capsize=2, label=row["label"], color=f"C{i % 10}")
            ax.bar_label(bars, labels=[f"{y:.1f}" for y in ys], fontsize=7, padding=2)
        ax.set_xticks(np.arange(len(sets)), [f"{name} test set" for name in sets])
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 105)
        ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_transfer_curves(result: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Validation accuracy per epoch of the ``fine-tuned`` and ``from scratch`` rows of a ``transfer`` result."""
    with house_style():
        if ax is None:
            _, axes = new_figure(width=HALF_WIDTH)
            ax = axes[0, 0]
        for i, row in enumerate(result["rows"]):
            curve = row["curves"].get("val_acc") or []
            if row["role"] not in ("fine-tuned", "from scratch") or not curve:
                continue
            style = "-" if row["role"] == "fine-tuned" else "--"
            ax.plot(range(1, len(curve) + 1), [100 * v for v in curve], style, marker="o", markersize=3,
                    color=f"C{i % 10}", label=f"{row['label']} ({row['role']})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.legend(fontsize=7)
    return ax

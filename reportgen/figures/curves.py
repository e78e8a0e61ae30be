"""Per-epoch training curves."""

from __future__ import annotations

from matplotlib.axes import Axes

from reportgen.figures.style import house_style, new_figure

CURVE_LABELS = {"loss": "loss", "acc": "accuracy"}


def plot_curves(curves: dict[str, dict[str, list[float]]], metric: str = "loss", *, ax: Axes | None = None) -> Axes:
    """Train (solid) and validation (dashed) ``metric`` ("loss" or "acc") per epoch, one colour per run.

    ``curves`` maps a run label to its history: ``{"train_loss": [...], "val_loss": [...], ...}``.
    """
    with house_style():
        if ax is None:
            _, axes = new_figure()
            ax = axes[0, 0]
        for i, (label, history) in enumerate(curves.items()):
            colour = f"C{i % 10}"
            for split, style in (("train", "-"), ("val", "--")):
                values = history.get(f"{split}_{metric}") or []
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, color=colour, marker="o", markersize=2.5,
                        label=f"{label} ({split})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(CURVE_LABELS.get(metric, metric))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(frameon=False)
    return ax


def plot_curves_grid(curves: dict[str, dict[str, list[float]]]):
    """A two-panel figure: loss (left) and accuracy (right)."""
    fig, axes = new_figure(2, aspect=0.8)
    plot_curves(curves, "loss", ax=axes[0, 0])
    plot_curves(curves, "acc", ax=axes[0, 1])
    axes[0, 0].set_title("Loss")
    axes[0, 1].set_title("Accuracy")
    return fig

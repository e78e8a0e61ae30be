"""Per-epoch training curves."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory, offset_copy

from reportgen.figures.style import house_style, new_figure

CURVE_LABELS = {"loss": "loss", "acc": "accuracy"}
#: Short marks for the trainer's events (``RunResult.events`` kinds); an unknown kind is shown by its name.
EVENT_LABELS = {"lr_decay": "LR decay", "early_stop": "stop"}
EVENT_DASHES = (0, (2, 2))  # finer than the validation curves' dashes, so a mark is not read as a curve


def plot_curves(curves: dict[str, dict[str, Any]], metric: str = "loss", *, ax: Axes | None = None) -> Axes:
    """Train (solid) and validation (dashed) ``metric`` ("loss" or "acc") per epoch, one colour per run.

    ``curves`` maps a run label to its history: ``{"train_loss": [...], "val_loss": [...], ...}`` and
    optionally ``"events"`` (``[{"epoch", "kind", ...}]``), each drawn as a thin dashed vertical line in the
    run's colour with a short label at the top ("LR decay", "stop").
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
        plot_events([(f"C{i % 10}", history.get("events") or []) for i, history in enumerate(curves.values())],
                    ax=ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel(CURVE_LABELS.get(metric, metric))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(frameon=False)
    return ax


def plot_events(runs: list[tuple[str, list[dict[str, Any]]]], *, ax: Axes) -> Axes:
    """For each ``(colour, events)`` pair, a dashed vertical line at every event's epoch, labelled along the line
    from the top of the axes. Vertical labels take one text height across, so events at neighbouring epochs do
    not collide; several at one epoch sit side by side. Call it after the curves are drawn: at the last epoch
    the labels go left of the line, to stay inside the axes."""
    top = blended_transform_factory(ax.transData, ax.transAxes)  # x in epochs, y as a fraction of the axes
    last = ax.dataLim.x1 if ax.has_data() else None
    placed: dict[int, int] = {}
    with house_style():
        for colour, events in runs:
            for event in events:
                epoch = int(event["epoch"])
                ax.axvline(epoch, color=colour, linestyle=EVENT_DASHES, linewidth=0.9, alpha=0.8, zorder=1)
                column = placed.get(epoch, 0)
                placed[epoch] = column + 1
                side = -1 if last is not None and epoch >= last else 1
                at = offset_copy(top, fig=ax.figure, x=side * (1.5 + 9 * column), units="points")
                # A translucent white box keeps the label readable where it crosses a curve.
                ax.text(epoch, 0.98, EVENT_LABELS.get(event["kind"], event["kind"]), transform=at, rotation=90,
                        color=colour, fontsize=7, ha="left" if side > 0 else "right", va="top", zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.2})
    return ax


def plot_curves_grid(curves: dict[str, dict[str, Any]]):
    """A two-panel figure: loss (left) and accuracy (right)."""
    fig, axes = new_figure(2, aspect=0.8)
    plot_curves(curves, "loss", ax=axes[0, 0])
    plot_curves(curves, "acc", ax=axes[0, 1])
    axes[0, 0].set_title("Loss")
    axes[0, 1].set_title("Accuracy")
    return fig

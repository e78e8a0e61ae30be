"""The trainer's events (LR decay, early stop) on the training curves: kept by ``mean_curves`` through a real
tiny run, and drawn by ``plot_curves`` as a dashed vertical line with a short label in the run's colour."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from reportgen.config.specs import SectionSpec
from reportgen.figures.curves import plot_curves, plot_curves_grid
from reportgen.figures.style import new_figure
from reportgen.sections import SECTIONS, SectionContext
from reportgen.sections.compare import mean_curves
from tests.support import tiny_group
from tests.test_sections import group, make_result

HISTORY = {"train_loss": [2.0, 1.0, 0.8, 0.7], "val_loss": [2.1, 1.2, 1.25, 1.3],
           "train_acc": [0.4, 0.7, 0.8, 0.85], "val_acc": [0.35, 0.65, 0.64, 0.63]}
EVENTS = [{"epoch": 3, "kind": "lr_decay", "detail": "learning rate 0.01 → 0.005"},
          {"epoch": 4, "kind": "early_stop", "detail": "weights of epoch 2 restored"}]


def event_lines(ax):
    """Vertical lines (two equal x values) drawn on ``ax``: ``[(x, colour)]``."""
    return [(line.get_xdata()[0], line.get_color()) for line in ax.lines
            if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]


def test_events_are_drawn_as_dashed_lines_with_labels_in_the_run_colour():
    _, axes = new_figure()
    ax = plot_curves({"A": HISTORY, "B": {**HISTORY, "events": EVENTS}}, "loss", ax=axes[0, 0])
    lines = event_lines(ax)
    assert [x for x, _ in lines] == [3, 4]
    assert all(to_rgba(c) == to_rgba("C1") for _, c in lines)  # run B is the second colour
    assert all(line.get_linestyle() == "--" for line in ax.lines if len(line.get_xdata()) == 2)
    labels = {t.get_text(): t for t in ax.texts}
    assert set(labels) == {"LR decay", "stop"}
    assert labels["stop"].get_position()[0] == 4 and to_rgba(labels["stop"].get_color()) == to_rgba("C1")
    assert all(t.get_fontsize() >= 7 for t in ax.texts)
    # The marks stay out of the legend: it still lists train and validation per run only.
    assert len(ax.get_legend().get_texts()) == 4
    plt.close(ax.figure)


def test_no_events_no_marks_and_labels_do_not_overlap():
    _, axes = new_figure()
    ax = plot_curves({"A": HISTORY}, "acc", ax=axes[0, 0])
    assert event_lines(ax) == [] and len(ax.texts) == 0
    plt.close(ax.figure)
    # Two runs' events at one epoch and at neighbouring ones, on a 12-epoch axis (one at its end): no label
    # covers another or leaves the axes.
    near = [{"epoch": 6, "kind": "lr_decay"}, {"epoch": 7, "kind": "early_stop"}, {"epoch": 12, "kind": "lr_decay"}]
    long = {k: v * 3 for k, v in HISTORY.items() if k != "events"}  # 12 epochs
    fig = plot_curves_grid({"A": {**long, "events": near}, "B": {**long, "events": near[:2]}})
    fig.canvas.draw()
    for ax in fig.axes:
        boxes = [t.get_window_extent() for t in ax.texts]
        assert len(boxes) == 5
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        inside = ax.get_window_extent()
        assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 + 1 for b in boxes)
    plt.close(fig)


def test_mean_curves_keeps_the_first_seeds_events_and_the_mean_lr():
    runs = [make_result(0), make_result(1)]
    runs[0].events, runs[1].events = EVENTS, [{"epoch": 1, "kind": "early_stop", "detail": ""}]
    runs[0].history["lr"], runs[1].history["lr"] = [0.01, 0.01, 0.005], [0.02, 0.01, 0.01]
    curves = mean_curves(group("a", runs))
    assert curves["events"] == EVENTS
    assert curves["lr"] == pytest.approx([0.015, 0.01, 0.0075])
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):  # unchanged for existing callers
        assert curves[key] == pytest.approx(np.mean([r.history[key] for r in runs], axis=0).tolist())
    # Runs cached before the trainer recorded lr or events still work.
    old = mean_curves(group("b", [make_result(2)]))
    assert old["lr"] == [] and old["events"] == []


def test_a_real_run_keeps_its_events_through_compare():
    stopped = tiny_group("mlp", lr=0.2, epochs=6, early_stopping=2, lr_schedule="plateau", plateau_patience=1)
    plain = tiny_group("conv")
    r = stopped.results[0]
    assert {e["kind"] for e in r.events} == {"lr_decay", "early_stop"}
    spec = SectionSpec(id="q1", type="compare", title="Q1", question="?", marks=1, runs=("mlp", "conv"))
    impl = SECTIONS.get("compare")(spec)
    result = json.loads(json.dumps(impl.compute(SectionContext(spec, [stopped, plain])), allow_nan=False))
    curves = result["curves"]["MLP"]
    assert curves["events"] == r.events
    assert curves["lr"] == pytest.approx(r.history["lr"]) and len(curves["lr"]) == len(curves["val_loss"])
    assert result["curves"]["C2"]["events"] == []
    fig = impl.figures(result)[0].draw()
    try:
        for ax in fig.axes:  # both panels, loss and accuracy, carry the marks
            assert sorted(x for x, _ in event_lines(ax)) == sorted(e["epoch"] for e in r.events)
    finally:
        plt.close(fig)

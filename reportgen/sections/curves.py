"""``curves``: training and validation loss and accuracy per epoch, mean over seeds, with the trainer's events.

Per run: the per-epoch means over the finished seeds (``compare.mean_curves``: an early-stopped seed counts
for the epochs it reached), the first finished seed's events (learning-rate decays, early stop) marked on the
curves, and the facts the text states: where validation loss is lowest, where validation accuracy peaks, and
whether validation loss rises again while training loss keeps falling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, Section, SectionContext
from reportgen.sections.compare import mean_curves
from reportgen.sections.roc import run_entry
from reportgen.sections.stats import RULE
from reportgen.text import pct

RISE = 0.05  # validation loss this much (relative) above its minimum at the end: it "rises again"


def curves_figure(curves: dict[str, dict[str, Any]], multi: bool) -> Figure:
    """Loss (left) and accuracy (right) per epoch of ``curves`` (``{label: mean_curves(group)}``)."""
    from reportgen.figures.curves import plot_curves_grid

    labels = ", ".join(curves)
    events = any(c.get("events") for c in curves.values())
    marks = (" Thin dotted vertical lines mark the trainer's events (a learning-rate decay, an early stop) of the "
             "first finished seed." if events else "")
    return Figure("curves", "Training (solid) and validation (dashed) loss and accuracy per epoch"
                  f"{' (mean over seeds)' if multi else ''}: {labels}.{marks}",
                  f"Line charts of loss and accuracy per epoch for {labels}.",
                  lambda: plot_curves_grid(curves), wide=True)


def curve_facts(curve: dict[str, Any]) -> dict[str, Any]:
    """What the text and table say about one run's mean curves: epochs, first and last losses, the epoch of the
    lowest validation loss and of the highest validation accuracy (1-based; ``None`` without that curve)."""
    def ends(key: str) -> tuple[float | None, float | None]:
        values = curve.get(key) or []
        return (values[0], values[-1]) if values else (None, None)

    val_loss, val_acc = curve.get("val_loss") or [], curve.get("val_acc") or []
    facts: dict[str, Any] = {"epochs": max((len(curve.get(k) or []) for k in ("train_loss", "val_loss")), default=0)}
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        facts[f"{key}_first"], facts[f"{key}_last"] = ends(key)
    facts["best_val_loss_epoch"] = int(np.argmin(val_loss)) + 1 if val_loss else None
    facts["best_val_loss"] = float(min(val_loss)) if val_loss else None
    facts["best_val_acc_epoch"] = int(np.argmax(val_acc)) + 1 if val_acc else None
    facts["best_val_acc"] = float(max(val_acc)) if val_acc else None
    facts["events"] = list(curve.get("events") or [])
    return facts


@SECTIONS.register("curves")
class CurvesSection(Section):
    run_count = (1, None)
    template = "sections/curves.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries, curves = [], {}
        for g in ctx.groups:
            entry = run_entry(g)
            if g.results:
                curves[g.label] = mean_curves(g)
                entry["curve"] = curve_facts(curves[g.label])
            entries.append(entry)
        result = {"runs": entries, "curves": curves, "seeds": ctx.groups[0].seeds, "rule": RULE}
        result["analysis"] = analysis(result)
        return result

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        if not result["curves"]:
            return []
        return [curves_figure(result["curves"], len(result["seeds"]) > 1)]


def _and(items: list) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _loss(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def run_sentences(e: dict[str, Any], over: str) -> list[str]:
    """One run's curves in words: the losses' course, the best validation epoch, a late rise, the events."""
    c = e["curve"]
    n = c["epochs"]
    text = (f"{e['label']}{over}: over {n} epoch{'s' if n != 1 else ''} the training loss goes from "
            f"{_loss(c['train_loss_first'])} to {_loss(c['train_loss_last'])}")
    if c["val_loss_last"] is not None:
        text += (f" and the validation loss from {_loss(c['val_loss_first'])} to {_loss(c['val_loss_last'])}, "
                 f"lowest in epoch {c['best_val_loss_epoch']} ({_loss(c['best_val_loss'])})")
    if c["best_val_acc"] is not None:
        text += (f"; validation accuracy peaks in epoch {c['best_val_acc_epoch']} at {pct(c['best_val_acc'])} "
                 f"and ends at {pct(c['val_acc_last'])}")
    sentences = [text + "."]
    best, last = c["best_val_loss"], c["val_loss_last"]
    if best is not None and c["best_val_loss_epoch"] < n and last > best * (1 + RISE) \
            and c["train_loss_last"] is not None and c["train_loss_last"] < c["train_loss_first"]:
        sentences.append(f"After epoch {c['best_val_loss_epoch']} the validation loss of {e['label']} rises by "
                         f"{100 * (last / best - 1):.0f} % while the training loss keeps falling: the network fits "
                         "its training images more closely than it generalises (over-fitting).")
    decays = [ev["epoch"] for ev in c["events"] if ev["kind"] == "lr_decay"]
    stops = [ev for ev in c["events"] if ev["kind"] == "early_stop"]
    seed = f"seed {e['first_seed']} of {e['label']}" if over else e["label"]
    if decays:
        sentences.append(f"The learning rate of {seed} was decayed after epoch{'s' if len(decays) > 1 else ''} "
                         f"{_and(decays)} (validation loss on a plateau).")
    if stops:
        detail = f": {stops[0]['detail']}" if stops[0]["detail"] else ""
        sentences.append(f"Early stopping ended {seed} after epoch {stops[0]['epoch']}{detail}.")
    return sentences


def analysis(result: dict[str, Any]) -> list[str]:
    """Per finished run: its curves in words; then, with several runs, which ends with the highest validation
    accuracy (a mean over seeds, stated as such, not tested: the tested comparisons are the test-set ones)."""
    done = [e for e in result["runs"] if "curve" in e]
    if not done:
        return ["No run finished, so there are no training curves to show."]
    over = f" (mean over {len(result['seeds'])} seeds)" if len(result["seeds"]) > 1 else ""
    text = [s for e in done for s in run_sentences(e, over)]
    ended = [e for e in done if e["curve"]["val_acc_last"] is not None]
    if len(ended) > 1:
        top = max(ended, key=lambda e: e["curve"]["val_acc_last"])
        text.append(f"At the last epoch {top['label']} has the highest validation accuracy "
                    f"({pct(top['curve']['val_acc_last'])}); these curves are not tested against seed-to-seed "
                    "noise, the test-set comparisons are.")
    return text

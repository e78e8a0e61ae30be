"""``block_mix``: different numbers of conv blocks and MobileNet blocks compared (ITU A3 question 2).

A table of block counts, accuracy (mean ± std over seeds), parameters, multiply-adds and training time; a
figure of accuracy against parameters and against multiply-adds with the Pareto front marked; a paragraph
naming the most accurate, the smallest and the Pareto-optimal runs, and saying whether swapping conv blocks
for MobileNet blocks at the same depth changed accuracy by more than seed noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.compare import run_metrics
from reportgen.sections.stats import RULE, compare_seeds, summarize
from reportgen.text import count, pct, points, pvalue, ratio


def block_counts(spec) -> tuple[int | None, int | None]:
    """``(conv_blocks, mobilenet_blocks)`` of a ``conv_mobilenet`` run (the model's defaults filled in);
    ``(None, None)`` for any other architecture."""
    if spec.arch != "conv_mobilenet":
        return None, None
    from reportgen.config.params import resolved_params
    from reportgen.models import MODELS, SUPPLIED

    full = resolved_params(MODELS.get("conv_mobilenet"), spec.model_options, skip=SUPPLIED)
    return int(full["conv_blocks"]), int(full["mobilenet_blocks"])


def pareto(values: list[tuple[float, float]]) -> list[bool]:
    """For ``(accuracy, size)`` pairs: True where no other pair is at least as accurate and at least as small,
    and strictly better in one of the two."""
    return [
        not any(b[0] >= a[0] and b[1] <= a[1] and (b[0] > a[0] or b[1] < a[1]) for b in values)
        for a in values
    ]


def mix_row(group: RunGroup) -> dict[str, Any]:
    """``run_metrics`` plus block counts, time per epoch and accuracy per 10k parameters."""
    row = run_metrics(group)
    row["conv_blocks"], row["mobilenet_blocks"] = block_counts(group.spec)
    row["epoch_seconds"] = summarize([float(np.mean(r.history["epoch_seconds"])) for r in group.results
                                      if r.history.get("epoch_seconds")])
    acc, params = row["accuracy"]["mean"], row["params"]
    row["accuracy_per_10k_params"] = 100 * acc / (params / 1e4) if acc is not None and params else None
    return row


def verdict(test: dict[str, Any]) -> str:
    """How a ``compare_seeds`` result reads in a sentence (never "better" unless it beats the noise)."""
    if not test["testable"]:
        return "untested: one seed gives no estimate of seed-to-seed noise"
    p = pvalue(test["p"])
    return f"larger than seed-to-seed noise ({p})" if test["significant"] else f"within seed-to-seed noise ({p})"


@SECTIONS.register("block_mix")
class BlockMixSection(Section):
    @dataclass(frozen=True)
    class Options:
        sort_by: Literal["manifest", "accuracy", "params"] = "manifest"  # table row order

    run_count = (2, None)
    version = 2  # 2: rows name their dataset; "p < 0.001"
    template = "sections/block_mix.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        rows = [mix_row(g) for g in ctx.groups]
        done = [r for r in rows if r["accuracy"]["n"] and r["params"]]
        for key in ("params", "macs"):
            flags = pareto([(r["accuracy"]["mean"], r[key] or 0) for r in done])
            for r in rows:
                r[f"pareto_{key}"] = False
            for r, flag in zip(done, flags, strict=True):
                r[f"pareto_{key}"] = flag
        if self.options.sort_by == "accuracy":
            rows.sort(key=lambda r: -(r["accuracy"]["mean"] or -1))
        elif self.options.sort_by == "params":
            rows.sort(key=lambda r: r["params"] or 0)
        return {"rows": rows, "seeds": ctx.groups[0].seeds, "rule": RULE, "analysis": analysis(rows)}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.tradeoff import plot_tradeoff_pair

        shown = [r for r in result["rows"] if r["accuracy"]["n"] and r["params"]]
        if not shown:
            return []
        labels = ", ".join(r["label"] for r in shown)
        n = len(result["seeds"])
        bars = f"; error bars are the standard deviation over {n} seeds" if n > 1 else ""
        return [
            Figure(
                "tradeoff",
                f"Test accuracy against parameters (left) and multiply-adds per image (right), log scale{bars}. "
                "Filled points are Pareto-optimal (no other run is at least as accurate and at least as small), "
                "joined by the dashed front.",
                f"Scatter plots of test accuracy against parameter count and multiply-adds for {labels}.",
                lambda: plot_tradeoff_pair(shown),
                wide=True,
            )
        ]


def analysis(rows: list[dict[str, Any]]) -> list[str]:
    """The most accurate and the smallest runs, the Pareto front, accuracy per 10k parameters, and conv →
    MobileNet swaps at equal depth, each gap judged against seed noise."""
    done = [r for r in rows if r["accuracy"]["n"] and r["params"]]
    if len(done) < 2:
        return ["Fewer than two runs finished, so there is nothing to compare."]
    text = []
    ranked = sorted(done, key=lambda r: -r["accuracy"]["mean"])
    best, second = ranked[0], ranked[1]
    test = compare_seeds(best["accuracy"]["values"], second["accuracy"]["values"])
    text.append(
        f"{best['label']} has the highest mean test accuracy ({pct(best['accuracy']['mean'])}), "
        f"{points(test['diff'])} above the next, {second['label']} ({pct(second['accuracy']['mean'])}); "
        f"that lead is {verdict(test)}."
    )
    smallest = min(done, key=lambda r: r["params"])
    cheapest = min(done, key=lambda r: r["macs"] or float("inf"))
    sentence = (f"{smallest['label']} is the smallest ({count(smallest['params'])} parameters, "
                f"{ratio(smallest['params'], best['params'], 'parameters')} than {best['label']})")
    if cheapest is not smallest and cheapest["macs"]:
        sentence += f"; {cheapest['label']} needs the fewest multiply-adds ({count(cheapest['macs'])} per image)"
    text.append(sentence + ".")
    front = [r["label"] for r in sorted(done, key=lambda r: r["params"]) if r["pareto_params"]]
    front_macs = [r["label"] for r in sorted(done, key=lambda r: r["macs"] or 0) if r["pareto_macs"]]
    text.append(
        f"Not beaten on both mean accuracy and parameter count (Pareto-optimal): {', '.join(front)}"
        + ("." if front_macs == front else f"; on accuracy and multiply-adds: {', '.join(front_macs)}.")
    )
    efficiency = sorted(done, key=lambda r: -r["accuracy_per_10k_params"])
    hi, lo = efficiency[0], efficiency[-1]
    text.append(
        f"Accuracy per 10k parameters (test accuracy in % divided by the parameter count in units of 10k) is "
        f"highest for {hi['label']} ({hi['accuracy_per_10k_params']:.1f}) and lowest for {lo['label']} "
        f"({lo['accuracy_per_10k_params']:.1f})."
    )
    text.extend(swap_sentences(done))
    return text


def swap_sentences(done: list[dict[str, Any]]) -> list[str]:
    """At each total depth with two or more runs: the run with the most conv blocks against each run that
    replaces some of them by MobileNet blocks."""
    known = sorted((r for r in done if r["conv_blocks"] is not None),
                   key=lambda r: (r["conv_blocks"] + r["mobilenet_blocks"], r["mobilenet_blocks"]))
    text = []
    for depth, same in groupby(known, key=lambda r: r["conv_blocks"] + r["mobilenet_blocks"]):
        same = list(same)
        base = same[0]
        for other in same[1:]:
            if other["mobilenet_blocks"] == base["mobilenet_blocks"]:
                continue
            test = compare_seeds(other["accuracy"]["values"], base["accuracy"]["values"])
            direction = "moved" if not test["significant"] else "raised" if test["diff"] > 0 else "lowered"
            swapped = other["mobilenet_blocks"] - base["mobilenet_blocks"]
            text.append(
                f"At {depth} blocks, replacing {swapped} conv block{'s' if swapped != 1 else ''} by MobileNet "
                f"blocks ({base['label']} → {other['label']}, {ratio(other['params'], base['params'], 'parameters')}"
                f") {direction} accuracy from {pct(base['accuracy']['mean'])} to {pct(other['accuracy']['mean'])} "
                f"({points(test['diff'])}); the change is {verdict(test)}."
            )
    if not text:
        text.append("No two runs have the same total number of blocks with a different mix, so the effect of "
                    "swapping conv blocks for MobileNet blocks cannot be separated from the effect of depth.")
    return text

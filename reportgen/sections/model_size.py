"""``model_size``: accuracy against model size and cost, for any set of runs (ITU A3 question 2 was ``block_mix``).

A table of what each model says about its structure (its ``describe()``, or generic facts about any ``nn.Module``:
see :mod:`reportgen.models.describe`), accuracy (mean ± std over seeds), parameters, multiply-adds, accuracy per
10k parameters and training time; a figure of accuracy against parameters and against multiply-adds with the
Pareto front marked; a paragraph naming the most accurate, the smallest and the Pareto-optimal runs. Where models
describe blocks of several kinds (``"conv blocks"``, ``"MobileNet blocks"``), runs with the same total number of
blocks and a different mix are compared as swaps of one kind for another, each gap judged against seed noise.

The old name ``block_mix`` stays an alias: the same runs give the same numbers and sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

import numpy as np

from reportgen.models.describe import block_kinds
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.compare import run_metrics
from reportgen.sections.stats import Family, power_note, summarize, verdict
from reportgen.text import count, pct, points, ratio


def pareto(values: list[tuple[float, float]]) -> list[bool]:
    """For ``(accuracy, size)`` pairs: True where no other pair is at least as accurate and at least as small,
    and strictly better in one of the two (equal pairs do not beat each other). O(n log n): sizes ascending,
    a pair is on the front when it is the most accurate of its size and more accurate than every smaller one."""
    flags = [False] * len(values)
    order = sorted(range(len(values)), key=lambda i: values[i][1])
    best_smaller = -np.inf  # the highest accuracy among strictly smaller sizes
    for _, same in groupby(order, key=lambda i: values[i][1]):
        same = list(same)
        top = max(values[i][0] for i in same)
        for i in same:
            flags[i] = values[i][0] == top and top > best_smaller
        best_smaller = max(best_smaller, top)
    return flags


def structure(group: RunGroup) -> tuple[dict[str, Any], str | None]:
    """``(facts, note)``: what the run's model, built from its spec (untrained), says about itself; no facts and a
    note saying why when it cannot be built or described."""
    if group.data is None:
        return {}, "its dataset is unavailable, so its model was not built to describe it"
    import torch

    from reportgen.models import build_run_model
    from reportgen.models.describe import describe_model

    try:
        with torch.random.fork_rng(devices=[]):  # building initialises weights: leave the global RNG as it was
            model = build_run_model(group.spec, tuple(group.data.input_shape), group.data.num_classes)
        return describe_model(model), None
    except Exception as err:  # noqa: BLE001 - a user's model or describe() may raise anything; the row says so
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return {}, f"its structure is unknown ({type(err).__name__}{': ' + first if first else ''})"


def size_row(group: RunGroup) -> dict[str, Any]:
    """``run_metrics`` plus the model's described facts, time per epoch and accuracy per 10k parameters."""
    row = run_metrics(group)
    row["facts"], row["structure_note"] = structure(group)
    row["epoch_seconds"] = summarize([float(np.mean(r.history["epoch_seconds"])) for r in group.results
                                      if r.history.get("epoch_seconds")])
    acc, params = row["accuracy"]["mean"], row["params"]
    row["accuracy_per_10k_params"] = 100 * acc / (params / 1e4) if acc is not None and params else None
    return row


def fact_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The union of the rows' fact keys, in the order they first appear."""
    return list(dict.fromkeys(k for r in rows for k in r["facts"]))


@SECTIONS.register("model_size")
class ModelSizeSection(Section):
    @dataclass(frozen=True)
    class Options:
        sort_by: Literal["manifest", "accuracy", "params"] = "manifest"  # table row order

    records = True  # its rows are per-run test-accuracy records
    run_count = (2, None)
    version = 4  # 3: model_size; structure from the models' describe(). 4: Holm over the section, CIs
    template = "sections/model_size.html.j2"
    example_options = {"sort_by": "params"}

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        rows = [size_row(g) for g in ctx.groups]
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
        family = Family()
        text = analysis(rows, family)
        return {"rows": rows, "fact_columns": fact_columns(rows), "seeds": ctx.groups[0].seeds,
                "rule": family.rule(), "power": power_note(len(ctx.groups[0].seeds)), "analysis": text}

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


SECTIONS.alias("block_mix", "model_size")


def _direction(test: dict[str, Any]) -> str:
    return "moved" if not test["significant"] else "raised" if test["diff"] > 0 else "lowered"


def analysis(rows: list[dict[str, Any]], family: Family | None = None) -> list[str]:
    """The most accurate and the smallest runs, the Pareto front, accuracy per 10k parameters, and swaps of one
    kind of block for another at equal depth, each gap judged against seed noise."""
    family = family if family is not None else Family()
    done = [r for r in rows if r["accuracy"]["n"] and r["params"]]
    if len(done) < 2:
        return ["Fewer than two runs finished, so there is nothing to compare."]
    text: list = []  # strings, and callables that quote a test (written once the family is corrected)
    ranked = sorted(done, key=lambda r: -r["accuracy"]["mean"])
    best, second = ranked[0], ranked[1]
    test = family.compare(best["accuracy"]["values"], second["accuracy"]["values"])
    text.append(lambda: (
        f"{best['label']} has the highest mean test accuracy ({pct(best['accuracy']['mean'])}), "
        f"{points(test['diff'])} above the next, {second['label']} ({pct(second['accuracy']['mean'])}); "
        f"that lead is {verdict(test)}."
    ))
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
    text.extend(swap_sentences(done, family))
    return family.write(text)


def _blocks(n: int, kind: str) -> str:
    """``"1 conv block"``, ``"3 conv blocks"`` (``kind`` is a fact key ending in " blocks")."""
    return f"{n} {kind if n != 1 else kind.removesuffix('s')}"


def swap_sentences(done: list[dict[str, Any]], family: Family) -> list:
    """For runs whose models describe the same two or more kinds of blocks (:func:`block_kinds`): at each total
    number of blocks with two or more runs, the run with the most blocks of the first kind against each run that
    replaces some of them by blocks of the other kinds. Nothing when no model describes two kinds of blocks."""
    families: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in done:
        kinds = block_kinds(r["facts"])
        if len(kinds) >= 2:
            families.setdefault(kinds, []).append(r)
    text = []
    for kinds, members in families.items():
        def mix(r: dict[str, Any], kinds=kinds) -> tuple[int, ...]:
            return tuple(r["facts"][k] for k in kinds)

        known = sorted(members, key=lambda r: (sum(mix(r)), tuple(-n for n in mix(r))))
        found = []
        for depth, same in groupby(known, key=lambda r: sum(mix(r))):
            base, *others = list(same)
            for other in others:
                if mix(other) == mix(base):
                    continue
                test = family.compare(other["accuracy"]["values"], base["accuracy"]["values"])
                found.append(lambda depth=depth, base=base, other=other, test=test, kinds=kinds, mix=mix: (
                    f"At {depth} blocks, replacing {swap(kinds, mix(base), mix(other))} ({base['label']} → "
                    f"{other['label']}, {ratio(other['params'], base['params'], 'parameters')}) "
                    f"{_direction(test)} accuracy from {pct(base['accuracy']['mean'])} to "
                    f"{pct(other['accuracy']['mean'])} ({points(test['diff'])}); the change is {verdict(test)}."
                ))
        if not found:
            swapped = (f"{kinds[0]} for {kinds[1]}" if len(kinds) == 2
                       else f"one kind of block for another ({', '.join(kinds)})")
            found.append(f"No two runs have the same total number of blocks with a different mix, so the effect of "
                         f"swapping {swapped} cannot be separated from the effect of depth.")
        text.extend(found)
    return text


def swap(kinds: tuple[str, ...], before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """``"1 conv block by MobileNet blocks"``: the kinds that lost blocks, by the kinds that gained them (counted
    when more than one kind gained)."""
    lost = [(before[i] - after[i], k) for i, k in enumerate(kinds) if after[i] < before[i]]
    gained = [(after[i] - before[i], k) for i, k in enumerate(kinds) if after[i] > before[i]]
    by = gained[0][1] if len(gained) == 1 else " and ".join(_blocks(n, k) for n, k in gained)
    return f"{' and '.join(_blocks(n, k) for n, k in lost)} by {by}"

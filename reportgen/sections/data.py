"""``data``: what the runs train and test on — class counts per split, sizes, imbalance, image statistics.

Each distinct dataset of the listed runs (by content fingerprint) gets its per-class counts in train, val and
test, the imbalance ratio of each split, its image shape and the training pixels' mean and std, a grouped bar
chart of the counts and a few sample images per class. The text says whether the splits are stratified and
which classes are under-represented in training (the imbalanced variant of the assignment cuts digits 0, 4
and 7 to a twelfth).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np

from reportgen.config.errors import DataError
from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.leakage import describe_leaks, find_leaks
from reportgen.text import count, pct

if TYPE_CHECKING:
    import torch

SPLITS = ("train", "val", "test")
UNDER = 0.5  # a class is under-represented in training below this fraction of the median class count
SAMPLE_CLASSES = 12  # sample images are shown for at most this many classes (spread over the list)
SAMPLE_SIDE = 48  # sample images are stored at most this many pixels on a side (the JSON stays small)


def dataset_name(group: RunGroup) -> str:
    """The run's dataset name, with any overrides it applies: ``digits (split = [0.8, 0.1, 0.1])``."""
    from reportgen.sections.sweeps import value_text

    overrides = ", ".join(f"{k} = {value_text(v)}" for k, v in sorted(group.spec.dataset_overrides.items()))
    return f"{group.spec.dataset} ({overrides})" if overrides else group.spec.dataset


def pixel_stats(x: torch.Tensor, chunk: int = 4096) -> tuple[list[float], list[float]]:
    """Per-channel mean and sample std of ``x`` (uint8, ``(N, C, H, W)``) in [0, 1] units, in chunks so a
    large dataset is never copied to float whole; equals ``DatasetSplits.channel_stats()``."""
    import torch

    c = x.shape[1]
    total, total_sq, n = torch.zeros(c, dtype=torch.float64), torch.zeros(c, dtype=torch.float64), 0
    for start in range(0, x.shape[0], chunk):
        part = x[start : start + chunk].to(torch.float64).div_(255.0)
        total += part.sum(dim=(0, 2, 3))
        total_sq += part.square().sum(dim=(0, 2, 3))
        n += part.shape[0] * part.shape[2] * part.shape[3]
    mean = total / max(n, 1)
    var = (total_sq - n * mean.square()) / max(n - 1, 1)
    return mean.tolist(), var.clamp_min(0).sqrt().clamp_min(1e-6).tolist()


def split_summary(counts: list[int], classes: tuple[str, ...]) -> dict[str, Any]:
    """Size, counts and the imbalance ratio (largest over smallest class; None when a class is absent)."""
    low, high = min(counts), max(counts)
    return {
        "size": int(sum(counts)),
        "counts": [int(c) for c in counts],
        "imbalance": high / low if low else None,
        "largest": classes[counts.index(high)],
        "smallest": classes[counts.index(low)],
        "missing": [classes[i] for i, c in enumerate(counts) if c == 0],
    }


def stratification(counts: dict[str, list[int]], classes: tuple[str, ...]) -> dict[str, Any]:
    """Are the splits stratified? Each split's count of a class should be the split's size times the class's
    share of the whole dataset, within one image. ``largest_gap`` is the class whose share differs most
    between two splits (its shares and counts in both)."""
    totals = [sum(counts[s][i] for s in SPLITS) for i in range(len(classes))]
    grand = sum(totals) or 1
    sizes = {s: sum(counts[s]) for s in SPLITS}
    worst = max(abs(counts[s][i] - sizes[s] * totals[i] / grand) for s in SPLITS for i in range(len(classes)))
    gap = None
    for i, name in enumerate(classes):
        shares = {s: counts[s][i] / sizes[s] for s in SPLITS if sizes[s]}
        if len(shares) < 2:
            continue
        low, high = min(shares, key=shares.get), max(shares, key=shares.get)
        if gap is None or shares[high] - shares[low] > gap["high_share"] - gap["low_share"]:
            gap = {"class": name, "low_split": low, "low_share": shares[low], "low_count": counts[low][i],
                   "high_split": high, "high_share": shares[high], "high_count": counts[high][i]}
    return {"stratified": worst <= 1 + 1e-9, "max_deviation": worst, "largest_gap": gap}


def samples(data, per_class: int) -> dict[str, Any] | None:
    """Up to ``per_class`` training images of each of the first classes, as ``(C, H, W)`` uint8 lists
    (downsampled to at most ``SAMPLE_SIDE`` pixels)."""
    import torch

    if per_class <= 0:
        return None
    x, y = data.train.x, data.train.y
    # Many classes (the 96 lines): show classes spread evenly over the list rather than only the first few.
    k = len(data.classes)
    chosen = np.unique(np.linspace(0, k - 1, min(k, SAMPLE_CLASSES)).round().astype(int))
    picked, classes = [], [data.classes[i] for i in chosen]
    for i in chosen.tolist():
        idx = (y == i).nonzero().flatten()[:per_class]  # the splits are in seeded random order already
        images = x[idx]
        if images.shape[-1] > SAMPLE_SIDE or images.shape[-2] > SAMPLE_SIDE:
            scale = SAMPLE_SIDE / max(images.shape[-2:])
            size = (max(1, round(images.shape[-2] * scale)), max(1, round(images.shape[-1] * scale)))
            images = torch.nn.functional.interpolate(images.float(), size=size, mode="area").round().to(torch.uint8)
        picked.append(images.tolist())
    return {"classes": classes, "images": picked}


def describe_dataset(data, name: str, per_class: int) -> dict[str, Any]:
    classes = tuple(data.classes)
    counts = {s: getattr(data, s).class_counts(len(classes)) for s in SPLITS}
    mean, std = pixel_stats(data.train.x)
    train = counts["train"]
    median = statistics.median(train)
    under = [{"class": classes[i], "count": int(c), "share": c / median if median else 0.0}
             for i, c in enumerate(train) if c < UNDER * median]
    return {
        "name": name,
        "fingerprint": data.fingerprint,
        "classes": list(classes),
        "image_shape": list(data.input_shape),
        "splits": {s: split_summary(counts[s], classes) for s in SPLITS},
        "pixel_mean": mean,
        "pixel_std": std,
        "stratification": stratification(counts, classes),
        "train_median": float(median),
        "under_represented": under,
        "samples": samples(data, per_class),
    }


@SECTIONS.register("data")
class DataSection(Section):
    @dataclass(frozen=True)
    class Options:
        samples_per_class: Annotated[int, Range(0, 10)] = 3  # training images shown per class (0: none)
        # An image in two splits (exact duplicate pixels): "report" says so in the text; "error" stops the build.
        leakage: Literal["report", "error"] = "report"

    run_count = (1, None)
    version = 3  # 2: many-class datasets get a summary table, numbered bars and spread-out samples; 3: leakage
    template = "sections/data.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        datasets: dict[str, dict[str, Any]] = {}
        runs = []
        for g in ctx.groups:
            key = g.data.fingerprint if g.data is not None else None
            runs.append({"run": g.name, "label": g.label, "dataset": dataset_name(g), "fingerprint": key,
                         "failures": g.failures})
            if g.data is None:
                continue
            if key not in datasets:
                datasets[key] = {**describe_dataset(g.data, dataset_name(g), self.options.samples_per_class),
                                 "leakage": find_leaks(g.data), "runs": [], "resampled": []}
                leaks = datasets[key]["leakage"]
                if leaks["total"] and self.options.leakage == "error":
                    shown = "; ".join(describe_leaks(dataset_name(g), leaks, _sizes(g.data)))
                    raise DataError(f"sections.{ctx.section.id}.leakage = \"error\": {shown}")
            datasets[key]["runs"].append(g.label)
            if g.spec.train.resample_split:
                datasets[key]["resampled"].append(g.label)
        entries = list(datasets.values())
        names = [e["name"] for e in entries]
        for e in entries:  # two different datasets under one name (a run's data changed): tell them apart
            if names.count(e["name"]) > 1:
                e["name"] += f" ({', '.join(e['runs'])})"
        text = [s for e in entries for s in (*describe(e), *describe_resampled(e),
                                             *describe_leaks(e["name"], e["leakage"], _split_sizes(e)))]
        if not entries:
            text = ["No dataset of the listed runs could be loaded."]
        return {"datasets": entries, "runs": runs, "analysis": text}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.distribution import plot_class_counts_figure, plot_samples

        figures = []
        for i, e in enumerate(result["datasets"], 1):
            counts = {s: e["splits"][s]["counts"] for s in SPLITS}
            figures.append(Figure(
                f"counts-{i}",
                f"Images per class in the training, validation and test splits of {e['name']}.",
                f"Grouped bar chart of image counts per class ({', '.join(e['classes'][:12])}"
                f"{', …' if len(e['classes']) > 12 else ''}) for train, val and test of {e['name']}.",
                lambda counts=counts, e=e: plot_class_counts_figure(counts, e["classes"]),
                wide=True,
            ))
            if e["samples"]:
                figures.append(Figure(
                    f"samples-{i}",
                    f"Training images of {e['name']}, one column per class"
                    + (f" (the first {SAMPLE_CLASSES} classes)." if len(e["classes"]) > SAMPLE_CLASSES else "."),
                    f"A grid of sample training images of {e['name']}, {len(e['samples']['images'][0])} per class.",
                    lambda e=e: plot_samples(e["samples"]["images"], e["samples"]["classes"]),
                    wide=True,
                ))
        return figures


def _sizes(data) -> dict[str, int]:
    return {s: len(getattr(data, s)) for s in SPLITS}


def _split_sizes(e: dict[str, Any]) -> dict[str, int]:
    return {s: e["splits"][s]["size"] for s in SPLITS}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def _classes(names: list[str]) -> str:
    return f"class{'es' if len(names) > 1 else ''} {_and(names)}"


def describe(e: dict[str, Any]) -> list[str]:
    """Sizes, stratification, under-represented classes and pixel statistics of one dataset."""
    sp, c, h, w = e["splits"], *e["image_shape"]
    total = sum(sp[s]["size"] for s in SPLITS)
    text = [
        f"Dataset {e['name']} has {total:,} images of {c}×{h}×{w} pixels in {len(e['classes'])} classes: "
        f"{sp['train']['size']:,} for training ({pct(sp['train']['size'] / total, 0)}), {sp['val']['size']:,} for "
        f"validation ({pct(sp['val']['size'] / total, 0)}) and {sp['test']['size']:,} for testing "
        f"({pct(sp['test']['size'] / total, 0)}). Training pixels have mean "
        + "/".join(f"{m:.3f}" for m in e["pixel_mean"]) + " and std " + "/".join(f"{s:.3f}" for s in e["pixel_std"])
        + " (in [0, 1] units" + (", per channel)." if c > 1 else ").")
    ]
    strat = e["stratification"]
    if strat["stratified"]:
        text.append("The splits are stratified: every class has the same share of each split as of the whole "
                    "dataset, within one image.")
    else:
        g = strat["largest_gap"]
        text.append(
            f"The splits are not stratified: class counts differ by up to {strat['max_deviation']:.0f} images from "
            f"those of a stratified split of the same images. The largest difference is "
            f"class {g['class']}: {pct(g['low_share'])} of the {g['low_split']} split ({g['low_count']} images) "
            f"but {pct(g['high_share'])} of the {g['high_split']} split ({g['high_count']})."
        )
    under = e["under_represented"]
    train = sp["train"]
    ratio = "undefined (a class has no training images)" if train["imbalance"] is None else f"{train['imbalance']:.1f}"
    if under:
        counts = _and([str(u["count"]) for u in under])
        text.append(
            f"{_classes([u['class'] for u in under]).capitalize()} {'is' if len(under) == 1 else 'are'} "
            f"under-represented in training, with {counts} images against a median of {e['train_median']:g} per "
            f"class (under {pct(UNDER, 0)} of it); the training imbalance ratio (largest class over smallest) is "
            f"{ratio}. "
            "Accuracy alone can hide what this costs: the per-class recall of these classes shows it."
        )
    else:
        text.append(f"No class is under-represented in training (every class has at least {pct(UNDER, 0)} of the "
                    f"median count, {count(e['train_median'])}); the training imbalance ratio is {ratio}.")
    for s in SPLITS:
        if sp[s]["missing"]:
            text.append(f"The {s} split has no images of {_classes(sp[s]['missing'])}.")
    return text


def describe_resampled(e: dict[str, Any]) -> list[str]:
    """One sentence when runs re-draw train/validation per seed (``resample_split``): the counts shown are then the
    dataset's own split, which no seed trains on as such."""
    runs, sp = e.get("resampled"), e["splits"]
    if not runs:
        return []
    pooled = sp["train"]["size"] + sp["val"]["size"]
    one = len(runs) == 1
    return [f"{'Run' if one else 'Runs'} {_and(runs)} re-draw{'s' if one else ''} training and validation for each "
            f"seed (resample_split): each seed trains on its own stratified draw from these {pooled:,} images with the "
            f"per-class counts above, and every seed is tested on the same {sp['test']['size']:,} test images, so "
            "the spread over seeds includes data-split noise."]

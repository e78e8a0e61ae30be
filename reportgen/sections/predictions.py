"""``predictions``: test images with their true and predicted labels, right and wrong (ITU A3 question 4).

For each run, two grids from the first finished seed: correct predictions and mistakes, picked either as the
most confident ones (the mistakes a network is surest of are the instructive ones) or as a seeded random
sample. The chosen images travel in the result as small uint8 lists, so the figures need no runs. Mistake
counts per class and the most frequent (true → predicted) confusions are summarised over every finished seed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np

from reportgen.config.errors import DataError
from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.stats import summarize

#: Images larger than this (pixels on the long side) are area-averaged down before going into the JSON.
MAX_SIDE = 64
#: How many (true → predicted) confusions the result lists per run.
TOP_CONFUSIONS = 5
#: A mistake made with at least this predicted probability counts as a "confident" mistake in the text.
SURE = 0.9


def image_list(x: np.ndarray) -> list:
    """One test image ``(C, H, W)`` uint8 → ``H × W`` (grey) or ``H × W × 3`` (RGB) nested lists, ≤ MAX_SIDE."""
    import torch
    import torch.nn.functional as F

    c, h, w = x.shape
    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(torch.from_numpy(x[None].astype(np.float32)), size=size, mode="area")[0].round().numpy()
    x = x.astype(np.uint8)
    if c == 3:
        return x.transpose(1, 2, 0).tolist()
    grey = x[0] if c == 1 else x.mean(axis=0).round().astype(np.uint8)  # 2 or 4+ channels: their mean
    return grey.tolist()


def pick(candidates: np.ndarray, confidence: np.ndarray, count: int, how: str, seed: int,
         spread: np.ndarray | None = None) -> np.ndarray:
    """Up to ``count`` indices out of ``candidates``: the most confident first, or a seeded sample in index order.

    With ``spread`` (a label per test image), "confident" takes the most confident image of each label in turn
    (then the second most confident of each, …), so that a grid of correct predictions is not eight 1s."""
    if how == "random":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    order = candidates[np.argsort(-confidence[candidates], kind="stable")]  # ties: the lower test index first
    if spread is not None:
        labels = spread[order]
        rank = np.zeros(len(order), dtype=int)  # how many more confident images share each image's label
        for label in np.unique(labels):
            rank[labels == label] = np.arange((labels == label).sum())
        order = order[np.argsort(rank, kind="stable")]
        return order[np.argsort(-confidence[order[:count]], kind="stable")]
    return order[:count]


def mistake_counts(result, n_classes: int) -> tuple[np.ndarray, Counter]:
    """``(per-true-class mistake counts (K,), Counter of (true, predicted) pairs among the mistakes)``."""
    true, pred = result.test_true, result.test_pred
    wrong = pred != true
    per_class = np.bincount(true[wrong], minlength=n_classes)
    return per_class, Counter(zip(true[wrong].tolist(), pred[wrong].tolist(), strict=True))


def group_predictions(group: RunGroup, options) -> dict[str, Any]:
    results = group.results
    entry: dict[str, Any] = {"run": group.name, "label": group.label, "failures": group.failures, "shown": None}
    if not results:
        return entry
    first = results[0]
    classes = list(first.classes)
    k = len(classes)
    true, prob = first.test_true, first.test_prob
    pred = prob.argmax(axis=1)
    confidence = prob[np.arange(len(pred)), pred]
    images = None
    if group.data is not None:
        images = group.data.test.x.numpy()
        labels = group.data.test.y.numpy()
        if len(labels) != len(true) or not np.array_equal(labels, true):
            raise DataError(f"run {group.name!r}: the test images do not line up with the stored predictions "
                            "(the test split changed since the run was trained); rebuild with --force")

    def shown(indices: np.ndarray) -> list[dict[str, Any]]:
        return [{"index": int(i), "true": classes[true[i]], "pred": classes[pred[i]],
                 "p": round(float(confidence[i]), 4), "p_true": round(float(prob[i, true[i]]), 4),
                 "image": image_list(images[i]) if images is not None else None} for i in indices]

    correct_idx = np.flatnonzero(pred == true)
    wrong_idx = np.flatnonzero(pred != true)
    counts = [mistake_counts(r, k) for r in results]
    pairs = Counter()
    for _, c in counts:
        pairs.update(c)
    top = sorted(pairs, key=lambda pair: (-pairs[pair], pair))[:TOP_CONFUSIONS]
    entry.update(
        classes=classes,
        seed=group.seeds[group.outcomes.index(first)],
        n_test=len(true),
        pick=options.pick,
        shown={"correct": shown(pick(correct_idx, confidence, options.count, options.pick, options.seed, true)),
               "wrong": shown(pick(wrong_idx, confidence, options.count, options.pick, options.seed))},
        mistakes=summarize([int(c.sum()) for c, _ in counts]),
        sure_mistakes=summarize([int(((r.test_pred != r.test_true) & (r.test_prob.max(axis=1) >= SURE)).sum())
                                 for r in results]),
        confidence_correct=summarize([_mean_conf(r, True) for r in results]),
        confidence_wrong=summarize([_mean_conf(r, False) for r in results]),
        per_class=[{"class": classes[j], "support": int((true == j).sum()),
                    "mistakes": summarize([int(c[j]) for c, _ in counts]),
                    **_most_as(pairs, counts, j, classes)} for j in range(k)],
        confusions=[{"true": classes[t], "pred": classes[p],
                     "count": summarize([c.get((t, p), 0) for _, c in counts])} for t, p in top],
    )
    return entry


def _mean_conf(result, correct: bool) -> float | None:
    """Mean predicted probability over the correct (or wrong) test predictions; None if there are none."""
    chosen = (result.test_pred == result.test_true) == correct
    return float(result.test_prob.max(axis=1)[chosen].mean()) if chosen.any() else None


def _most_as(pairs: Counter, counts: list, j: int, classes: list[str]) -> dict[str, Any]:
    """The class that true class ``j`` is most often mistaken for over all seeds (ties: the lower index), and
    how many images per seed."""
    options = [(n, -p) for (t, p), n in pairs.items() if t == j]
    if not options:
        return {"most_as": None, "most_as_count": None}
    p = -max(options)[1]
    return {"most_as": classes[p], "most_as_count": summarize([c.get((j, p), 0) for _, c in counts])}


def _n(summary: dict[str, Any]) -> str:
    """A count summarised over seeds: ``"42"`` or ``"41.5 ± 2.1"``."""
    if summary["n"] > 1:
        return f"{summary['mean']:.1f} ± {summary['std']:.1f}"
    return f"{summary['mean']:.0f}"


def describe(entry: dict[str, Any]) -> str:
    """How many mistakes, the surest one, the most frequent confusion and the weakest class."""
    over = f" (mean ± std over {entry['mistakes']['n']} seeds)" if entry["mistakes"]["n"] > 1 else ""
    if entry["mistakes"]["mean"] == 0:
        return f"{entry['label']} classifies all {entry['n_test']} test images correctly{over}: there is no mistake."
    text = f"{entry['label']} gets {_n(entry['mistakes'])} of the {entry['n_test']} test images wrong{over}"
    wrong = entry["shown"]["wrong"]
    seed = f"seed {entry['seed']}'s " if entry["mistakes"]["n"] > 1 else "its "
    if wrong and entry["pick"] == "confident":
        w = wrong[0]
        text += (f"; {seed}most confident mistake is a {w['true']} predicted as {w['pred']} with p = {w['p']:.2f} "
                 f"(p = {w['p_true']:.2f} for the true class)")
    sure = entry["sure_mistakes"]
    verb = "is" if sure["n"] == 1 and sure["mean"] == 1 else "are"
    text += (f". {_n(sure)} of the mistakes {verb} made with p ≥ {SURE}" if sure["mean"]
             else f". None of the mistakes is made with p ≥ {SURE}")
    cc, cw = entry["confidence_correct"]["mean"], entry["confidence_wrong"]["mean"]
    if cc is not None and cw is not None:
        text += f"; the mean predicted probability is {cc:.2f} on correct predictions and {cw:.2f} on mistakes"
    text += "."
    if entry["confusions"]:
        top = entry["confusions"][:3]
        text += (f" The most frequent confusion{'s are' if len(top) > 1 else ' is'} (true → predicted, images) "
                 + ", ".join(f"{c['true']} → {c['pred']} ({_n(c['count'])})" for c in top))
        order = entry["classes"].index
        worst = max(entry["per_class"], key=lambda row: (row["mistakes"]["mean"], -order(row["class"])))
        text += (f". Class {worst['class']} has the most mistakes ({_n(worst['mistakes'])} of "
                 f"{worst['support']}, most often taken for {worst['most_as']}).")
    return text


@SECTIONS.register("predictions")
class PredictionsSection(Section):
    @dataclass(frozen=True)
    class Options:
        count: Annotated[int, Range(1, 32)] = 8  # images per grid (correct ones, and mistakes)
        pick: Literal["confident", "random"] = "confident"  # the most confident of each, or a seeded sample
        seed: int = 0  # seeds the "random" pick

    run_count = (1, None)
    template = "sections/predictions.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [group_predictions(g, self.options) for g in ctx.groups]
        analysis = [describe(e) for e in entries if e["shown"] is not None]
        for i, e in enumerate(entries):
            # Figure names, kept in the entry so the template finds each run's figures by exact name.
            slug = f"{i}-{re.sub(r'[^A-Za-z0-9_-]', '_', e['run'])}"
            e["figures"] = {kind: f"{kind}-{slug}" for kind in ("correct", "wrong")
                            if e["shown"] and e["shown"][kind] and e["shown"][kind][0]["image"] is not None}
        return {"runs": entries, "seeds": ctx.groups[0].seeds, "count": self.options.count,
                "pick": self.options.pick, "analysis": analysis}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.images import plot_prediction_grid

        figures = []
        for entry in result["runs"]:
            if entry["shown"] is None:
                continue
            seed = f" (seed {entry['seed']})" if len(result["seeds"]) > 1 else ""
            for kind, what in (("correct", "correct predictions"), ("wrong", "mistakes")):
                if kind not in entry["figures"]:
                    continue
                shown = entry["shown"][kind]
                how = "randomly chosen" if result["pick"] == "random" else "most confident"
                spread = (", taking the surest image of each class in turn"
                          if result["pick"] == "confident" and kind == "correct" else "")
                colour = "; mistakes titled in red" if kind == "wrong" else ""
                figures.append(Figure(
                    entry["figures"][kind],
                    f"The {len(shown)} {how} {what} of {entry['label']} on the test set{seed}{spread}. Each title "
                    f"reads true class → predicted class, with the predicted probability p{colour}.",
                    f"{len(shown)} test images {entry['label']} classified "
                    f"{'correctly' if kind == 'correct' else 'wrongly'}: "
                    + "; ".join(f"true {s['true']}, predicted {s['pred']}" for s in shown) + ".",
                    lambda shown=shown, wrong=kind == "wrong": plot_prediction_grid(shown, wrong=wrong),
                    wide=True,
                ))
        return figures

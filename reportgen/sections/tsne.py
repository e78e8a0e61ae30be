"""``tsne``: a t-SNE of each run's penultimate-layer features, on one stratified test subset shared by every run.

Class separation is measured, not eyeballed: silhouette and leave-one-out 5-NN accuracy of the classes, in the
raw feature space (every finished seed, mean ± std) and in the t-SNE plane (first finished seed: one embedding,
so untested). With two or more runs, each is compared with the first finished one, the feature-space gaps
judged against seed-to-seed noise.

The functions here are the t-SNE part of every section that shows one (``ablation`` too): ``tsne_entry``,
``tsne_summary``, ``tsne_figure``, ``separation_sentences`` and ``cost_sentence``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.embedding import effective_perplexity, separation, stratified_subset, timed_tsne
from reportgen.sections.roc import judged, run_entry, seed_note
from reportgen.sections.stats import Family, corrected, power_note, summarize
from reportgen.text import pct


@dataclass(frozen=True)
class TsneOptions:
    """The t-SNE options of every section that embeds features (``tsne``, ``ablation``)."""

    tsne_points: Annotated[int, Range(50, 20000)] = 1000  # test images embedded (stratified subsample)
    tsne_perplexity: Annotated[float, Range(1.0, 200.0)] = 30.0  # capped at (points - 1) / 3
    seed: Annotated[int, Range(0)] = 0  # seeds the subsample and t-SNE


def tsne_entry(group: RunGroup, options: TsneOptions) -> dict[str, Any]:
    """A finished run's class separation on one stratified test subset: ``features`` (the penultimate-layer
    features of every finished seed: ``dims``, ``silhouette`` and ``knn_accuracy`` summaries) and ``tsne`` (the
    first finished seed's 2-D embedding: silhouette, 5-NN accuracy, ``coords`` ``(points, 2)``, ``labels``, the
    seconds it took and an id of the subset). ``{}`` when no seed finished."""
    results = group.results
    if not results:
        return {}
    first = results[0]
    subset = stratified_subset(first.test_true, options.tsne_points, options.seed)
    y = first.test_true[subset]
    raw = [separation(r.test_features[subset], y) for r in results]
    coords, seconds = timed_tsne(first.test_features[subset], seed=options.seed, perplexity=options.tsne_perplexity)
    return {
        "features": {"dims": int(first.test_features.shape[1]),
                     **{m: summarize([s[m] for s in raw]) for m in ("silhouette", "knn_accuracy")}},
        "tsne": {**separation(coords, y), "seconds": seconds, "points": len(subset),
                 "subset_id": hashlib.sha256(subset.tobytes() + y.tobytes()).hexdigest()[:12],
                 "coords": np.round(coords, 3).tolist(), "labels": y.tolist()},
    }


def tsne_summary(done: list[dict[str, Any]], options: TsneOptions) -> dict[str, Any]:
    """The embeddings of the finished entries ``done`` together: points, the perplexity used, the seed, whether
    every run embedded the same images, and the seconds they took."""
    n_points = done[0]["tsne"]["points"] if done else 0
    return {"points": n_points, "perplexity": effective_perplexity(n_points, options.tsne_perplexity),
            "seed": options.seed, "same_subset": len({e["tsne"]["subset_id"] for e in done}) <= 1,
            "seconds": sum(e["tsne"]["seconds"] for e in done)}


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def tsne_note(e: dict[str, Any]) -> str:
    t = e["tsne"]
    return f"silhouette {_num(t['silhouette'])} · 5-NN {pct(t['knn_accuracy'])}"


def tsne_figure(result: dict[str, Any], done: list[dict[str, Any]]) -> Figure:
    """One t-SNE panel per finished entry, coloured by true class, its separation beside the title."""
    from reportgen.figures.scatter import plot_embedding_grid

    labels = ", ".join(e["label"] for e in done)
    t = result["tsne"]
    panels = [{"label": e["label"], "coords": e["tsne"]["coords"], "labels": e["tsne"]["labels"],
               "note": tsne_note(e)} for e in done]
    return Figure("tsne", f"t-SNE of the penultimate-layer features of the same {t['points']} test images "
                  f"(stratified), coloured by true class{seed_note(result)}; perplexity {t['perplexity']:g}. Beside "
                  "each title: silhouette and leave-one-out 5-NN accuracy of the classes in that plane.",
                  f"Scatter plots of the 2-D t-SNE embedding of test-image features for {labels}.",
                  lambda: plot_embedding_grid(panels, result["classes"]), wide=True)


def separation_sentences(e: dict[str, Any], ref: dict[str, Any], family: Family | None = None) -> list[str]:
    """``e``'s class separation against ``ref``'s: in the feature space (tested over seeds) and in the t-SNE
    plane (one embedding per run, untested)."""
    f, g = e["features"], ref["features"]
    family = family or Family()
    knn = family.compare(f["knn_accuracy"]["values"], g["knn_accuracy"]["values"])
    sil = family.compare(f["silhouette"]["values"], g["silhouette"]["values"])
    dims = f"{f['dims']} dimensions each" if f["dims"] == g["dims"] else f"{f['dims']} vs {g['dims']} dimensions"
    sentence = (
        f"In the penultimate-layer features ({dims}) of the same {e['tsne']['points']} test images, "
        f"leave-one-out 5-NN accuracy is {pct(f['knn_accuracy']['mean'])} for {e['label']} vs "
        f"{pct(g['knn_accuracy']['mean'])} for {ref['label']}, {judged(knn)}; the silhouette is "
        f"{_num(f['silhouette']['mean'])} vs {_num(g['silhouette']['mean'])}, {judged(sil, 1.0)}"
    )
    if knn["significant"] and sil["significant"] and (knn["diff"] > 0) == (sil["diff"] > 0):
        sentence += f". {e['label'] if knn['diff'] > 0 else ref['label']}'s features separate the classes more"
    return [sentence + ".",
            f"In the t-SNE plane (one embedding per run, so not tested) the silhouette is "
            f"{_num(e['tsne']['silhouette'])} vs {_num(ref['tsne']['silhouette'])} and 5-NN accuracy "
            f"{pct(e['tsne']['knn_accuracy'])} vs {pct(ref['tsne']['knn_accuracy'])}."]


def cost_sentence(t: dict[str, Any]) -> str:
    """What the embeddings cost, and whether the runs' subsets differ (``t``: a ``tsne_summary``)."""
    return (f"The t-SNE embeddings of {t['points']} points per run took {t['seconds']:.1f} s in all"
            + ("." if t["same_subset"] else "; the runs' test sets differ, so their subsets differ too."))


@SECTIONS.register("tsne")
class TsneSection(Section):
    Options = TsneOptions
    run_count = (1, None)
    version = 2  # 2: Holm over the section, CIs
    template = "sections/tsne.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [{**run_entry(g), **tsne_entry(g, self.options)} for g in ctx.groups]
        done = [e for e in entries if e["accuracy"]["n"]]
        result = {"runs": entries, "classes": done[0]["classes"] if done else [], "seeds": ctx.groups[0].seeds,
                  "tsne": tsne_summary(done, self.options)}
        result["analysis"], family = corrected(lambda family: analysis(result, family))
        result["rule"], result["power"] = family.rule(), power_note(len(ctx.groups[0].seeds))
        return result

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        done = [e for e in result["runs"] if e["accuracy"]["n"]]
        return [tsne_figure(result, done)] if done else []


def analysis(result: dict[str, Any], family: Family | None = None) -> list[str]:
    """Each finished run's separation; then each later run against the first finished one; then the cost."""
    done = [e for e in result["runs"] if e["accuracy"]["n"]]
    if not done:
        return ["No run finished, so there are no features to embed."]
    over = f" (mean over {len(result['seeds'])} seeds)" if len(result["seeds"]) > 1 else ""
    text = []
    for e in done:
        f, t = e["features"], e["tsne"]
        text.append(f"{e['label']}: in its {f['dims']}-dimensional penultimate-layer features{over}, leave-one-out "
                    f"5-NN accuracy is {pct(f['knn_accuracy']['mean'])} and the silhouette "
                    f"{_num(f['silhouette']['mean'])}; in its t-SNE plane they are {pct(t['knn_accuracy'])} and "
                    f"{_num(t['silhouette'])}.")
    for e in done[1:]:
        text.extend(separation_sentences(e, done[0], family))
    text.append(cost_sentence(result["tsne"]))
    return text

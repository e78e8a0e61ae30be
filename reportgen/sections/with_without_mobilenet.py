"""``with_without_mobilenet``: the same network without and with MobileNet blocks (ITU A3 question 6).

Per run: one-vs-rest ROC curves from the predicted probabilities (per class, micro and macro average; AUCs
mean ± std over seeds, curves of the first finished seed), train/val curves, a row-normalised confusion
matrix, and a t-SNE of the penultimate-layer features of one stratified test subset shared by every run.
Class separation is measured, not eyeballed: silhouette and leave-one-out 5-NN accuracy, in the raw feature
space (every seed) and in the t-SNE plane (first seed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from reportgen.config.params import Range
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.block_mix import block_counts, verdict
from reportgen.sections.compare import mean_curves
from reportgen.sections.confusion import describe, group_confusion
from reportgen.sections.embedding import effective_perplexity, separation, stratified_subset, timed_tsne
from reportgen.sections.stats import RULE, compare_seeds, summarize
from reportgen.text import pct, ratio

CURVE_POINTS = 200  # at most this many points per stored ROC curve
LOG_FPR_ABOVE = 0.99  # every micro and macro AUC above this: the ROC figure uses a log FPR axis


def _onehot(y_true, k: int) -> np.ndarray:
    return np.eye(k, dtype=np.int8)[np.asarray(y_true)]  # (N, K); label_binarize gives one column for K = 2


def roc_aucs(y_true, prob) -> dict[str, Any]:
    """One-vs-rest AUCs of ``prob`` ``(N, K)``: ``{"per_class": [auc | None], "micro", "macro"}``. A class
    without positives (or negatives) in ``y_true`` has no AUC and is left out of the macro average."""
    from sklearn.metrics import roc_auc_score

    prob = np.asarray(prob, dtype=np.float64)
    onehot = _onehot(y_true, prob.shape[1])
    per_class = [float(roc_auc_score(onehot[:, i], prob[:, i])) if 0 < onehot[:, i].sum() < len(onehot) else None
                 for i in range(prob.shape[1])]
    present = [a for a in per_class if a is not None]
    return {"per_class": per_class, "micro": float(roc_auc_score(onehot.ravel(), prob.ravel())),
            "macro": float(np.mean(present)) if present else None}


def _thin(fpr, tpr, n: int = CURVE_POINTS) -> dict[str, list[float]]:
    """At most ``n`` points of a curve, evenly spaced along its vertices, first and last kept."""
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(n, len(fpr))).round().astype(int))
    return {"fpr": [round(float(v), 6) for v in fpr[keep]], "tpr": [round(float(v), 6) for v in tpr[keep]]}


def _limits(grid, fpr, tpr) -> tuple[np.ndarray, np.ndarray]:
    """A ROC curve's TPR just before and just after each FPR of ``grid`` (a superset of ``fpr``): the two
    differ where the curve jumps vertically, which plain ``np.interp`` (undefined on repeated x) blurs."""
    ux, first = np.unique(fpr, return_index=True)
    last = len(fpr) - 1 - np.unique(fpr[::-1], return_index=True)[1]
    k = np.clip(np.searchsorted(ux, grid, side="right") - 1, 0, len(ux) - 1)
    nxt = np.minimum(k + 1, len(ux) - 1)
    exact = ux[k] == grid
    span = np.where(nxt > k, ux[nxt] - ux[k], 1.0)
    between = tpr[last[k]] + (grid - ux[k]) / span * (tpr[first[nxt]] - tpr[last[k]])
    return np.where(exact, tpr[first[k]], between), np.where(exact, tpr[last[k]], between)


def roc_curves(y_true, prob, max_points: int = CURVE_POINTS) -> dict[str, Any]:
    """Per-class, micro and macro ROC curves (``{"fpr", "tpr", "auc"}`` each, at most ``max_points``). The macro
    curve averages the per-class TPRs on the union of their FPRs (scikit-learn's "Multiclass ROC" example),
    keeping vertical jumps, so its area is exactly the macro AUC (the mean of the per-class AUCs)."""
    from sklearn.metrics import roc_curve

    prob = np.asarray(prob, dtype=np.float64)
    onehot = _onehot(y_true, prob.shape[1])
    aucs = roc_aucs(y_true, prob)
    full, per_class = [], []
    for i, auc in enumerate(aucs["per_class"]):
        if auc is None:
            per_class.append(None)
            continue
        fpr, tpr, _ = roc_curve(onehot[:, i], prob[:, i])
        full.append((fpr, tpr))
        per_class.append({**_thin(fpr, tpr, max_points), "auc": auc})
    fpr, tpr, _ = roc_curve(onehot.ravel(), prob.ravel())
    macro_fpr, macro_tpr = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    if full:
        grid = np.unique(np.concatenate([f for f, _ in full]))
        before, after = (np.mean(side, axis=0) for side in zip(*(_limits(grid, f, t) for f, t in full), strict=True))
        macro_fpr, macro_tpr = np.repeat(grid, 2), np.column_stack([before, after]).ravel()
        keep = np.r_[True, (np.diff(macro_fpr) > 0) | (np.diff(macro_tpr) > 0)]
        macro_fpr, macro_tpr = macro_fpr[keep], macro_tpr[keep]
    return {"per_class": per_class, "micro": {**_thin(fpr, tpr, max_points), "auc": aucs["micro"]},
            "macro": {**_thin(macro_fpr, macro_tpr, max_points), "auc": aucs["macro"]}}


@SECTIONS.register("with_without_mobilenet")
class WithWithoutMobileNetSection(Section):
    @dataclass(frozen=True)
    class Options:
        tsne_points: Annotated[int, Range(50, 20000)] = 1000  # test images embedded (stratified subsample)
        tsne_perplexity: Annotated[float, Range(1.0, 200.0)] = 30.0  # capped at (points - 1) / 3
        seed: Annotated[int, Range(0)] = 0  # seeds the subsample and t-SNE

    run_count = (2, None)
    version = 3  # 2: trainer events on the curves; 3: openTSNE
    template = "sections/with_without_mobilenet.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        o = self.options
        entries = [self.entry(g) for g in ctx.groups]
        done = [e for e in entries if e["accuracy"]["n"]]
        # The thick micro/macro curves are what the panels compare: once both exceed 0.99 in every run, a linear
        # axis shows only the top-left corner, and a log FPR axis spreads out where the runs differ.
        aucs = [e["roc"][k]["auc"] for e in done for k in ("micro", "macro")]
        log_fpr = bool(aucs) and None not in aucs and min(aucs) > LOG_FPR_ABOVE
        # The log axis starts at the smallest FPR any curve reaches, or the finest FPR the test set can show.
        positive = [v for e in done for c in (*e["roc"]["per_class"], e["roc"]["micro"]) if c for v in c["fpr"] if v]
        positive += [1 / (e["test_size"] * (len(e["classes"]) - 1)) for e in done if len(e["classes"]) > 1]
        subsets = [e["tsne"]["subset_id"] for e in done]
        n_points = done[0]["tsne"]["points"] if done else 0
        result = {
            "runs": entries,
            "classes": done[0]["classes"] if done else [],
            "curves": {g.label: mean_curves(g) for g in ctx.groups if g.results},
            "seeds": ctx.groups[0].seeds,
            "rule": RULE,
            "fpr_scale": "log" if log_fpr else "linear",
            "fpr_floor": min(positive) if positive else 1e-4,
            "tsne": {"points": n_points, "perplexity": effective_perplexity(n_points, o.tsne_perplexity),
                     "seed": o.seed, "same_subset": len(set(subsets)) <= 1,
                     "seconds": sum(e["tsne"]["seconds"] for e in done)},
        }
        result["analysis"] = analysis(result)
        return result

    def entry(self, group: RunGroup) -> dict[str, Any]:
        """One run: metrics over seeds, first seed's curves and embedding."""
        conv, mobile = block_counts(group.spec)
        base = {"run": group.name, "label": group.label, "conv_blocks": conv, "mobilenet_blocks": mobile,
                "failures": group.failures}
        results = group.results
        if not results:
            return {**base, "accuracy": summarize([])}
        first = results[0]
        aucs = [roc_aucs(r.test_true, r.test_prob) for r in results]
        subset = stratified_subset(first.test_true, self.options.tsne_points, self.options.seed)
        y = first.test_true[subset]
        raw = [separation(r.test_features[subset], y) for r in results]
        coords, seconds = timed_tsne(first.test_features[subset], seed=self.options.seed,
                                     perplexity=self.options.tsne_perplexity)
        return {
            **base,
            "classes": list(first.classes),
            "first_seed": group.seeds[group.outcomes.index(first)],
            "test_size": len(first.test_true),
            "params": first.params,
            "macs": first.macs,
            "accuracy": summarize([r.test_accuracy for r in results]),
            "auc_micro": summarize([a["micro"] for a in aucs]),
            "auc_macro": summarize([a["macro"] for a in aucs]),
            "auc_per_class": [summarize([a["per_class"][i] for a in aucs]) for i in range(len(first.classes))],
            "roc": roc_curves(first.test_true, first.test_prob),
            "features": {"dims": int(first.test_features.shape[1]),
                         **{m: summarize([s[m] for s in raw]) for m in ("silhouette", "knn_accuracy")}},
            "tsne": {**separation(coords, y), "seconds": seconds, "points": len(subset),
                     "subset_id": hashlib.sha256(subset.tobytes() + y.tobytes()).hexdigest()[:12],
                     "coords": np.round(coords, 3).tolist(), "labels": y.tolist()},
            "confusion": group_confusion(group),
        }

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.curves import plot_curves_grid
        from reportgen.figures.roc import plot_roc_grid
        from reportgen.figures.scatter import plot_embedding_grid

        done = [e for e in result["runs"] if e["accuracy"]["n"]]
        if not done:
            return []
        labels = ", ".join(e["label"] for e in done)
        classes = result["classes"]
        multi = len(result["seeds"]) > 1
        seed_note = " (first finished seed)" if multi else ""
        log = result["fpr_scale"] == "log"
        scale = ("The FPR axis is logarithmic because every micro and macro AUC exceeds 0.99: on a linear axis all "
                 "curves would sit in the top-left corner. " if log else "")
        t = result["tsne"]
        return [
            Figure("roc", f"One-vs-rest ROC curves from the predicted probabilities{seed_note}: one thin line per "
                   f"class, micro-average (thick solid) and macro-average (thick dashed). {scale}",
                   f"ROC curves, true positive rate against false positive rate, for {labels}.",
                   lambda: plot_roc_grid([{"label": e["label"], "roc": e["roc"]} for e in done], classes,
                                         log_fpr=log, fpr_floor=result["fpr_floor"]), wide=True),
            Figure("curves", "Training (solid) and validation (dashed) loss and accuracy per epoch"
                   f"{' (mean over seeds)' if multi else ''}: {labels}.",
                   f"Line charts of loss and accuracy per epoch for {labels}.",
                   lambda: plot_curves_grid(result["curves"]), wide=True),
            Figure("confusion", f"Row-normalised confusion matrices on the test set{seed_note}: each cell is the "
                   "percentage of a true class (row) predicted as a class (column); the diagonal is recall.",
                   f"Confusion matrices for {labels}, true class on rows, predicted class on columns.",
                   lambda: confusion_panels(done), wide=True),
            Figure("tsne", f"t-SNE of the penultimate-layer features of the same {t['points']} test images "
                   f"(stratified), coloured by true class{seed_note}; perplexity {t['perplexity']:g}. Beside each "
                   "title: silhouette and leave-one-out 5-NN accuracy of the classes in that plane.",
                   f"Scatter plots of the 2-D t-SNE embedding of test-image features for {labels}.",
                   lambda: plot_embedding_grid([{"label": e["label"], "coords": e["tsne"]["coords"],
                                                 "labels": e["tsne"]["labels"], "note": _tsne_note(e)}
                                                for e in done], classes),
                   wide=True),
        ]


def _tsne_note(e: dict[str, Any]) -> str:
    t = e["tsne"]
    return f"silhouette {_num(t['silhouette'])} · 5-NN {pct(t['knn_accuracy'])}"


def confusion_panels(entries: list[dict[str, Any]]):
    """Row-normalised confusion matrices side by side, two per row."""
    from reportgen.figures.confusion import plot_confusion
    from reportgen.figures.style import new_figure

    ncols = min(len(entries), 2)
    nrows = -(-len(entries) // ncols)
    fig, axes = new_figure(ncols, nrows, aspect=0.9 if ncols > 1 else 0.6)
    for ax, e in zip(axes.ravel(), entries, strict=False):
        plot_confusion(e["confusion"]["matrix"], e["confusion"]["classes"], normalize=True, ax=ax)
        ax.set_title(f"{e['label']} (% of true class)")
    for ax in axes.ravel()[len(entries):]:
        ax.set_visible(False)
    return fig


def _blocks(e: dict[str, Any]) -> str:
    if e["mobilenet_blocks"] is None:
        return e["label"]
    m = e["mobilenet_blocks"]
    mobile = "no MobileNet blocks" if m == 0 else f"{m} MobileNet block{'s' if m != 1 else ''}"
    return f"{e['label']} ({e['conv_blocks']} conv, {mobile})"


def _judged(test: dict[str, Any]) -> str:
    """``verdict`` with the direction named when, and only when, the gap beats seed noise."""
    if test["testable"] and test["significant"]:
        return f"{'higher' if test['diff'] > 0 else 'lower'}, {verdict(test)}"
    return verdict(test)


def analysis(result: dict[str, Any]) -> list[str]:
    """The run with the fewest MobileNet blocks against each other run: accuracy, AUCs and class separation,
    each gap judged against seed noise; then the ROC scale, each run's main confusion and the t-SNE cost."""
    done = [e for e in result["runs"] if e["accuracy"]["n"]]
    if len(done) < 2:
        return ["Fewer than two runs finished, so there is nothing to compare."]
    ref = min(done, key=lambda e: e["mobilenet_blocks"] or 0)
    text = []
    for e in (e for e in done if e is not ref):
        gaps = []
        for key, name, fmt in (("accuracy", "test accuracy", pct), ("auc_macro", "macro AUC", "{:.4f}".format),
                               ("auc_micro", "micro AUC", "{:.4f}".format)):
            test = compare_seeds(e[key]["values"], ref[key]["values"])
            gaps.append(f"{name} {fmt(e[key]['mean'])} vs {fmt(ref[key]['mean'])}, {_judged(test)}")
        text.append(f"{_blocks(e)} against {_blocks(ref)} has {ratio(e['params'], ref['params'], 'parameters')} "
                    f"and {ratio(e['macs'], ref['macs'], 'multiply-adds')}: " + "; ".join(gaps) + ".")
        f, g = e["features"], ref["features"]
        knn = compare_seeds(f["knn_accuracy"]["values"], g["knn_accuracy"]["values"])
        sil = compare_seeds(f["silhouette"]["values"], g["silhouette"]["values"])
        dims = f"{f['dims']} dimensions each" if f["dims"] == g["dims"] else f"{f['dims']} vs {g['dims']} dimensions"
        sentence = (
            f"In the penultimate-layer features ({dims}) of the same {e['tsne']['points']} test images, "
            f"leave-one-out 5-NN accuracy is {pct(f['knn_accuracy']['mean'])} for {e['label']} vs "
            f"{pct(g['knn_accuracy']['mean'])} for {ref['label']}, {_judged(knn)}; the silhouette is "
            f"{_num(f['silhouette']['mean'])} vs {_num(g['silhouette']['mean'])}, {_judged(sil)}"
        )
        if knn["significant"] and sil["significant"] and (knn["diff"] > 0) == (sil["diff"] > 0):
            sentence += f". {e['label'] if knn['diff'] > 0 else ref['label']}'s features separate the classes more"
        text.append(sentence + ".")
        text.append(
            f"In the t-SNE plane (one embedding per run, so not tested) the silhouette is "
            f"{_num(e['tsne']['silhouette'])} vs {_num(ref['tsne']['silhouette'])} and 5-NN accuracy "
            f"{pct(e['tsne']['knn_accuracy'])} vs {pct(ref['tsne']['knn_accuracy'])}."
        )
    if result["fpr_scale"] == "log":
        text.append("Every micro- and macro-average AUC exceeds 0.99, so the ROC curves are drawn on a logarithmic "
                    "false-positive-rate axis, where the runs' differences at low false-positive rates are visible.")
    text.extend(describe(e["confusion"]) for e in done if e["confusion"]["matrix"] is not None)
    t = result["tsne"]
    text.append(f"The t-SNE embeddings of {t['points']} points per run took {t['seconds']:.1f} s in all"
                + ("." if t["same_subset"] else "; the runs' test sets differ, so their subsets differ too."))
    return text


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"

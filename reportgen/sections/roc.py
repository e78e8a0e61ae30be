"""``roc``: one-vs-rest ROC curves and AUCs of each run from its predicted probabilities.

Per run: the AUC of every class against the rest, the micro average (every (image, class) pair pooled) and the
macro average (the mean of the per-class AUCs), each mean ± std over the finished seeds, by scikit-learn's
``roc_auc_score``; the curves (``roc_curve``) of the first finished seed. With two or more runs, each is compared
with the first finished one, every gap judged against seed-to-seed noise.

The functions here are the ROC part of every section that shows ROC curves (``ablation`` too): ``run_entry``
(what each run's entry starts with), ``roc_entry``, ``roc_scale``, ``roc_figure`` and ``judged_gaps``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.stats import Family, corrected, power_note, summarize, verdict
from reportgen.text import pct

CURVE_POINTS = 200  # at most this many points per stored ROC curve
LOG_FPR_ABOVE = 0.99  # every micro and macro AUC above this: the ROC figure uses a log FPR axis
LOG_SCALE_TEXT = ("Every micro- and macro-average AUC exceeds 0.99, so the ROC curves are drawn on a logarithmic "
                  "false-positive-rate axis, where the runs' differences at low false-positive rates are visible.")

#: ``(result key, name in a sentence, format)`` of the numbers ``judged_gaps`` compares.
ACCURACY = ("accuracy", "test accuracy", pct)
AUCS = (("auc_macro", "macro AUC", "{:.4f}".format), ("auc_micro", "micro AUC", "{:.4f}".format))


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


# --- the pieces every ROC-showing section uses ---------------------------------------------------------------


def run_entry(group: RunGroup) -> dict[str, Any]:
    """What a run's entry starts with: ``run``, ``label``, ``failures`` and test ``accuracy`` over the finished
    seeds, and when one finished, its ``classes``, ``test_size`` and the ``first_seed`` (whose curves, matrix
    and embedding are shown)."""
    results = group.results
    entry = {"run": group.name, "label": group.label, "failures": group.failures,
             "accuracy": summarize([r.test_accuracy for r in results])}
    if results:
        first = results[0]
        entry.update(classes=list(first.classes), first_seed=group.seeds[group.outcomes.index(first)],
                     test_size=len(first.test_true))
    return entry


def roc_entry(group: RunGroup) -> dict[str, Any]:
    """A finished run's AUCs over its seeds (``auc_micro``, ``auc_macro``, ``auc_per_class``: summaries) and
    the first finished seed's curves (``roc``); ``{}`` when no seed finished."""
    results = group.results
    if not results:
        return {}
    aucs = [roc_aucs(r.test_true, r.test_prob) for r in results]
    return {
        "auc_micro": summarize([a["micro"] for a in aucs]),
        "auc_macro": summarize([a["macro"] for a in aucs]),
        "auc_per_class": [summarize([a["per_class"][i] for a in aucs]) for i in range(len(results[0].classes))],
        "roc": roc_curves(results[0].test_true, results[0].test_prob),
    }


def roc_scale(done: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"fpr_scale": "log" | "linear", "fpr_floor"}`` for the finished entries' ROC panels. The thick micro and
    macro curves are what the panels compare: once both exceed 0.99 in every run, a linear axis shows only the
    top-left corner, and a log FPR axis spreads out where the runs differ. The log axis starts at the smallest
    FPR any curve reaches, or the finest FPR the test set can show."""
    aucs = [e["roc"][k]["auc"] for e in done for k in ("micro", "macro")]
    log_fpr = bool(aucs) and None not in aucs and min(aucs) > LOG_FPR_ABOVE
    positive = [v for e in done for c in (*e["roc"]["per_class"], e["roc"]["micro"]) if c for v in c["fpr"] if v]
    positive += [1 / (e["test_size"] * (len(e["classes"]) - 1)) for e in done if len(e["classes"]) > 1]
    return {"fpr_scale": "log" if log_fpr else "linear", "fpr_floor": min(positive) if positive else 1e-4}


def roc_figure(result: dict[str, Any], done: list[dict[str, Any]], seed_note: str) -> Figure:
    """The ROC panels of the finished entries ``done`` (one per run), on ``result``'s FPR scale."""
    from reportgen.figures.roc import plot_roc_grid

    labels = ", ".join(e["label"] for e in done)
    log = result["fpr_scale"] == "log"
    scale = ("The FPR axis is logarithmic because every micro and macro AUC exceeds 0.99: on a linear axis all "
             "curves would sit in the top-left corner. " if log else "")
    return Figure("roc", f"One-vs-rest ROC curves from the predicted probabilities{seed_note}: one thin line per "
                  f"class, micro-average (thick solid) and macro-average (thick dashed). {scale}",
                  f"ROC curves, true positive rate against false positive rate, for {labels}.",
                  lambda: plot_roc_grid([{"label": e["label"], "roc": e["roc"]} for e in done], result["classes"],
                                        log_fpr=log, fpr_floor=result["fpr_floor"]), wide=True)


def judged(test: dict[str, Any], scale: float = 100.0) -> str:
    """``verdict`` with the direction named when, and only when, the gap beats seed noise (``scale``: 100 for an
    accuracy, whose interval reads in points; 1 for an AUC or a silhouette)."""
    said = verdict(test, scale, " points" if scale == 100 else "")
    if test["testable"] and test["significant"]:
        return f"{'higher' if test['diff'] > 0 else 'lower'}, {said}"
    return said


def judged_gaps(e: dict[str, Any], ref: dict[str, Any],
                metrics: tuple[tuple[str, str, Callable[[float], str]], ...] = AUCS, family: Family | None = None
                ) -> list[str]:
    """``"macro AUC 0.9912 vs 0.9890, within seed-to-seed noise (p = 0.4)"`` for each metric, ``e`` against
    ``ref`` (two entries with summaries under the metrics' keys)."""
    gaps = []
    for key, name, fmt in metrics:
        test = (family or Family()).compare(e[key]["values"], ref[key]["values"])
        gaps.append(f"{name} {fmt(e[key]['mean'])} vs {fmt(ref[key]['mean'])}, "
                    f"{judged(test, 100.0 if key == 'accuracy' else 1.0)}")
    return gaps


def seed_note(result: dict[str, Any]) -> str:
    return " (first finished seed)" if len(result["seeds"]) > 1 else ""


# --- the section -----------------------------------------------------------------------------------------------


@SECTIONS.register("roc")
class RocSection(Section):
    run_count = (1, None)
    version = 2  # 2: Holm over the section, CIs
    template = "sections/roc.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [{**run_entry(g), **roc_entry(g)} for g in ctx.groups]
        done = [e for e in entries if e["accuracy"]["n"]]
        result = {"runs": entries, "classes": done[0]["classes"] if done else [], "seeds": ctx.groups[0].seeds,
                  **roc_scale(done)}
        result["analysis"], family = corrected(lambda family: analysis(result, family))
        result["rule"], result["power"] = family.rule(), power_note(len(ctx.groups[0].seeds))
        return result

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        done = [e for e in result["runs"] if e["accuracy"]["n"]]
        return [roc_figure(result, done, seed_note(result))] if done else []


def _weakest(e: dict[str, Any], classes: list[str]) -> str:
    per_class = [(s["mean"], c) for s, c in zip(e["auc_per_class"], classes, strict=True) if s["n"]]
    if not per_class:
        return ""
    low, cls = min(per_class)
    return f"; its lowest per-class AUC is class {cls} ({low:.4f})"


def analysis(result: dict[str, Any], family: Family | None = None) -> list[str]:
    """Each finished run's macro and micro AUC and its weakest class; then each later run against the first
    finished one, every gap judged against seed noise; then the axis scale."""
    done = [e for e in result["runs"] if e["accuracy"]["n"]]
    if not done:
        return ["No run finished, so there are no ROC curves to show."]
    over = f" (mean over {len(result['seeds'])} seeds)" if len(result["seeds"]) > 1 else ""
    text = [f"{e['label']} has a macro-average AUC of {e['auc_macro']['mean']:.4f} and a micro-average AUC of "
            f"{e['auc_micro']['mean']:.4f}{over}{_weakest(e, e['classes'])}." for e in done]
    ref = done[0]
    for e in done[1:]:
        text.append(f"{e['label']} against {ref['label']}: " + "; ".join(judged_gaps(e, ref, family=family)) + ".")
    if result["fpr_scale"] == "log":
        text.append(LOG_SCALE_TEXT)
    return text

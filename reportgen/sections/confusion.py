"""``confusion``: confusion matrices, per-class precision/recall/F1, accuracy (ITU A3 question 3).

Per-class figures come from ``classification_report`` (scikit-learn's, as a dict; :mod:`.metrics`), averaged over seeds;
the matrices shown are those of the first finished seed (counts and row-normalised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.stats import summarize
from reportgen.text import pct

AVERAGES = ("macro avg", "weighted avg")


def group_confusion(group: RunGroup) -> dict[str, Any]:
    from reportgen.sections.metrics import classification_report, confusion_matrix

    results = group.results
    if not results:
        return {"run": group.name, "label": group.label, "failures": group.failures, "matrix": None}
    classes = list(results[0].classes)
    labels = list(range(len(classes)))
    reports = [
        classification_report(r.test_true, r.test_pred, labels=labels, target_names=classes,
                              output_dict=True, zero_division=0)
        for r in results
    ]
    per_class = [
        {
            "class": name,
            **{m: summarize([rep[name][m] for rep in reports]) for m in ("precision", "recall", "f1-score")},
            "support": int(reports[0][name]["support"]),
        }
        for name in classes
    ]
    averages = {
        avg: {m: summarize([rep[avg][m] for rep in reports]) for m in ("precision", "recall", "f1-score")}
        for avg in AVERAGES
    }
    first = results[0]
    matrix = confusion_matrix(first.test_true, first.test_pred, labels=labels)
    return {
        "run": group.name,
        "label": group.label,
        "classes": classes,
        "matrix": matrix.tolist(),
        "matrix_seed": group.seeds[group.outcomes.index(first)],
        "accuracy": summarize([rep["accuracy"] for rep in reports]),
        "per_class": per_class,
        "averages": averages,
        "failures": group.failures,
    }


def describe(entry: dict[str, Any]) -> str:
    """The run's accuracy, its weakest class and where that class's errors go."""
    matrix = np.asarray(entry["matrix"])
    classes = entry["classes"]
    recalls = [c["recall"]["mean"] for c in entry["per_class"]]
    worst = int(np.argmin(recalls))
    off = matrix[worst].copy()
    off[worst] = 0
    text = (
        f"{entry['label']} classifies {pct(entry['accuracy']['mean'])} of the {int(matrix.sum())} test images "
        f"correctly; its lowest recall is class {classes[worst]} ({pct(recalls[worst])})"
    )
    if off.sum():
        target = int(off.argmax())
        text += f", most often mistaken for {classes[target]} ({int(off[target])} of {int(matrix[worst].sum())})"
    errors = matrix - np.diag(np.diag(matrix))
    if errors.sum():
        i, j = np.unravel_index(int(errors.argmax()), errors.shape)
        text += (f". Its most frequent confusion overall is true {classes[i]} predicted as {classes[j]} "
                 f"({int(errors[i, j])} images)")
    return text + "."


@SECTIONS.register("confusion")
class ConfusionSection(Section):
    @dataclass(frozen=True)
    class Options:
        pass

    run_count = (1, None)
    template = "sections/confusion.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [group_confusion(g) for g in ctx.groups]
        analysis = [describe(e) for e in entries if e["matrix"] is not None]
        done = [e for e in entries if e["matrix"] is not None]
        if len(done) > 1:
            a, b = ({c["class"]: c["recall"]["mean"] for c in e["per_class"]} for e in done[:2])
            gap, cls = max((abs(a[c] - b[c]), c) for c in a)
            if gap > 0:
                analysis.append(
                    f"{done[0]['label']} and {done[1]['label']} differ most on class {cls}: recall "
                    f"{pct(a[cls])} vs {pct(b[cls])}."
                )
        return {"runs": entries, "seeds": ctx.groups[0].seeds, "analysis": analysis}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures import plot_confusion_pair

        figures = []
        for entry in result["runs"]:
            if entry["matrix"] is None:
                continue
            seed = f" (seed {entry['matrix_seed']})" if len(result["seeds"]) > 1 else ""
            figures.append(
                Figure(
                    f"matrix-{entry['run']}",
                    f"Confusion matrix of {entry['label']} on the test set{seed}: counts (left) and "
                    "row-normalised recall per true class (right).",
                    f"Confusion matrices for {entry['label']}, true class on rows, predicted class on columns.",
                    lambda entry=entry: plot_confusion_pair(entry["matrix"], entry["classes"]),
                    wide=True,
                )
            )
        return figures

"""A plugin: a question type and a grading check of a course's own, with no change to reportgen.

A manifest beside this file uses it like this (the section's options are checked like a built-in type's: an
unknown key or ``threshold = 1.5`` is a located error, before anything trains)::

    [report]
    plugins = ["my_sections.py"]      # imported before the sections are checked

    [sections.confidence]
    type = "confident"
    title = "Confident predictions"
    question = "What share of the test set does each model predict with at least 90 % confidence?"
    runs = ["c4", "c1m3"]
    threshold = 0.9

What a plugin may use: ``SECTIONS.register`` and ``Section`` (``Options``, ``run_count``, ``template``, ``compute``,
``figures``; see ``reportgen/sections/base.py``) and, for grading, ``check``, ``flag`` and ``Findings`` (see
``reportgen/grade/checks/__init__.py``). ``template`` is a path relative to this file; a type without one is shown as
a table of its result's values. An exception in ``compute`` fails this section alone, naming this file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from reportgen.config.params import Range
from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.model import Flag
from reportgen.sections import SECTIONS, Figure, Section, SectionContext
from reportgen.sections.stats import summarize


@SECTIONS.register("confident")
class Confident(Section):
    """The share of test images each run predicts with a top probability of at least ``threshold`` (its coverage),
    and its accuracy on those images, mean ± std over seeds; a coverage–accuracy curve over all thresholds."""

    @dataclass(frozen=True)
    class Options:
        threshold: Annotated[float, Range(0, 1)] = 0.5  # a prediction counts as confident from this probability on

    run_count = (1, None)
    template = "templates/confident.html.j2"
    example_options = {"threshold": 0.9}

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        threshold = self.options.threshold
        rows = []
        for group in ctx.groups:
            coverage, accuracy, curves = [], [], []
            for r in group.results:
                top = r.test_prob.max(axis=1)  # (N,) the probability of the predicted class
                right = r.test_pred == r.test_true
                confident = top >= threshold
                coverage.append(float(confident.mean()))
                accuracy.append(float(right[confident].mean()) if confident.any() else None)
                order = np.argsort(-top)  # most confident first: accuracy of the k most confident, k = 1..N
                curves.append((np.cumsum(right[order]) / np.arange(1, len(order) + 1)).tolist())
            rows.append({"run": group.name, "label": group.label, "coverage": summarize(coverage),
                         "accuracy": summarize(accuracy), "curve": curves[0] if curves else []})
        best = max(rows, key=lambda row: row["coverage"]["mean"] or 0.0, default=None)
        analysis = [f"{best['label']} predicts the largest share of the test set with a probability of at least "
                    f"{threshold:g}."] if best else []
        return {"threshold": threshold, "rows": rows, "analysis": analysis}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        return [Figure("coverage", f"Accuracy on the most confident share of the test set (first seed); the "
                       f"threshold {result['threshold']:g} is one point on each curve.",
                       "Accuracy against coverage, one line per run", lambda: plot_coverage(result).figure)]


def plot_coverage(result: dict[str, Any], *, ax=None):
    """Accuracy of the k most confident test predictions against k / N, one line per run. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.3, 2.4))
    for row in result["rows"]:
        curve = np.asarray(row["curve"])
        ax.plot(np.arange(1, len(curve) + 1) / max(len(curve), 1), curve, label=row["label"])
    ax.set_xlabel("coverage (share of the test set)")
    ax.set_ylabel("accuracy")
    ax.legend()
    return ax


@check("PERFECT_TEST_ACCURACY", "A test accuracy of 100 % is reported: usually test images leaked into training, "
                                "or another split was evaluated.")
def perfect_test_accuracy(f: Findings) -> list[Flag]:
    return [flag("PERFECT_TEST_ACCURACY", "warning", f"a test accuracy of {c.as_written} is reported: check that "
                 "the test images were kept out of training and that the test split was evaluated",
                 c.context, c.location.line, str(c.location))
            for c in f.claims
            if c.metric == "accuracy" and c.split in ("test", "") and not c.approximate and c.value >= 0.9995]

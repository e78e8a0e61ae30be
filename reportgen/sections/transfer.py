"""``transfer``: a model on another dataset — unchanged, fine-tuned from it, and trained there from scratch.

The question "evaluate your model on MNIST without changing its weights, then fine-tune it" in one section. Each
run is scored on every test set the section's runs have: its own, and those of its ``evaluate_on`` datasets (the
same trained weights, normalised as in training). Roles come from the runs themselves, not from their names: a run
with ``init_from`` is *fine-tuned* from its source; a run of the section on the fine-tuned run's dataset without
``init_from`` is trained *from scratch*; a run evaluated on another dataset (``evaluate_on``) is shown *unchanged*
there. Differences are tested over seeds with the report's rule, and only between numbers on one test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.other_tests import other_tests, setup_notes
from reportgen.sections.stats import Family, corrected, evidence, power_note, summarize, untested_why
from reportgen.text import pct, points


def scores(group: RunGroup) -> dict[str, dict[str, Any]]:
    """``{test set: accuracy summary}`` of one run: its own dataset's test set and each ``evaluate_on`` one."""
    out = {group.spec.dataset: summarize([r.test_accuracy for r in group.results])}
    for t in other_tests(group):
        out[t["dataset"]] = t["accuracy"]
    return out


def role(group: RunGroup, groups: list[RunGroup]) -> str:
    if group.spec.init_from is not None:
        return "fine-tuned"
    tuned = [g for g in groups if g.spec.init_from is not None]
    if any(g.spec.dataset == group.spec.dataset for g in tuned):
        return "from scratch"
    if group.spec.evaluate_on:
        return "source"
    return "other"


@SECTIONS.register("transfer")
class TransferSection(Section):
    @dataclass(frozen=True)
    class Options:
        pass

    run_count = (1, None)
    version = 2  # 2: Holm over the section, CIs
    template = "sections/transfer.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        groups = ctx.groups
        sets = list(dict.fromkeys(name for g in groups for name in scores(g)))
        rows = []
        for g in groups:
            row_scores = scores(g)
            rows.append({"run": g.name, "label": g.label, "dataset": g.spec.dataset, "role": role(g, groups),
                         "init_from": g.spec.init_from, "scores": {s: row_scores.get(s) for s in sets},
                         "epochs": g.spec.train.epochs, "notes": setup_notes(g), "failures": g.failures,
                         "curves": {k: _mean_curve(g, k) for k in ("val_acc",)}})
        labels = {g.name: g.label for g in groups}
        text, family = corrected(lambda family: analysis(rows, sets, labels, family))
        return {"test_sets": sets, "rows": rows, "seeds": groups[0].seeds, "rule": family.rule(),
                "power": power_note(len(groups[0].seeds)), "analysis": text}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.transfer import plot_transfer_bars, plot_transfer_curves

        sets = ", ".join(result["test_sets"])
        figures = [Figure("bars", f"Test accuracy of each run on each test set ({sets}); error bars: ± std over "
                                  "seeds. A missing bar: the run was not tested on that set.",
                          f"Grouped bar chart of test accuracy per run on {sets}.",
                          lambda: plot_transfer_bars(result).figure, wide=True)]
        if any(r["role"] in ("fine-tuned", "from scratch") for r in result["rows"]):
            figures.append(Figure("curves", "Validation accuracy per epoch of the fine-tuned runs and the runs "
                                            "trained from scratch on the same data (mean over seeds).",
                                  "Line chart of validation accuracy per epoch, fine-tuned against from scratch.",
                                  lambda: plot_transfer_curves(result).figure))
        return figures


def _mean_curve(group: RunGroup, key: str) -> list[float]:
    import numpy as np

    series = [r.history.get(key) or [] for r in group.results]
    series = [s for s in series if s]
    if not series:
        return []
    length = min(len(s) for s in series)  # early-stopped seeds end sooner: the common epochs only
    return [float(v) for v in np.mean([s[:length] for s in series], axis=0)]


def analysis(rows: list[dict[str, Any]], sets: list[str], labels: dict[str, str], family: Family | None = None
             ) -> list[str]:
    """Sentences that compare numbers on one test set at a time, each gap tested over seeds."""
    text = []
    by_run = {r["run"]: r for r in rows}
    for r in rows:
        own = r["scores"].get(r["dataset"])
        for other in sets:
            s = r["scores"].get(other)
            if other == r["dataset"] or not s or not s["n"] or not own or not own["n"]:
                continue
            text.append(f"Without changing its weights, {r['label']} (trained on {r['dataset']}) reaches "
                        f"{pct(s['mean'])} on the {other} test set, against {pct(own['mean'])} on its own: "
                        f"{points(own['mean'] - s['mean'])} {'lower' if s['mean'] <= own['mean'] else 'higher'} "
                        "(different test sets, so this is a description, not a test).")
    for tuned in (r for r in rows if r["role"] == "fine-tuned"):
        t = tuned["scores"].get(tuned["dataset"])
        if not t or not t["n"]:
            continue
        source = by_run.get(tuned["init_from"])
        rivals = [r for r in rows if r["role"] == "from scratch" and r["dataset"] == tuned["dataset"]]
        if source is not None and (s := source["scores"].get(tuned["dataset"])) and s["n"]:
            rivals.insert(0, {**source, "label": f"{source['label']} unchanged"})
        for rival in rivals:
            v = rival["scores"].get(tuned["dataset"])
            if not v or not v["n"]:
                continue
            test = (family or Family()).compare(t["values"], v["values"])
            direction = "above" if test["diff"] >= 0 else "below"
            lead = (f"On the {tuned['dataset']} test set, {tuned['label']} (fine-tuned from "
                    f"{labels.get(tuned['init_from'], tuned['init_from'])}) reaches {pct(t['mean'])}, "
                    f"{points(test['diff'])} {direction} {rival['label']} ({pct(v['mean'])}).")
            if not test["testable"]:
                verdict = f"This gap is not tested: {untested_why(test)}."
            elif test["significant"]:
                verdict = f"The gap is larger than the seed-to-seed spread (Welch's t-test {evidence(test)})."
            else:
                verdict = (f"The gap is within seed-to-seed noise (Welch's t-test {evidence(test)}): the data "
                           "do not show either to be better.")
            if rival.get("role") == "from scratch" and rival["epochs"] != tuned["epochs"]:
                verdict += (f" The two trained for different numbers of epochs ({tuned['epochs']} and "
                            f"{rival['epochs']}).")
            text.append(f"{lead} {verdict}")
    if not text:
        text.append("No run here is tested on another dataset or fine-tuned from another run, so there is no "
                    "transfer to describe; the table lists each run on its own test set.")
    return text

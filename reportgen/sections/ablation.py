"""``ablation``: a reference run against one or more variants (ITU A3 question 6: without and with MobileNet
blocks; A2: without and with convolutions; any model).

The reference is the section's ``reference`` option, one of its runs; without it, the first run listed. Per
run: test accuracy, one-vs-rest ROC curves from the predicted probabilities (per class, micro and macro average;
AUCs mean ± std over seeds, curves of the first finished seed; see ``roc``), train/val curves (``curves``), a
row-normalised confusion matrix, and a t-SNE of the penultimate-layer features of one stratified test subset
shared by every run, with silhouette and leave-one-out 5-NN accuracy (``tsne``); parameters and multiply-adds.
Each variant is compared with the reference, every gap judged against seed-to-seed noise.

``with_without_mobilenet`` is this type's old name and still works: its manifests list the run without MobileNet
blocks first, so the first-listed default picks the same reference as the old "fewest MobileNet blocks" rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportgen.config.errors import ManifestError
from reportgen.config.registry import did_you_mean
from reportgen.config.specs import RunSpec, SectionSpec
from reportgen.models.conv_mobilenet import block_counts
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.compare import mean_curves
from reportgen.sections.confusion import describe, group_confusion
from reportgen.sections.curves import curves_figure
from reportgen.sections.roc import (
    ACCURACY,
    AUCS,
    LOG_SCALE_TEXT,
    judged_gaps,
    roc_entry,
    roc_figure,
    roc_scale,
    run_entry,
    seed_note,
)
from reportgen.sections.stats import Family, corrected, power_note
from reportgen.sections.tsne import (
    TsneOptions,
    cost_sentence,
    separation_sentences,
    tsne_entry,
    tsne_figure,
    tsne_summary,
)
from reportgen.text import ratio


def reference_run(spec: SectionSpec) -> str:
    """The name of the section's reference run: its ``reference`` option, else the first run it lists."""
    return spec.options.get("reference") or spec.runs[0]


@SECTIONS.register("ablation")
class AblationSection(Section):
    @dataclass(frozen=True)
    class Options(TsneOptions):
        reference: str | None = None  # the run the others are compared with (one of runs); default: the first

    run_count = (2, None)
    version = 5  # 3: openTSNE; 4: any reference run, generic wording; 5: Holm over the section, CIs
    template = "sections/ablation.html.j2"

    @classmethod
    def derive_runs(cls, spec: SectionSpec, runs: dict[str, RunSpec], datasets: dict[str, Any],
                    seeds: tuple[int, ...] = ()) -> dict[str, RunSpec]:
        """No runs of its own; checks that ``reference`` names one of the section's runs."""
        ref = spec.options.get("reference")
        if ref is not None and ref not in spec.runs:
            listed = ", ".join(f'"{r}"' for r in spec.runs)
            raise ManifestError(f'"{ref}" is not one of this section\'s runs ({listed}){did_you_mean(ref, spec.runs)}',
                                location=f"sections.{spec.id}.reference")
        return {}

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [self.entry(g) for g in ctx.groups]
        done = [e for e in entries if e["accuracy"]["n"]]
        reference = reference_run(self.spec)
        for e in entries:
            e["reference"] = e["run"] == reference
        result = {
            "runs": entries,
            "reference": reference,
            "classes": done[0]["classes"] if done else [],
            "curves": {g.label: mean_curves(g) for g in ctx.groups if g.results},
            "seeds": ctx.groups[0].seeds,
            **roc_scale(done),
            "tsne": tsne_summary(done, self.options),
        }
        result["analysis"], family = corrected(lambda family: analysis(result, family))
        result["rule"], result["power"] = family.rule(), power_note(len(ctx.groups[0].seeds))
        return result

    def entry(self, group: RunGroup) -> dict[str, Any]:
        """One run: metrics over seeds, first seed's curves and embedding."""
        conv, mobile = block_counts(group.spec)
        entry = {**run_entry(group), "conv_blocks": conv, "mobilenet_blocks": mobile}
        if not group.results:
            return entry
        first = group.results[0]
        return {**entry, "params": first.params, "macs": first.macs, **roc_entry(group),
                **tsne_entry(group, self.options), "confusion": group_confusion(group)}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        done = [e for e in result["runs"] if e["accuracy"]["n"]]
        if not done:
            return []
        labels = ", ".join(e["label"] for e in done)
        note = seed_note(result)
        return [
            roc_figure(result, done, note),
            curves_figure(result["curves"], len(result["seeds"]) > 1),
            Figure("confusion", f"Row-normalised confusion matrices on the test set{note}: each cell is the "
                   "percentage of a true class (row) predicted as a class (column); the diagonal is recall.",
                   f"Confusion matrices for {labels}, true class on rows, predicted class on columns.",
                   lambda: confusion_panels(done), wide=True),
            tsne_figure(result, done),
        ]


SECTIONS.alias("with_without_mobilenet", "ablation")


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
    """The run's label, with its block counts when it is a ``conv_mobilenet`` network."""
    if e["mobilenet_blocks"] is None:
        return e["label"]
    m = e["mobilenet_blocks"]
    mobile = "no MobileNet blocks" if m == 0 else f"{m} MobileNet block{'s' if m != 1 else ''}"
    return f"{e['label']} ({e['conv_blocks']} conv, {mobile})"


def analysis(result: dict[str, Any], family: Family | None = None) -> list[str]:
    """The reference against each other run: size, accuracy, AUCs and class separation, each gap judged against
    seed noise; then the ROC scale, each run's main confusion and the t-SNE cost."""
    done = [e for e in result["runs"] if e["accuracy"]["n"]]
    if len(done) < 2:
        return ["Fewer than two runs finished, so there is nothing to compare."]
    ref = next((e for e in done if e["reference"]), None)
    if ref is None:
        label = next(e["label"] for e in result["runs"] if e["reference"])
        return [f"No seed of the reference run, {label}, finished, so there is nothing to compare it with."]
    text = []
    for e in (e for e in done if e is not ref):
        text.append(f"{_blocks(e)} against {_blocks(ref)} has {ratio(e['params'], ref['params'], 'parameters')} "
                    f"and {ratio(e['macs'], ref['macs'], 'multiply-adds')}: "
                    + "; ".join(judged_gaps(e, ref, (ACCURACY, *AUCS), family)) + ".")
        text.extend(separation_sentences(e, ref, family))
    if result["fpr_scale"] == "log":
        text.append(LOG_SCALE_TEXT)
    text.extend(describe(e["confusion"]) for e in done if e["confusion"]["matrix"] is not None)
    text.append(cost_sentence(result["tsne"]))
    return text

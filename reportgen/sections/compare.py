"""``compare``: architectures side by side (ITU A3 question 1).

Test accuracy and macro precision/recall/F1 (mean ± std over seeds), parameters, multiply-adds and training
time in a table; train/val loss and accuracy curves; a generated paragraph ranking the runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.other_tests import other_tests, setup_notes
from reportgen.sections.stats import compare_seeds, evidence, holm, power_note, rule, summarize, untested_why
from reportgen.text import pct, points, ratio

METRICS = ("accuracy", "precision_macro", "recall_macro", "f1_macro")


def run_metrics(group: RunGroup) -> dict[str, Any]:
    """One table row: metrics over the group's finished seeds, plus size and cost."""
    from reportgen.sections.metrics import accuracy_score, precision_recall_fscore_support

    per_seed: dict[str, list[float]] = {m: [] for m in METRICS}
    for r in group.results:
        pred = r.test_pred
        p, rc, f1, _ = precision_recall_fscore_support(r.test_true, pred, average="macro", zero_division=0)
        per_seed["accuracy"].append(accuracy_score(r.test_true, pred))
        per_seed["precision_macro"].append(p)
        per_seed["recall_macro"].append(rc)
        per_seed["f1_macro"].append(f1)
    first = group.results[0] if group.results else None
    return {
        "run": group.name,
        "label": group.label,
        "dataset": dataset_label(group),
        **{m: summarize(v) for m, v in per_seed.items()},
        "params": first.params if first else None,
        "macs": first.macs if first else None,
        "train_seconds": summarize([r.train_seconds for r in group.results]),
        "epochs": group.spec.train.epochs,
        "epochs_trained": summarize([len(r.history.get("train_loss", [])) for r in group.results]),
        "status": "ok" if all(o.ok for o in group.outcomes) else "incomplete",
        "failures": group.failures,
        "other_tests": other_tests(group),
        "notes": setup_notes(group),
        "timing": timing_setup(group),
    }


def timing_setup(group: RunGroup) -> dict[str, Any] | None:
    """Where a run's seeds were timed (device, its name, CPU threads, concurrent trainings); ``None`` when its seeds
    were timed on different setups. Training times are only compared between runs with one setup."""
    keys = ("device", "device_name", "threads", "jobs")
    setups = [{k: r.provenance.get(k) for k in keys} for r in group.results]
    return setups[0] if setups and all(s == setups[0] for s in setups) else None


def describe_setup(setup: dict[str, Any] | None) -> str:
    if setup is None:
        return "seeds timed on different setups"
    jobs = setup.get("jobs")
    shared = f", {jobs} trainings at once" if isinstance(jobs, int) and jobs > 1 else ""
    return f"{setup.get('device')}, {setup.get('threads')} thread{'s' if setup.get('threads') != 1 else ''}{shared}"


def dataset_label(group: RunGroup) -> str:
    """The dataset a run trains on, with any override (a sweep's other split): runs are only ranked against
    runs on the same data."""
    extra = ", ".join(f"{k} = {v}" for k, v in sorted(group.spec.dataset_overrides.items()))
    return f"{group.spec.dataset} ({extra})" if extra else group.spec.dataset


def mean_curves(group: RunGroup) -> dict[str, Any]:
    """Per-epoch means over seeds of the history curves (seeds may stop early when early-stopped: each epoch
    is averaged over the seeds that reached it, so the curve runs to the longest seed), the learning rate per
    epoch (``"lr"``, empty for runs cached before it was recorded), and the first finished seed's trainer events
    (``"events"``: ``{"epoch", "kind", "detail"}``, LR decays and early stops) for marking on the curves."""
    out: dict[str, Any] = {}
    for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
        series = [r.history[key] for r in group.results if r.history.get(key)]
        if not series:
            out[key] = []
            continue
        padded = np.full((len(series), max(len(s) for s in series)), np.nan)
        for i, s in enumerate(series):
            padded[i, : len(s)] = s
        out[key] = [float(v) for v in np.nanmean(padded, axis=0)]
    first = group.results[0] if group.results else None
    # One seed's events: averaging "when the LR dropped" over seeds has no meaning.
    out["events"] = [{"epoch": int(e["epoch"]), "kind": str(e["kind"]), "detail": str(e.get("detail", ""))}
                     for e in (first.events if first else [])]
    return out


@SECTIONS.register("compare")
class CompareSection(Section):
    @dataclass(frozen=True)
    class Options:
        sort_by: Literal["accuracy", "f1_macro", "params", "manifest"] = "manifest"  # table row order

    records = True  # its rows are per-run test-accuracy records
    run_count = (2, None)
    template = "sections/compare.html.j2"
    version = 5  # 4: other test sets (evaluate_on), setup notes; 5: Holm, CIs, times compared only on one setup

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        rows = [run_metrics(g) for g in ctx.groups]
        if self.options.sort_by in ("accuracy", "f1_macro"):
            rows.sort(key=lambda r: -(r[self.options.sort_by]["mean"] or -1))
        elif self.options.sort_by == "params":
            rows.sort(key=lambda r: r["params"] or 0)
        curves = {g.label: mean_curves(g) for g in ctx.groups if g.results}
        text, family = analysis(rows)
        return {"rows": rows, "curves": curves, "seeds": ctx.groups[0].seeds, "rule": rule(family),
                "power": power_note(len(ctx.groups[0].seeds)), "analysis": text}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures import plot_curves_grid

        labels = ", ".join(result["curves"])
        n = len(result["seeds"])
        over = f" (mean over {n} seeds)" if n > 1 else ""
        return [
            Figure(
                "curves",
                f"Training (solid) and validation (dashed) loss and accuracy per epoch{over}: {labels}. Vertical "
                "dashed lines mark learning-rate decays and early stops of the first finished seed, if any.",
                f"Line charts of loss and accuracy per epoch for {labels}.",
                lambda: plot_curves_grid(result["curves"]),
                wide=True,
            )
        ]


def analysis(rows: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Deterministic sentences from the numbers, and how many gaps were tested (one Holm-corrected family): per test
    set, the leader, each gap, and whether it exceeds seed noise. Runs tested on different datasets are never ranked
    against each other; a run also evaluated on another dataset (``evaluate_on``) is ranked there, beside the runs
    trained on it."""
    done = [r for r in rows if r["accuracy"]["n"]]
    if len(done) < 2:
        return ["Fewer than two runs finished, so there is nothing to compare."], 0
    by_data: dict[str, list[dict[str, Any]]] = {}
    for r in done:
        by_data.setdefault(r["dataset"], []).append(r)
    for r in done:
        for t in r.get("other_tests", []):
            if t["accuracy"]["n"] and t["dataset"] in by_data:
                by_data[t["dataset"]].append({**r, "label": f"{r['label']} (trained on {r['dataset']})",
                                              "accuracy": t["accuracy"]})
    gaps = []  # (prefix, best, other, test): every gap of the section, corrected as one family before it is said
    for dataset, group in by_data.items():
        if len(group) >= 2:
            ranked = sorted(group, key=lambda r: -r["accuracy"]["mean"])
            prefix = f"On the {dataset} test set, " if len(by_data) > 1 else ""
            gaps += [(prefix, ranked[0], other, compare_seeds(ranked[0]["accuracy"]["values"],
                                                              other["accuracy"]["values"])) for other in ranked[1:]]
    holm([g[3] for g in gaps])
    text = [_gap_sentence(*g) for g in gaps]
    if not text:
        names = ", ".join(by_data)
        text.append(f"Each run is tested on another dataset ({names}), so their accuracies are not ranked.")
    text += _speed(done)
    return text, sum(1 for g in gaps if g[3]["testable"])


def _speed(done: list[dict[str, Any]]) -> list[str]:
    """Which run trained fastest — only said when every run was timed on the same setup (device, threads, jobs)."""
    fastest = min(done, key=lambda r: r["train_seconds"]["mean"])
    slowest = max(done, key=lambda r: r["train_seconds"]["mean"])
    if fastest is slowest:
        return []
    setups = [r.get("timing") for r in done]
    if "timing" in done[0] and (None in setups or any(s != setups[0] for s in setups)):
        shown = "; ".join(sorted({describe_setup(s) for s in setups}))
        return [f"Training times are not compared: the runs were timed on different setups ({shown})."]
    return [f"{fastest['label']} trained fastest ({fastest['train_seconds']['mean']:.1f} s per seed), "
            f"{slowest['label']} slowest ({slowest['train_seconds']['mean']:.1f} s)."]


def _gap_sentence(prefix: str, best: dict[str, Any], other: dict[str, Any], test: dict[str, Any]) -> str:
    """The leader's gap to one other run, and whether it exceeds seed noise."""
    size = ratio(best["params"], other["params"], "parameters")
    cost = ratio(best["macs"], other["macs"], "multiply-adds")
    lead = (
        f"{prefix}{best['label']} reaches {pct(best['accuracy']['mean'])} test accuracy, {points(test['diff'])} above "
        f"{other['label']} ({pct(other['accuracy']['mean'])}), with {size} and {cost}."
    )
    if not test["testable"]:
        return f"{lead} This gap is not tested: {untested_why(test)}."
    if test["significant"]:
        return f"{lead} The gap is larger than the seed-to-seed spread (Welch's t-test {evidence(test)})."
    return (f"{lead} The gap is within seed-to-seed noise (Welch's t-test {evidence(test)}): the data do not show "
            "either run to be better.")

"""``conclusions``: what the numbers of the whole report say (ITU A3 question 7).

Computed from the *stored results* of the report's other sections, never from runs, and built after them.
Every sentence is generated from those numbers: a ranking of all runs by test accuracy with each gap tested
against seed-to-seed noise, accuracy against parameters and multiply-adds, per-class recall collapses
(the effect of imbalanced training data), and what the sweeps and with/without comparisons found. The
author's own words go in the section's ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, Section, SectionContext
from reportgen.sections.records import collect_records, usable
from reportgen.sections.stats import RULE, compare_seeds, family_size, holm, power_note
from reportgen.text import pct, points, ratio

# A class whose recall is this far (in points) below the run's median class recall has "collapsed".
COLLAPSE_POINTS = 0.15


def collect_runs(outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every run with an accuracy summary in any usable section's ``rows``, by run name (see :mod:`records`):
    ``{"label", "accuracy", "params", "macs", "section", "dataset"}``."""
    return {name: {"label": r.label, "accuracy": r.accuracy, "params": r.params, "macs": r.macs,
                   "section": r.section, "dataset": r.dataset}
            for name, r in collect_records(outputs).runs.items()}


def ranking(runs: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Runs sorted by mean accuracy, each tested against the best; and the sentences saying so."""
    ordered = sorted(runs.items(), key=lambda kv: -kv[1]["accuracy"]["mean"])
    if not ordered:
        return [], []
    best_name, best = ordered[0]
    best_label = best.get("label", best_name)
    table, tied, worse, untested = [], [], [], []
    # Every gap to the best is one family: Holm-corrected together before any is called real.
    tests = holm([compare_seeds(best["accuracy"]["values"], run["accuracy"]["values"]) if name != best_name else None
                  for name, run in ordered])
    family = family_size(tests)
    said = RULE + (f", Holm-corrected over {family} comparisons" if family > 1 else "")
    for (name, run), test in zip(ordered, tests, strict=True):
        label = run.get("label", name)
        if test is not None and test["testable"] and not test["significant"]:
            tied.append(label)
        elif test is not None and test["testable"]:
            worse.append(label)
        elif test is not None:  # one finished seed on a side, or no spread at all: no estimate of the noise
            n = min(best["accuracy"]["n"], run["accuracy"]["n"])
            why = f"{n} finished seed{'s' if n != 1 else ''}" if n < 2 else "no spread over seeds"
            untested.append(f"{label} ({why})")
        table.append({"rank": len(table) + 1, "run": name, "label": label, "accuracy": run["accuracy"],
                      "params": run["params"], "macs": run["macs"],
                      "gap": None if test is None else test["diff"], "p": None if test is None else test["p"],
                      "ci": None if test is None else test.get("ci"),
                      "significant": None if test is None else test["significant"]})
    text = [f"Of the {len(ordered)} configurations in this report, {best_label} has the highest mean test accuracy "
            f"({pct(best['accuracy']['mean'])})."]
    if len(ordered) > 1 and not tied and not worse:
        text.append("No configuration has two finished seeds beside it, so no difference between them is tested "
                    "against noise.")
        return table, text
    # Three groups, each said for what it is: a run is only called worse when a test over seeds shows it.
    if worse and not tied and not untested:
        text.append(f"Every other configuration is below it by more than seed-to-seed noise ({said}).")
    elif worse:
        text.append(f"Below it by more than seed-to-seed noise ({said}): {', '.join(worse)}.")
    if tied:
        text.append(f"Within seed-to-seed noise of it ({said}): {', '.join(tied)}; these are not shown to be worse.")
    if untested:
        text.append(f"Not tested against it (a test needs at least two finished seeds on each side, and some spread "
                    f"between them): {', '.join(untested)}.")
    return table, text


def size_tradeoff(runs: dict[str, dict[str, Any]], ranked: list[dict[str, Any]] = ()) -> list[str]:
    """Accuracy against parameters: rank correlation and the smallest run that is within noise of the best. The gap
    is judged as the ranking judged it (``ranked``: its rows, Holm-corrected), so the two never disagree."""
    sized = {k: v for k, v in runs.items() if v.get("params")}
    if len(sized) < 2:
        return []
    names = list(sized)
    labels = [sized[k].get("label", k) for k in names]
    acc = np.array([sized[k]["accuracy"]["mean"] for k in names])
    params = np.array([sized[k]["params"] for k in names], dtype=float)
    text = []
    if len(labels) >= 3 and np.ptp(acc) > 0 and np.ptp(params) > 0:
        from scipy.stats import spearmanr

        rho = float(spearmanr(params, acc).statistic)
        trend = "more parameters went with higher accuracy" if rho > 0.5 else (
            "more parameters went with lower accuracy" if rho < -0.5 else "accuracy did not follow parameter count")
        text.append(f"Across the configurations, {trend} (Spearman's ρ = {rho:.2f} over {len(labels)} runs).")
    best_name, smallest_name = names[int(acc.argmax())], names[int(params.argmin())]
    best, smallest = labels[int(acc.argmax())], labels[int(params.argmin())]
    if smallest_name == best_name:
        text.append(f"The most accurate configuration, {best}, is also the smallest: no accuracy was bought with size.")
    else:
        test = compare_seeds(sized[best_name]["accuracy"]["values"], sized[smallest_name]["accuracy"]["values"])
        row = next((r for r in ranked if r["run"] == smallest_name and r.get("p") is not None), None)
        if row is not None and test["testable"]:
            test = {**test, "p": row["p"], "significant": row["significant"]}
        gap = points(test["diff"])
        verdict = ("a gap within seed-to-seed noise" if test["testable"] and not test["significant"]
                   else "a gap larger than seed-to-seed noise" if test["testable"] else "an untested gap (one seed)")
        text.append(
            f"The smallest configuration, {smallest}, has "
            f"{ratio(sized[smallest_name]['params'], sized[best_name]['params'], 'parameters')} "
            f"than {best} and is {gap} less accurate: {verdict}."
        )
    return text


def recall_collapses(outputs: dict[str, dict[str, Any]]) -> list[str]:
    """Classes whose recall falls far below the run's other classes (typically under-represented ones)."""
    text = []
    for output in outputs.values():
        if output.get("type") != "confusion":
            continue
        for entry in output["result"].get("runs", []):
            if not entry.get("per_class"):
                continue
            recalls = {c["class"]: c["recall"]["mean"] for c in entry["per_class"]}
            median = float(np.median(list(recalls.values())))
            low = [(cls, r) for cls, r in recalls.items() if r < median - COLLAPSE_POINTS]
            if low:
                shown = ", ".join(f"{cls} ({pct(r)})" for cls, r in sorted(low, key=lambda x: x[1]))
                text.append(f"{entry['label']}'s recall collapses on class {shown}, against a median class recall "
                            f"of {pct(median)}.")
    return text


def under_represented(outputs: dict[str, dict[str, Any]]) -> list[str]:
    """Classes the data section found under-represented in training (if the report has one)."""
    classes: list[str] = []
    for output in outputs.values():
        if output.get("type") == "data":
            for dataset in output["result"].get("datasets", []):
                # The data section lists {"class", "count", "share"} entries.
                classes += [str(c["class"] if isinstance(c, dict) else c) for c in dataset.get("under_represented", [])]
    return sorted(set(classes))


def sweep_findings(outputs: dict[str, dict[str, Any]]) -> list[str]:
    """For each sweep: the factors ordered by how far they move accuracy, and the runs that broke."""
    text = []
    for output in outputs.values():
        if output.get("type") != "sweeps":
            continue
        every = output["result"].get("factors", [])
        factors = [f for f in every if f.get("spread") is not None and not f.get("confound")]
        if factors:
            # Ordered by the validation gap (how the best and worst values were chosen), shown as the test gap.
            ordered = sorted(factors, key=lambda f: -(f.get("val_spread") if f.get("val_spread") is not None
                                                      else f["spread"]))
            shown = ", ".join(f"{f['factor']} ({'−' if f['spread'] < 0 else ''}{points(f['spread'])})"
                              for f in ordered)
            text.append(f"Changing one factor at a time from {output['result']['baseline']['label']}, accuracy moved "
                        f"most with: {shown} (test accuracy of the best minus the worst value, both chosen on "
                        "validation).")
        aside = [f"{f['factor']}, since {f.get('confound') or f.get('not_comparable')}" for f in every
                 if f.get("confound") or f.get("not_comparable")]
        if aside:
            text.append("Not ranked with them: " + "; ".join(aside) + ".")
        broken = [r for f in output["result"].get("factors", []) for r in f["rows"] if r.get("status") != "ok"]
        if broken:
            text.append("Runs that did not train: " + ", ".join(f"{r['label']} ({r['status']})" for r in broken) + ".")
    return text


@SECTIONS.register("conclusions")
class ConclusionsSection(Section):
    @dataclass(frozen=True)
    class Options:
        pass

    run_count = (0, 0)
    summarises = True
    template = "sections/conclusions.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        everything = {k: v for k, v in ctx.outputs.items() if k != ctx.section.id}
        records = collect_records(everything)
        # Stale, failed or missing results are never read: their numbers may belong to another definition.
        outputs = {k: v for k, v in everything.items() if usable(v) is None}
        runs = collect_runs(outputs)
        # Accuracies on different data do not compare: rank and relate size to accuracy per dataset.
        datasets = sorted({r["dataset"] for r in runs.values()})
        table, rank_text, size_text = [], [], []
        for dataset in datasets:
            subset = {k: v for k, v in runs.items() if v["dataset"] == dataset}
            rows, text = ranking(subset)
            prefix = f"On {dataset}: " if len(datasets) > 1 else ""
            table += [{**row, "dataset": dataset} for row in rows]
            rank_text += [prefix + t[0].lower() + t[1:] if prefix else t for t in text]
            size_text += [prefix + t[0].lower() + t[1:] if prefix else t for t in size_tradeoff(subset, rows)]
        findings = {"ranking": rank_text, "size": size_text}
        collapses = recall_collapses(outputs)
        scarce = under_represented(outputs)
        if scarce:
            which = f"class {scarce[0]}" if len(scarce) == 1 else f"classes {', '.join(scarce[:-1])} and {scarce[-1]}"
            collapses.insert(0, f"The training data under-represents {which}.")
            if len(collapses) == 1:
                collapses.append("No run's recall collapses on any class despite that.")
        findings["classes"] = collapses
        findings["sweeps"] = sweep_findings(outputs)
        # Each section's own first finding, so the conclusions point back to the evidence.
        findings["sections"] = [
            f"{o['spec']['title']}: {o['result']['analysis'][0]}"
            for o in outputs.values()
            if o.get("result", {}).get("analysis") and o["type"] not in ("conclusions",)
        ]
        left_out = [f"{sid} ({why})" for sid, why in records.left_out.items()]
        if left_out:
            findings["left_out"] = [f"Left out of these conclusions, since their stored results cannot be trusted "
                                    f"as they stand: {', '.join(left_out)}. Rebuild them to include them."]
        seeds = max((row["accuracy"]["n"] for row in table), default=0)
        corrected = any(row.get("p") is not None for row in table) and len(table) > 2
        return {"ranking": table, "findings": findings, "power": power_note(seeds),
                "rule": f"{RULE}, Holm-corrected over each ranking's gaps to its best" if corrected else RULE,
                "analysis": [*findings.get("left_out", []), *rank_text, *findings["size"], *collapses,
                             *findings["sweeps"]]}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        return []

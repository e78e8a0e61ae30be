"""``factor_confusion``: confusion broken down by the factors that make up the classes (IIT Mandi CS-671: "for
96 classes make confusion matrices legible: per-factor confusion for length, width, angle and colour, plus the
full matrix").

Class names of the form ``"length=7 width=1 angle=15 colour=red"`` are split into factors. For each factor a
prediction counts as right when the predicted class has the true class's value of that factor: class indices
are mapped to factor levels and scikit-learn's ``confusion_matrix`` is taken on the mapped labels. Per-factor
accuracies, the most common level confusion and the share of single-factor mistakes are summarised over seeds;
the matrices drawn are the first finished seed's. The full matrix is sorted by the factors (outermost first).
Class names that are not ``key=value`` pairs get the full matrix only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.stats import Family, corrected, evidence, power_note, summarize, untested_why
from reportgen.text import pct, points

WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def parse_factors(classes: list[str]) -> list[dict[str, str]] | None:
    """``[{"length": "7", "width": "1", ...}, ...]`` per class, or None unless every name is space-separated
    ``key=value`` pairs with the same keys."""
    parsed = []
    for name in classes:
        pairs = [p.split("=", 1) for p in name.split()]
        if not pairs or any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
            return None
        values = dict(pairs)
        if len(values) != len(pairs) or (parsed and list(values) != list(parsed[0])):
            return None
        parsed.append(values)
    return parsed


def ordered_levels(values: list[str]) -> list[str]:
    """Distinct values, in numeric order when every value is a number, else in order of first appearance."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct


def _norm(matrix: np.ndarray) -> np.ndarray:
    """Rows divided by their totals (a row without test images stays 0)."""
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)


def ms(summary: dict[str, Any]) -> str:
    """``"80.3 ± 1.2 %"`` over several seeds, ``"80.3 %"`` for one."""
    if summary["n"] > 1:
        return f"{100 * summary['mean']:.1f} ± {100 * summary['std']:.1f} %"
    return pct(summary["mean"])


def spans(order: np.ndarray, codes: list[np.ndarray], names: list[str], labels: dict[str, list[str]]) -> list[dict]:
    """For each grouping depth (the first factor, the first two, ...): ``[start, stop, label]`` of each block of
    consecutive classes in the sorted matrix that share those factor values."""
    out = []
    for depth in range(1, len(names)):
        keys = [tuple(int(c[i]) for c in codes[:depth]) for i in order]
        blocks, start = [], 0
        for pos in range(1, len(keys) + 1):
            if pos == len(keys) or keys[pos] != keys[start]:
                label = ", ".join(f"{names[d]}={labels[names[d]][keys[start][d]]}" for d in range(depth))
                blocks.append([start, pos, label])
                start = pos
        out.append({"depth": depth, "factor": names[depth - 1], "spans": blocks})
    return out


def group_factors(group: RunGroup, options) -> dict[str, Any]:
    """One run's per-factor matrices and accuracies, error structure, and the sorted full matrix."""
    from reportgen.sections.metrics import confusion_matrix

    entry: dict[str, Any] = {"run": group.name, "label": group.label, "failures": group.failures}
    results = group.results
    if not results:
        return {**entry, "full": None}
    first = results[0]
    classes = list(first.classes)
    n = len(classes)
    entry.update(matrix_seed=group.seeds[group.outcomes.index(first)], n_test=len(first.test_true),
                 accuracy=summarize([r.test_accuracy for r in results]))
    parsed = parse_factors(classes)
    full = confusion_matrix(first.test_true, first.test_pred, labels=list(range(n)))
    if parsed is None:
        entry["note"] = (f"The class names are not key=value pairs (e.g. {classes[0]!r}), so there are no factors to "
                         "break the confusion down by; only the full matrix is shown.")
        plain = {"matrix": full.tolist(), "classes": classes, "order": list(range(n)), "factors": [], "groups": []}
        return {**entry, "factors": None, "full": plain}
    keys = list(parsed[0])
    unknown = [f for f in options.factors if f not in keys]
    names = [f for f in options.factors if f in keys] + [k for k in keys if k not in options.factors]
    if unknown:
        entry["note"] = f"Factor {', '.join(unknown)} is not in the class names (they have {', '.join(keys)})."
    levels = {k: ordered_levels([p[k] for p in parsed]) for k in keys}
    labels = {k: [v + options.units.get(k, "") for v in levels[k]] for k in keys}
    # codes[k][c]: the level index of factor k in class c, so any label array maps to factor levels by indexing.
    codes = {k: np.array([levels[k].index(p[k]) for p in parsed]) for k in keys}
    factors = []
    for k in names:
        per_seed = [(codes[k][r.test_true], codes[k][r.test_pred]) for r in results]
        lv = list(range(len(levels[k])))
        mats = [confusion_matrix(t, p, labels=lv) for t, p in per_seed]
        rates = np.array([_norm(m) for m in mats])  # (seeds, L, L)
        off = rates.mean(axis=0) - np.diag(np.diag(rates.mean(axis=0)))
        i, j = np.unravel_index(int(off.argmax()), off.shape)
        factors.append({
            "name": k, "levels": labels[k], "matrix": mats[0].tolist(),
            "accuracy": summarize([float((t == p).mean()) for t, p in per_seed]),
            "baseline": float(np.bincount(per_seed[0][0], minlength=len(lv)).max() / max(len(per_seed[0][0]), 1)),
            "top": ({"true": labels[k][i], "pred": labels[k][j], "rate": summarize(rates[:, i, j].tolist())}
                    if off[i, j] > 0 else None),
        })
    entry["factors"] = factors
    entry["errors"] = error_structure(results, [codes[k] for k in keys], keys)
    order = np.lexsort([codes[k] for k in reversed(names)])  # lexsort's last key is the primary one
    entry["full"] = {"matrix": full[np.ix_(order, order)].tolist(), "classes": [classes[i] for i in order],
                     "order": order.tolist(), "factors": names,
                     "groups": spans(order, [codes[k] for k in names], names, labels)}
    return entry


def error_structure(results, codes: list[np.ndarray], keys: list[str]) -> dict[str, Any]:
    """Over seeds: the share of mistakes that get exactly ``d`` factors wrong (``by_count[d - 1]``), and among
    single-factor mistakes the share in each factor."""
    by_count, by_factor, mistakes = [], [], []
    for r in results:
        wrong = r.test_pred != r.test_true
        t, p = r.test_true[wrong], r.test_pred[wrong]
        diff = np.array([c[t] != c[p] for c in codes])  # (factors, mistakes)
        k = diff.sum(axis=0)
        mistakes.append(int(wrong.sum()))
        if wrong.any():
            by_count.append([float((k == d).mean()) for d in range(1, len(keys) + 1)])
            single = diff[:, k == 1]
            if single.size:
                by_factor.append((single.sum(axis=1) / single.shape[1]).tolist())
    return {
        "mistakes": summarize(mistakes),
        "by_count": [summarize([row[d] for row in by_count]) for d in range(len(keys))],
        "single_by_factor": {key: summarize([row[i] for row in by_factor]) for i, key in enumerate(keys)},
    }


def describe(e: dict[str, Any], family: Family) -> str:
    """A paragraph: per-factor accuracies, the factor confused most, the commonest level confusion, the error
    structure."""
    fs = e["factors"]
    text = [f"{e['label']} gets {ms(e['accuracy'])} of the {e['n_test']} test images exactly right (every factor); "
            "per factor: " + ", ".join(f"{f['name']} {ms(f['accuracy'])}" for f in fs) + "."]
    ranked = sorted(fs, key=lambda f: f["accuracy"]["mean"])
    worst = ranked[0]
    sentence = (f"{worst['name'].capitalize()} is confused most ({pct(worst['accuracy']['mean'])} right, against "
                f"{pct(worst['baseline'])} for always answering its commonest level)")
    if len(ranked) > 1:
        nxt = ranked[1]
        test = family.compare(nxt["accuracy"]["values"], worst["accuracy"]["values"])
        gap = f"{points(test['diff'])} below {nxt['name']}"
        if not test["testable"]:
            sentence += f", {gap}; the gap is not tested ({untested_why(test)})"
        elif test["significant"]:
            sentence += f", {gap}, more than seed-to-seed noise ({evidence(test)})"
        else:
            sentence += f"; its gap to {nxt['name']} is within seed-to-seed noise ({evidence(test)})"
    text.append(sentence + ".")
    # Raw accuracy favours factors with few levels; against always answering the commonest level, another
    # factor may be the weakest ("length 52 % right" is barely above its 50 % baseline).
    lift = {f["name"]: (f["accuracy"]["mean"] - f["baseline"]) / (1 - f["baseline"]) for f in fs if f["baseline"] < 1}
    if lift and (weakest := min(lift, key=lift.get)) != worst["name"]:
        f = next(f for f in fs if f["name"] == weakest)
        text.append(f"Measured against that baseline, though, {weakest} is the weakest: {pct(f['accuracy']['mean'])} "
                    f"right where always answering its commonest level gives {pct(f['baseline'])}.")
    tops = [f for f in fs if f["top"]]
    if tops:
        f = max(tops, key=lambda f: f["top"]["rate"]["mean"])
        top = f["top"]
        text.append(f"The most common factor-level confusion is {f['name']} {top['true']} read as {top['pred']}, in "
                    f"{ms(top['rate'])} of the test images with {f['name']} {top['true']}.")
    err = e["errors"]
    if not err["by_count"][0]["n"]:
        text.append("There are no mistakes to break down.")
        return " ".join(text)
    single = err["by_count"][0]
    rest = ", ".join(f"{pct(s['mean'])} in {WORDS.get(d, d)}" for d, s in enumerate(err["by_count"][1:], start=2)
                     if s["mean"])
    verdict = "mostly single-factor errors" if single["mean"] > 0.5 else "mostly errors in two or more factors"
    sentence = (f"Of the mistakes ({err['mistakes']['mean']:,.0f} per seed), {ms(single)} differ from the true class "
                f"in exactly one factor{', ' + rest if rest else ''}: {verdict}")
    share = {k: s["mean"] for k, s in err["single_by_factor"].items() if s["n"]}
    if share:
        k = max(share, key=share.get)
        sentence += f"; {pct(share[k])} of the single-factor mistakes are in {k}"
    text.append(sentence + ".")
    return " ".join(text)


def compare_runs(entries: list[dict[str, Any]], family: Family) -> str | None:
    """The factor on which the first two runs differ most, judged against seed noise."""
    a, b = entries[:2]
    common = [(fa, fb) for fa in a["factors"] for fb in b["factors"] if fa["name"] == fb["name"]]
    if not common:
        return None
    fa, fb = max(common, key=lambda p: abs(p[0]["accuracy"]["mean"] - p[1]["accuracy"]["mean"]))
    test = family.compare(fa["accuracy"]["values"], fb["accuracy"]["values"])
    if not test["testable"]:
        verdict = f"this gap is not tested ({untested_why(test)})"
    elif test["significant"]:
        verdict = f"larger than seed-to-seed noise ({evidence(test)})"
    else:
        verdict = f"within seed-to-seed noise ({evidence(test)}), so neither run is shown to be better on it"
    return (f"{a['label']} and {b['label']} differ most on {fa['name']}: {ms(fa['accuracy'])} vs "
            f"{ms(fb['accuracy'])} right, a gap of {points(test['diff'])}; {verdict}.")


@SECTIONS.register("factor_confusion")
class FactorConfusionSection(Section):
    @dataclass(frozen=True)
    class Options:
        # Factors in the order to show them; the first is the outermost when sorting the full matrix. Factors
        # not listed follow in class-name order.
        factors: list[str] = ()
        # A unit written after a factor's values ("angle 15°").
        units: dict[str, str] = field(default_factory=lambda: {"angle": "°"})

    run_count = (1, None)
    version = 3  # 2: "p < 0.001"; 3: Holm over the section, CIs
    template = "sections/factor_confusion.html.j2"

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        entries = [group_factors(g, self.options) for g in ctx.groups]
        with_factors = [e for e in entries if e.get("factors")]
        analysis = [e["note"] for e in entries if e.get("note")]

        def write(family: Family) -> list[str]:
            text = [describe(e, family) for e in with_factors]
            if len(with_factors) > 1 and (line := compare_runs(with_factors, family)):
                text.append(line)
            return text

        text, family = corrected(write)
        return {"runs": entries, "seeds": ctx.groups[0].seeds, "rule": family.rule(),
                "power": power_note(len(ctx.groups[0].seeds)), "analysis": analysis + text}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.factors import plot_factor_grid, plot_full_figure

        figures = []
        for e in result["runs"]:
            if e["full"] is None:
                continue
            seed = f" (seed {e['matrix_seed']})" if len(result["seeds"]) > 1 else ""
            if e["factors"]:
                names = ", ".join(f["name"] for f in e["factors"])
                figures.append(Figure(
                    f"factors-{e['run']}",
                    f"Per-factor confusion of {e['label']} on the test set{seed}: for each factor ({names}), the "
                    "true level on rows and the predicted class's level on columns, as a percentage of the row.",
                    f"Per-factor confusion matrices of {e['label']} for {names}, row-normalised.",
                    lambda e=e: plot_factor_grid(e["factors"]),
                    wide=True,
                ))
            n = len(e["full"]["classes"])
            # plot_full_figure annotates up to 12 classes without factors on a linear scale, else uses a sqrt scale
            sqrt = bool(e["full"]["groups"]) or n > 12
            scale = " The colour scale is square-root, so that small confusions stay visible." if sqrt else ""
            sort = (", sorted by " + ", ".join(f["name"] for f in e["factors"]) +
                    "; lines separate the blocks of the outer factors") if e["factors"] else ""
            figures.append(Figure(
                f"full-{e['run']}",
                f"Full {n}×{n} confusion matrix of {e['label']} on the test set{seed}, row-normalised "
                f"(percentage of each true class){sort}.{scale}",
                f"Heat map of the full confusion matrix of {e['label']}, {n} classes, true class on rows.",
                lambda e=e: plot_full_figure(e["full"]),
                wide=True,
            ))
        return figures

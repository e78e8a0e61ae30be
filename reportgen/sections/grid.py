"""``grid``: every combination of some factors' values, from a baseline run ("we tried 486 configurations").

``factors`` speaks the vocabulary of ``sweeps`` (a training key, the dataset's ``split``, ``model.<option>``). Each
combination of values is one configuration, a variant of the baseline run named ``"ID:lr=0.01,batch_size=32"``; the
combination equal to the baseline is the baseline run itself. The cost, configurations × seeds trainings, is known at
manifest load, and a grid of more than ``max_runs`` configurations is refused there, before anything trains.

Choose on validation, report on test: configurations are ranked by the mean over seeds of the validation accuracy of
the weights each run ended with (:func:`~reportgen.sections.sweeps.final_val_accuracy`); the winner's test accuracy is
the number reported. Ranking by test accuracy instead would pick the configuration that was luckiest on the test set
and report that luck as skill; the section says by how much it would have flattered the result. Per factor, the
marginal means (over every finished configuration with each value) show which factor matters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range, check_value
from reportgen.config.specs import RunSpec, SectionSpec
from reportgen.sections.base import SECTIONS, Figure, Section, SectionContext
from reportgen.sections.stats import RULE, compare_seeds, power_note
from reportgen.sections.sweeps import (
    PANELS_PER_FIGURE,
    SELECTION,
    canonical,
    check_variant,
    factor_table,
    noise_text,
    plain,
    row_of,
    unknown_factor,
    value_axis,
    value_text,
    variant,
)
from reportgen.text import pct, points

LISTED = 8  # broken configurations named in the analysis; the template lists them all


def point_label(point: dict[str, Any]) -> str:
    """``"lr = 0.01, batch_size = 32"``."""
    return ", ".join(f"{factor} = {value_text(value)}" for factor, value in point.items())


def point_name(section_id: str, point: dict[str, Any]) -> str:
    """The derived run's name, ``"ID:lr=0.01,batch_size=32"`` (``:`` never occurs in a manifest name)."""
    return f"{section_id}:" + ",".join(f"{factor}={value_text(value)}" for factor, value in point.items())


def cost_text(shape: Sequence[int], seeds: int | None) -> str:
    """``"4 × 3 × 3 = 36 configurations × 3 seeds = 108 trainings"`` (without ``seeds``: once per seed)."""
    n = math.prod(shape)
    configurations = f"{' × '.join(str(k) for k in shape)} = {n:,}" if len(shape) > 1 else f"{n:,}"
    text = f"{configurations} configuration{'s' if n != 1 else ''}"
    if seeds is None:
        return f"{text}, each trained once per seed"
    return f"{text} × {seeds} seed{'s' if seeds != 1 else ''} = {n * seeds:,} training{'s' if n * seeds != 1 else ''}"


def _spread(values: list[float]) -> dict[str, Any]:
    """Mean, sample std, min and max of per-configuration means."""
    if not values:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "min": float(arr.min()), "max": float(arr.max()), "n": int(arr.size)}


def _mean_std(summary: dict[str, Any]) -> str:
    """``"91.2 ± 0.4 %"`` over seeds, or ``"91.2 %"`` for one."""
    if summary["n"] > 1:
        return f"{100 * summary['mean']:.1f} ± {100 * summary['std']:.1f} %"
    return pct(summary["mean"])


@SECTIONS.register("grid")
class GridSection(Section):
    @dataclass(frozen=True)
    class Options:
        # factor -> values; every combination is trained, e.g. lr = [0.001, 0.01], "model.dropout" = [0.0, 0.5]
        factors: dict[str, list[Any]]
        top_k: Annotated[int, Range(1)] = 5  # rows of the table of the best configurations
        max_runs: Annotated[int, Range(1)] = 64  # refuse a grid of more configurations (the cost) unless raised

    run_count = (1, 1)  # the baseline
    template = "sections/grid.html.j2"
    example_options: ClassVar[dict[str, Any]] = {"factors": {"lr": [0.01, 0.03], "epochs": [1, 2]}}

    @classmethod
    def derive_runs(cls, spec: SectionSpec, runs: dict[str, RunSpec], datasets: dict[str, Any],
                    seeds: Sequence[int] | None = None) -> dict[str, RunSpec]:
        """One run per combination of values but the baseline's own; ``seeds`` (the report's) only sharpen the
        cost in the error of a grid above ``max_runs``."""
        where = f"sections.{spec.id}.factors"
        options = cls.Options(**spec.options)
        if not options.factors:
            raise ManifestError('needs at least one factor, e.g. lr = [0.001, 0.01]', location=where)
        baseline = runs[spec.runs[0]]
        table = factor_table(baseline, datasets)
        axes: dict[str, list[Any]] = {}
        for factor, values in options.factors.items():
            if factor not in table:
                raise ManifestError(unknown_factor(factor, table), location=f"{where}.{factor}")
            if not values:
                raise ManifestError("needs at least one value", location=f"{where}.{factor}")
            axes[factor] = []
            for i, raw in enumerate(values):
                at = f"{where}.{factor}[{i}]"
                value = canonical(factor, check_value(raw, table[factor][0], at))
                if plain(value) in [plain(v) for v in axes[factor]]:
                    raise ManifestError(f"{value_text(value)} is listed twice", location=at)
                axes[factor].append(value)
        shape = [len(values) for values in axes.values()]
        if math.prod(shape) > options.max_runs:
            raise ManifestError(f"{cost_text(shape, len(seeds) if seeds else None)}; raise max_runs to allow it",
                                location=where)
        base_point = {factor: plain(canonical(factor, table[factor][1])) for factor in axes}
        derived: dict[str, RunSpec] = {}
        for combination in itertools.product(*axes.values()):
            point = dict(zip(axes, combination, strict=True))
            if all(plain(value) == base_point[factor] for factor, value in point.items()):
                continue  # the baseline run stands for its own configuration
            name, label = point_name(spec.id, point), point_label(point)
            if name in derived:
                raise ManifestError(f"two configurations read the same, {label}", location=where)
            run = baseline
            for factor, value in point.items():
                run = variant(run, factor, table[factor][2], value, name, label)
            check_variant(run, baseline, where, prefix=f"at {label}: ")
            derived[name] = run
        return derived

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        base = ctx.groups[0]
        by_name = {g.name: g for g in ctx.groups[1:]}
        axes = {factor: [plain(canonical(factor, v)) for v in values]
                for factor, values in self.options.factors.items()}
        configs = []
        for combination in itertools.product(*axes.values()):
            point = dict(zip(axes, combination, strict=True))
            group = by_name.get(point_name(self.spec.id, point))
            row = row_of(group or base, None, group is None)
            row.update(values=point, texts={f: value_text(v) for f, v in point.items()}, text=point_label(point))
            configs.append(row)
        # Chosen on validation, reported on test. sorted() is stable: ties keep the grid's order.
        finished = [i for i, c in enumerate(configs) if c["status"] == "ok" and c["val_accuracy"]["n"]]
        ranking = sorted(finished, key=lambda i: -configs[i]["val_accuracy"]["mean"])
        rank_of = {i: rank for rank, i in enumerate(ranking, 1)}
        for i, c in enumerate(configs):
            c["rank"] = rank_of.get(i)
        best = ranking[0] if ranking else None
        test_of = {i: configs[i]["accuracy"]["mean"] for i in finished}
        test_winner = max(finished, key=test_of.get) if finished else None
        if best is not None and test_of[best] == test_of[test_winner]:
            test_winner = best  # a tie on test is no different winner
        optimism = None if best is None else test_of[test_winner] - test_of[best]
        runner_up = None
        if len(ranking) > 1:
            runner_up = compare_seeds(configs[ranking[0]]["val_accuracy"]["values"],
                                      configs[ranking[1]]["val_accuracy"]["values"])
        shape = [len(v) for v in axes.values()]
        n_seeds = len(base.seeds)
        cost = {"shape": shape, "configurations": math.prod(shape), "seeds": n_seeds,
                "trainings": math.prod(shape) * n_seeds, "text": cost_text(shape, n_seeds),
                "derived": len(ctx.section.derived), "baseline_in_grid": any(c["baseline"] for c in configs)}
        marginals = [self._marginal(factor, values, configs, set(finished)) for factor, values in axes.items()]
        result = {
            "factors": list(axes), "configs": configs, "ranking": ranking, "top": ranking[: self.options.top_k],
            "top_k": self.options.top_k, "best": best, "test_winner": test_winner, "optimism": optimism,
            "best_vs_runner_up": runner_up, "marginals": marginals, "cost": cost,
            "broken": [i for i, c in enumerate(configs) if c["status"] != "ok"],
            "baseline": row_of(base, None, True), "seeds": base.seeds, "rule": RULE, "selection": SELECTION,
            "power": power_note(n_seeds),
        }
        result["analysis"] = analysis(result)
        return result

    @staticmethod
    def _marginal(factor: str, values: list[Any], configs: list[dict[str, Any]], finished: set[int]) -> dict:
        """Per value of ``factor``: the spread of the per-configuration means of every finished configuration with
        that value (validation and test), and how many configurations with it were left out."""
        numeric, log_x = value_axis(factor, values)
        entries = []
        for value in values:
            having = [i for i, c in enumerate(configs) if c["values"][factor] == value]
            done = [configs[i] for i in having if i in finished]
            entries.append({
                "value": value, "text": value_text(value), "configs": len(having), "excluded": len(having) - len(done),
                "val": _spread([c["val_accuracy"]["mean"] for c in done]),
                "test": _spread([c["accuracy"]["mean"] for c in done]),
            })
        means = [e["val"]["mean"] for e in entries if e["val"]["n"]]
        return {"factor": factor, "numeric": numeric, "log_x": log_x, "values": entries,
                "spread": max(means) - min(means) if len(means) > 1 else None}

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.grid import plot_grid_marginals, plot_val_test

        figures = []
        marginals = result["marginals"]
        chunks = [marginals[i : i + PANELS_PER_FIGURE] for i in range(0, len(marginals), PANELS_PER_FIGURE)]
        n = len(result["seeds"])
        each = f"each configuration's mean over {n} seeds" if n > 1 else "one seed per configuration"
        for i, chunk in enumerate(chunks, 1):
            names = ", ".join(m["factor"] for m in chunk)
            figures.append(Figure(
                f"marginals-{i}",
                f"Which factor matters: the mean validation (solid) and test (dashed) accuracy of every finished "
                f"configuration having each value of {names}, averaged over the other factors ({each}); the band "
                "runs from the lowest to the highest such configuration. Diverged and failed configurations are left "
                "out of every mean, and red text under a value says how many; a red × marks a value none of whose "
                "configurations finished.",
                f"Line charts of mean validation and test accuracy against each value of {names}.",
                lambda chunk=chunk: plot_grid_marginals(chunk),
                wide=len(chunk) > 1,
            ))
        if len(result["ranking"]) > 1:
            figures.append(Figure(
                "val-test",
                "Validation against test accuracy of every finished configuration (means over seeds). The one chosen "
                "on validation is the orange diamond; a green square marks the test-set winner when it is another "
                "configuration: its height above the diamond is what choosing by test would have flattered.",
                "A scatter plot of validation accuracy against test accuracy, one point per configuration.",
                lambda: plot_val_test(result).figure,
            ))
        return figures


def analysis(r: dict[str, Any]) -> list[str]:
    """The cost, the configuration chosen on validation and its test accuracy, what choosing on test would have
    claimed, the factor that matters most, and the configurations that broke."""
    configs, cost = r["configs"], r["cost"]
    text = [f"The grid tried {cost['text']}."]
    if cost["baseline_in_grid"]:
        text[0] += (f" The configuration equal to the baseline is the baseline run {r['baseline']['label']} itself, "
                    "not a retraining.")
    else:
        text[0] += (f" The baseline run {r['baseline']['label']} is not one of them; its own trainings come on top "
                    "and it is not ranked with them.")
    over = f" (mean ± std over {len(r['seeds'])} seeds)" if len(r["seeds"]) > 1 else ""
    if r["best"] is None:
        text.append("No configuration finished training on every seed, so none is chosen.")
    else:
        best = configs[r["best"]]
        text.append(
            f"Chosen on validation accuracy, the best configuration is {best['text']}: validation "
            f"{_mean_std(best['val_accuracy'])}, test {_mean_std(best['accuracy'])}{over}. Only the validation set "
            "took part in the choice, so its test accuracy is a fair estimate of how the chosen configuration does "
            "on new data."
        )
        if r["best_vs_runner_up"] is not None:
            second, test = configs[r["ranking"][1]], r["best_vs_runner_up"]
            tail = "; the data do not single out one configuration" if test["testable"] and not test["significant"] \
                else ""
            text.append(f"Its validation lead over the runner-up, {second['text']} "
                        f"({pct(second['val_accuracy']['mean'])}), is {points(test['diff'])}, "
                        f"{noise_text(test)}{tail}.")
        if r["test_winner"] != r["best"]:
            winner = configs[r["test_winner"]]
            text.append(
                f"Chosen on test accuracy instead, {winner['text']} would have won with "
                f"{pct(winner['accuracy']['mean'])} on test (validation {pct(winner['val_accuracy']['mean'])}); "
                f"reporting that number would have been optimistic by {points(r['optimism'])}, because the test set "
                "would have both picked the configuration and scored it."
            )
        else:
            text.append("The highest test accuracy of the grid belongs to the same configuration, so choosing on test "
                        "would have picked it too; it is reported because it won on validation.")
    moving = [m for m in r["marginals"] if m["spread"] is not None]
    if moving:
        top = max(moving, key=lambda m: m["spread"])
        entries = [e for e in top["values"] if e["val"]["n"]]
        hi = max(entries, key=lambda e: e["val"]["mean"])
        lo = min(entries, key=lambda e: e["val"]["mean"])
        name = top["factor"]
        sentence = (f"Averaged over the other factors, {name} moves validation accuracy the most: from "
                    f"{pct(lo['val']['mean'])} ({name} = {lo['text']}) to {pct(hi['val']['mean'])} ({name} = "
                    f"{hi['text']}), a spread of {points(top['spread'])}.")
        others = sorted((m for m in moving if m is not top), key=lambda m: -m["spread"])
        if others:
            sentence += " The others move it by " + ", ".join(f"{m['factor']} {points(m['spread'])}"
                                                               for m in others) + "."
        text.append(sentence)
    if r["broken"]:
        n = len(r["broken"])
        listed = []
        for i in r["broken"][:LISTED]:
            c = configs[i]
            total = c["broken"] + c["finished"]
            listed.append(f"{c['text']} {c['status']} on {c['broken']} of {total} seed{'s' if total > 1 else ''} "
                          f"({c['reason']})")
        more = f"; and {n - LISTED} more" if n > LISTED else ""
        text.append(f"{n} of {len(configs)} configuration{'s' if len(configs) > 1 else ''} did not finish on every "
                    f"seed and {'are' if n > 1 else 'is'} left out of the ranking and of every mean: "
                    + "; ".join(listed) + more + ".")
    return text

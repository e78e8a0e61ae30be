"""``sweeps``: one factor at a time from a baseline run (ITU A3 question 8).

``[sections.ID.factors]`` maps a factor — a training key (``lr``, ``loss``, ``epochs``, …), the dataset's
``split`` or a model option (``model.channels``) — to the values to try. :meth:`SweepsSection.derive_runs`
makes one run per value that differs from the baseline's (named ``"ID:lr=0.01"``); the baseline's own value
is not retrained, the baseline run stands for it. ``compute`` tabulates each factor's values (validation and test
accuracy, macro F1, time, final training loss, status), keeps diverged and failed runs visible, and says which factor
moves accuracy the most and whether any value beats the baseline by more than seed-to-seed noise.

Best and worst values are chosen on validation (the mean over seeds of the final validation accuracy of the weights a
run ended with, :func:`final_val_accuracy`) and reported on test: choosing on the test set and then reporting that
same test accuracy would flatter the winner.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import check_recipe
from reportgen.config.params import check_value, parameters
from reportgen.config.registry import did_you_mean
from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext
from reportgen.sections.comparable import CONFOUNDED, confound, shared_test_set, test_set_id
from reportgen.sections.stats import (
    compare_seeds,
    evidence,
    family_size,
    holm,
    power_note,
    rule,
    summarize,
    untested_why,
)
from reportgen.text import pct, points
from reportgen.training.result import RunResult

#: How sweeps and grids choose a best value or configuration (stated under their tables).
SELECTION = ("mean validation accuracy over seeds of the weights each run ended with (the last epoch's, or with early "
             "stopping the restored epoch's)")
PANELS_PER_FIGURE = 6  # two rows of three small panels
CHANCE_FACTOR = 1.5  # test accuracy under this many times the chance level counts as "did not learn"
# Names people write for a factor, for the "did you mean" of an unknown one.
ALIASES = {"learning_rate": "lr", "num_epochs": "epochs", "batch": "batch_size", "loss_function": "loss",
           "train_test_split": "split", "ratio": "split"}


def canonical(factor: str, value: Any) -> Any:
    """``value`` as the run's key sees it: an ``augment`` table without the keys at their defaults (``{}``, ``{crop =
    0}`` and no table are one configuration); other values as they are."""
    if factor != "augment":
        return value
    from dataclasses import asdict

    from reportgen.config.specs import Augment

    defaults = asdict(Augment())
    return {k: v for k, v in (value or {}).items() if defaults.get(k, object()) != v}


def plain(value: Any) -> Any:
    """``value`` with tuples turned into lists (JSON form; also how values are compared)."""
    return [plain(v) for v in value] if isinstance(value, list | tuple) else value


def value_text(value: Any) -> str:
    """A short, stable text for a value: ``0.0003``, ``focal``, ``true``, ``[0.6, 0.2, 0.2]``, ``crop = 4, hflip =
    true`` (a table; ``none`` when empty)."""
    if isinstance(value, dict):
        return ", ".join(f"{k} = {value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:g}"
        return text if float(text) == value else repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def run_name(section_id: str, factor: str, value: Any) -> str:
    """The derived run's name; ``:`` cannot occur in manifest names, so it never clashes with one."""
    return f"{section_id}:{factor}={value_text(value)}"


def factor_table(baseline: RunSpec, datasets: dict[str, Any]) -> dict[str, tuple[Any, Any, str]]:
    """``{factor: (type, baseline's value, where it goes)}`` for every factor the baseline can vary."""
    from reportgen.data import DATASETS
    from reportgen.models import model_callable, supplied_for

    table = {name: (tp, getattr(baseline.train, name), "train") for name, (tp, _) in parameters(TrainConfig).items()}
    named = datasets.get(baseline.dataset)  # resolved as reportgen.runs.plan.dataset_of does: named table, or bare kind
    kind = named.kind if named else baseline.dataset
    options = {**(named.options if named else {}), **baseline.dataset_overrides}
    if kind in DATASETS:
        data_params = parameters(DATASETS.get(kind), skip=("base_dir",))
        if "split" in data_params:
            tp, default = data_params["split"]
            table["split"] = (tp, options.get("split", default), "split")
    builder = model_callable(baseline.arch, baseline.base_dir or None)
    for name, (tp, default) in parameters(builder, skip=supplied_for(baseline.arch), lenient=True).items():
        table[f"model.{name}"] = (tp, baseline.model_options.get(name, default), "model")
    return table


def unknown_factor(factor: str, table: dict[str, Any]) -> str:
    if f"model.{factor}" in table:
        return f'unknown factor "{factor}"; did you mean "model.{factor}"?'
    if factor == "split":
        return 'unknown factor "split": the baseline\'s dataset kind has no "split" option'
    alias = difflib.get_close_matches(factor, ALIASES, n=1, cutoff=0.6)
    hint = did_you_mean(factor, table) or (f'; did you mean "{ALIASES[alias[0]]}"?' if alias else "")
    hint = hint or f" (allowed: {', '.join(table)})"
    return f'unknown factor "{factor}"{hint}'


def variant(baseline: RunSpec, factor: str, where: str, value: Any, name: str, label: str) -> RunSpec:
    """The baseline with ``factor`` set to ``value`` (``where``: "train", "split" or "model")."""
    if where == "model":
        options = {**baseline.model_options, factor.removeprefix("model."): value}
        return replace(baseline, name=name, label=label, model_options=options)
    if where == "split":
        return replace(baseline, name=name, label=label, dataset_overrides={**baseline.dataset_overrides,
                                                                            "split": value})
    return replace(baseline, name=name, label=label, train=replace(baseline.train, **{factor: value}))


def check_variant(run: RunSpec, baseline: RunSpec, at: str, prefix: str = "") -> None:
    """``check_recipe`` on a derived run: an error is located at ``at`` (the value that made the run) and names the
    key that clashes, with ``prefix`` before it (a grid point: "at lr = 0.1, loss = mse: ")."""
    try:
        check_recipe(run.train, f"runs.{baseline.name}")
    except ManifestError as err:  # the variant's recipe cannot work: name the key that clashes
        key = err.location.split(".")[-1]
        shown = value_text(getattr(run.train, key, None)) if hasattr(run.train, key) else ""
        raise ManifestError(prefix + (f"{key} = {shown} {err.message}" if shown else err.message),
                            location=at) from None


@SECTIONS.register("sweeps")
class SweepsSection(Section):
    @dataclass(frozen=True)
    class Options:
        # factor -> values to try, e.g. lr = [0.0003, 0.003, 0.03]; split = [[0.8, 0.1, 0.1]]; model.channels = [8]
        factors: dict[str, list[Any]]

    run_count = (1, 1)  # the baseline
    version = 4  # 3: best and worst chosen on validation, reported on test; 4: Holm, CIs, like with like
    example_options: ClassVar[dict[str, Any]] = {"factors": {"lr": [0.003, 0.03]}}
    template = "sections/sweeps.html.j2"

    @classmethod
    def derive_runs(cls, spec: SectionSpec, runs: dict[str, RunSpec], datasets: dict[str, Any],
                    seeds: tuple[int, ...] = ()) -> dict[str, RunSpec]:
        where = f"sections.{spec.id}.factors"
        factors = spec.options.get("factors") or {}
        if not factors:
            raise ManifestError('needs at least one factor, e.g. lr = [0.001, 0.01]', location=where)
        baseline = runs[spec.runs[0]]
        table = factor_table(baseline, datasets)
        derived: dict[str, RunSpec] = {}
        for factor, values in factors.items():
            if factor not in table:
                raise ManifestError(unknown_factor(factor, table), location=f"{where}.{factor}")
            if not values:
                raise ManifestError("needs at least one value", location=f"{where}.{factor}")
            tp, base_value, kind = table[factor]
            seen: list[Any] = []
            for i, raw in enumerate(values):
                at = f"{where}.{factor}[{i}]"
                value = canonical(factor, check_value(raw, tp, at))
                if plain(value) in seen:
                    raise ManifestError(f"{value_text(value)} is listed twice", location=at)
                seen.append(plain(value))
                if plain(value) == plain(canonical(factor, base_value)):
                    continue  # the baseline run stands for its own value
                name = run_name(spec.id, factor, value)
                run = variant(baseline, factor, kind, value, name, f"{factor} = {value_text(value)}")
                check_variant(run, baseline, at)
                derived[name] = run
        return derived

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        base = ctx.groups[0]
        by_name = {g.name: g for g in ctx.groups[1:]}
        factors = [self._factor(factor, values, base, by_name) for factor, values in self.options.factors.items()]
        # Every test of the section (each factor's best against its worst and against the baseline) is one family.
        tests = holm([t for f in factors for t in (f["best_vs_worst"], f["vs_baseline"])])
        k = next((len(r.classes) for g in ctx.groups for r in g.results), 0)
        chance = 1 / k if k else None
        return {"baseline": row_of(base, None, True), "factors": factors, "seeds": base.seeds,
                "rule": rule(family_size(tests)), "power": power_note(len(base.seeds)), "selection": SELECTION,
                "chance": chance, "analysis": analysis(factors, base.label, chance)}

    def _factor(self, factor: str, values, base: RunGroup, by_name: dict[str, RunGroup]) -> dict[str, Any]:
        rows = []
        for value in values:
            group = by_name.get(run_name(self.spec.id, factor, canonical(factor, value)))
            rows.append(row_of(group or base, plain(canonical(factor, value)), group is None))
        if not any(r["baseline"] for r in rows):  # the baseline's value is not listed: show it all the same
            _insert_in_order(rows, row_of(base, plain(canonical(factor, baseline_value(base, factor))), True))
        numeric, log_x = value_axis(factor, [r["value"] for r in rows])
        # Chosen on validation, reported on test: the test set takes no part in picking the best or worst value.
        ok = [r for r in rows if r["status"] == "ok" and r["val_accuracy"]["n"]]
        comparable, why_not = shared_test_set(ok)
        other = CONFOUNDED.get(factor, ("", ""))[0]
        confounded = confound(factor, value_text(baseline_value(base, other))) if other else ""
        if not comparable:  # shown, never ranked: the values are measured on different test images
            return {"factor": factor, "numeric": numeric, "log_x": log_x, "rows": rows, "best": None, "worst": None,
                    "spread": None, "val_spread": None, "best_vs_worst": None, "vs_baseline": None,
                    "not_comparable": why_not, "confound": confounded}
        best = max(ok, key=lambda r: r["val_accuracy"]["mean"], default=None)
        worst = min(ok, key=lambda r: r["val_accuracy"]["mean"], default=None)
        baseline_row = next(r for r in rows if r["baseline"])
        vs_baseline = None
        if best is not None and not best["baseline"] and baseline_row["status"] == "ok":
            vs_baseline = compare_seeds(best["accuracy"]["values"], baseline_row["accuracy"]["values"])
        several = len(ok) > 1
        spread_test = compare_seeds(best["accuracy"]["values"], worst["accuracy"]["values"]) if several else None
        if spread_test is not None and vs_baseline is not None and worst is baseline_row:
            spread_test = vs_baseline  # the same comparison: one test, counted once in the family
        return {
            "factor": factor, "numeric": numeric, "log_x": log_x, "rows": rows,
            "best": rows.index(best) if best else None, "worst": rows.index(worst) if several else None,
            # test accuracy of the best value on validation minus that of the worst (negative when they swap on test)
            "spread": best["accuracy"]["mean"] - worst["accuracy"]["mean"] if several else None,
            "val_spread": best["val_accuracy"]["mean"] - worst["val_accuracy"]["mean"] if several else None,
            "best_vs_worst": spread_test, "vs_baseline": vs_baseline, "not_comparable": "", "confound": confounded,
        }

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        from reportgen.figures.sweep import plot_sweep_grid

        factors = result["factors"]
        chunks = [factors[i : i + PANELS_PER_FIGURE] for i in range(0, len(factors), PANELS_PER_FIGURE)]
        n = len(result["seeds"])
        bars = f"mean ± std over {n} seeds" if n > 1 else "one seed, so no error bars"
        figures = []
        for i, chunk in enumerate(chunks, 1):
            names = ", ".join(f["factor"] for f in chunk)
            figures.append(Figure(
                f"factors-{i}",
                f"Test accuracy as one factor at a time is changed from the baseline ({names}; {bars}). The "
                "baseline's own value is the orange diamond; a red × at the bottom marks a value whose training "
                "diverged or failed.",
                f"Small line charts of test accuracy against the value of each factor: {names}.",
                lambda chunk=chunk: plot_sweep_grid(chunk),
                wide=len(chunk) > 1,
            ))
        return figures


def value_axis(factor: str, values: list[Any]) -> tuple[bool, bool]:
    """``(numeric, log_x)``: whether a factor's values go on a numeric x axis, and whether that axis is logarithmic
    (learning rates, and positive values spanning 20× or more)."""
    numeric = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    log_x = numeric and all(v > 0 for v in values) and (factor == "lr" or max(values) >= 20 * min(values))
    return numeric, log_x


def row_of(group: RunGroup, value: Any, baseline: bool) -> dict[str, Any]:
    """One table row: the group's metrics over its finished seeds, and its status over all seeds."""
    from reportgen.sections.metrics import f1_score

    results = group.results
    statuses = [o.status for o in group.outcomes]
    status = "diverged" if "diverged" in statuses else "failed" if "failed" in statuses else "ok"
    losses = [r.history["train_loss"][-1] for r in results if r.history.get("train_loss")]
    f1 = [f1_score(r.test_true, r.test_pred, average="macro", zero_division=0) for r in results]
    test_size = len(group.data.test) if group.data is not None else len(results[0].test_true) if results else None
    return {
        "value": value, "text": value_text(value) if value is not None else "", "run": group.name,
        "label": group.label, "baseline": baseline,
        "accuracy": summarize([r.test_accuracy for r in results]), "f1_macro": summarize(f1),
        "val_accuracy": summarize([final_val_accuracy(r) for r in results]),
        "train_seconds": summarize([r.train_seconds for r in results]), "final_train_loss": summarize(losses),
        "status": status, "finished": len(results), "broken": len(group.outcomes) - len(results),
        "test_set": test_set_id(group), "test_size": test_size,
        "reason": next((o.reason for o in group.outcomes if not o.ok), ""), "failures": group.failures,
    }


def final_val_accuracy(result: RunResult) -> float | None:
    """The validation accuracy of the weights ``result`` ended with: the last epoch's, or with early stopping the
    restored best epoch's; ``None`` without a validation history."""
    val = result.history.get("val_acc") or []
    if not val:
        return None
    stopped = any(e.get("kind") == "early_stop" for e in result.events) and result.history.get("val_loss")
    # Early stopping restores the epoch of the first lowest validation loss (reportgen.training.epoch_control).
    return float(val[int(np.argmin(result.history["val_loss"]))] if stopped else val[-1])


def baseline_value(base: RunGroup, factor: str) -> Any:
    """The baseline's value of ``factor`` when the manifest does not list it, from the baseline's spec.

    A ``split`` set on a named ``[datasets]`` table is not in the spec; the measured fractions stand for it.
    """
    spec = base.spec
    if factor.startswith("model."):
        from reportgen.models import model_callable, supplied_for

        option = factor.removeprefix("model.")
        builder = model_callable(spec.arch, spec.base_dir or None)
        default = parameters(builder, skip=supplied_for(spec.arch), lenient=True).get(option, (None, None))[1]
        return plain(spec.model_options.get(option, default))
    if factor == "split":
        if "split" in spec.dataset_overrides:
            return plain(spec.dataset_overrides["split"])
        if base.data is not None:
            sizes = [len(base.data.train), len(base.data.val), len(base.data.test)]
            return [round(s / sum(sizes), 2) for s in sizes]
        return None
    return plain(getattr(spec.train, factor, None))


def _insert_in_order(rows: list[dict[str, Any]], row: dict[str, Any]) -> None:
    """Put the baseline's row where its value sorts among numeric values given in order, else first."""
    values = [r["value"] for r in rows]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in [*values, row["value"]])
    if numbers and values == sorted(values):
        rows.insert(bisect.bisect(values, row["value"]), row)
    elif numbers and values == sorted(values, reverse=True):
        rows.insert(len(values) - bisect.bisect(values[::-1], row["value"]), row)
    else:
        rows.insert(0, row)


def noise_text(test: dict[str, Any]) -> str:
    """How a gap compares with seed-to-seed noise, as the end of "the gap is …"."""
    if not test["testable"]:
        return f"not tested against seed-to-seed noise ({untested_why(test)})"
    if test["significant"]:
        return f"larger than seed-to-seed noise (Welch's t-test {evidence(test)})"
    return f"within seed-to-seed noise (Welch's t-test {evidence(test)})"


def _against_baseline(name: str, best: dict[str, Any], base: dict[str, Any], test: dict[str, Any]) -> str:
    """The test-accuracy gap of the best value on validation over the baseline's (either sign: a lead on validation
    need not carry over to the test set)."""
    chosen = (f"{name}: the best value on validation, {best['text']} ({pct(best['val_accuracy']['mean'])} vs "
              f"{pct(base['val_accuracy']['mean'])} validation accuracy),")
    tested = f"({pct(best['accuracy']['mean'])} vs {pct(base['accuracy']['mean'])})"
    if test["significant"] and test["diff"] > 0:
        return (f"{chosen} beats the baseline's {base['text']} on test accuracy by {points(test['diff'])} {tested}, "
                f"{noise_text(test)}.")
    if test["significant"]:
        return (f"{chosen} is {points(test['diff'])} below the baseline's {base['text']} on test accuracy {tested}, "
                f"{noise_text(test)}: its lead on validation does not carry over to the test set.")
    side = "above" if test["diff"] >= 0 else "below"
    end = ", so no value is shown to beat the baseline." if test["testable"] else "."
    return (f"{chosen} is {points(test['diff'])} {side} the baseline's {base['text']} on test accuracy {tested}; the "
            f"gap is {noise_text(test)}{end}")


def analysis(factors: list[dict[str, Any]], baseline_label: str, chance: float | None = None) -> list[str]:
    """Which factor moves validation accuracy the most (and what that does on test), then each factor's best value
    on validation against the baseline on test."""
    if not factors:
        return ["No factors are varied, so there is nothing to compare with the baseline."]
    text = []
    # Only factors measured alone, on one test set, are ranked by how far they move accuracy.
    moving = [f for f in factors if f["val_spread"] is not None and not f.get("confound")]
    if moving:
        top = max(moving, key=lambda f: f["val_spread"])
        hi, lo = top["rows"][top["best"]], top["rows"][top["worst"]]
        name = top["factor"]
        swapped = " (the other way round)" if top["spread"] < 0 else ""
        text.append(
            f"Of the factors varied, {name} moves validation accuracy the most: from "
            f"{pct(lo['val_accuracy']['mean'])} ({name} = {lo['text']}) to {pct(hi['val_accuracy']['mean'])} "
            f"({name} = {hi['text']}). On the test set these two values reach {pct(lo['accuracy']['mean'])} and "
            f"{pct(hi['accuracy']['mean'])}, a gap of {points(top['spread'])}{swapped}, which is "
            f"{noise_text(top['best_vs_worst'])}."
        )
    for f in factors:
        name, rows = f["factor"], f["rows"]
        base = next(r for r in rows if r["baseline"])
        if f.get("not_comparable"):
            sentence = f"{name}: {f['not_comparable']}; they are shown in the table but not ranked."
        elif f["best"] is None:
            sentence = f"{name}: no value finished training."
        elif base["status"] != "ok":
            best = rows[f["best"]]
            sentence = (f"{name}: the best value on validation is {best['text']} "
                        f"({pct(best['val_accuracy']['mean'])}; test accuracy {pct(best['accuracy']['mean'])}); the "
                        f"baseline {baseline_label} did not finish, so no value is compared with it.")
        elif rows[f["best"]]["baseline"]:
            sentence = (f"{name}: the baseline's own value, {base['text']}, gives the highest validation accuracy of "
                        f"the values tried ({pct(base['val_accuracy']['mean'])}; test accuracy "
                        f"{pct(base['accuracy']['mean'])}).")
        else:
            sentence = _against_baseline(name, rows[f["best"]], base, f["vs_baseline"])
        if f.get("confound"):
            sentence += f" This factor is not ranked against the others: {f['confound']}."
        for r in rows:
            if r["status"] != "ok":
                sentence += (f" {name} = {r['text']} {r['status']} on {r['broken']} of {r['broken'] + r['finished']} "
                             f"seed{'s' if r['broken'] + r['finished'] > 1 else ''} ({r['reason']}).")
        text.append(sentence)
    # A run that finished but sits at guessing level learnt nothing (e.g. a learning rate too large for BatchNorm
    # nets to blow up, yet too large to learn): say so, since "ok" in the table would hide it.
    stuck = [f"{f['factor']} = {r['text']}" for f in factors for r in f["rows"]
             if chance and r["status"] == "ok" and r["accuracy"]["mean"] < CHANCE_FACTOR * chance]
    if stuck:
        verb = "stays" if len(stuck) == 1 else "stay"
        listed = stuck[0] if len(stuck) == 1 else ", ".join(stuck[:-1]) + f" and {stuck[-1]}"
        text.append(f"{listed} {verb} near chance level (under {CHANCE_FACTOR:g}× the {pct(chance)} of "
                    "guessing): training finished without learning.")
    return text

"""A section's target (``target = { metric = "accuracy", at_least = 0.92 }``): which runs reach what the handout asks.

Not a section type: :func:`evaluate_target` is called for any section that states a target, next to its own
``compute``, and its JSON-able result is stored beside the section's ``result`` (``out/sections/<id>.json`` and
``results.json``) and shown in a box under the question. A run meets the target when its *mean over finished seeds*
does (``at_least``: mean >= bound; ``at_most``: mean <= bound; ``about``: |mean - about| <= tolerance); how many
seeds meet it on their own is counted too, and each run's verdict says only what those numbers support.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reportgen.config.specs import Target
from reportgen.sections.base import RunGroup
from reportgen.sections.stats import summarize
from reportgen.training.result import RunResult

#: What each metric is called in sentences, and whether it is a share shown as a percentage.
METRICS: dict[str, tuple[str, bool]] = {
    "accuracy": ("test accuracy", True),
    "f1_macro": ("macro F1", True),
    "loss": ("test loss", False),
}
DEFINITIONS = {"loss": "test loss (mean cross-entropy)"}  # how the box and results.json name a metric, if not as above
# A probability of exactly 0 at the true class would make the cross-entropy infinite (and results.json invalid).
PROB_FLOOR = 1e-12


def seed_metric(metric: str, result: RunResult) -> float:
    """The test-set ``metric`` of one finished seed: ``accuracy`` (share of argmax predictions that are right),
    ``f1_macro`` (scikit-learn's ``f1_score(average="macro", zero_division=0)`` over the classes present) or ``loss``
    (mean cross-entropy ``-log p[i, y_i]`` of ``test_prob`` ``(N, C)`` at the true classes ``test_true`` ``(N,)``)."""
    if metric == "accuracy":
        return float(result.test_accuracy)
    if metric == "f1_macro":
        from reportgen.sections.metrics import f1_score

        return float(f1_score(result.test_true, result.test_pred, average="macro", zero_division=0))
    if metric == "loss":
        prob = np.asarray(result.test_prob, dtype=np.float64)
        true = np.asarray(result.test_true, dtype=np.int64)
        at_true = prob[np.arange(len(true)), true]
        return float(-np.log(np.clip(at_true, PROB_FLOOR, 1.0)).mean())
    raise ValueError(f"unknown target metric {metric!r}")


def bound_of(target: Target) -> tuple[str, float]:
    """``("at_least" | "at_most" | "about", value)``: the one bound the manifest set."""
    for kind in ("at_least", "at_most", "about"):
        value = getattr(target, kind)
        if value is not None:
            return kind, float(value)
    raise ValueError("a target needs one of at_least, at_most or about")


def meets(target: Target, value: float) -> bool:
    """Whether ``value`` (a mean over seeds, or one seed's value) meets ``target``."""
    kind, bound = bound_of(target)
    if kind == "at_least":
        return value >= bound
    if kind == "at_most":
        return value <= bound
    return abs(value - bound) <= target.tolerance + 1e-12


def evaluate_target(target: Target, groups: list[RunGroup]) -> dict[str, Any]:
    """Each run of ``groups`` against ``target``, JSON-able::

        {"metric": "accuracy", "name": "test accuracy", "percent": true, "kind": "at_least", "value": 0.92,
         "tolerance": null, "text": "test accuracy of at least 92 %",
         "runs": [{"run": "c4", "label": "C4", "seeds": [0, 1, 2], "unfinished": [], "summary": {mean, std, n,
                   values}, "meets": true, "seeds_meeting": 3, "status": "met",
                   "verdict": "C4 reaches 97.1 % ± 0.3 (3 seeds), ..."}],
         "met_by": ["C4"], "missed_by": [], "unchecked": [], "summary": "C4 meets the target."}

    ``meets`` is None, ``status`` "unchecked" (and ``summary.mean`` null) for a run with no finished seed."""
    kind, bound = bound_of(target)
    name, percent = METRICS[target.metric]
    runs = []
    for group in groups:
        pairs = [(s, o) for s, o in zip(group.seeds, group.outcomes, strict=True)
                 if isinstance(o, RunResult) and o.ok]
        values = [seed_metric(target.metric, o) for _, o in pairs]
        values = [v for v in values if math.isfinite(v)]
        summary = summarize(values)
        ok = None if summary["n"] == 0 else meets(target, summary["mean"])
        entry = {
            "run": group.name, "label": group.label, "seeds": [s for s, _ in pairs],
            "unfinished": [s for s, o in zip(group.seeds, group.outcomes, strict=True) if not o.ok],
            "summary": summary, "meets": ok, "seeds_meeting": sum(meets(target, v) for v in values),
            "status": {True: "met", False: "missed"}.get(ok, "unchecked"),
        }
        entry["verdict"] = verdict(target, entry)
        runs.append(entry)
    met = [r["label"] for r in runs if r["meets"]]
    missed = [r["label"] for r in runs if r["meets"] is False]
    unchecked = [r["label"] for r in runs if r["meets"] is None]
    return {
        "metric": target.metric, "name": name, "percent": percent, "kind": kind, "value": bound,
        "tolerance": target.tolerance if kind == "about" else None, "text": describe(target),
        "runs": runs, "met_by": met, "missed_by": missed, "unchecked": unchecked,
        "summary": _overall(met, missed, unchecked),
    }


def describe(target: Target) -> str:
    """``"test accuracy of at least 92 %"``, ``"test loss (mean cross-entropy) of at most 0.3"``,
    ``"macro F1 of about 46 % (± 1 point)"``."""
    kind, bound = bound_of(target)
    name, percent = METRICS[target.metric]
    name = DEFINITIONS.get(target.metric, name)
    words = {"at_least": "at least", "at_most": "at most", "about": "about"}[kind]
    text = f"{name} of {words} {_value(bound, percent)}"
    if kind == "about":
        text += f" (± {_spread(target.tolerance, percent)})"
    return text


def verdict(target: Target, run: dict[str, Any]) -> str:
    """One sentence on one run (an entry of :func:`evaluate_target`'s ``runs``) that says only what its numbers
    support: the mean ± SD over finished seeds (or that one seed has no spread), the mean against the target, and
    how many seeds meet it on their own."""
    label, summary = run["label"], run["summary"]
    n = summary["n"]
    if n == 0:
        return f"{label}: no finished seed, so the target cannot be checked."
    kind, bound = bound_of(target)
    name, percent = METRICS[target.metric]
    mean = summary["mean"]
    digits = _digits(mean, bound, percent)
    reached = _value(mean, percent, digits)
    if target.metric != "accuracy":
        reached = f"a {name} of {reached}"
    if n > 1:
        seeds = f"{_spread(summary['std'], percent, digits, unit=False)} ({n} seeds"
    else:
        seeds = "(1 seed, so no spread"
    if run["unfinished"]:
        seeds += f"; {len(run['unfinished'])} more did not finish"
    head = f"{label} reaches {reached} {seeds})"
    goal = _value(bound, percent)
    if kind == "about":
        tolerance = _spread(target.tolerance, percent)
        where = (f"within {tolerance} of the target of about {goal}" if run["meets"] else
                 f"{_spread(abs(mean - bound), percent, digits)} from the target of about {goal}, more than its "
                 f"tolerance of {tolerance}")
        own = _count_meeting(run["seeds_meeting"], n, "within it")
    else:
        side = "above" if mean > bound else "below" if mean < bound else "exactly at"
        where = f"{side} the target of {goal}"
        own = _count_meeting(run["seeds_meeting"], n, "meet it")
    if run["meets"]:
        return f"{head}, {where}." if n == 1 else f"{head}, {where}; {own}."
    return f"{head}: {where}." if n == 1 else f"{head}: {where} ({own})."


def _count_meeting(k: int, n: int, what: str) -> str:
    """``"all 3 seeds meet it"``, ``"1 of 3 seeds meets it"``, ``"none of the 3 seeds meets it"``."""
    singular = what.replace("meet it", "meets it").replace("within it", "is within it")
    plural = what.replace("within it", "are within it")
    if k == n:
        return f"both seeds {plural}" if n == 2 else f"all {n} seeds {plural}"
    if k == 0:
        return f"neither seed {singular}" if n == 2 else f"none of the {n} seeds {singular}"
    return f"{k} of {n} seeds {singular if k == 1 else plural}"


def _overall(met: list[str], missed: list[str], unchecked: list[str]) -> str:
    """``"C4 meets the target; C1+M3 does not."``"""
    parts = []
    if met:
        parts.append(f"{_join(met)} {'meets' if len(met) == 1 else 'meet'} the target")
    if missed:
        verb = "does" if len(missed) == 1 else "do"
        parts.append(f"{_join(missed)} {verb} not" + ("" if met else " meet the target"))
    if unchecked:
        parts.append(f"{_join(unchecked)} cannot be checked (no finished seed)")
    return "; ".join(parts) + "." if parts else "No run to check."


def _join(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _digits(mean: float, bound: float, percent: bool) -> int:
    """Decimals enough that a mean just below the bound does not print as the bound itself (1 for a percentage,
    3 for a loss, up to 3 more)."""
    digits = 1 if percent else 3
    while digits < (4 if percent else 6) and mean != bound and _value(mean, percent, digits) == _value(
            bound, percent, digits):
        digits += 1
    return digits


def _value(x: float, percent: bool, digits: int | None = None) -> str:
    """A target's bound (``digits`` None: as short as it is written, ``0.92 -> "92 %"``) or a measured value."""
    if percent:
        text = f"{100 * x:.6g}" if digits is None else f"{100 * x:.{digits}f}"
        return f"{text}\u00a0%"
    return f"{x:.6g}" if digits is None else f"{x:.{digits}f}"


def _spread(x: float, percent: bool, digits: int | None = None, unit: bool = True) -> str:
    """A seed SD ``"± 0.3"`` (``unit=False``), or a distance ``"1 point"`` / ``"0.01"`` (``digits`` None: as short as
    it is written, for a tolerance)."""
    if percent:
        value = f"{100 * x:.6g}" if digits is None else f"{100 * x:.{digits}f}"
    else:
        value = f"{x:.6g}" if digits is None else f"{x:.{digits}f}"
    if not unit:
        return f"±\u00a0{value}"
    return f"{value} point{'' if float(value) == 1 else 's'}" if percent else value

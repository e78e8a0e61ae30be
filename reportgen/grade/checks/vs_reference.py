"""VS_REFERENCE: a claimed accuracy outside the reproduction's prediction interval for the same run.

The reproduction trained each run with n seeds (mean m, sample SD s). A student's run is one more seed, so the
accuracy it should reach lies in the prediction interval ``m ± t(q, n−1) · s · √(1 + 1/n)`` with probability
``[grading] reference_level`` (q = (1 + level) / 2). ``s`` is floored at ``reference_min_sd`` (three seeds can agree
by chance); with one seed there is no spread at all, so the floor stands for it and the normal quantile for t. The
check fires when everything the claim allows (:attr:`Claim.interval`: the written value give or take rounding, or
the bounds of "~87 %" and "> 92 %") lies outside that interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.checks.identity import parts, run_named
from reportgen.grade.model import Claim, Flag
from reportgen.grade.settings import settings_in

TRAIN_KEYS = ("epochs", "lr", "batch_size")
# A whole-report note (not a check of its own: it judges the grading setup, not the report) when the reference was
# used with --reference-anyway although its test set differs from the course's or is not recorded.
UNMATCHED = "REFERENCE_UNMATCHED"


@dataclass(frozen=True)
class PredictionInterval:
    low: float
    high: float
    mean: float
    sd: float  # the SD used (floored)
    n: int
    level: float
    floored: bool  # the seeds' own SD was below the floor (or unknown: one seed)


def prediction_interval(summary: dict, level: float, min_sd: float) -> PredictionInterval:
    """Where one more seed's accuracy falls with probability ``level``, from a seed summary ``{"mean", "std", "n"}``."""
    from scipy import stats

    mean = float(summary["mean"])
    n = max(int(summary.get("n") or 1), 1)
    spread = float(summary.get("std") or 0.0) if n > 1 else 0.0
    sd = max(spread, min_sd)
    q = (1 + level) / 2
    quantile = float(stats.t.ppf(q, n - 1)) if n > 1 else float(stats.norm.ppf(q))
    half = quantile * sd * math.sqrt(1 + 1 / n)
    return PredictionInterval(mean - half, mean + half, mean, sd, n, level, n == 1 or spread < min_sd)


@check("VS_REFERENCE", "With --reference: a claimed test accuracy whose every admissible value lies outside the "
                       "reproduction's prediction interval over its seeds ([grading] reference_level, 0.95) for the "
                       "run it is about.")
def vs_reference(f: Findings) -> list[Flag]:
    if f.reference is None:
        return []
    flags = []
    if f.reference.differs:
        flags.append(flag(UNMATCHED, "info", f.reference.differs, str(f.reference.path), None, ""))
    seen: set[tuple[str, float, float]] = set()
    for claim in f.claims:
        if claim.metric != "accuracy" or claim.split not in ("test", ""):
            continue
        # A claim whose sentence names a model the manifest does not know is about no run of it.
        run = claim.run or ("" if claim.subject else run_named(claim.about, f.aliases))
        ref = f.reference.runs.get(run) if run else None
        summary = ref.metrics.get("accuracy") if ref else None
        if summary is None or not isinstance(summary.get("mean"), int | float):
            continue
        # A claim about another setting of the run ("Epoch = 1") is not about the reproduced run.
        stated: dict = {}
        for piece in reversed(parts(claim.about)):  # the most specific piece (row label, caption) has the last word
            stated.update(settings_in(piece))
        trained = f.run_settings.get(run, {})
        if any(k in stated and k in trained and float(stated[k]) != float(trained[k]) for k in TRAIN_KEYS):
            continue
        interval = prediction_interval(summary, f.grading.reference_level, f.grading.reference_min_sd)
        low, high = claim.interval
        if high >= interval.low and low <= interval.high:
            continue  # some value the claim allows is a plausible seed of the reproduced run
        key = (run, round(low, 9), round(high, 9))
        if key in seen:
            continue  # the same number for the same run, repeated in later answers, is one finding
        seen.add(key)
        flags.append(flag("VS_REFERENCE", "warning", _message(ref.label, claim, interval, f.grading.reference_min_sd),
                          claim.context, claim.location.line, str(claim.location)))
    return flags


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}"


def claimed(claim: Claim) -> str:
    """The claim as a percentage: "97.2 %", or for an approximate one the values its words allow."""
    if not claim.approximate:
        digits = max(1, claim.decimals if claim.percent else claim.decimals - 2)
        return f"{_pct(claim.value, digits)} %"
    if claim.low is not None and claim.high is not None:
        return f"between {_pct(claim.low)} and {_pct(claim.high)} %"
    if claim.low is not None:
        return f"at least {_pct(claim.low)} %"
    if claim.high is not None:
        return f"at most {_pct(claim.high)} %"
    return f"about {_pct(claim.value)} %"


def _message(label: str, claim: Claim, pi: PredictionInterval, min_sd: float) -> str:
    seeds = f"{pi.n} seed{'s' if pi.n != 1 else ''}"
    text = (f"{label}: {claimed(claim)} here; the reproduction's {100 * pi.level:g} % prediction interval over "
            f"{seeds} is {_pct(pi.low)}–{_pct(pi.high)} %")
    if pi.n == 1:
        text += (f" (one seed has no spread: its SD is taken as reference_min_sd = {_pct(min_sd)} %, with a normal "
                 "quantile)")
    elif pi.floored:
        text += f" (mean {_pct(pi.mean)} %; the seeds' SD floored at reference_min_sd = {_pct(min_sd)} %)"
    else:
        text += f" (mean {_pct(pi.mean)} %, SD {_pct(pi.sd)} %)"
    return text

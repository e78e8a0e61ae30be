"""Summaries over seeds, and the rule that decides whether a difference is more than seed noise.

The rule (stated in every report that uses it): two runs differ when Welch's t-test over their per-seed
values gives p < 0.05; with fewer than two seeds each there is no estimate of the noise, and the text says so
instead of calling either run better.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reportgen.text import pvalue

ALPHA = 0.05
ONE_SEED = "one seed on a side gives no estimate of seed-to-seed noise"
NO_SPREAD = "every seed gave the same number on both sides, so there is no spread to test against"
RULE = "Welch's t-test over seeds at the 5 % level"


def summarize(values: list[float]) -> dict[str, Any]:
    """``{"mean", "std", "n", "values"}`` (sample std, ddof=1; 0 for a single value)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return {"mean": None, "std": None, "n": 0, "values": []}
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "n": int(arr.size), "values": [float(v) for v in arr]}


def compare_seeds(a: list[float], b: list[float]) -> dict[str, Any]:
    """Is ``mean(a) - mean(b)`` larger than the seed-to-seed spread? ``{"diff", "p", "significant", "testable"}``."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a_arr.mean() - b_arr.mean())
    if a_arr.size < 2 or b_arr.size < 2:
        return {"diff": diff, "p": None, "significant": None, "testable": False, "why": ONE_SEED}
    flat = 1e-12 * max(1.0, float(np.abs(np.concatenate([a_arr, b_arr])).max()))  # rounding, not spread
    if a_arr.std(ddof=1) <= flat and b_arr.std(ddof=1) <= flat:
        # Identical numbers on every seed of both runs give no spread to test against: untested, never p = 0.
        return {"diff": diff, "p": None, "significant": None, "testable": False, "why": NO_SPREAD}
    import warnings

    from scipy.stats import ttest_ind

    with warnings.catch_warnings():
        # Nearly identical seeds make scipy warn about precision loss; the p-value is still right.
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(ttest_ind(a_arr, b_arr, equal_var=False).pvalue)
    if math.isnan(p):  # undefined for these numbers: untested, never p = 1
        return {"diff": diff, "p": None, "significant": None, "testable": False, "why": "the test is undefined here"}
    return {"diff": diff, "p": p, "significant": p < ALPHA, "testable": True}


def untested_why(test: dict[str, Any]) -> str:
    """Why a :func:`compare_seeds` or :func:`compare_paired` result is untested, for a sentence."""
    return test.get("why") or ONE_SEED


PAIRED_RULE = "a paired t-test over seeds (each seed against itself) at the 5 % level"


def compare_paired(gains: list[float]) -> dict[str, Any]:
    """Is the mean of per-seed gains (the same seed measured twice: early and late) larger than their spread?

    A paired test (one-sample t-test on the gains, as scipy's ``ttest_rel``): seed-to-seed differences that both
    measurements share cancel, so it sees a consistent gain that Welch's test on the two unpaired lists would miss.
    Fewer than two gains, or gains with no spread at all, are untested (``"testable": False``), never p = 0 or 1.
    """
    arr = np.asarray([g for g in gains if g is not None], dtype=float)
    diff = float(arr.mean()) if arr.size else float("nan")
    # No spread (up to rounding: identical gains may differ in the last bit after a subtraction).
    if arr.size < 2:
        return {"diff": diff, "p": None, "significant": None, "testable": False, "why": ONE_SEED}
    if float(arr.std(ddof=1)) <= 1e-12 * max(1.0, abs(diff)):
        return {"diff": diff, "p": None, "significant": None, "testable": False,
                "why": "every seed gained exactly the same, so there is no spread to test against"}
    from scipy.stats import ttest_1samp

    p = float(ttest_1samp(arr, 0.0).pvalue)
    if math.isnan(p):
        return {"diff": diff, "p": None, "significant": None, "testable": False}
    return {"diff": diff, "p": p, "significant": p < ALPHA, "testable": True}


def verdict(test: dict[str, Any]) -> str:
    """How a :func:`compare_seeds` result reads in a sentence (never "better" unless it beats the noise)."""
    if not test["testable"]:
        return "untested: " + untested_why(test)
    p = pvalue(test["p"])
    return f"larger than seed-to-seed noise ({p})" if test["significant"] else f"within seed-to-seed noise ({p})"

"""Summaries over seeds, and the rule that decides whether a difference is more than seed noise.

The rule (stated in every report that uses it): two runs differ when Welch's t-test over their per-seed
values gives p < 0.05; with fewer than two seeds each there is no estimate of the noise, and the text says so
instead of calling either run better. When a section tests several gaps (each run against its best, each variation
against its baseline), the p-values of that section are one family and are Holm-corrected (:func:`holm`), so the
chance of calling any equal pair different stays at 5 %. Every tested gap also carries a t-based 95 % confidence
interval (Welch–Satterthwaite degrees of freedom), and with three or fewer seeds the rule says that such a test has
little power: "within noise" is then weak evidence of "equal" (Bouthillier et al. 2021; Dror et al. 2018).
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
    """Is ``mean(a) - mean(b)`` larger than the seed-to-seed spread?

    ``{"diff", "p", "significant", "testable", "ci"}``; ``ci`` is the 95 % confidence interval of the difference
    (Welch's t with Welch–Satterthwaite degrees of freedom). Untested results carry ``"why"`` instead of a p-value.
    """
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
    return {"diff": diff, "p": p, "significant": p < ALPHA, "testable": True, "ci": _welch_interval(a_arr, b_arr)}


def _welch_interval(a: np.ndarray, b: np.ndarray) -> list[float]:
    """The 95 % confidence interval of ``mean(a) - mean(b)`` without assuming equal variances."""
    from scipy.stats import t as student_t

    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(student_t.ppf(1 - ALPHA / 2, dof)) * se
    diff = float(a.mean() - b.mean())
    return [diff - half, diff + half]


def holm(tests: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """Treat the testable results among ``tests`` as one family and Holm-correct their p-values, in place.

    Each testable result keeps its own p-value as ``p_raw``; ``p`` becomes the Holm-adjusted one, ``significant``
    follows it, and ``family`` records how many tests were corrected together. A family of one is left as it is.
    Holm's step-down method controls the chance of any false "larger than noise" at 5 % without assuming the tests
    are independent (they are not: they share the best run). statsmodels' implementation is the reference one.
    """
    live = list({id(t): t for t in tests if t is not None and t.get("testable")}.values())  # one test listed twice
    if len(live) < 2:
        return tests
    from statsmodels.stats.multitest import multipletests

    reject, adjusted, _, _ = multipletests([t.get("p_raw", t["p"]) for t in live], alpha=ALPHA, method="holm")
    for t, rejected, p in zip(live, reject, adjusted, strict=True):
        t["p_raw"] = t.get("p_raw", t["p"])
        t.update(p=float(p), significant=bool(rejected), family=len(live))
    return tests


def family_size(tests: list[dict[str, Any] | None]) -> int:
    """How many of ``tests`` were tested (the size of the family :func:`holm` corrects)."""
    return len({id(t) for t in tests if t is not None and t.get("testable")})


def rule(family: int, base: str = RULE) -> str:
    """The rule line for a section whose ``family`` tests were corrected together."""
    if family < 2:
        return base
    return (f"{base}, Holm-corrected for the {family} comparisons in this section (the 95 % intervals are per "
            "comparison, not corrected, so one may exclude zero where the corrected test does not)")


def power_note(seeds: int) -> str:
    """With few seeds a t-test rarely detects a gap of a point or two; say so rather than let "within noise" read as
    "equal". Empty for one seed (nothing is tested) and for four or more."""
    if not 2 <= seeds <= 3:
        return ""
    return (f"With {seeds} seeds a run, such a test has little power: a real gap of a point or two can stay within "
            "noise, so \"within noise\" does not mean the runs are equal. Each tested gap has a 95 % confidence "
            "interval (t-based, over seeds) beside its p-value.")


def evidence(test: dict[str, Any], scale: float = 100.0, unit: str = " points") -> str:
    """``"p = 0.012, Holm-adjusted over 3; 95 % CI +0.4 to +2.1 points"`` for a tested result."""
    parts = [pvalue(test["p"])]
    if test.get("family", 1) > 1:
        parts[0] += f", Holm-adjusted over {test['family']}"
    if test.get("ci"):
        digits = 1 if scale == 100 else 4
        lo, hi = (_signed(scale * v, digits) for v in test["ci"])
        parts.append(f"95 % CI {lo} to {hi}{unit}")
    return "; ".join(parts)


def _signed(value: float, digits: int) -> str:
    """``+1.2``, ``-0.4``, and ``0.0`` rather than ``-0.0`` for a bound that rounds to zero."""
    text = f"{value:+.{digits}f}"
    return text if float(text) != 0 else f"{0:.{digits}f}"


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
    from scipy.stats import t as student_t
    from scipy.stats import ttest_1samp

    p = float(ttest_1samp(arr, 0.0).pvalue)
    if math.isnan(p):
        return {"diff": diff, "p": None, "significant": None, "testable": False, "why": "the test is undefined here"}
    half = float(student_t.ppf(1 - ALPHA / 2, arr.size - 1)) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return {"diff": diff, "p": p, "significant": p < ALPHA, "testable": True, "ci": [diff - half, diff + half]}


def verdict(test: dict[str, Any], scale: float = 100.0, unit: str = " points") -> str:
    """How a :func:`compare_seeds` result reads in a sentence (never "better" unless it beats the noise); ``scale``
    and ``unit`` say how its confidence interval reads (accuracies in points; 1 and "" for an AUC or a silhouette)."""
    if not test["testable"]:
        return "untested: " + untested_why(test)
    p = evidence(test, scale, unit)
    return f"larger than seed-to-seed noise ({p})" if test["significant"] else f"within seed-to-seed noise ({p})"


class Family:
    """The tests of one section, Holm-corrected together before any sentence about them is written.

    Two ways to use it. Sections whose text is a list build strings and callables (``lambda: f"... {verdict(t)}"``)
    and call :meth:`write`, which corrects every test made through :meth:`compare` and only then renders the
    callables. Sections whose sentences are built deep inside helpers use :func:`corrected`, which runs the text
    code twice: once to collect the tests, and once — after the correction — to write the sentences, with each
    :meth:`compare` handing back the corrected result of the same comparison.
    """

    def __init__(self) -> None:
        self.tests: list[dict[str, Any]] = []
        self._replay: int | None = None

    def compare(self, a: list[float], b: list[float]) -> dict[str, Any]:
        return self._record(lambda: compare_seeds(a, b))

    def paired(self, gains: list[float]) -> dict[str, Any]:
        return self._record(lambda: compare_paired(gains))

    def _record(self, make) -> dict[str, Any]:
        if self._replay is None:
            self.tests.append(make())
            return self.tests[-1]
        test = self.tests[self._replay]  # the same comparison, in the same order, as on the first pass
        self._replay += 1
        return test

    def correct(self) -> None:
        holm(self.tests)
        self._replay = 0

    def size(self) -> int:
        return family_size(self.tests)

    def write(self, text: list) -> list[str]:
        self.correct()
        return [t() if callable(t) else t for t in text]

    def rule(self, base: str = RULE) -> str:
        return rule(self.size(), base)


def corrected(write):
    """``(write(family), family)`` with every test ``write`` makes through the family Holm-corrected first."""
    family = Family()
    write(family)
    family.correct()
    return write(family), family

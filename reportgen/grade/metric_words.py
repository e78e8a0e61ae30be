"""How reports name metrics, splits and averages, how they hedge a number ("~87 %", "just under 50 %", "> 92 %"),
and :func:`make_claim`, which turns a number as written into a :class:`Claim` on the fraction scale."""

from __future__ import annotations

import re

from reportgen.grade.model import Claim, Line
from reportgen.grade.words import decimals

METRICS = {
    "accuracy": r"acc(?:uracy|uracies|\.)?",
    "recall": r"recall|sensitivity",
    "precision": r"precision",
    "f1": r"f1(?:[-_ ]?scores?)?|f[-_ ]?scores?|fscores?|f[-_ ]?measure|f-?1",
    "auc": r"(?:roc[-_ ]?)?auc|area under (?:the )?(?:roc )?curve",
    "loss": r"loss",
}
BOUNDED = ("accuracy", "recall", "precision", "f1", "auc")
METRIC = "|".join(f"(?P<{name}>{pattern})" for name, pattern in METRICS.items())
METRIC_ANY = "(?:" + "|".join(METRICS.values()) + ")"  # the same without named groups, to repeat in one pattern
SPLIT_WORDS = {
    "test": r"test(?:ing)?|held[- ]out",
    "val": r"val(?:idation)?|dev(?:elopment)?",
    "train": r"train(?:ing)?",
}
SPLIT = re.compile(r"\b(?:" + "|".join(f"(?P<{name}>{p})" for name, p in SPLIT_WORDS.items()) + r")\b",
                   re.IGNORECASE)
QUALIFIER = r"(?:test(?:ing)?|val(?:idation)?|dev|train(?:ing)?|macro|micro|weighted|max(?:imum)?|best|final|overall|" \
            r"mean|avg|average|top-?1|set|classification|model|the|its|our|highest|peak|last)"
# Summary statistics of a metric over epochs or seeds: "max test accuracy" and "final test accuracy" may differ.
STATS = {"max": r"max(?:imum)?|best|highest|peak|top", "final": r"final|last", "mean": r"mean|average|avg"}

# Words before a number that hedge it, and the interval each allows, as (below, above) on the fraction scale:
# None is "unbounded on that side"; a number is that far from the value.
_AROUND = (0.01, 0.01)
_JUST_BELOW = (0.02, 0.0)
_JUST_ABOVE = (0.0, 0.02)
_ABOVE = (0.0, None)
_BELOW = (None, 0.0)
HEDGES_BEFORE = [
    (r"just\s+under|just\s+below|slightly\s+(?:under|below|less\s+than|lower\s+than)|nearly|almost|close\s+to|"
     r"a\s+little\s+(?:under|below|less\s+than)", _JUST_BELOW),
    (r"just\s+(?:over|above)|slightly\s+(?:over|above|more\s+than|higher\s+than)|a\s+little\s+(?:over|above|more\s+than)",
     _JUST_ABOVE),
    (r"~|∼|≈|about|around|roughly|approximately|approx\.?|circa|ca\.|c\.|some|on\s+the\s+order\s+of|"
     r"in\s+the\s+region\s+of|something\s+like|more\s+or\s+less|near|in\s+the\s+vicinity\s+of", _AROUND),
    (r"well\s+(?:over|above)|over|above|more\s+than|greater\s+than|higher\s+than|in\s+excess\s+of|exceeding|exceeds?|"
     r"at\s+least|no\s+less\s+than|>=|≥|>", _ABOVE),
    (r"under|below|less\s+than|lower\s+than|at\s+most|no\s+more\s+than|up\s+to|upto|<=|≤|<", _BELOW),
]
HEDGE_BEFORE = re.compile(r"(?:^|(?<=[\s(]))(?:" + "|".join(f"(?P<h{i}>{p})" for i, (p, _) in enumerate(HEDGES_BEFORE))
                          + r")\s*$", re.IGNORECASE)
HEDGE_AFTER = re.compile(r"^\s*(?:(?P<above>or\s+(?:more|higher|better|above)|\+(?![\d.]))|"
                         r"(?P<below>or\s+(?:less|lower|below))|(?P<around>or\s+so\b))", re.IGNORECASE)


def metric_of(match: re.Match) -> str:
    return next(name for name in METRICS if match.group(name))


def split_of(text: str) -> str:
    m = SPLIT.search(text.replace("_", " "))
    return next(name for name in SPLIT_WORDS if m.group(name)) if m else ""


def average_of(text: str) -> str:
    m = re.search(r"\b(macro|micro|weighted)\b", text, re.IGNORECASE)
    return m.group(1).lower() if m else ""


def stat_of(text: str) -> str:
    for stat, pattern in STATS.items():
        if re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            return stat
    return ""


def hedge_before(text: str) -> tuple[float | None, float | None] | None:
    """The interval a hedge at the end of ``text`` allows (see HEDGES_BEFORE), or None."""
    m = HEDGE_BEFORE.search(text[-40:])
    if not m:
        return None
    return next(HEDGES_BEFORE[i][1] for i in range(len(HEDGES_BEFORE)) if m.group(f"h{i}"))


def hedge_after(text: str) -> tuple[float | None, float | None] | None:
    m = HEDGE_AFTER.match(text[:20])
    if not m:
        return None
    return _ABOVE if m.group("above") else _BELOW if m.group("below") else _AROUND


def make_claim(metric: str, as_written: str, percent_sign: bool, *, line: Line, column: int, qualifier: str,
               about: str = "", hedge: tuple[float | None, float | None] | None = None) -> Claim | None:
    """A claim of ``metric`` = the number ``as_written`` (a percentage when ``percent_sign``, or when a bounded
    metric is written above 1), qualified by the words in ``qualifier`` (split, average, statistic) and hedged by
    ``hedge`` (the interval its words allow)."""
    try:
        raw = float(as_written)
    except ValueError:
        return None
    percent = percent_sign or (metric in BOUNDED and 1.0 < raw <= 100.0)
    value = raw / 100.0 if percent else raw
    claim = Claim(metric=metric, value=value, as_written=as_written + ("%" if percent_sign else ""), about=about,
                  location=line.location, split=split_of(qualifier), average=average_of(qualifier), column=column,
                  context=line.text.strip()[:300], decimals=decimals(as_written), percent=percent,
                  source=line.source)
    claim.stat = stat_of(qualifier)
    if hedge is not None:
        below, above = hedge
        scale = 1.0 if metric in BOUNDED else max(abs(value), 1e-12) * 10  # a loss: 10 % of it for a point
        claim.approximate = True
        claim.low = None if below is None else value - below * scale
        claim.high = None if above is None else value + above * scale
        if metric in BOUNDED:  # a bounded metric's own range closes the open side
            claim.low = 0.0 if claim.low is None else max(0.0, claim.low)
            claim.high = 1.0 if claim.high is None else min(1.0, claim.high) if value <= 1.0 else claim.high
    return claim

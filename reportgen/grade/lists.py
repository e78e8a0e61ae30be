"""How a sentence lists things: clauses, lists of numbers or names joined by commas, "and" and "vs", and the
pairings between them ("A, B and C ... 0.9, 0.8 and 0.7 respectively", "(train, val, test) = (0.99, 0.95, 0.94)",
"the two are 0.93 and 0.95")."""

from __future__ import annotations

import re

from reportgen.grade.metric_words import METRIC, METRIC_ANY
from reportgen.grade.numbers import Value
from reportgen.grade.subjects import Mention

CLAUSE_BREAK = re.compile(r";|,|\b(?:whereas|while|but|although|though|however|and|or|compared\s+(?:to|with)|versus|"
                          r"vs\.?|than)\b", re.IGNORECASE)

COMPARED = re.compile(r"\b(?:vs\.?|versus|against|to)\b", re.IGNORECASE)
RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
LIST_GLUE = re.compile(r"^(?:\s*(?:,|and|or|&|/|;|vs\.?|versus|against|to)\s*)+$|^\s*,?\s*(?:and|or)?\s*$",
                       re.IGNORECASE)  # ("from 95.0 % to 94.8 %" is a list of two too)

LABEL_WORD = rf"(?:test(?:ing)?|val(?:idation)?|dev|train(?:ing)?|{METRIC_ANY})"
METRIC_WORD = re.compile(rf"(?:{METRIC})", re.IGNORECASE)
LABEL_LIST = re.compile(rf"\(\s*({LABEL_WORD}(?:\s*[,/;]\s*(?:and\s+)?{LABEL_WORD})+)\s*\)|"
                        rf"\b({LABEL_WORD}(?:\s*/\s*{LABEL_WORD})+)\b", re.IGNORECASE)

def labelled_lists(values: list[Value], text: str) -> dict[int, str]:
    """Values paired with a list of splits or metrics written before them: "(train, val, test) = (0.99, 0.95,
    0.94)", "test/val accuracy of 0.91/0.93", "precision/recall/F1: 0.90/0.88/0.89"."""
    out: dict[int, str] = {}
    runs = list_runs(values, text, lambda v: (v.start, v.end))
    for m in LABEL_LIST.finditer(text):
        labels = [w.strip() for w in re.split(r"\s*[,/;]\s*(?:and\s+)?", m.group(1) or m.group(2)) if w.strip()]
        run = next((r for r in runs if values[r[0]].start >= m.end() and len(r) == len(labels)
                    and values[r[0]].start - m.end() <= 40
                    and not _another_metric(text[m.end():values[r[0]].start])), None)
        # ("the accuracy/loss curves end at a validation loss of 0.0391 and 0.0577": the metric named between
        # decides, not the list of the curves' names)
        if run is not None:
            out.update({index: labels[k] for k, index in enumerate(run)})
    return out

def _another_metric(between: str) -> bool:
    """Whether a metric other than the one right after a list of labels ("test/val accuracy of") is named."""
    own = re.match(rf"\s*(?:{METRIC})", between, re.IGNORECASE)
    return METRIC_WORD.search(between[own.end() if own else 0:]) is not None


def share_trailing_subject(out: list, values: list[Value], bound: list[Mention | None], lists: dict[int, int],
                            text: str) -> None:
    """ "(0.99, 0.95, 0.94) for the CNN": the model named after a list of numbers is the subject of them all."""
    firsts: dict[int, list[int]] = {}
    for index, first in lists.items():
        firsts.setdefault(first, []).append(index)
    for members in firsts.values():
        last = max(members)
        if len(members) < 2 or last >= len(bound) or bound[last] is None:
            continue
        trailing = bound[last]
        if trailing.start < values[last].end or any(bound[k] not in (None, trailing) for k in members):
            continue
        for entry in out:
            claim = entry[0]
            k = next((k for k in members if values[k].written == claim.as_written.rstrip("%")
                      and entry[1] is None), None)
            if k is not None:
                claim.subject = trailing.text
                out[out.index(entry)] = (claim, trailing, *entry[2:])


def respectively_at(text: str) -> int:
    m = RESPECTIVELY.search(text)
    return m.end() if m else len(text)


def value_lists(values: list[Value], text: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for run in list_runs(values, text, lambda v: (v.start, v.end)):
        for index in run:
            out[index] = run[0]
    return out


THEIR = re.compile(r"\btheir\b", re.IGNORECASE)
THE_TWO = re.compile(r"\b(?:the\s+two(?:\s+models|\s+networks)?|both(?:\s+models|\s+networks)?)\s+"
                     r"(?:are|were|reach(?:ed)?|get|got|give|gave|score|scored|achieve|achieved|have|had)\b",
                     re.IGNORECASE)


def pair_the_two(values: list[Value], text: str, before: list[Mention], here: list[Mention]) -> dict[int, Mention]:
    """ "the two are around 0.93 and 0.95": the last two models named (in earlier sentences, ``before``, or in this
    one before the words, ``here``), in order."""
    m = THE_TWO.search(text) or (RESPECTIVELY.search(text) and THEIR.search(text))
    if not m:
        return {}
    lo, hi = clause_of(text, m.start())
    if any(lo <= h.start < m.start() for h in here):
        return {}  # "for the CNN the two are 99.71 % and 99.20 %": two numbers of the CNN, not two models
    distinct: list[Mention] = []
    for mention in [*before, *(h for h in here if h.end <= m.start())]:
        key = (mention.run or mention.text).lower()
        distinct = [d for d in distinct if (d.run or d.text).lower() != key] + [mention]
    run = next((r for r in list_runs(values, text, lambda v: (v.start, v.end)) if values[r[0]].start > m.end()), None)
    if run is None or len(run) < 2 or len(distinct) < len(run):
        return {}
    return {index: distinct[len(distinct) - len(run) + k] for k, index in enumerate(run)}


# A loss function names a setting, not a value of the loss: "MSE loss", "focal loss", "loss = focal", "loss: mse".

def pair_lists(items: list, values: list[Value], text: str, strict: bool = False, before: int | None = None,
                comparison: bool = False) -> dict[int, object]:
    """Items listed before a list of as many values, paired in order ("A, B and C ... 0.9, 0.8 and 0.7"); only
    value lists that start before ``before`` (where "respectively" is)."""
    runs = list_runs(values, text, lambda v: (v.start, v.end))
    groups = list_runs(items, text, lambda m: (m.start, m.end))
    pairs: dict[int, object] = {}
    for run in runs:
        if len(run) < 2 or before is not None and values[run[0]].start > before:
            continue
        first = values[run[0]]
        candidates = [g for g in groups if len(g) == len(run) and group_span(items, g)[1] <= first.start]
        if not candidates and comparison:
            # "C1+M3 trails C4 by 1.21 points (97.31 vs 98.52 %)": as many models named before, in that order.
            named: list[int] = []
            for k, item in enumerate(items):
                key = (getattr(item, "run", "") or getattr(item, "text", "")).lower()
                if item.end <= first.start and key not in [(getattr(items[j], "run", "") or items[j].text).lower()
                                                          for j in named]:
                    named.append(k)
            glue = " ".join(text[values[a].end:values[b].start] for a, b in zip(run, run[1:], strict=False))
            if len(named) == len(run) or len(named) > len(run) and (COMPARED.search(glue) or not strict):
                # ... the last ones when the numbers are compared: "(C4 → C3+M1) moved accuracy from 95.0 % to 94.8 %"
                candidates = [named[-len(run):]]
        if not candidates:
            continue
        group = candidates[-1]
        between = [k for k, v in enumerate(values) if group_span(items, group)[1] <= v.start < first.start
                   and (v.pct or "." in v.written)]  # (a count in between, "C4 (4 conv blocks)", is no result)
        # ... but another list of as many values, for the same models, is no obstacle: "C4 beats C1+M3, 98.62 %
        # against 98.07 %, and its test loss is lower too (4.3e-2 vs 6.1e-2)"
        parallel = all(any(k in r and len(r) == len(run) for r in runs) for k in between)
        if strict and between and not parallel:
            continue
        for k, index in enumerate(run):
            pairs[index] = items[group[k]]
    return pairs


def list_runs(items: list, text: str, span) -> list[list[int]]:
    """Indices of items that follow each other joined only by commas and "and"."""
    out: list[list[int]] = []
    for i, item in enumerate(items):
        if out and LIST_GLUE.match(text[span(items[out[-1][-1]])[1]:span(item)[0]] or ","):
            out[-1].append(i)
        else:
            out.append([i])
    return out


def group_span(items: list, group: list[int]) -> tuple[int, int]:
    return items[group[0]].start, items[group[-1]].end


def clause_of(text: str, at: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for m in CLAUSE_BREAK.finditer(text):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= at:
            end = m.start()
            break
    return start, end

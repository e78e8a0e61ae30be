"""Claims in sentences: every number a sentence states about a metric, one claim per number, each bound to its own
metric, subject, split and hedge.

    "the accuracy of A is 0.9848 whereas for B it is 0.9877"            -> A 0.9848, B 0.9877 (both accuracy)
    "the scores of A, B, C and D are w, x, y and z respectively"        -> in order
    "the CNN reaches 97.27 % whereas the other reaches only 82.07 %"    -> CNN, then the other model named before
    "93.6 training accuracy and 92.6 validation accuracy"               -> the metric after each number
    "just under 50 %", "~87 %", "> 92 %"                                -> approximate, with the bounds the words allow

A number is a claim only when a metric governs it and it is not something else: a hyperparameter ("lr of 0.01",
"batch size 64"), a count ("10 epochs", "60,000 images"), a difference ("improved by 2 %"), a spread ("± 0.3"),
a share of the data ("20 % of the data"), a range, a year, a figure or table number, or part of a name ("C4",
"Model 1.2.1").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.grade.metric_words import (
    BOUNDED,
    METRIC,
    QUALIFIER,
    SPLIT,
    hedge_after,
    hedge_before,
    make_claim,
    metric_of,
)
from reportgen.grade.model import Claim
from reportgen.grade.passages import Passage
from reportgen.grade.settings import PATTERNS as SETTING_PATTERNS
from reportgen.grade.subjects import Mention, Subjects

NUMBER = re.compile(r"(?<![\w.,/:^])(?P<value>[-+]?(?:\d+\.\d+|\.\d+|\d+))(?:[eE][-+]?\d+)?(?![\w]|\.\d|,\d{3})"
                    r"(?:\s*(?P<pct>%|percent\b|per\s*cent\b))?")
METRIC_MENTION = re.compile(rf"(?P<qual>(?:\b{QUALIFIER}\b\.?[\s_-]*){{0,4}})\b(?:{METRIC})(?![\w-])"
                            r"(?P<after>\s*\((?:macro|micro|weighted|test|val|validation|train|training)\))?",
                            re.IGNORECASE)
# A metric derived from another ("accuracy per 10k parameters", "accuracy gain") or of a probe ("5-NN accuracy").
DERIVED_BEFORE = re.compile(r"(?:\b(?:knn|k-nn|\d+-nn|top-?[2-9]|delta|change\s+in|drop\s+in|gain\s+in|increase\s+in|"
                            r"decrease\s+in|difference\s+in|improvement\s+in|rise\s+in|fall\s+in)|Δ|"
                            r"\b(?:gap|difference|delta|drop|gain|margin)\s+(?:between|of|in)\b[^.;:]{0,40})\s*$",
                            re.IGNORECASE)
DERIVED_AFTER = re.compile(r"^\s*(?:per\s+(?:\d|[\d.]+\s*[kKM]\b|param|parameter|million|thousand|flop|mac|second|"
                           r"sec\b|minute|epoch|image|sample|weight)|gain|drop|difference|gap|improvement|increase|"
                           r"decrease|curves?\s+(?:of|for)\s|/)", re.IGNORECASE)
UNITS = (r"epochs?|iterations?|iters?|steps?|layers?|images?|samples?|examples?|instances?|classes|class|batch(?:es)?|"
         r"seeds?|runs?|trials?|repeats?|neurons?|units?|filters?|channels?|kernels?|params?|parameters?|weights?|"
         r"features?|dim(?:ension)?s?|pixels?|px|points?|pp|p\.p\.|percentage\s+points?|times|x|×|fold|folds|"
         r"minutes?|mins?|seconds?|secs?|s|ms|hours?|hrs?|h|k|K|M|B|million|thousand|billion|kb|mb|gb|blocks?|"
         r"heads?|nodes?|hidden|words?|tokens?|configurations?|configs?|models?|experiments?|students?|digits?|"
         r"lines?|cells?|pages?|figures?|plots?|rows?|columns?|th|st|nd|rd|GB|MB|KB|GiB|MiB|cores?|threads?|"
         r"workers?|gpus?|cpus?|bits?|bytes?|hz|mhz|ghz|flops|macs|multiply|mult-adds|percentiles?|out\s+of|of\s+\d")
UNIT_AFTER = re.compile(rf"^\s*(?:-\s*)?(?:{UNITS})\b", re.IGNORECASE)
# A number that names something rather than measures it: "Figure 3", "epoch 5", "class 7", "top-5".
NAMES = (r"fig(?:ure)?s?\.?|tables?|tab\.|sections?|sec\.|eqs?\.?|equations?|chapters?|pages?|p\.|steps?|epochs?|"
         r"iterations?|layers?|blocks?|class(?:es)?|digits?|labels?|seeds?|runs?|folds?|questions?|q|tasks?|parts?|"
         r"problems?|exercises?|items?|rows?|columns?|cells?|lines?|experiments?|configurations?|configs?|settings?|"
         r"variants?|variations?|models?|networks?|architectures?|arch\.|cases?|options?|groups?|teams?|version|v|"
         r"ranks?|number|no\.|#|top|k|n")
# ... or a hyperparameter's value: "k = 5", "gamma of 0.1", "dropout rate: 0.5".
HYPERPARAMETERS = (r"gamma|step[_ ]size|momentum|weight[_ ]decay|patience|alpha|beta|lambda|temperature|stride|"
                   r"padding|kernel(?:[_ ]size)?|channels?|filters?|neurons?|units?|hidden(?:[_ ]size)?|heads?|"
                   r"dim(?:ension)?s?|width|depth|size|dropout(?:[_ ]rate)?|lr|learning[_ ]rate|batch(?:[_ ]size)?|bs|"
                   r"wd|eps|epsilon|threshold|scale|factor|splits?|ratios?|epochs?|iterations?|steps?|layers?|seeds?|"
                   r"k|n|p")
NAMING_BEFORE = re.compile(
    rf"(?:\b(?:{NAMES})[-\s]*#?\s*\(?|\b(?:{HYPERPARAMETERS})\s*(?:[:=]|of|is|was|to|from|set\s+to|equal\s+to)?\s*\(?|"
    r"(?<![\w.])\d+(?:\.\d+)?\s*(?:[x×*/^:]|[-–])\s*|\bbetween\s+|\[\s*|±\s*|\+/-\s*|\+-\s*|\bstd\.?\s*(?:of|=|:)?\s*|"
    r"\bsd\s*[=:]?\s*|σ\s*=?\s*|\bby\s+(?:about\s+|around\s+|roughly\s+|almost\s+|nearly\s+|over\s+)?|"
    r"\b(?:gain|drop|increase|decrease|improvement|difference|gap|margin|boost|reduction|rise|fall|jump|decline|"
    r"lead)\s+of\s+(?:about\s+|around\s+|roughly\s+|almost\s+|nearly\s+|over\s+)?)$",
    re.IGNORECASE)
NAMING_AFTER = re.compile(
    r"^(?:\s*(?:[x×*/:]\s*\d|[-–]\s*\d|,\d)|\s+and\s+[-+]?\d[\d.]*\s*%?\s*$|"  # 28x28, 60/20, 0.9-0.95, a range
    r"\s*%?\s*(?:of|for|as)\s+(?:the\s+)?(?:whole\s+|full\s+|original\s+|total\s+)?(?:data|dataset|training|train|"
    r"test(?:ing)?|validation|val|images|samples|examples|set|split)\b|"  # "20 % of the data": a share of it
    r"\s*%?\s*(?:points?|pp\b|percentage|higher|lower|more\b(?!\s+than)|less\b(?!\s+than)|better|worse|"
    r"improvement|increase|decrease|drop|gain|faster|slower|fewer|larger|smaller))",
    re.IGNORECASE)
YEAR = re.compile(r"^(?:19|20)\d\d$")
# Where a clause ends: a subject named after it belongs to the next one.
CLAUSE_BREAK = re.compile(r";|,|\b(?:whereas|while|but|although|though|however|and|or|compared\s+(?:to|with)|versus|"
                          r"vs\.?|than)\b", re.IGNORECASE)
LOOSE = re.compile(r"[,;]|\b(?:and|or|but|while|whereas|although|however|than|respectively)\b", re.IGNORECASE)
RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
LIST_GLUE = re.compile(r"^(?:\s*(?:,|and|or|&|/|;)\s*)+$|^\s*,?\s*(?:and|or)?\s*$", re.IGNORECASE)
TRAILING_SUBJECT = re.compile(r"^\s*\)?\s*(?:\(\s*|(?:for|with|by|of|on|from|using|in|under)\s+"
                              r"(?:the\s+|our\s+|a\s+)?)$", re.IGNORECASE)


@dataclass
class _Value:
    start: int
    end: int  # after the number and its % sign
    written: str
    pct: bool
    hedge: tuple[float | None, float | None] | None


@dataclass
class _Metric:
    start: int
    end: int
    metric: str
    qualifier: str
    derived: bool


class SentenceReader:
    """Reads the claims of sentences; remembers the models named earlier in a passage (for "the other")."""

    def __init__(self, subjects: Subjects) -> None:
        self.subjects = subjects

    def passage_claims(self, passage: Passage, named: list[Mention] | None = None, topic: str = ""
                       ) -> list[tuple[Claim, Mention | None, Mention | None, str]]:
        """(claim, its subject mention, its dataset mention, the settings its clause states) for every number.
        ``named``: models named before the passage (its heading, earlier paragraphs), extended with the passage's
        own; ``topic``: the metric its heading names, for sentences that name none ("C4 reaches 0.97")."""
        out = []
        named = [] if named is None else named
        last_metric = _Metric(0, 0, topic, "", False) if topic else None
        for start, end in passage.sentences():
            found, last_metric = self._sentence(passage, start, end, named, last_metric)
            out.extend(found)
        return out

    def _sentence(self, passage: Passage, start: int, end: int, named: list[Mention], carried: _Metric | None):
        text = passage.text[start:end]
        mentions = self.subjects.find(text)
        models = [m for m in mentions if m.kind in ("run", "name", "anaphor")]
        datasets = [m for m in mentions if m.kind == "dataset"]
        settings = _setting_spans(text)
        metrics = _metrics(text)
        values = _values(text, mentions, settings)
        out = []
        if not values:
            named.extend(m for m in models if m.kind != "anaphor")
            return out, (metrics[-1] if metrics else carried)
        respective = RESPECTIVELY.search(text) is not None
        metric_pairs = _pair_lists(metrics, values, text) if respective and len(metrics) > 1 else {}
        subject_pairs = _pair_lists(models, values, text, strict=not respective) if len(models) > 1 else {}
        bound: list[Mention | None] = []
        for i, value in enumerate(values):
            metric = metric_pairs.get(i) or _metric_for(value, metrics, values, text)
            if metric is None and carried is not None and not metrics and (models or value.pct) \
                    and (value.pct or "." in value.written):
                metric = carried  # "The MLP reaches only 82.07 %." after a sentence about accuracy
            if metric is None or metric.derived or not _plausible(metric.metric, value):
                bound.append(None)
                continue
            subject = subject_pairs.get(i) or _subject_for(value, models, values, text)
            if subject is not None and subject.kind == "anaphor":
                subject = _resolve(subject, named, bound)
            bound.append(subject)
            qualifier = " ".join([metric.qualifier, _split_near(value, metric, text), text[metric.end:metric.end + 14]
                                  if metric.end <= value.start else ""])
            line, column = passage.locate(start + value.start)
            claim = make_claim(metric.metric, value.written, value.pct, line=line, column=column,
                               qualifier=qualifier, hedge=value.hedge)
            if claim is None:
                continue
            claim.subject = subject.text if subject is not None else ""
            dataset = _nearest(value, datasets, text)
            # The settings stated since the number before it, up to the end of its clause.
            lo = values[i - 1].end if i else 0
            hi = _clause(text, value.start)[1]
            stated = " ".join(text[a:b] for a, b in settings if lo <= a and b <= hi)
            out.append((claim, subject, dataset, stated))
        named.extend(m for m in models if m.kind != "anaphor")
        return out, (metrics[-1] if metrics else carried)


def _metrics(text: str) -> list[_Metric]:
    out = []
    for m in METRIC_MENTION.finditer(text):
        start = m.start() + len(m.group("qual")) if m.group("qual") else m.start()
        derived = bool(DERIVED_BEFORE.search(text[max(0, m.start() - 25):m.start()] + m.group("qual"))
                       or DERIVED_AFTER.match(text[m.end():m.end() + 20]))
        qualifier = (m.group("qual") or "") + (m.group("after") or "")
        out.append(_Metric(start, m.end(), metric_of(m), qualifier, derived))
    return out


def _setting_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for patterns in SETTING_PATTERNS.values():
        for pattern in patterns:
            spans.extend((m.start(), m.end()) for m in pattern.finditer(text))
    return spans


def _values(text: str, mentions: list[Mention], settings: list[tuple[int, int]]) -> list[_Value]:
    taken = [(m.start, m.end) for m in mentions if m.kind != "anaphor"] + settings
    out = []
    for m in NUMBER.finditer(text):
        a, b = m.start("value"), m.end("value")
        if any(s <= a and b <= e for s, e in taken):
            continue  # part of a name ("C4", "Model 2") or a stated hyperparameter ("lr = 0.01")
        before, after = text[max(0, a - 40):a], text[m.end():]
        if NAMING_BEFORE.search(before) or NAMING_AFTER.match(text[b:]) or UNIT_AFTER.match(text[b:] if not
                                                                                              m.group("pct") else ""):
            continue
        if YEAR.match(m.group("value")):
            continue
        hedge = hedge_before(before) or hedge_after(after)
        out.append(_Value(a, m.end(), m.group("value"), bool(m.group("pct")), hedge))
    return out


def _plausible(metric: str, value: _Value) -> bool:
    try:
        x = float(value.written)
    except ValueError:
        return False
    if metric in BOUNDED:
        if x < 0:
            return False
        # A bare small integer is a count or a rank ("in 3 of the 4 runs"), not an accuracy of 3 %.
        return value.pct or "." in value.written or 10 <= x
    return True


def _between_is_tight(text: str) -> bool:
    """Whether ``text`` (between a metric and its number) is only connecting words: "of C2 is", ": ", "reached to"."""
    return len(text.split()) <= 8 and not LOOSE.search(text) and not re.search(r"[.!?](?:\s|$)", text)


def _metric_for(value: _Value, metrics: list[_Metric], values: list[_Value], text: str) -> _Metric | None:
    before = [m for m in metrics if m.end <= value.start]
    after = [m for m in metrics if m.start >= value.end]
    previous = before[-1] if before else None
    if previous is not None and _between_is_tight(text[previous.end:value.start]) \
            and not any(previous.end <= v.start < value.start for v in values):
        return previous
    if after:
        gap = text[value.end:after[0].start]
        if re.fullmatch(rf"\s*(?:(?:{QUALIFIER}|set|data|score|scores)\b\.?\s*){{0,3}}", gap, re.IGNORECASE):
            return after[0]  # "93.6 training accuracy", "97 % accuracy"
    if previous is not None and not any(m.start > previous.end and m.end <= value.start for m in metrics):
        return previous  # "accuracy of A is 0.98 whereas for B it is 0.97": the metric carries over
    return None


def _pair_lists(items: list, values: list[_Value], text: str, strict: bool = False) -> dict[int, object]:
    """Items listed before a list of as many values, paired in order ("A, B and C ... 0.9, 0.8 and 0.7")."""
    runs = _runs(values, text, lambda v: (v.start, v.end))
    groups = _runs(items, text, lambda m: (m.start, m.end))
    pairs: dict[int, object] = {}
    for run in runs:
        if len(run) < 2:
            continue
        first = values[run[0]]
        candidates = [g for g in groups if len(g) == len(run) and _span(items, g)[1] <= first.start]
        if not candidates:
            continue
        group = candidates[-1]
        if strict and any(_span(items, group)[1] <= v.start < first.start for v in values):
            continue
        for k, index in enumerate(run):
            pairs[index] = items[group[k]]
    return pairs


def _runs(items: list, text: str, span) -> list[list[int]]:
    """Indices of items that follow each other joined only by commas and "and"."""
    out: list[list[int]] = []
    for i, item in enumerate(items):
        if out and LIST_GLUE.match(text[span(items[out[-1][-1]])[1]:span(item)[0]] or ","):
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _span(items: list, group: list[int]) -> tuple[int, int]:
    return items[group[0]].start, items[group[-1]].end


def _clause(text: str, at: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for m in CLAUSE_BREAK.finditer(text):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= at:
            end = m.start()
            break
    return start, end


def _subject_for(value: _Value, models: list[Mention], values: list[_Value], text: str) -> Mention | None:
    if not models:
        return None
    following = [m for m in models if m.start >= value.end]
    if following and TRAILING_SUBJECT.match(text[value.end:following[0].start]):
        return following[0]  # "0.97 for A", "97 % (CNN)"
    lo, hi = _clause(text, value.start)
    preceding = [m for m in models if lo <= m.start and m.end <= value.start]
    if preceding:
        return preceding[-1]
    # The nearest model named before, with no other number between them: "For the CNN, accuracy is 0.97".
    earlier = [m for m in models if m.end <= value.start]
    if earlier and not any(earlier[-1].end <= v.start < value.start for v in values):
        return earlier[-1]
    later = [m for m in models if value.end <= m.start < hi]
    if later and not any(value.end <= v.start < later[0].start for v in values):
        return later[0]  # "0.97 is what the CNN reached"
    return None


def _resolve(anaphor: Mention, named: list[Mention], bound: list[Mention | None]) -> Mention | None:
    """"the other", "the latter", "the former": one of the two models named before."""
    distinct: list[Mention] = []
    for m in named:
        if all(m.text.lower() != d.text.lower() for d in distinct):
            distinct.append(m)
    if len(distinct) < 2:
        used = {b.text.lower() for b in bound if b is not None}
        rest = [m for m in distinct if m.text.lower() not in used]
        return None if anaphor.text.lower().startswith(("the latter", "the former")) or not rest else None
    pair = distinct[-2:]
    word = anaphor.text.lower()
    if "latter" in word or "second" in word:
        return pair[1]
    if "former" in word or "first" in word:
        return pair[0]
    used = {b.text.lower() for b in bound if b is not None}
    rest = [m for m in pair if m.text.lower() not in used]
    return rest[0] if len(rest) == 1 else None


def _split_near(value: _Value, metric: _Metric, text: str) -> str:
    """The split words closest to the number in its clause ("accuracy on the test set is 0.97", "the test 0.95")."""
    if SPLIT.search(metric.qualifier):
        return ""
    lo, hi = _clause(text, value.start)
    window = [m for m in SPLIT.finditer(text) if lo <= m.start() < min(hi, value.end + 30)]
    if not window:
        window = [m for m in SPLIT.finditer(text) if m.end() <= value.start and value.start - m.end() < 60]
    if not window:
        return ""
    return min(window, key=lambda m: abs(m.start() - value.start)).group(0)


def _nearest(value: _Value, mentions: list[Mention], text: str) -> Mention | None:
    lo, hi = _clause(text, value.start)
    inside = [m for m in mentions if lo <= m.start < hi + 20]
    pool = inside or mentions
    return min(pool, key=lambda m: abs(m.start - value.start)) if pool else None

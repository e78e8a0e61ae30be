"""Claims in sentences: every number a sentence states about a metric, one claim per number, each bound to its own
metric, subject, split and hedge.

    "the accuracy of A is 0.9848 whereas for B it is 0.9877"            -> A 0.9848, B 0.9877 (both accuracy)
    "the scores of A, B, C and D are w, x, y and z respectively"        -> in order
    "the CNN reaches 97.27 % whereas the other reaches only 82.07 %"    -> CNN, then the other model named before
    "93.6 training accuracy and 92.6 validation accuracy"               -> the metric after each number
    "just under 50 %", "~87 %", "> 92 %"                                -> approximate, with the bounds the words allow

A number is a claim only when a metric governs it and it is a result (:mod:`reportgen.grade.numbers` leaves out
hyperparameters, counts, spreads, ranges, ...): not a difference ("improved by 2 %", "a gap of 5.5 points") nor one
class's value ("recall of class 3"). Lists and their pairings are read by :mod:`reportgen.grade.lists`.
"""

from __future__ import annotations

import re

from reportgen.grade.lists import (
    METRIC_WORD,
    RESPECTIVELY,
    clause_of,
    labelled_lists,
    pair_lists,
    pair_the_two,
    respectively_at,
    share_trailing_subject,
    value_lists,
)
from reportgen.grade.metric_words import SPLIT, make_claim, metric_of, split_of
from reportgen.grade.model import Claim
from reportgen.grade.numbers import Value, find_values, plausible, setting_spans
from reportgen.grade.passages import Passage
from reportgen.grade.sentence_metrics import (
    METRIC_MENTION,
    SPREAD,
    MetricMention,
    metric_for,
    metric_mentions,
)
from reportgen.grade.subjects import Mention, Subjects

PER_CLASS = re.compile(r"\b(?:class(?:es)?|digits?|labels?|categor(?:y|ies))\s+['\"“]?[\w-]{1,20}['\"”]?\s*[:(=]?\s*$|"
                       r"\bfor\s+(?:the\s+)?(?:class|digit|label)\s+\S+\s+(?:is|was|of)?\s*$", re.IGNORECASE)
PER_CLASS_BEFORE = re.compile(r"\b(?:on|for|of)\s+(?:the\s+)?(?:class|digit|label)\s+['\"“]?[\w-]{1,20}['\"”]?"
                              r"\s*[:,]?\s*$", re.IGNORECASE)
DIFFERENCE = re.compile(r"\b(?:gap|difference|delta|drop|gain|improvement|margin|increase|decrease|reduction)\b",
                        re.IGNORECASE)
PREPOSITIONAL = re.compile(r"(?:with|without|w/o|w/|for|using|no)\b", re.IGNORECASE)  # a run named "without X"
TRAILING_SUBJECT = re.compile(r"^\s*\)?\s*(?:\(\s*|(?:for|with|by|of|on|from|using|in|under)\s+"
                              r"(?:the\s+|our\s+|a\s+)?)$", re.IGNORECASE)


class SentenceReader:
    """Reads the claims of sentences; remembers the models named earlier in a passage (for "the other")."""

    def __init__(self, subjects: Subjects) -> None:
        self.subjects = subjects
        self.listed: list[MetricMention] = []  # the metrics the sentence before listed
        self.order: list[Mention] = []  # the distinct runs in the order the report first names them

    def passage_claims(self, passage: Passage, named: list[Mention] | None = None, topic: str = ""
                       ) -> list[tuple[Claim, Mention | None, Mention | None, str]]:
        """(claim, its subject mention, its dataset mention, the settings its clause states) for every number.
        ``named``: models named before the passage (its heading, earlier paragraphs), extended with the passage's
        own; ``topic``: the metric its heading names, for sentences that name none ("C4 reaches 0.97")."""
        out = []
        named = [] if named is None else named
        self.listed = []
        last_metric = MetricMention(0, 0, topic, "", False) if topic else None
        previous: list[Mention] = []  # the models the sentence before named
        for start, end in passage.sentences():
            before = len(named)
            found, last_metric = self._sentence(passage, start, end, named, last_metric, previous)
            out.extend(found)
            previous = named[before:]
        return out

    def _sentence(self, passage: Passage, start: int, end: int, named: list[Mention], carried: MetricMention | None,
                  previous: list[Mention] = ()):
        text = passage.text[start:end]
        mentions = self.subjects.find(text)
        models = [m for m in mentions if m.kind in ("run", "name", "anaphor")]
        real = [m for m in models if m.kind != "anaphor"]
        datasets = [m for m in mentions if m.kind == "dataset"]
        settings = setting_spans(text)
        metrics = metric_mentions(text)
        values = find_values(text, mentions, settings)
        out = []
        if not values:
            named.extend(real)
            for m in models:  # "The first model stops early." names a model for the "Its ..." that follows
                if m.kind == "anaphor" and not IT.match(m.text):
                    resolved = _resolve(m, text, real, named, [], self.order)
                    if resolved is not None:
                        named.append(resolved)
            self._remember(real)
            self._listmetric_mentions(metrics, text)
            return out, (metrics[-1] if metrics else carried)
        respective = RESPECTIVELY.search(text) is not None
        metric_pairs = pair_lists(metrics, values, text, before=respectively_at(text)) \
            if respective and len(metrics) > 1 else {}
        subject_pairs = pair_lists(real, values, text, strict=not respective, before=respectively_at(text),
                                    comparison=True) if len(real) > 1 else {}
        labelled = labelled_lists(values, text)  # "(train, val, test) = (0.99, 0.95, 0.94)", "test/val ... 0.91/0.93"
        subject_pairs = pair_the_two(values, text, named, real) | subject_pairs
        lists = value_lists(values, text)  # a value -> the first value of the list it is in ("0.99 and 0.95")
        for i, first in lists.items():
            if values[i].hedge is None and values[first].hedge is not None:
                values[i].hedge = values[first].hedge  # "around 0.93 and 0.95": the hedge is the whole list's
        in_percent = {lists.get(i, i) for i, v in enumerate(values) if v.pct}  # "97.31 vs 98.52 %"
        bound: list[Mention | None] = []
        if not metrics and self.listed:  # "Test accuracy and test loss of the two. C4: 98.71 % and 0.0418."
            metric_pairs = _pair_listed(self.listed, values, lists)
        for i, value in enumerate(values):
            metric, tight = (metric_pairs[i], True) if i in metric_pairs else metric_for(value, metrics, values, text)
            label = labelled.get(i, "")
            if label and METRIC_WORD.fullmatch(label):
                metric, tight = MetricMention(0, 0, metric_of(METRIC_WORD.fullmatch(label)), label, False), True
            if metric is None and not any(m.start < value.start for m in metrics):
                # (a metric named only after the number, in another clause, is not its metric: "98.62 % against
                # 98.07 %, and its test loss is lower too")
                if carried is not None and not metrics and _carries(value, real or models, text):
                    metric = carried  # "The MLP reaches only 82.07 %." after a sentence about accuracy
                elif _default_accuracy(value, real or models, text, lists.get(i, i) in in_percent, bool(datasets),
                                       under_model=bool(named)):
                    metric = MetricMention(0, 0, "accuracy", "", False)  # "C4 98.12 % vs C1+M3 97.45 % (test)"
            if metric is not None and not tight and any(m.derived for m in metrics):
                metric = None  # "Accuracy per 10k parameters (test accuracy in % ...) is highest for C1+M3 (184.5)"
            if metric is not None and not tight and DIFFERENCE.search(text[slice(*clause_of(text, value.start))]):
                metric = None  # "(train/test gap 5.5 points vs 4.2 for the CNN)": a difference, not the metric
            if metric is not None and (PER_CLASS.search(text[max(metric.end, value.start - 40):value.start])
                                       or metric.start > 0 and PER_CLASS_BEFORE.search(text[max(0, metric.start - 30):
                                                                                             metric.start])):
                metric = None  # "its lowest recall is class 0 (0.0 %)": one class's value, not the model's
            if metric is not None and metric.metric == "loss" and (value.pct or lists.get(i, i) in in_percent
                                                                   and i not in metric_pairs):
                metric = None  # a loss is no percentage: "Adam - 89.4 %" under "... loss curves ... accuracy"
                if carried is not None and carried.metric != "loss":
                    metric = carried  # "Test accuracy of C1+M3 when one factor changes. Loss: focal 97.85 %, ..."
                elif _default_accuracy(value, real or models, text, True, bool(datasets)):
                    metric = MetricMention(0, 0, "accuracy", "", False)
            if metric is not None and not tight and ERROR.search(text[slice(*clause_of(text, value.start))]):
                metric = None  # "the training error is about ten percent": an error rate, not the accuracy
            if metric is None or metric.derived or not plausible(metric.metric, value, tight):
                bound.append(None)
                continue
            subject = subject_pairs.get(i) or trailing_subject(value, models, text)
            if subject is None and lists.get(i, i) != i:
                subject = bound[lists[i]]  # "for the CNN the two are 99.71 % and 99.20 %": one subject for both
            if subject is None:
                subject = _subject_for(value, models, values, text, bound)
            if subject is not None and subject.kind == "anaphor":
                subject = _resolve(subject, text, real, named, bound, self.order)
            configured = CONFIG_BEFORE.search(text, values[i - 1].end if i else 0, value.start) \
                if subject is None and not models else None
            if subject is None and not models and configured is None:
                subject = own_label(value, text)
            if configured:  # "Loss: focal 97.85 %, MSE 97.10 %. Batch size 32: 98.11 %": each its configuration
                subject = Mention(configured.group("w"), configured.start("w"), configured.end("w"), "name")
            if subject is None and not models and len({(m.run or m.text).lower() for m in previous}) == 1:
                # "Figure 1: Task 1 (MLP), seed 0. ... the final validation accuracy is 95.8 %": the sentence goes on
                # about the one model the sentence before named.
                subject = previous[-1]
            bound.append(subject)
            near = label if label and SPLIT.fullmatch(label) else _split_near(value, metric, text)
            qualifier = " ".join([metric.qualifier, near] if tight and near is not label else [near, metric.qualifier])
            if metric.end <= value.start and tight:
                qualifier += " " + text[metric.end:metric.end + 14]
            line, column = passage.locate(start + value.start)
            claim = make_claim(metric.metric, value.written, value.pct, line=line, column=column,
                               qualifier=qualifier, hedge=value.hedge)
            if claim is None:
                continue
            claim.subject = subject.text if subject is not None else ""
            spread = SPREAD.match(text[value.end:])
            if spread:
                claim.spread = float(spread.group("sd")) / (100.0 if claim.percent else 1.0)
            dataset = _nearest(value, datasets, text)
            # The settings stated since the number before it, up to the end of its clause.
            lo = values[i - 1].end if i else 0
            hi = clause_of(text, value.start)[1]
            stated = " ".join(text[a:b] for a, b in settings if lo <= a and b <= hi)
            out.append((claim, subject, dataset, stated))
        share_trailing_subject(out, values, bound, lists, text)
        self._listmetric_mentions(metrics, text)
        named.extend(real)
        named.extend(b for b in bound if b is not None and b not in real)  # ("its" then speaks of it)
        self._remember(real)
        return out, (metrics[-1] if metrics else carried)

    def _listmetric_mentions(self, metrics: list[MetricMention], text: str) -> None:
        """Remember the metrics a sentence lists ("test accuracy and test loss"), for numbers listed in the next
        sentence that names none; a sentence that names any metric replaces them."""
        if metrics:
            glued = len({m.metric for m in metrics}) == len(metrics) >= 2 and all(
                METRIC_LIST_GLUE.fullmatch(text[a.end:b.start]) for a, b in zip(metrics, metrics[1:], strict=False))
            self.listed = metrics if glued else []

    def _remember(self, mentions: list[Mention]) -> None:
        for m in mentions:
            if m.kind == "run" and all(o.run != m.run for o in self.order):
                self.order.append(m)


ACHIEVE = re.compile(r"\b(?:gets?|got|gives?|gave|reach(?:es|ed)?|achiev(?:es|ed|e)|scor(?:es|ed|e)|obtain(?:s|ed)?|"
                     r"attain(?:s|ed)?|hits?|yields?|yielded|ends?\s+(?:at|with)|ended\s+(?:at|with)|falls?\s+to|fell\s+to|"
                     r"drops?\s+to|dropped\s+to|rises?\s+to|rose\s+to|climbs?\s+to|improves?\s+to|goes\s+to|"
                     r"manag(?:es|ed)|reaching|scoring|achieving|getting|trails?|trailing|beats?|beating|"
                     r"outperforms?|outperformed|lags?|lagged|leads?|vs\.?|versus|against|compared\s+(?:to|with))\b",
                     re.IGNORECASE)
# "no dropout: 97.02 %", or a laid-out row "hidden [256]      97.51 %": a label and its value
KEY_VALUE = re.compile(r"^[^:=]{1,60}[:=]\s*(?:[A-Za-z][\w+-]*\s+){0,2}[-+]?\d|^\S.{0,60}?\s{3,}[-+]?\d[\d.]*\s*%?$")
TRAILING_LABEL = re.compile(r"^\s*%?\s*\(\s*([A-Za-z][^()±]{0,40}?)\s*\)")
LEADING_LABEL = re.compile(r"(?<![\w.])([A-Za-z][\w+\-.=]{1,30})\s*\(\s*(?:~|about|around)?\s*$")
NAME_LIKE = re.compile(r"[A-Z0-9_+=]")  # "C4", "ResNet", "cross_entropy", "lr=0.01": a name, not a word of prose
# Settings students name runs by: optimizers, losses, activations, schedules.
SETTING_VALUES = frozenset("sgd adam adamw rmsprop adagrad adadelta nadam mse mae focal nll bce hinge huber relu gelu "
                           "elu selu silu tanh sigmoid softmax cosine step plateau constant".split())
LABEL_BEFORE = re.compile(r"^\s*([^:;=]{2,40}?)\s*(?:[:=→]|->|=>|\s[-–—]\s)\s*(?:~|about|around|approx\.?|c\.)?\s*$",
                          re.IGNORECASE)
# "BN before ReLU: 91.63 %", "Adam - 89.4 %"
LABELLED_VALUE = re.compile(r"(?:[:=→]|->|=>|\s[-–—])\s*(?:~|about|around|approx\.?)?\s*[-+]?\d[\d.]*\s*%?\s*\d?$")
CONFIG_BEFORE = re.compile(rf"(?P<w>\b(?:{'|'.join(sorted(SETTING_VALUES))}|cross[- ]?entropy)|"
                           r"(?<![\w.])(?:[A-Za-z][\w-]*\s+){0,2}\d+(?:\.\d+)?(?=\s*:))\s*:?\s*$", re.IGNORECASE)
ERROR = re.compile(r"\berror(?:\s+rate)?s?\b|\bmisclassification\s+rate\b", re.IGNORECASE)
ORDINAL = re.compile(r"\b(?:first|second|former|latter)\b", re.IGNORECASE)
IT = re.compile(r"^(?:its?|their|this (?:model|network|one)|the model|the network)$", re.IGNORECASE)


METRIC_LIST_GLUE = re.compile(r"\s*(?:,|and|&|/)\s*(?:and\s+)?(?:the\s+)?"
                              r"(?:(?:test|validation|val|training|train)\s+)?", re.IGNORECASE)


def _pair_listed(listed: list, values: list[Value], lists: dict[int, int]) -> dict[int, object]:
    """Each list of as many values as the metrics listed before, paired with them in order."""
    groups: dict[int, list[int]] = {}
    for i in range(len(values)):
        groups.setdefault(lists.get(i, i), []).append(i)
    pairs = {}
    for members in groups.values():
        if len(members) == len(listed):
            pairs.update({index: listed[k] for k, index in enumerate(members)})
    return pairs


def _carries(value: Value, models: list[Mention], text: str) -> bool:
    """Whether a number in a sentence that names no metric is the metric of the sentences before it: a model's
    result ("The MLP reaches only 82.07 %", "no dropout: 97.02 %"), not any percentage ("20 % of the data")."""
    if not (value.pct or "." in value.written):
        return False
    return bool(models) or bool(ACHIEVE.search(text)) or bool(KEY_VALUE.match(text.strip()))


def _default_accuracy(value: Value, models: list[Mention], text: str, percent: bool, datasets: bool,
                      under_model: bool = False) -> bool:
    """A percentage that a named model gets (or that is got on a named dataset), with no metric anywhere near:
    accuracy, the one metric a report states without naming it ("the last layer only gives about 93 %", "C4 98.12 %
    vs C1+M3 97.45 % (test)", "BN before ReLU: 91.63 %", "a new last layer: 94.10 % on MNIST"). ``percent``: the
    value, or the list it is in, is written with a "%"; ``under_model``: the heading names a model ("Task 1
    hyperparameters" over "- lr 0.01 → 96.88 %")."""
    labelled = LABELLED_VALUE.search(text[:value.start + 1])
    if not percent or not (models or datasets or under_model and labelled):
        return False
    if ACHIEVE.search(text) or LABELLED_VALUE.search(text[:value.start + 1]):
        return True
    return bool(models) and bool(SPLIT.search(text))  # a dataset and a split word alone: "60 % train on MNIST"


def trailing_subject(value: Value, models: list[Mention], text: str) -> Mention | None:
    """The model named right after a number: "0.97 for A", "97 % (CNN)", "36.2 % (optimizer = sgd)"."""
    spread = SPREAD.match(text[value.end:])  # "0.0321 (±0.0012) for the CNN"
    end = value.end + (spread.end() if spread else 0)
    following = [m for m in models if m.start >= end]
    if following and (TRAILING_SUBJECT.match(text[end:following[0].start])
                      or PREPOSITIONAL.match(following[0].text) and not text[end:following[0].start].strip()):
        return following[0]  # "0.97 for the CNN", "0.9998 with convolution"
    label = TRAILING_LABEL.match(text[end:])
    if label and not (METRIC_MENTION.search(label.group(1)) or SPLIT.search(label.group(1))):
        # "92.3 % (optimizer = adam)": a configuration the manifest does not name is the number's own subject
        return Mention(label.group(1).strip(), end + label.start(1), end + label.end(1), "name")
    before = LEADING_LABEL.search(text[:value.start])
    if before:
        known = [m for m in models if m.start <= before.start(1) < m.end or before.start(1) <= m.start < before.end(1)]
        if known:
            return known[-1]  # "C4 (98.37 %)"
        word = before.group(1)
        if NAME_LIKE.search(word) or word.lower() in SETTING_VALUES:
            # "the best value, mse (93.0 %), ...": the name right before the bracket the number stands in
            return Mention(word, before.start(1), before.end(1), "name")
    return None


def own_label(value: Value, text: str) -> Mention | None:
    """ "no BatchNorm: 91.05 %", "- lr 0.01 → 96.88 %": the value's own label names what it is about, a model the
    manifest does not know."""
    lo = clause_of(text, value.start)[0]
    label = LABEL_BEFORE.search(text[lo:value.start])
    if label and re.search(r"[A-Za-z]", label.group(1)) and not metric_mentions(label.group(1)) \
            and not SPLIT.search(label.group(1)):  # ("focal loss → 97.49 %": a loss function names a setting)
        return Mention(label.group(1).strip(" -*•"), lo + label.start(1), lo + label.end(1), "name")
    return None


def _subject_for(value: Value, models: list[Mention], values: list[Value], text: str,
                 bound: list[Mention | None]) -> Mention | None:
    if not models:
        return None
    if (after := trailing_subject(value, models, text)) is not None:
        return after
    lo, hi = clause_of(text, value.start)
    preceding = [m for m in models if lo <= m.start and m.end <= value.start]
    if preceding:
        return preceding[-1]
    own = own_label(value, text)
    if own is not None:
        return own
    # The nearest model named before, unless a number between them is another model's: "For the CNN, accuracy is
    # 0.97", "C4 has an accuracy of 98.51 % and a macro recall of 98.49 %".
    earlier = [m for m in models if m.end <= value.start]
    if earlier:
        between = [k for k, v in enumerate(values) if earlier[-1].end <= v.start < value.start]
        if all(k < len(bound) and bound[k] in (None, earlier[-1]) for k in between):
            return earlier[-1]
    later = [m for m in models if value.end <= m.start < hi]
    if later and not any(value.end <= v.start < later[0].start for v in values):
        return later[0]  # "0.97 is what the CNN reached"
    return None


def _resolve(anaphor: Mention, text: str, here: list[Mention], named: list[Mention], bound: list[Mention | None],
             order: list[Mention] = ()) -> Mention | None:
    """ "its", "it": the model named last before it; "the other", "the latter", "the former": one of the two models
    named before."""
    word = anaphor.text.lower()
    if IT.match(word):
        before = [m for m in here if m.end <= anaphor.start]
        return before[-1] if before else (named[-1] if named else None)
    distinct: list[Mention] = []
    for m in [*named, *(h for h in here if h.end <= anaphor.start)]:
        key = (m.run or m.text).lower()
        distinct = [d for d in distinct if (d.run or d.text).lower() != key] + [m]
    if len(distinct) < 2 and ORDINAL.search(word) and len(order) >= 2:
        # "The first model stops early ...": the report's first (second) model, in the order it named them
        return order[0] if "first" in word or "former" in word else order[1]
    if len(distinct) < 2:
        return None
    pair = distinct[-2:]
    if "latter" in word or "second" in word:
        return pair[1]
    if "former" in word or "first" in word:
        return pair[0]
    used = {(b.run or b.text).lower() for b in bound if b is not None}
    rest = [m for m in pair if (m.run or m.text).lower() not in used]
    return rest[0] if len(rest) == 1 else None


def _split_near(value: Value, metric: MetricMention, text: str) -> str:
    """The split words closest to the number in its clause ("accuracy on the test set is 0.97", "the test 0.95"),
    else the one split the whole sentence names ("On the testing set C4 has ... and ...")."""
    lo, hi = clause_of(text, value.start)
    found = list(SPLIT.finditer(text))
    window = [m for m in found if lo <= m.start() < min(hi, value.end + 30)]
    if not window:
        window = [m for m in found if m.end() <= value.start and value.start - m.end() < 60]
    if window:
        return min(window, key=lambda m: abs(m.start() - value.start)).group(0)
    named = {split_of(m.group(0)) for m in found}
    return found[0].group(0) if len(named) == 1 else ""


def _nearest(value: Value, mentions: list[Mention], text: str) -> Mention | None:
    lo, hi = clause_of(text, value.start)
    inside = [m for m in mentions if lo <= m.start < hi + 20]
    pool = inside or mentions
    return min(pool, key=lambda m: abs(m.start - value.start)) if pool else None

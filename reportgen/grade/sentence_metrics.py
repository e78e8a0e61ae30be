"""Where a sentence names a metric, and which of them governs each number: "accuracy of C2: 0.93" (directly),
"93.6 training accuracy" (the metric after), "accuracy of A is 0.98 whereas for B it is 0.97" (carried over). A
loss function ("MSE loss", "loss: focal") names a setting, not the loss; a derived metric ("accuracy per 10k
parameters", "5-NN accuracy") is no claim of the metric."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.grade.metric_words import METRIC, METRIC_ANY, QUALIFIER, metric_of
from reportgen.grade.numbers import Value

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
                           rf"decrease|curves?\s+(?:of|for)\s|/(?!\s*(?:{METRIC_ANY})\b))", re.IGNORECASE)
SPREAD = re.compile(r"^\s*%?\s*\(?\s*(?:±|\+/-|\+-|std\.?|sd)\s*[=:]?\s*(?P<sd>\d*\.?\d+)\s*%?\s*\)?")  # "± 0.09 %"
LOOSE = re.compile(r"[,;]|\b(?:and|or|but|while|whereas|although|however|than|respectively)\b", re.IGNORECASE)


@dataclass
class MetricMention:
    start: int
    end: int
    metric: str
    qualifier: str
    derived: bool


LOSS_FUNCTION_BEFORE = re.compile(r"\b(?:mse|mae|focal|cross[- ]?entropy|ce|nll|hinge|bce|l1|l2|huber|smooth(?:ed)?|"
                                  r"contrastive|triplet|kl|kld|categorical|binary|custom|weighted|dice)[\s-]*$",
                                  re.IGNORECASE)
LOSS_FUNCTION_AFTER = re.compile(r"^\s*(?:[:=]\s*(?:mse|mae|focal|cross[- ]?entropy|ce|nll|hinge|bce|l1|l2|huber|kl|"
                                 r"[a-z]+\s*loss)\b|functions?\b|fn\b)", re.IGNORECASE)


def metric_mentions(text: str) -> list[MetricMention]:
    out = []
    for m in METRIC_MENTION.finditer(text):
        if m.group("loss") and (LOSS_FUNCTION_BEFORE.search(text[max(0, m.start("loss") - 20):m.start("loss")])
                                or LOSS_FUNCTION_AFTER.match(text[m.end("loss"):m.end("loss") + 20])):
            continue
        start = m.start() + len(m.group("qual")) if m.group("qual") else m.start()
        derived = bool(DERIVED_BEFORE.search(text[max(0, m.start() - 25):m.start()] + m.group("qual"))
                       or DERIVED_AFTER.match(text[m.end():m.end() + 20]))
        qualifier = (m.group("qual") or "") + (m.group("after") or "")
        out.append(MetricMention(start, m.end(), metric_of(m), qualifier, derived))
    return out


def _between_is_tight(text: str) -> bool:
    """Whether ``text`` (between a metric and its number) is only connecting words: "of C2 is", ": ", "reached to"."""
    return len(text.split()) <= 8 and not LOOSE.search(text) and not re.search(r"[.!?](?:\s|$)", text)


def metric_for(value: Value, metrics: list[MetricMention], values: list[Value], text: str
                ) -> tuple[MetricMention | None, bool]:
    """The metric governing ``value`` and whether it does so directly ("accuracy of C2: 0.93", "93.6 training
    accuracy") rather than by carrying over ("accuracy of A is 0.98 whereas for B it is 0.97"). A percentage is
    never a loss."""
    if value.pct:
        metrics = [m for m in metrics if m.metric != "loss"]
    before = [m for m in metrics if m.end <= value.start]
    after = [m for m in metrics if m.start >= value.end]
    previous = before[-1] if before else None
    if previous is not None and _between_is_tight(text[previous.end:value.start]) \
            and not any(previous.end <= v.start < value.start for v in values):
        return previous, True
    if after:
        gap = text[value.end:after[0].start]
        gap = SPREAD.sub(" ", gap)
        if re.fullmatch(rf"\s*(?:(?:{QUALIFIER}|set|data|score|scores)\b\.?\s*){{0,3}}", gap, re.IGNORECASE):
            return after[0], True  # "93.6 training accuracy", "97 % accuracy", "97.8 ± 0.1 % accuracy"
    if previous is not None and not any(m.start > previous.end and m.end <= value.start for m in metrics):
        return previous, False  # the metric carries over
    if previous is None and len({m.metric for m in after}) == 1 and (value.pct or "." in value.written) \
            and any(v.end <= after[0].start and re.fullmatch(r"\s*(?:\w+\s*){0,2}", text[v.end:after[0].start])
                    for v in values if v is not value):
        return after[0], False  # "the MLP gets 0.97 and the CNN gets 0.99 accuracy": the metric of the list
    return None, False

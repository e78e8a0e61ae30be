"""Numbers in a sentence that may be results: every number, less those that name or count something else — a
hyperparameter ("lr of 0.01", "batch size 64"), a count ("10 epochs", "18 of 20"), a spread ("± 0.3"), a share of
the data ("20 % of the data"), a range, a year, a figure or table number, a multiplier ("2.2×") or a part of a name
("C4", "Model 1.2.1") — each with the hedge its words put on it ("~87 %", "just under 50 %", "> 92 %")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.grade.metric_words import BOUNDED, METRIC_ANY, hedge_after, hedge_before
from reportgen.grade.settings import PATTERNS as SETTING_PATTERNS
from reportgen.grade.subjects import Mention

NUMBER = re.compile(r"(?<![\w.,:^])(?P<value>[-+]?(?:\d+\.\d+|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![\w]|\.\d|,\d{3})"
                    r"(?:\s*(?P<pct>%|percent\b|per\s*cent\b))?")

UNITS = (r"epochs?|iterations?|iters?|steps?|layers?|images?|samples?|examples?|instances?|classes|class|batch(?:es)?|"
         r"seeds?|runs?|trials?|repeats?|neurons?|units?|filters?|channels?|kernels?|params?|parameters?|weights?|"
         r"features?|dim(?:ension)?s?|pixels?|px|points?|pp|p\.p\.|percentage\s+points?|times|x|×|fold|folds|"
         r"minutes?|mins?|seconds?|secs?|s|ms|hours?|hrs?|h|k|K|M|B|million|thousand|billion|kb|mb|gb|blocks?|"
         r"heads?|nodes?|hidden|words?|tokens?|configurations?|configs?|models?|experiments?|students?|digits?|"
         r"lines?|cells?|pages?|figures?|plots?|rows?|columns?|th|st|nd|rd|GB|MB|KB|GiB|MiB|cores?|threads?|"
         r"workers?|gpus?|cpus?|bits?|bytes?|hz|mhz|ghz|flops|macs|multiply|mult-adds|percentiles?|out\s+of|of\s+\d+")
UNIT_AFTER = re.compile(rf"^\s*(?:-\s*)?(?:(?:test(?:ing)?|train(?:ing)?|val(?:idation)?|held-out|more|new|extra|other|"
                        rf"different|unseen|correctly|wrongly|misclassified|labelled|labeled)\s+)?(?:{UNITS})\b",
                        re.IGNORECASE)
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
PERCENT_SETTING = re.compile(r"\b(?:dropout|split|ratio|rate|p)\b", re.IGNORECASE)  # settings that can be a percentage
NAMING_BEFORE = re.compile(
    rf"(?:\b(?:{NAMES})[-\s]*#?\s*\(?|\b(?:{HYPERPARAMETERS})\s*(?:[:=→]|->|of|is|was|to|from|set\s+to|equal\s+to)?\s*\(?|"
    r"(?<![\w.])\d+(?:\.\d+)?(?:\s*(?:[x×*/^]|[-–]|of|out\s+of)\s*|:)|\bbetween\s+(?:[\d.]+\s*%?\s+and\s+)?|\[\s*|±\s*|\+/-\s*|\+-\s*|\bstd\.?\s*(?:of|=|:)?\s*|"
    r"\bsd\s*[=:]?\s*|σ\s*=?\s*|\bby\s+(?:about\s+|around\s+|roughly\s+|almost\s+|nearly\s+|over\s+)?|"
    r"\b(?:gain|drop|increase|decrease|improvement|difference|gap|margin|boost|reduction|rise|fall|jump|decline|"
    r"lead)\s+of\s+(?:about\s+|around\s+|roughly\s+|almost\s+|nearly\s+|over\s+)?)$",
    re.IGNORECASE)
NAMING_AFTER = re.compile(
    r"^(?:\s*(?:[x×*/:]\s*\d|[-–]\s*\d|,\d)|\s?[x×](?![\w.])|"  # 28x28, 60/20, 0.9-0.95, 2.2×
    r"\s*%?\s*(?:of|for|as)\s+(?:the\s+)?(?:whole\s+|full\s+|original\s+|total\s+)?(?:data|dataset|training|train|"
    r"test(?:ing)?|validation|val|images|samples|examples|set|split)\b|"  # "20 % of the data": a share of it
    r"\s*%?\s*(?:points?|pp\b|percentage|higher|lower|more\b(?!\s+than)|less\b(?!\s+than)|better|worse|"
    r"improvement|increase|decrease|drop|gain|faster|slower|fewer|larger|smaller|"
    r"level|confidence|significance|ci\b|interval|quantile|percentile)|"  # "at the 5 % level", "95 % CI"
    rf"\s*%\s*(?:train(?:ing)?|val(?:idation)?|test(?:ing)?|held[- ]out)\b(?!\s*(?:set\s+)?(?:{METRIC_ANY})))",
    re.IGNORECASE)  # "(60 % train, 20 % validation)": shares of the data, not "97 % test accuracy"

NAME_WORD = re.compile(rf"(?:{NAMES})[-\s]*#?\s*\(?", re.IGNORECASE)
MODEL_WORD_END = re.compile(r"\b(?:models?|networks?|nets?|architectures?|variants?)\s*$", re.IGNORECASE)
BRACKETS = re.compile(r"\[[^\[\]]{0,80}\]")
YEAR = re.compile(r"^(?:19|20)\d\d$")
# Where a clause ends: a subject named after it belongs to the next one.

@dataclass
class Value:
    start: int
    end: int  # after the number and its % sign
    written: str
    pct: bool
    hedge: tuple[float | None, float | None] | None

def setting_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for patterns in SETTING_PATTERNS.values():
        for pattern in patterns:
            spans.extend((m.start(), m.end()) for m in pattern.finditer(text))
    return spans

def find_values(text: str, mentions: list[Mention], settings: list[tuple[int, int]]) -> list[Value]:
    taken = [(m.start, m.end) for m in mentions if m.kind != "anaphor"] + settings
    # A bracketed vector ("[0.8, 0.1, 0.1]": a split, a layer list) holds settings, not results.
    taken += [(b.start(), b.end()) for b in BRACKETS.finditer(text)]
    out = []
    for m in NUMBER.finditer(text):
        a, b = m.start("value"), m.end("value")
        if any(s <= a and b <= e for s, e in taken):
            continue  # part of a name ("C4", "Model 2") or a stated hyperparameter ("lr = 0.01")
        before, after = text[max(0, a - 40):a], text[m.end():]
        naming = NAMING_BEFORE.search(before)
        if naming and re.search(r"\b(?:without|no|w/o|removing|remove[sd]?)\s+\S+\s*$", before, re.IGNORECASE):
            naming = None  # "without dropout 98.97 %": no dropout rate here; the number is the result
        if naming and m.group("pct") and not PERCENT_SETTING.search(naming.group(0)) \
                and re.search(rf"\b(?:{HYPERPARAMETERS})\b", naming.group(0), re.IGNORECASE) \
                and (":" in naming.group(0) or not re.search(rf"\b(?:{NAMES})\b", naming.group(0), re.IGNORECASE)):
            naming = None  # "width 98.1 %", "a new last layer: 94.10 %": no width is a percentage; it is a result
        if naming and m.group("pct") and "." in m.group("value") and MODEL_WORD_END.search(naming.group(0)):
            naming = None  # "the CNN model 97.2 %": no model is numbered 97.2 %; it is the model's result
        if naming and re.match(r"0?\.\d", m.group("value")) and NAME_WORD.fullmatch(naming.group(0).strip()):
            naming = None  # "with MobileNet blocks 0.9991": nothing is numbered 0.9991; it is a result
        if re.search(r"(?<![\w.])\d*\.\d+\s*/\s*$", before) or re.match(r"\s*/\s*\d*\.\d", text[b:]):
            naming = naming if not re.search(r"\.\d", m.group("value")) else None  # "0.9998 / 0.9995": two values
        elif NAMING_AFTER.match(text[b:]):
            continue
        if naming or UNIT_AFTER.match(text[b:] if not m.group("pct") else ""):
            continue
        if YEAR.match(m.group("value")):
            continue
        hedge = hedge_before(before) or hedge_after(after)
        out.append(Value(a, m.end(), m.group("value"), bool(m.group("pct")), hedge))
    return out

def plausible(metric: str, value: Value, tight: bool) -> bool:
    try:
        x = float(value.written)
    except ValueError:
        return False
    if metric in BOUNDED:
        if x < 0:
            return False
        share = x / 100 if x > 1 else x
        if not tight and not value.pct and share < 0.05:
            return False  # "0.0003 is too slow", "(from 1.1)": not an accuracy of 0.03 % or 1.1 %
        # A bare small integer is a count or a rank ("in 3 of the 4 runs"), not an accuracy of 3 %.
        return value.pct or "." in value.written or 10 <= x
    return True

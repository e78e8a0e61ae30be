"""Words and numbers as grading compares them: tokens that survive typos and inflection, and numbers read the
way students write them (fractions, percentages, many digits)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

# Words that say nothing about which question a passage answers.
STOPWORDS = frozenset("""
a an the and or of for to in on at by with from as is are was were be been it its this that these those
we our you your i my me they their them he she his her which what when how why who whom than then there here
do does did done not no yes can could should would will shall may might must also any all both each every
use used using show shows report reports results result compare comparing comparison different number numbers
along give given find found make made get got one two three four five six seven eight nine ten part task
question section figure fig table answer about into onto over under after before between same other such
via per etc e.g i.e vs versus assignment homework lab exercise course spring fall autumn
winter summer learned learnt learn
""".split())

# The same idea spelled differently in reports.
SYNONYMS = {
    "tsne": "tsne", "t-sne": "tsne", "sne": "tsne",
    "fscore": "f1", "f1score": "f1", "f1-score": "f1", "f-score": "f1", "f1_score": "f1", "fscores": "f1",
    "mobilenet": "mobilenet", "mobile": "mobilenet",
    "conv": "convolution", "convolutional": "convolution", "convolutions": "convolution", "cnn": "convolution",
    "acc": "accuracy", "accuracies": "accuracy",
    "lr": "learning_rate", "learning_rates": "learning_rate", "batch_sizes": "batch_size",
    "hidden_layer": "hidden_layers", "loss_function": "loss_functions",
    "hyperparameters": "hyperparameter", "hyperparameter": "hyperparameter",
    "bs": "batch", "epoch": "epoch", "epochs": "epoch",
    "matrices": "matrix", "matrix": "matrix",
    "roc": "roc", "auc": "roc",
    "filters": "filter", "kernels": "filter", "kernel": "filter", "weights": "filter",
    "prediction": "predict", "predictions": "predict", "predicted": "predict",
    "mlp": "mlp", "fc": "dense", "fully": "dense", "dense": "dense",
    "neurons": "neuron", "nodes": "neuron", "units": "neuron", "node": "neuron", "neuron": "neuron",
    "colour": "color", "learning": "learning", "curves": "curve", "layers": "layer",
    "bn": "batchnorm", "batchnorm": "batchnorm", "batch_norm": "batchnorm", "batch_normalization": "batchnorm",
    "batch_normalisation": "batchnorm", "batchnormalization": "batchnorm",
    # a summing up is a conclusion: "Summarise what you learned", "If you had to sum it up?", "Takeaways"
    "sum": "conclusion", "summary": "conclusion", "summarise": "conclusion", "summarize": "conclusion",
    "summarised": "conclusion", "summarized": "conclusion", "conclusion": "conclusion",
    "conclusions": "conclusion", "conclude": "conclusion", "takeaways": "conclusion", "takeaway": "conclusion",
}

F1_SPELLINGS = re.compile(r"\bf[-_ ]?(?:1[-_ ]?)?(?:scores?|measures?)\b|\bf1\b")
# Two words that name one thing ("learning rate" is not about learning).
PHRASES = re.compile(r"\b(?:learning[ -]rates?|batch[ -]sizes?|hidden[ -]layers?|loss[ -]functions?|"
                     r"batch[ -]normali[sz]ation|batch[ -]norm)\b")
NUMBERED_PART = re.compile(r"\b(task|part)\s*(\d+)\b")
WORD = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem: enough to make "curves"/"curve", "layers"/"layer", "learned"/"learn" meet."""
    if word in SYNONYMS:
        return SYNONYMS[word]
    if "-" in word or "_" in word:
        word = SYNONYMS.get(word.replace("-", "").replace("_", ""), word)
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    """Content tokens of ``text``: lower-cased, stemmed, stopwords and single letters dropped."""
    text = F1_SPELLINGS.sub(" f1 ", text.lower().replace("t-sne", "tsne"))
    text = PHRASES.sub(lambda m: m.group(0).replace(" ", "_").replace("-", "_"), text)
    # "Task 1" and "Task 2" are different questions: keep the number with the word.
    text = NUMBERED_PART.sub(lambda m: f" {m.group(1)}{m.group(2)} ", text)
    return [stem(w) for w in WORD.findall(text) if w not in STOPWORDS and len(w) > 1]


@lru_cache(maxsize=65536)
def _close(a: str, b: str) -> bool:
    # Typos ("mobilnet", "traing") in words long enough for a ratio to mean something.
    return len(a) >= 5 and len(b) >= 5 and a[0] == b[0] and SequenceMatcher(None, a, b).ratio() >= 0.87


def matched(wanted: set[str], have: set[str]) -> set[str]:
    """The tokens of ``wanted`` that ``have`` holds, exactly or within a typo."""
    found = wanted & have
    rest = [w for w in wanted - found if len(w) >= 5]
    if not rest:
        return found
    # A typo keeps the first letter and needs five letters (see _close): compare only such pairs.
    by_first: dict[str, list[str]] = {}
    for h in have:
        if len(h) >= 5:
            by_first.setdefault(h[0], []).append(h)
    for w in rest:
        if any(_close(w, h) for h in by_first.get(w[0], ())):
            found.add(w)
    return found


def overlap(wanted: set[str], have: set[str]) -> tuple[float, float]:
    """(recall of ``wanted`` in ``have``, precision: the share of ``have`` that is wanted)."""
    if not wanted or not have:
        return 0.0, 0.0
    hits = matched(wanted, have)
    back = matched(have, wanted)
    return len(hits) / len(wanted), len(back) / len(have)


NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])")


def significant_digits(as_written: str) -> int:
    """Significant digits of a number as written: "0.9477546579444083" -> 16, "95.0" -> 3, "0.95" -> 2."""
    mantissa = re.split(r"[eE]", as_written.lstrip("+-"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits)


def decimals(as_written: str) -> int:
    """Decimal places of the number written: "0.9472" -> 4, "95" -> 0, "4.3e-2" -> 3."""
    mantissa, *exponent = re.split(r"[eE]", as_written)
    places = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    try:
        return places - int(exponent[0]) if exponent else places
    except ValueError:
        return places

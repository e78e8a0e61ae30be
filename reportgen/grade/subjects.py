"""What a number is about, as a report names it: a run of the manifest (by its label, its name or one of the
course's aliases), a model the student names ("model A", "the CNN", "ResNet-18", "C2+M2"), or a dataset.

:class:`Subjects` finds these mentions in a sentence, with their character spans, so that claims can bind each
value to the nearest one. Only names count: a hyperparameter ("batch size 32"), a metric ("F1"), an optimizer or
an activation is never a subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Datasets students evaluate on; a course's own test-set keywords are added to these.
DATASETS = ("mnist", "fashion-mnist", "fashion mnist", "fmnist", "kmnist", "emnist", "cifar-10", "cifar10",
            "cifar-100", "cifar100", "svhn", "imagenet", "stl-10", "stl10", "caltech-101", "omniglot", "usps")
# Upper-case words that are not models: metrics, optimizers, activations, losses, tools, document parts.
NOT_NAMES = frozenset("""
f1 f-1 auc roc pr tpr fpr tp fp tn fn acc sgd adam adamw rmsprop adagrad adadelta nadam relu gelu elu selu silu
prelu tanh mse mae nll bce ce gpu cpu tpu ram pdf csv png jpg ta ii iii iv vi vii viii ix xi xii ok cuda api
numpy keras pytorch torch tensorflow sklearn tsne t-sne pca lda svd bn lr bs fc nb ps cv id url html md ai ml dl
nn dnn sota etc vs iid std sd fig eq no nan inf max min avg true false none note batchnorm layernorm groupnorm
dropout leakyrelu steplr maxpool avgpool maxpool2d avgpool2d softmax sigmoid crossentropy crossentropyloss
nllloss mseloss conv2d linear sequential steplr reducelronplateau onecyclelr cosineannealinglr tensorboard
jupyter colab github latex university mit itu iit
""".split())
# Words that introduce a model by number or letter: "model A", "Network 2", "architecture 3", "variant B".
GENERIC = re.compile(
    r"\b(?:model|network|net|architecture|arch\.?|variant|configuration|config|experiment|version|approach|method|"
    r"classifier|setup|candidate)\s*#?\s*(?:[A-Z]\b|\d{1,2}(?:\.\d{1,2}){0,2}\b(?![.,]?\d|\s*(?:%|percent\b))|[ivx]{1,4}\b)",
    re.IGNORECASE)
# A name: has two capitals ("MLP", "ResNet", "LeNet-5"), or letters and digits joined ("C4", "C2+M2", "VGG16").
NAME = re.compile(r"(?<![\w+\-.])(?=[\w+\-]*[A-Za-z])(?:[A-Z][\w]*[A-Z][\w]*|[A-Za-z]+\d[\w]*)(?:[+\-][A-Za-z0-9]+)*"
                  r"(?![\w+])")
# A lone capital letter named as a model: "accuracy of A", "for B it is", "A achieves", "A and B reach".
LETTER = re.compile(r"(?<![\w.'’\-])([A-H])(?![\w'’\-])(?=\s*(?:[,;:)\]]|\.(?!\w)|$)|\s+(?:and|or|is|was|are|were|"
                    r"it|has|had|achieves?|achieved|reach(?:es)?|reached|gets?|got|scores?|scored|obtains?|obtained|"
                    r"gives?|gave|yields?|yielded|performs?|performed|respectively|with|at|on|vs\.?|versus|"
                    r"\(|[-+]?\.?\d)\b)")
# "the other", "the latter", "the former": a model named before.
ANAPHOR = re.compile(r"\bthe\s+(other|latter|former|second|first)(?:\s+(?:one|model|network|architecture))?\b|"
                     r"\b(?:its|it)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """A subject named at ``start:end`` of a text."""

    text: str
    start: int
    end: int
    kind: str  # "run" (a manifest run's phrase) | "name" | "dataset" | "anaphor"
    run: str = ""  # the manifest run it names, for kind "run"


BEST_OF = re.compile(r"\b(best|best-performing|strongest|top)\s+$", re.IGNORECASE)
HEAD_NOUNS = ("network", "net", "model")
PART_OF_MODEL = re.compile(r"[\s-]+(?:blocks?|layers?|units?|modules?|cells?)\b", re.IGNORECASE)  # "MobileNet blocks"


class Subjects:
    """Finds subject mentions, knowing the manifest's runs (``aliases``: run -> phrases that name it) and the
    course's test-set keywords."""

    def __init__(self, aliases: dict[str, list[str]] | None = None, datasets: list[str] | tuple = ()) -> None:
        self.aliases = aliases or {}
        phrases: list[tuple[str, str]] = []
        for run, names in self.aliases.items():
            phrases.extend((p, run) for p in names if p and p.strip())
        # Longest first, so "1 conv block and 3 mobilenet blocks" wins over "mobilenet".
        phrases.sort(key=lambda item: -len(item[0]))
        self._runs = [(re.compile(rf"(?<![\w+]){_loose(p)}(?![\w+])", re.IGNORECASE), run) for p, run in phrases]
        # A word in the phrases of several runs ("mobilenet" in "1 conv block and 3 mobilenet blocks" and
        # "3 conv blocks and 1 mobilenet block") names a part they share, not a model of its own.
        runs_of_word: dict[str, set[str]] = {}
        for p, run in phrases:
            for word in re.findall(r"[a-z][\w-]+", p.lower()):
                runs_of_word.setdefault(word, set()).add(run)
        self._shared = {w for w, runs in runs_of_word.items() if len(runs) >= 2}
        words = sorted({*DATASETS, *(d.lower() for d in datasets if d)}, key=len, reverse=True)
        self._datasets = re.compile(r"(?<![\w-])(?:" + "|".join(_loose(w) for w in words) + r")(?![\w])",
                                    re.IGNORECASE) if words else None

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text``, in order; a mention inside a longer one is dropped."""
        found: list[Mention] = []
        for pattern, run in self._runs:
            for m in pattern.finditer(text):
                best = BEST_OF.search(text, 0, m.start())
                if best:  # "the best convolutional network": the best of its variants, not the run of that name
                    found.append(Mention(text[best.start(1):m.end()], best.start(1), m.end(), "name"))
                    continue
                found.append(Mention(m.group(0), m.start(), m.end(), "run", run))
        if self._datasets is not None:
            for m in self._datasets.finditer(text):
                found.append(Mention(m.group(0), m.start(), m.end(), "dataset"))
        for m in GENERIC.finditer(text):
            found.append(Mention(m.group(0), m.start(), m.end(), "name"))
        for m in NAME.finditer(text):
            word = m.group(0)
            if word.lower() in NOT_NAMES or word.lower().rstrip("s") in NOT_NAMES or _is_unit_or_metric(word) \
                    or word.lower() in self._shared or PART_OF_MODEL.match(text, m.end()):
                continue
            found.append(Mention(word, m.start(), m.end(), "name"))
        for m in LETTER.finditer(text):
            found.append(Mention(m.group(1), m.start(1), m.end(1), "name"))
        for m in ANAPHOR.finditer(text):
            found.append(Mention(m.group(0), m.start(), m.end(), "anaphor"))
        return _outermost(found)

    def run_of(self, text: str) -> str:
        """The run ``text`` names when it names exactly one."""
        runs = {m.run for m in self.find(text) if m.kind == "run"}
        return runs.pop() if len(runs) == 1 else ""

    def run_of_label(self, label: str) -> str:
        """The run a table's row or column label names: as :meth:`run_of`, and a label that leaves out the head
        noun of a run's name ("two-layer" for "two-layer network") names that run too."""
        run = self.run_of(label)
        if run or not label.strip() or re.search(r"\d\.\d", label):
            return run
        for noun in HEAD_NOUNS:
            run = self.run_of(f"{label.strip()} {noun}")
            if run:
                return run
        return ""

    def model_of_about(self, about: str) -> Mention | None:
        """The model the most specific piece of an ``about`` names, when that piece names exactly one."""
        for piece in reversed([p for chunk in about.split(" | ") for p in chunk.split(" > ")]):
            models = [m for m in self.find(piece) if m.kind in ("run", "name")]
            if models:
                distinct = {m.run or m.text.lower() for m in models}
                return models[0] if len(distinct) == 1 else None
        return None

    def run_of_about(self, about: str) -> str:
        """The run the most specific piece of an ``about`` ("heading > sub-heading | caption | label") names:
        the first piece, from the most specific, that names any run decides (two runs there name none)."""
        if not self._runs:
            return ""
        for piece in reversed([p for chunk in about.split(" | ") for p in chunk.split(" > ")]):
            runs = {m.run for m in self.find(piece) if m.kind == "run"}
            if runs:
                return runs.pop() if len(runs) == 1 else ""
        return ""


def _loose(phrase: str) -> str:
    """A phrase as a pattern that tolerates spacing, hyphens and a plural "s": "C1+M3" ~ "C1 + M3"."""
    words = re.split(r"[\s\-_]+", phrase.strip())
    parts = []
    for w in words:
        part = re.escape(w).replace(r"\+", r"\s*\+\s*")
        parts.append(part)
    return r"[\s\-_]*".join(parts) + (r"s?" if words and words[-1][-1:].isalpha() else "")


def _is_unit_or_metric(word: str) -> bool:
    # "3x3", "28x28", "10k", "1e-3", "2nd", "F1", "top5", "Conv2d", "fc1", "layer3", "epoch10"
    return bool(re.fullmatch(r"\d+x\d+|\d+(?:k|m|b|st|nd|rd|th|px|d|s|ms|h)|f\d|top-?\d+|\d+e-?\d+|epochs?\d*|"
                             r"layers?\d*|conv\d?d?|fc\d*|rgb|bn\d*|relu\d*|pool\d*", word.lower()))


def _outermost(found: list[Mention]) -> list[Mention]:
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    out: list[Mention] = []
    for m in found:
        if out and m.start < out[-1].end:
            # Overlaps the previous: keep the longer; a run's phrase beats a generic name of the same span.
            prev = out[-1]
            if (m.end - m.start, m.kind == "run") > (prev.end - prev.start, prev.kind == "run"):
                out[-1] = m
            continue
        out.append(m)
    return out

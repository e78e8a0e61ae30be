"""Hyperparameters a report states ("Epoch = 1, Learning rate = 0.0001", "batch size = 32", "SGD"), read from a line
or from what a claim is about. Two claims about settings that disagree on one of these are about different runs."""

from __future__ import annotations

import re

from reportgen.grade.model import Document, Setting

NUM = r"(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+)"
PATTERNS: dict[str, list[re.Pattern]] = {
    "epochs": [re.compile(rf"\bepochs?\s*(?:[:=]|of|is|was)?\s*{NUM}\b", re.IGNORECASE),
               re.compile(rf"\b{NUM}\s*epochs?\b", re.IGNORECASE)],
    "lr": [re.compile(rf"\b(?:lr|learning[\s_-]*rate)\s*(?:[:=]|of|is|was)?\s*{NUM}", re.IGNORECASE)],
    "batch_size": [re.compile(rf"\b(?:batch[\s_-]*size|bs)\s*(?:[:=]|of|is|was)?\s*{NUM}\b", re.IGNORECASE)],
    "dropout": [re.compile(rf"\bdropout(?:[\s_-]*rate)?\s*(?:[:=]|of|is|was)?\s*{NUM}", re.IGNORECASE)],
    "test_split": [re.compile(rf"\btest(?:ing)?[\s_-]*(?:split|ratio|size|fraction)\s*(?:[:=]|of|is)?\s*{NUM}",
                              re.IGNORECASE)],
}
OPTIMIZER = re.compile(r"\b(adamw|adam|sgd|rmsprop|adagrad|adadelta|nadam)\b", re.IGNORECASE)
# Numbered labels that tell configurations apart ("Task 2", "Variation 3", "Architecture 1", "Model 2").
LABELS = re.compile(r"\b(task|variation|arch(?:itecture)?\.?|model|experiment|setting|config(?:uration)?)"
                    r"\s*#?\s*(\d+)\b",
                    re.IGNORECASE)


def settings_in(text: str) -> dict[str, float | str]:
    """The settings ``text`` states, e.g. ``{"epochs": 1.0, "lr": 0.0001}``; labels as ``"label:task": "2"``."""
    found: dict[str, float | str] = {}
    for name, patterns in PATTERNS.items():
        for pattern in patterns:
            m = pattern.search(text)
            if m:
                try:
                    found[name] = float(m.group(1))
                except ValueError:
                    continue
                break
    opt = OPTIMIZER.findall(text)
    if len({o.lower() for o in opt}) == 1:
        found["optimizer"] = opt[0].lower()
    for kind, number in LABELS.findall(text):
        key = "label:" + kind.lower().rstrip(".")[:4]
        found.setdefault(key, number)
    return found


def conflicts(a: dict, b: dict) -> list[str]:
    """Settings both state with different values, as "epochs 1 vs 10"."""
    return [f"{k} {_show(a[k])} vs {_show(b[k])}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]


def _show(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def extract_settings(doc: Document) -> list[Setting]:
    """Every hyperparameter the document states, in order (each value once per line)."""
    out: list[Setting] = []
    for line in doc.lines:
        for name, patterns in PATTERNS.items():
            for pattern in patterns:
                m = pattern.search(line.text)
                if m:
                    out.append(Setting(name, float(m.group(1)), m.group(0).strip(), line.location))
                    break
        for m in OPTIMIZER.finditer(line.text):
            out.append(Setting("optimizer", m.group(1).lower(), m.group(0), line.location))
    return out

"""Classification metrics from label arrays, in numpy: what the sections used scikit-learn's ``sklearn.metrics`` for.

Importing ``sklearn.metrics`` costs about 2 s of CPU on the reference machine (it pulls in much of scipy), more than
all of a ``--section confusion`` build's own work. These are the few metrics the sections read, with scikit-learn's
signatures and results (``tests/test_section_speed_paths.py`` checks them against scikit-learn, the oracle, on
seeded data with absent classes): multiclass labels only, and ``zero_division`` as a number. ROC curves, AUC and the
embedding measures still come from scikit-learn, imported where they are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true, y_pred, *, labels: Sequence[int] | None = None) -> np.ndarray:
    """``(n, n)`` counts, rows the true label, columns the predicted one, in the order of ``labels`` (default: every
    label present in either array, sorted). Pairs with a label outside ``labels`` are not counted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = _labels(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.array([index.get(v, -1) for v in y_true.tolist()], dtype=np.int64)
    cols = np.array([index.get(v, -1) for v in y_pred.tolist()], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    n = len(labels)
    return np.bincount(rows[keep] * n + cols[keep], minlength=n * n).reshape(n, n)


def accuracy_score(y_true, y_pred) -> float:
    """The fraction of predictions equal to the true label."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float((y_true == y_pred).mean()) if y_true.size else 0.0


def precision_recall_fscore_support(y_true, y_pred, *, labels: Sequence[int] | None = None,
                                    average: str | None = None, zero_division: float = 0.0):
    """Per-label precision, recall, F1 and support (``average=None``), or their ``"macro"`` or ``"weighted"`` means
    (support then ``None``); a ratio with a zero denominator is ``zero_division``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = _labels(y_true, y_pred, labels)
    # Per label, over every sample (a sample whose other side is outside ``labels`` still counts): scikit-learn's.
    tp = np.array([np.sum((y_true == label) & (y_pred == label)) for label in labels], dtype=float)
    predicted = np.array([np.sum(y_pred == label) for label in labels], dtype=float)
    support = np.array([np.sum(y_true == label) for label in labels], dtype=float)
    precision = _ratio(tp, predicted, zero_division)
    recall = _ratio(tp, support, zero_division)
    f1 = _ratio(2 * tp, predicted + support, zero_division)  # 2PR/(P+R), defined whenever either side has samples
    if average is None:
        return precision, recall, f1, support.astype(np.int64)
    if average == "macro":
        weights = np.ones_like(support)
    elif average == "weighted":
        if support.sum() == 0:
            return zero_division, zero_division, zero_division, None
        weights = support
    else:
        raise ValueError(f"average must be None, 'macro' or 'weighted', not {average!r}")
    return tuple(float(np.average(v, weights=weights)) for v in (precision, recall, f1)) + (None,)


def f1_score(y_true, y_pred, *, labels: Sequence[int] | None = None, average: str = "macro",
             zero_division: float = 0.0) -> float:
    """The ``"macro"`` (or ``"weighted"``) mean F1 over labels."""
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average,
                                           zero_division=zero_division)[2]


def classification_report(y_true, y_pred, *, labels: Sequence[int], target_names: Sequence[str],
                          output_dict: bool = True, zero_division: float = 0.0) -> dict[str, Any]:
    """scikit-learn's report as a dict: ``{name: {"precision", "recall", "f1-score", "support"}}`` per label, then
    ``"accuracy"`` (when ``labels`` cover every label present; ``"micro avg"`` otherwise), ``"macro avg"`` and
    ``"weighted avg"``."""
    if not output_dict:
        raise ValueError("only output_dict=True is implemented")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=zero_division)
    keys = ("precision", "recall", "f1-score")
    report: dict[str, Any] = {
        name: {**dict(zip(keys, map(float, values), strict=True)), "support": int(n)}
        for name, *values, n in zip(target_names, p, r, f, s, strict=True)
    }
    total = int(s.sum())
    if set(np.unique(np.concatenate([y_true, y_pred])).tolist()) <= set(labels):
        report["accuracy"] = accuracy_score(y_true, y_pred)
    else:
        micro = _micro(y_true, y_pred, labels, zero_division)
        report["micro avg"] = {**dict(zip(keys, micro, strict=True)), "support": total}
    for average in ("macro", "weighted"):
        values = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average,
                                                 zero_division=zero_division)[:3]
        report[f"{average} avg"] = {**dict(zip(keys, map(float, values), strict=True)), "support": total}
    return report


def _micro(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int], zero_division: float) -> tuple[float, ...]:
    tp = float(np.sum((y_true == y_pred) & np.isin(y_true, labels)))
    predicted = float(np.isin(y_pred, labels).sum())
    actual = float(np.isin(y_true, labels).sum())
    precision = tp / predicted if predicted else zero_division
    recall = tp / actual if actual else zero_division
    f1 = 2 * tp / (predicted + actual) if predicted + actual else zero_division
    return precision, recall, f1


def _labels(y_true: np.ndarray, y_pred: np.ndarray, labels) -> np.ndarray:
    if labels is not None:
        return np.asarray(list(labels))
    return np.unique(np.concatenate([y_true.ravel(), y_pred.ravel()]))


def _ratio(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    out = np.full(numerator.shape, float(zero_division))
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out

"""What a section shows about a run beyond its own test set: the other datasets it was evaluated on
(``evaluate_on``) and what was done to its model before training (``init_from``, ``freeze``, an adapted layer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reportgen.sections.base import RunGroup
from reportgen.sections.stats import summarize


def other_tests(group: RunGroup) -> list[dict[str, Any]]:
    """One entry per ``evaluate_on`` dataset: accuracy and cross-entropy over seeds (``summarize``), and the first
    finished seed's confusion matrix (rows: true class, columns: predicted), as scikit-learn computes them
    (:mod:`.metrics`)."""
    from reportgen.sections.metrics import accuracy_score, confusion_matrix

    out = []
    for name in group.spec.evaluate_on:
        accuracy, loss, matrix = [], [], None
        for r in group.results:
            test = r.extra_tests.get(name)
            if test is None:
                continue
            y, prob = test["true"], np.asarray(test["prob"], dtype=np.float64)
            labels = list(range(prob.shape[1]))
            accuracy.append(accuracy_score(y, prob.argmax(1)))
            # Cross-entropy of the stored softmax outputs (what log_loss gives, without its sum-to-one warning).
            loss.append(float(-np.log(np.maximum(prob[np.arange(len(y)), y], 1e-12)).mean()))
            if matrix is None:
                matrix = confusion_matrix(y, prob.argmax(1), labels=labels).tolist()
        out.append({"dataset": name, "accuracy": summarize(accuracy), "loss": summarize(loss),
                    "size": len(group.results[0].extra_tests[name]["true"]) if accuracy else None,
                    "confusion": matrix})
    return out


def setup_notes(group: RunGroup) -> list[str]:
    """The first finished seed's notes on its model before training (the same for every seed but the seed itself)."""
    first = group.results[0] if group.results else None
    return list(first.notes) if first is not None else []

"""What one training leaves behind: the artefacts every section computes its results from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Status = Literal["ok", "diverged", "failed"]


@dataclass
class RunResult:
    """Artefacts of one run at one seed.

    ``history`` holds one value per finished epoch for ``train_loss``, ``train_acc``, ``val_loss``,
    ``val_acc`` and ``epoch_seconds``. Test-set arrays: ``test_true`` ``(N,)`` int64, ``test_prob``
    ``(N, num_classes)`` float32 (softmax of the logits), ``test_features`` ``(N, D)`` float32 (the
    penultimate layer, for t-SNE). ``state_dict`` holds the trained weights on the CPU.
    """

    key: str
    spec: dict[str, Any]
    history: dict[str, list[float]]
    test_true: np.ndarray
    test_prob: np.ndarray
    test_features: np.ndarray
    classes: tuple[str, ...]
    params: int
    macs: int
    train_seconds: float
    status: Status = "ok"
    reason: str = ""  # why a run diverged or failed
    provenance: dict[str, Any] = field(default_factory=dict)  # versions, device, precision, date
    events: list[dict[str, Any]] = field(default_factory=list)  # {"epoch", "kind", "detail"}: LR decay, early stop
    # Test-set features after some earlier epochs (``feature_snapshots`` in the manifest): {epoch: (N, D)}.
    feature_snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    state_dict: dict[str, Any] | None = None
    # Test sets of other datasets (``evaluate_on``): {dataset name: {"true": (M,) int64, "prob": (M, C) float32}}.
    extra_tests: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was done to the model before training (init_from, freeze)

    @property
    def test_pred(self) -> np.ndarray:
        """``(N,)`` predicted class indices."""
        return self.test_prob.argmax(axis=1)

    @property
    def test_accuracy(self) -> float:
        return float((self.test_pred == self.test_true).mean()) if len(self.test_true) else float("nan")

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class RunFailure:
    """A run that raised instead of finishing; the build goes on without it."""

    key: str
    spec: dict[str, Any]
    reason: str
    status: Status = "failed"

    @property
    def ok(self) -> bool:
        return False


@dataclass
class InitState:
    """The trained weights a run starts from (``init_from``) and the class names they were trained on: a head
    trained on other classes is re-initialised even when its shape happens to fit."""

    state_dict: dict[str, Any]
    classes: tuple[str, ...] = ()


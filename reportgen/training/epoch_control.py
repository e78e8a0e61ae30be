"""What happens between epochs: divergence checks, LR decay on a plateau, early stopping.

Each decision is recorded as an event (``{"epoch", "kind", "detail"}``) so the report can mark it on the
training curves: a reader sees where the learning rate dropped or where training stopped, and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from reportgen.config.specs import TrainConfig

# A mean training loss this many times chance level (ln C for C classes) counts as exploded: no loss
# reportgen offers stays there while learning (MSE on probabilities and focal loss are bounded by it).
EXPLODED = 100.0


@dataclass
class EpochControl:
    cfg: TrainConfig
    num_classes: int
    optimizer: torch.optim.Optimizer
    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    best_val: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    _plateau: Any = None

    def __post_init__(self) -> None:
        if self.cfg.lr_schedule == "plateau":
            self._plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="min", factor=self.cfg.plateau_factor, patience=self.cfg.plateau_patience
            )

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def after_epoch(self, epoch: int, history: dict[str, list[float]], model: torch.nn.Module) -> bool:
        """Record this epoch's decisions; ``True`` means stop training now. ``epoch`` counts from 1."""
        train_loss, val_loss = history["train_loss"][-1], history["val_loss"][-1]
        if not math.isfinite(train_loss):
            return self._diverged(f"training loss became {train_loss} in epoch {epoch}")
        if train_loss > EXPLODED * math.log(self.num_classes):
            return self._diverged(f"training loss exploded to {train_loss:.3g} in epoch {epoch}")
        if val_loss < self.best_val:
            self.best_val, self.best_epoch = val_loss, epoch
            if self.cfg.early_stopping is not None:
                # Keep the best weights: early stopping returns the model from its best epoch, not its last.
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if self._plateau is not None:
            before = self.lr()
            self._plateau.step(val_loss)
            if self.lr() < before:
                self.events.append({"epoch": epoch, "kind": "lr_decay",
                                    "detail": f"learning rate {before:.3g} → {self.lr():.3g} (validation loss "
                                              f"flat for {_epochs(self.cfg.plateau_patience)})"})
        patience = self.cfg.early_stopping
        if patience is not None and epoch - self.best_epoch >= patience and epoch < self.cfg.epochs:
            window = history["train_loss"][-patience - 1:]
            falling = all(b < a for a, b in zip(window, window[1:], strict=False))
            why = " while training loss kept falling (over-fitting)" if falling else ""
            self.events.append({"epoch": epoch, "kind": "early_stop",
                                "detail": f"validation loss did not improve for {_epochs(patience)}{why}; "
                                          f"weights of epoch {self.best_epoch} restored"})
            if self.best_state is not None:
                model.load_state_dict(self.best_state)
            return True
        return False

    def _diverged(self, reason: str) -> bool:
        self.status, self.reason = "diverged", reason
        return True


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' if n != 1 else ''}"

"""Loss functions by manifest name: ``loss = "cross_entropy" | "focal" | "nll" | "mse"``.

Each takes logits ``(N, C)`` and integer targets ``(N,)`` and returns the batch mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from reportgen.config.specs import TrainConfig

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    """Lin et al. (2017): cross-entropy scaled by ``(1 - p_t)^gamma`` to down-weight easy examples."""
    log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    return (-(1.0 - log_p.exp()).pow(gamma) * log_p).mean()


def make_loss(cfg: TrainConfig) -> LossFn:
    if cfg.loss == "cross_entropy":
        return lambda z, y: F.cross_entropy(z, y, label_smoothing=cfg.label_smoothing)
    if cfg.loss == "focal":
        return lambda z, y: focal_loss(z, y, cfg.focal_gamma)
    if cfg.loss == "nll":
        # The classic pairing of log-softmax outputs with NLLLoss (as courses teach it); same optimum as CE.
        return lambda z, y: F.nll_loss(F.log_softmax(z, dim=1), y)
    if cfg.loss == "mse":
        # Squared error between softmax probabilities and one-hot targets (a common "other loss" in courses).
        return lambda z, y: F.mse_loss(F.softmax(z, dim=1), F.one_hot(y, z.shape[1]).to(z.dtype))
    raise ValueError(f"unknown loss {cfg.loss!r}")  # unreachable: the manifest checked it

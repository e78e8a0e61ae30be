"""Optimizers and learning-rate schedules by manifest name (``optimizer``, ``lr_schedule``)."""

from __future__ import annotations

import math

import torch

from reportgen.config.specs import TrainConfig


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")  # unreachable: the manifest checked it


def make_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps: int):
    """A per-step schedule over ``steps`` optimizer steps, or ``None`` for a constant rate.

    ``cosine`` anneals the rate from ``lr`` to 0 by the last step: the weights settle instead of ending on
    whatever the last large step left (a constant rate makes the final epoch's accuracy jump by points).
    """
    if cfg.lr_schedule in ("constant", "plateau"):  # plateau decays per epoch: see epoch_control.py
        return None
    if cfg.lr_schedule == "cosine":
        total = max(steps, 1)

        def cosine(step: int) -> float:
            return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
    raise ValueError(f"unknown lr_schedule {cfg.lr_schedule!r}")  # unreachable: the manifest checked it

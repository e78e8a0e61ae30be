"""Optimizers and learning-rate schedules by manifest name (``optimizer``, ``lr_schedule``, ``warmup_epochs``)."""

from __future__ import annotations

import math

import torch

from reportgen.config.specs import TrainConfig

#: Momentum when the manifest gives none: reportgen's SGD default, and PyTorch's own RMSprop default.
DEFAULT_MOMENTUM = {"sgd": 0.9, "rmsprop": 0.0}


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    momentum = cfg.momentum if cfg.momentum is not None else DEFAULT_MOMENTUM.get(cfg.optimizer, 0.0)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=momentum, weight_decay=cfg.weight_decay,
                               nesterov=cfg.nesterov)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=momentum, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")  # unreachable: the manifest checked it


def make_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps: int, steps_per_epoch: int = 1):
    """A per-step schedule over ``steps`` optimizer steps, or ``None`` for a constant rate.

    ``cosine`` anneals the rate from ``lr`` to 0 by the last step: the weights settle instead of ending on
    whatever the last large step left (a constant rate makes the final epoch's accuracy jump by points).
    ``onecycle`` is PyTorch's ``OneCycleLR`` with ``max_lr = lr``. ``warmup_epochs`` multiplies the schedule by a
    linear ramp from ``1/warmup_steps`` to 1 (Goyal et al., 2017), so large rates do not blow up the first steps.
    """
    total = max(steps, 1)
    warmup = cfg.warmup_epochs * steps_per_epoch
    if cfg.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)
    if cfg.lr_schedule == "plateau" or (cfg.lr_schedule == "constant" and not warmup):
        return None  # plateau decays per epoch: see epoch_control.py

    def ramp(step: int) -> float:
        return min(1.0, (step + 1) / warmup) if warmup else 1.0

    if cfg.lr_schedule == "cosine":
        def cosine(step: int) -> float:
            return ramp(step) * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
    if cfg.lr_schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, ramp)
    raise ValueError(f"unknown lr_schedule {cfg.lr_schedule!r}")  # unreachable: the manifest checked it

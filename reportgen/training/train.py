"""Train one run: ``train(planned, data, device) -> RunResult``. Pure: no plots, no files.

Why it is shaped like this (each choice measured on 2 CPU cores, see benchmarks/):
- the dataset stays a resident ``uint8`` tensor on the device; a batch is an index gather plus one fused
  convert-and-normalise, so there is no per-item decoding and no DataLoader in the hot loop;
- convolutional models run in ``channels_last`` (1.4–2.6× faster on CPU for these nets);
- losses and correct counts accumulate on the device and are read once per epoch: no ``.item()`` per step,
  so a GPU never waits for the host.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import torch

from reportgen.config.errors import TrainingError
from reportgen.data import DatasetSplits, Split
from reportgen.faults import checkpoint
from reportgen.models import build_model, count_macs, count_params
from reportgen.training.epoch_control import EpochControl
from reportgen.training.losses import make_loss
from reportgen.training.optim import make_optimizer, make_scheduler
from reportgen.training.result import RunResult

if TYPE_CHECKING:  # the plan is the layer above; training only reads a planned run's fields
    from reportgen.runs.plan import PlannedRun

# Evaluation batches: 128 is 4x cheaper per image than 1024 on the CPU (1024's activations overflow the caches;
# benchmarks/run.py --only train), and a GPU is fed well enough by it too.
EVAL_BATCH = 128
# A batch of 1 breaks BatchNorm in training mode; a trailing batch smaller than this is dropped.
MIN_TRAIN_BATCH = 2

HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds")
EpochCallback = Callable[[int, dict[str, float]], None]


class _Batches:
    """Turns index tensors into normalised float batches of one split, on the device."""

    def __init__(self, split: Split, mean: list[float], std: list[float], device: torch.device, conv: bool):
        self.x = split.x.to(device)  # uint8, moved once
        self.y = split.y.to(device)
        c = self.x.shape[1]
        self.scale = (1.0 / (255.0 * torch.tensor(std, device=device))).view(1, c, 1, 1)
        self.shift = (torch.tensor(mean, device=device) / torch.tensor(std, device=device)).view(1, c, 1, 1)
        self.memory_format = torch.channels_last if conv else torch.contiguous_format

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def get(self, idx: torch.Tensor | slice) -> tuple[torch.Tensor, torch.Tensor]:
        # (x/255 - mean)/std == x * scale - shift: one multiply-add on the gathered uint8 batch.
        xb = torch.addcmul(-self.shift, self.x[idx].to(torch.float32), self.scale)
        return xb.contiguous(memory_format=self.memory_format), self.y[idx]


def train(
    planned: PlannedRun,
    data: DatasetSplits,
    device: torch.device,
    on_epoch: EpochCallback | None = None,
) -> RunResult:
    """Train ``planned`` on ``data`` and evaluate it on the test split.

    Seeded and deterministic on the CPU: the same planned run gives the same numbers. A non-finite
    training loss stops training at that epoch and marks the result ``"diverged"``.
    """
    cfg = planned.run.train
    torch.manual_seed(planned.seed)  # weight initialisation
    shuffle = torch.Generator().manual_seed(planned.seed)  # batch order, independent of the init stream
    try:
        model = build_model(planned.run.arch, planned.run.model_options, data.input_shape, data.num_classes)
    except ValueError as err:
        raise TrainingError(f"cannot build model {planned.run.arch!r}: {err}") from err
    params, macs = count_params(model), count_macs(model, data.input_shape)
    model.to(device)
    if model.is_conv:
        model.to(memory_format=torch.channels_last)
    mean, std = data.channel_stats()
    train_b, val_b, test_b = (_Batches(s, mean, std, device, model.is_conv) for s in (data.train, data.val, data.test))
    loss_fn, optimizer = make_loss(cfg), make_optimizer(cfg, model.parameters())

    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
    control = EpochControl(cfg, data.num_classes, optimizer)
    snapshots: dict[int, np.ndarray] = {}
    started = time.perf_counter()
    autocast = mixed_precision(cfg.precision, device)
    n = len(train_b)
    steps_per_epoch = sum(1 for start in range(0, n, cfg.batch_size) if n - start >= MIN_TRAIN_BATCH)
    scheduler = make_scheduler(cfg, optimizer, steps_per_epoch * cfg.epochs)
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        order = torch.randperm(n, generator=shuffle).to(device)
        for start in range(0, n, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            if len(idx) < MIN_TRAIN_BATCH:
                break
            xb, yb = train_b.get(idx)
            with autocast:
                logits = model(xb)
                loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == yb).sum()
            seen += len(idx)
        train_loss = loss_sum.item() / max(seen, 1)
        val_loss, val_acc, *_ = evaluate(model, val_b, loss_fn, autocast)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(correct.item() / max(seen, 1))
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["lr"].append(control.lr())
        history["epoch_seconds"].append(time.perf_counter() - t0)
        if on_epoch is not None:
            on_epoch(epoch, {k: v[-1] for k, v in history.items()})
        checkpoint("epoch", planned.run.name)
        if epoch + 1 in cfg.feature_snapshots and epoch + 1 < cfg.epochs:
            snapshots[epoch + 1] = evaluate(model, test_b, loss_fn, autocast, keep_outputs=True)[3]
        if control.after_epoch(epoch + 1, history, model):
            break
    train_seconds = time.perf_counter() - started

    _, _, prob, features = evaluate(model, test_b, loss_fn, autocast, keep_outputs=True)
    return RunResult(
        key=planned.key,
        spec=planned.spec,
        history=history,
        test_true=data.test.y.numpy().astype(np.int64),
        test_prob=prob,
        test_features=features,
        classes=data.classes,
        params=params,
        macs=macs,
        train_seconds=train_seconds,
        status=control.status,
        reason=control.reason,
        events=control.events,
        feature_snapshots=snapshots,
        provenance=provenance(device, cfg.precision),
        state_dict={k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()},
    )


def mixed_precision(precision: str, device: torch.device):
    """The autocast context for ``precision`` on ``device`` (a no-op for float32); bfloat16 where the hardware
    has no bf16 support is an error, not a silent slowdown or a silent fallback."""
    if precision == "float32":
        return contextlib.nullcontext()
    supported = (torch.cuda.is_bf16_supported() if device.type == "cuda"
                 else device.type == "cpu" and torch.backends.mkldnn.is_available()
                 and bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)()))
    if not supported:
        raise TrainingError(f'precision "bfloat16" is not supported on {device}: use "float32"')
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@torch.inference_mode()
def evaluate(model, batches: _Batches, loss_fn, autocast=None, keep_outputs: bool = False):
    """``(mean loss, accuracy, probabilities (N, C) | None, features (N, D) | None)`` over a split."""
    model.eval()
    n = len(batches)
    loss_sum, correct = 0.0, 0
    probs, feats = [], []
    for start in range(0, n, EVAL_BATCH):
        xb, yb = batches.get(slice(start, start + EVAL_BATCH))
        with autocast or contextlib.nullcontext():
            features = model.forward_features(xb)
            logits = model.forward_head(features)
        loss_sum += float(loss_fn(logits.float(), yb)) * len(yb)
        correct += int((logits.argmax(1) == yb).sum())
        if keep_outputs:
            probs.append(torch.softmax(logits.float(), dim=1).cpu())
            feats.append(features.float().cpu())
    if not keep_outputs:
        return loss_sum / max(n, 1), correct / max(n, 1), None, None
    return (
        loss_sum / max(n, 1),
        correct / max(n, 1),
        torch.cat(probs).numpy().astype(np.float32),
        torch.cat(feats).numpy().astype(np.float32),
    )


def provenance(device: torch.device, precision: str = "float32") -> dict:
    """What produced a run: versions, device, precision and time (airbench keeps the same beside results)."""
    from reportgen import __version__

    return {
        "reportgen": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "device_name": (
            torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
        ),
        "threads": torch.get_num_threads(),
        "precision": precision,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

"""Train one run: ``train(planned, data, device) -> RunResult``. Pure: no plots, no files.

Why it is shaped like this (each choice measured on 2 CPU cores, see benchmarks/):
- the dataset stays a resident ``uint8`` tensor on the device; a batch is an index gather plus one fused
  convert-and-normalise, so there is no per-item decoding and no DataLoader in the hot loop;
- convolutional models run in ``channels_last`` (1.4–2.6× faster on CPU for these nets);
- losses and correct counts accumulate on the device and are read once per epoch (and once per evaluation pass):
  no ``.item()`` per step, so a GPU never waits for the host.
On a GPU the same loop runs with the splits resident in GPU memory (moved once per run). ``torch.compile`` and CUDA
graphs are not used: whether they pay off at these sizes has not been measured on a GPU yet (benchmarks/gpu.sh).
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from reportgen.models import build_run_model, count_macs, count_params
from reportgen.models.features import FeatureTap, uses_conv
from reportgen.training.device import deterministic_mode, deterministic_wanted
from reportgen.training.epoch_control import EpochControl
from reportgen.training.losses import make_loss
from reportgen.training.optim import make_optimizer, make_scheduler
from reportgen.training.result import InitState, RunResult

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
    *,
    init_state: InitState | dict[str, torch.Tensor] | None = None,
    extra_tests: dict[str, Split] | None = None,
    deterministic: bool | None = None,
) -> RunResult:
    """Train ``planned`` on ``data`` and evaluate it on the test split (and on each of ``extra_tests``, the test
    splits of the datasets it is also evaluated on, normalised with this run's training statistics).

    ``init_state`` (the trained weights of the run it starts from, ``init_from``) replaces the fresh initialisation
    wherever names and shapes match; a head of another class count stays fresh, and the result's events say so.
    Seeded and deterministic on the CPU: the same planned run gives the same numbers. A non-finite
    training loss stops training at that epoch and marks the result ``"diverged"``. With ``resample_split`` the
    train/validation partition is first re-drawn for the run's seed (the test split stays the dataset's own).

    ``deterministic`` (default: whether ``reportgen build --deterministic`` asked for it) trains with torch's
    deterministic algorithms (:func:`~reportgen.training.device.deterministic_mode`); the provenance records it,
    with the operations that had no deterministic implementation on ``device``.
    """
    if deterministic is None:
        deterministic = deterministic_wanted()
    with deterministic_mode(deterministic) as unsafe_ops:
        result = _train(planned, data, device, on_epoch, init_state, extra_tests)
    result.provenance["deterministic"] = deterministic
    if unsafe_ops:
        result.provenance["nondeterministic_ops"] = unsafe_ops
    return result


def _train(planned: PlannedRun, data: DatasetSplits, device: torch.device, on_epoch: EpochCallback | None,
           init_state: InitState | dict[str, torch.Tensor] | None, extra_tests: dict[str, Split] | None) -> RunResult:
    cfg = planned.run.train
    split_notes = []
    if cfg.resample_split:
        data, note = resample_split(data, planned.seed)
        split_notes.append(note)
    torch.manual_seed(planned.seed)  # weight initialisation
    shuffle = torch.Generator().manual_seed(planned.seed)  # batch order, independent of the init stream
    try:
        model = build_run_model(planned.run, data.input_shape, data.num_classes)
    except ValueError as err:
        raise TrainingError(f"cannot build model {planned.run.arch!r}: {err}") from err
    # What happened to the model (and its data) before training, in words.
    notes = [*split_notes, *getattr(model, "build_notes", [])]
    if init_state is not None:
        if not isinstance(init_state, InitState):
            init_state = InitState(init_state)
        notes.append(start_from(model, init_state.state_dict, planned, init_state.classes, data.classes))
    if cfg.freeze:
        notes.append(freeze(model, cfg.freeze))
    params, macs = count_params(model), count_macs(model, data.input_shape)
    conv = uses_conv(model)
    model.to(device)
    if conv:
        model.to(memory_format=torch.channels_last)
    mean, std = data.channel_stats()
    train_b, val_b, test_b = (_Batches(s, mean, std, device, conv) for s in (data.train, data.val, data.test))
    trainable = [p for p in model.parameters() if p.requires_grad]
    loss_fn, optimizer = make_loss(cfg), make_optimizer(cfg, trainable)
    augment = make_augmenter(cfg.augment, planned.seed, device, mean, std)

    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
    control = EpochControl(cfg, data.num_classes, optimizer)
    snapshots: dict[int, np.ndarray] = {}
    started = time.perf_counter()
    autocast = mixed_precision(cfg.precision, device)
    n = len(train_b)
    steps_per_epoch = sum(1 for start in range(0, n, cfg.batch_size) if n - start >= MIN_TRAIN_BATCH)
    scheduler = make_scheduler(cfg, optimizer, steps_per_epoch * cfg.epochs, steps_per_epoch)
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
            if augment is not None:
                xb = augment(xb)
            with autocast:
                logits = model(xb)
                loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(trainable, cfg.grad_clip)
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
    extra = {}
    for name, split in (extra_tests or {}).items():
        extra_prob = evaluate(model, _Batches(split, mean, std, device, conv), loss_fn, autocast, keep_outputs=True)[2]
        extra[name] = {"true": split.y.numpy().astype(np.int64), "prob": extra_prob}
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
        extra_tests=extra,
        notes=notes,
    )


def resample_split(data: DatasetSplits, seed: int) -> tuple[DatasetSplits, str]:
    """``data`` with train and validation re-drawn from their pooled images for ``seed`` (stratified, the same
    per-class sizes; ``resample_split``), and a sentence saying so, the same for every seed. The fingerprint stays
    the dataset's: the run's key holds it beside the flag and the seed, which together decide the new partition."""
    from reportgen.data.split import resample_train_val

    if not len(data.val):
        return data, "resample_split: nothing to re-draw, the dataset has no validation images"
    train, val = resample_train_val(data.train, data.val, seed)
    note = (f"training and validation images re-drawn for each seed from their pooled {len(train) + len(val):,} "
            f"(resample_split; stratified, {len(train):,} + {len(val):,} as in the dataset's split; test set fixed)")
    return dataclasses.replace(data, train=train, val=val), note


def start_from(model: torch.nn.Module, state: dict[str, torch.Tensor], planned: PlannedRun,
               source_classes: tuple[str, ...] = (), classes: tuple[str, ...] = ()) -> str:
    """Load the source run's weights into ``model`` where names and shapes match; a sentence saying what happened.
    When the source was trained on other classes (names given and different), the head (the last ``nn.Linear``)
    keeps its fresh initialisation even if its shape fits: its outputs meant other classes."""
    from reportgen.models.external import copy_matching

    head = ""
    if source_classes and classes and tuple(source_classes) != tuple(classes):
        linears = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
        head = linears[-1] if linears else ""
        state = {k: v for k, v in state.items() if not (head and k.startswith(head + "."))}
    loaded, fresh = copy_matching(model, state)
    source = planned.spec.get("init_from", {}).get("run", "the source run")
    if not loaded:
        raise TrainingError(f"init_from: no weight of run {source!r} fits this model (different architecture?)")
    text = f"started from the trained weights of run {source} (seed {planned.seed}): {loaded} tensors"
    if head:
        text += (f"; its head ({head}) was re-initialised, since the source was trained on other classes "
                 f"({_few(source_classes)} instead of {_few(classes)})")
    elif fresh:
        shown = ", ".join(fresh[:4]) + (", …" if len(fresh) > 4 else "")
        text += f"; {len(fresh)} re-initialised because their shapes differ (a new head: {shown})"
    return text


def _few(names) -> str:
    return ", ".join(str(n) for n in list(names)[:3]) + (", …" if len(names) > 3 else "")


def freeze(model: torch.nn.Module, prefixes: tuple[str, ...]) -> str:
    """Stop training the parameters whose names start with one of ``prefixes``; a sentence saying how many."""
    names = [n for n, _ in model.named_parameters()]
    for prefix in prefixes:
        if not any(n.startswith(prefix) for n in names):
            shown = ", ".join(dict.fromkeys(n.split(".")[0] for n in names))
            raise TrainingError(f'freeze: "{prefix}" matches no parameter (top-level names: {shown})')
    frozen = 0
    for name, p in model.named_parameters():
        if name.startswith(tuple(prefixes)):
            p.requires_grad_(False)
            frozen += p.numel()
    total = sum(p.numel() for p in model.parameters())
    return f"froze {frozen:,} of {total:,} parameters ({', '.join(prefixes)})"


def make_augmenter(options: dict | None, seed: int, device: torch.device, mean: list[float], std: list[float]):
    """The run's batch augmenter, or ``None`` when it augments nothing (unaugmented runs keep their exact numbers)."""
    if not options:
        return None
    from reportgen.training.augment import Augment, BatchAugmenter

    augmenter = BatchAugmenter(Augment(**options), seed, device, mean=mean, std=std)
    return augmenter if augmenter.active else None


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
    tap = FeatureTap(model)
    n = len(batches)
    device = batches.y.device
    # Sums stay on the device and are read once, so a GPU never waits for the host between batches; the loss sum is
    # float64, as the Python float it replaced, so CPU numbers are unchanged.
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    probs, feats = [], []
    for start in range(0, n, EVAL_BATCH):
        xb, yb = batches.get(slice(start, start + EVAL_BATCH))
        with autocast or contextlib.nullcontext():
            features, logits = tap(xb)
        loss_sum += loss_fn(logits.float(), yb).to(torch.float64) * len(yb)
        correct += (logits.argmax(1) == yb).sum()
        if keep_outputs:
            probs.append(torch.softmax(logits.float(), dim=1))
            feats.append(features.float())
    mean_loss, accuracy = loss_sum.item() / max(n, 1), correct.item() / max(n, 1)
    if not keep_outputs:
        return mean_loss, accuracy, None, None
    return (
        mean_loss,
        accuracy,
        torch.cat(probs).cpu().numpy().astype(np.float32),
        torch.cat(feats).cpu().numpy().astype(np.float32),
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

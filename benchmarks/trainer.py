"""The trainer's training throughput vs the floor, per distinct (model, batch size) of the manifest.

Trainer: ``reportgen.training.train.train`` on the run's real data, a 2-epoch copy of the run, seed 0, on the
benchmark's device (``--device``; the CPU unless said).
Its ``epoch_seconds`` include the validation pass; ``evaluate`` is wrapped (here, not in the library) to time
each call, so the training part of an epoch is ``epoch_seconds - validation`` and evaluation is reported apart.

Floor: the same model (``build_model``, ``channels_last`` for conv nets), loss and optimizer doing
forward + backward + step over the training split held as resident, already-normalised float tensors, cut
into the same batches beforehand: no gather, no conversion, no scheduler, no bookkeeping, no evaluation. On a
GPU the tensors are resident in its memory and each epoch ends with a synchronisation (the trainer's epoch ends with
one too: it reads its loss sum).

Each repetition times two epochs of each, back to back, and keeps the faster epoch of each: the first epoch
can pay one-off set-up (oneDNN primitives), and on a shared machine a neighbour's burst only ever adds time.
Overhead % = trainer's training seconds per epoch / floor's seconds per epoch − 1, paired within a repetition;
the table shows medians over repetitions.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace

from benchmarks.common import Row, Settings, synchronize

EPOCHS = 2
OVERHEAD_TARGET = 15.0  # % (issue 6)
QUICK_SIZES = (256, 128, 128)  # train, val, test items in --quick
EVAL_BATCHES = (64, 128, 256, 1024)  # evaluation batch sizes tried (the trainer's EVAL_BATCH is one of them)


def distinct_trainings(plan) -> list[tuple[str, object]]:
    """``(label, planned run)`` per distinct (architecture, model options, batch size), in plan order.

    A sweep's variation that only changes the batch size is labelled after the manifest run with the same model.
    """
    named = {}  # model identity -> the manifest run's name and batch size
    for planned in plan.runs:
        if ":" not in planned.run.name:
            named.setdefault(_model_id(planned.run), (planned.run.name, planned.run.train.batch_size))
    out: dict[tuple, tuple[str, object]] = {}
    for planned in plan.runs:
        run = planned.run
        key = (_model_id(run), run.train.batch_size)
        if key in out:
            continue
        name, batch = named.get(_model_id(run), (run.name, run.train.batch_size))
        label = name if batch == run.train.batch_size else f"{name} bs{run.train.batch_size}"
        out[key] = (label, planned)
    return list(out.values())


def _model_id(run) -> tuple:
    return run.arch, json.dumps(run.model_options, sort_keys=True, default=str)


def quick_data(data):
    """The first few items of each split (``--quick``): seconds instead of minutes; meaningless figures."""
    from reportgen.data import DatasetSplits, Split

    splits = [Split(s.x[:n].clone(), s.y[:n].clone()) for s, n in zip((data.train, data.val, data.test), QUICK_SIZES,
                                                                       strict=True)]
    return DatasetSplits(*splits, classes=data.classes, fingerprint=data.fingerprint)


def time_trainer(planned, data, epochs: int = EPOCHS, device: str = "cpu") -> dict:
    """One ``train()`` of an ``epochs``-epoch copy of ``planned`` at seed 0: per-epoch training and validation
    seconds, the end-of-run test evaluation and the wall time of the call."""
    import torch

    from reportgen.runs.plan import PlannedRun
    from reportgen.training import train as train_module

    run = replace(planned.run, train=replace(planned.run.train, epochs=epochs))
    short = PlannedRun(run, 0, planned.key, planned.spec)
    calls: list[tuple[bool, float]] = []
    original = train_module.evaluate

    def timed_evaluate(*args, **kwargs):  # whatever the library's signature is this week
        start = time.perf_counter()
        out = original(*args, **kwargs)
        calls.append((bool(kwargs.get("keep_outputs")), time.perf_counter() - start))
        return out

    train_module.evaluate = timed_evaluate
    try:
        start = time.perf_counter()
        result = train_module.train(short, data, torch.device(device))
        wall = time.perf_counter() - start
    finally:
        train_module.evaluate = original
    val = [s for keep, s in calls if not keep]  # one per epoch; snapshots and the test pass keep outputs
    epoch_seconds = result.history["epoch_seconds"]
    return {
        "train_s": [e - v for e, v in zip(epoch_seconds, val, strict=True)],
        "val_s": val,
        "test_s": calls[-1][1],
        "wall_s": wall,
        "samples": _samples(len(data.train), run.train.batch_size),
    }


def time_floor(planned, data, epochs: int = EPOCHS, device: str = "cpu") -> list[float]:
    """Seconds per epoch of the tight forward/backward/step loop over resident normalised tensors."""
    import torch

    from reportgen.models import build_model
    from reportgen.training.losses import make_loss
    from reportgen.training.optim import make_optimizer
    from reportgen.training.train import MIN_TRAIN_BATCH

    run, cfg = planned.run, planned.run.train
    torch.manual_seed(0)
    model = build_model(run.arch, run.model_options, data.input_shape, data.num_classes).to(device)
    layout = torch.channels_last if model.is_conv else torch.contiguous_format
    model.to(memory_format=layout)
    mean, std = (torch.tensor(v, device=device).view(1, -1, 1, 1) for v in data.channel_stats())
    x = ((data.train.x.to(device, torch.float32) / 255.0 - mean) / std).contiguous(memory_format=layout)
    y, n, bs = data.train.y.to(device), len(data.train), cfg.batch_size
    batches = [(x[s : s + bs], y[s : s + bs]) for s in range(0, n, bs) if n - s >= MIN_TRAIN_BATCH]
    loss_fn, optimizer = make_loss(cfg), make_optimizer(cfg, model.parameters())
    autocast = _precision(cfg, device)
    model.train()
    times = []
    for _ in range(epochs):
        synchronize(device)
        start = time.perf_counter()
        for xb, yb in batches:
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def _precision(cfg, device: str = "cpu"):
    """The run's autocast context, as the trainer makes it (float32: none)."""
    import contextlib

    import torch

    from reportgen.training import train as train_module

    precision = getattr(cfg, "precision", "float32")
    if precision == "float32" or not hasattr(train_module, "mixed_precision"):
        return contextlib.nullcontext()
    return train_module.mixed_precision(precision, torch.device(device))


def _samples(n: int, batch_size: int) -> int:
    """Items one training epoch sees (a trailing batch of one is dropped, as the trainer does)."""
    from reportgen.training.train import MIN_TRAIN_BATCH

    tail = n % batch_size
    return n - tail if 0 < tail < MIN_TRAIN_BATCH else n


def trainer_rows(settings: Settings) -> tuple[list[Row], dict]:
    """Rows per distinct training, and what the cold-build floor needs (``measured``)."""
    from reportgen.config.manifest import load_manifest
    from reportgen.runs.plan import load_run_data, make_plan

    plan = make_plan(load_manifest(settings.manifest))
    combos = distinct_trainings(plan)[: 1 if settings.quick else None]
    data_of = {}
    for label, planned in combos:
        data = load_run_data(plan.manifest, planned.run)
        data_of[label] = quick_data(data) if settings.quick else data
    per: dict[str, dict[str, list]] = {label: {"trainer": [], "floor": []} for label, _ in combos}
    for _ in range(1 if settings.quick else settings.repeat):
        for label, planned in combos:  # interleaved: a noisy minute hits every model alike
            per[label]["trainer"].append(time_trainer(planned, data_of[label], device=settings.device))
            per[label]["floor"].append(time_floor(planned, data_of[label], device=settings.device))
    rows, measured = [], {}
    for label, planned in combos:
        trainer, floor = per[label]["trainer"], per[label]["floor"]
        n = trainer[0]["samples"]
        t_sps = [n / min(t["train_s"]) for t in trainer]
        f_sps = [n / min(f) for f in floor]
        overhead = [100.0 * (min(t["train_s"]) / min(f) - 1.0) for t, f in zip(trainer, floor, strict=True)]
        val = statistics.median(min(t["val_s"]) for t in trainer)
        test = statistics.median(t["test_s"] for t in trainer)
        train_epoch = statistics.median(min(t["train_s"]) for t in trainer)
        first = statistics.median(n / t["train_s"][0] for t in trainer)
        sizes = {"train": len(data_of[label].train), "val": len(data_of[label].val), "test": len(data_of[label].test)}
        measured[label] = {"planned": planned, "floor_sps": f_sps, "trainer_sps": t_sps,
                           "val_s_per_item": val / sizes["val"], "test_s_per_item": test / sizes["test"]}
        cfg = planned.run.train
        what = f"train {label} (bs {cfg.batch_size})"
        rows.append(Row(f"{what} trainer", t_sps, "samples/s",
                        note=f"training part of the faster epoch (first epoch {first:,.0f}/s); + validation "
                             f"{val:.2f} s/epoch (+{100 * val / train_epoch:.0f} % on top), test eval {test:.2f} s "
                             "at the end",
                        extra={"train_s": [t["train_s"] for t in trainer], "val_s": [t["val_s"] for t in trainer],
                               "test_s": [t["test_s"] for t in trainer], "call_s": [t["wall_s"] for t in trainer],
                               "sizes": sizes}))
        rows.append(Row(f"{what} floor", f_sps, "samples/s",
                        note="fwd+bwd+step over resident normalised tensors, faster of 2 epochs",
                        extra={"epoch_s": floor}))
        best = 100.0 * (min(min(t["train_s"]) for t in trainer) / min(min(f) for f in floor) - 1.0)
        rows.append(Row(f"{what} overhead", overhead, "%", ("<=", OVERHEAD_TARGET),
                        note=f"trainer s/epoch ÷ floor s/epoch − 1, paired per repetition; best epoch vs best epoch "
                             f"over all repetitions: {best:+.1f} %", extra={"best_vs_best": best}))
    return rows, {"plan": plan, "measured": measured}


def cold_floor_rows(plan, measured: dict) -> list[Row]:
    """The floor of a cold build: every planned training at its (model, batch size)'s floor throughput."""
    from reportgen.runs.plan import load_run_data

    by_key = {(_model_id(m["planned"].run), m["planned"].run.train.batch_size): m for m in measured.values()}
    reps = min(len(m["floor_sps"]) for m in measured.values())
    floor, trainer, missing = [0.0] * reps, [0.0] * reps, []
    for planned in plan.runs:
        m = by_key.get((_model_id(planned.run), planned.run.train.batch_size))
        if m is None:
            missing.append(planned.run.name)
            continue
        data = load_run_data(plan.manifest, planned.run)
        epochs = planned.run.train.epochs
        items = epochs * _samples(len(data.train), planned.run.train.batch_size)
        evaluation = epochs * len(data.val) * m["val_s_per_item"] + len(data.test) * m["test_s_per_item"]
        for i in range(reps):
            floor[i] += items / m["floor_sps"][i]
            trainer[i] += items / m["trainer_sps"][i] + evaluation
    n = len(plan.runs) - len(missing)
    how = ("per (model, batch size) measured; loss/optimizer/split variations use their (model, batch size) figure, "
           "scaled by their training-split size and epochs")
    if missing:
        how += f"; {len(missing)} runs had no measurement and are left out"
    return [
        Row(f"cold build floor: {n} trainings, training only", floor, "s", note=how),
        Row(f"cold build trainer estimate: {n} trainings + evaluation", trainer, "s",
            note="trainer's measured training throughput + its validation and test passes, same scaling"),
    ]


def eval_batch_rows(settings: Settings) -> list[Row]:
    """``evaluate`` on the validation split of the first distinct training, at several evaluation batch sizes
    (the trainer's ``EVAL_BATCH`` is patched for the call and restored): is a bigger batch cheaper per item?"""
    import torch

    from reportgen.config.manifest import load_manifest
    from reportgen.models import build_model
    from reportgen.runs.plan import load_run_data, make_plan
    from reportgen.training import train as train_module
    from reportgen.training.losses import make_loss

    plan = make_plan(load_manifest(settings.manifest))
    label, planned = distinct_trainings(plan)[0]
    data = load_run_data(plan.manifest, planned.run)
    data = quick_data(data) if settings.quick else data
    torch.manual_seed(0)
    device = torch.device(settings.device)
    model = build_model(planned.run.arch, planned.run.model_options, data.input_shape, data.num_classes).to(device)
    if model.is_conv:
        model.to(memory_format=torch.channels_last)
    val = train_module._Batches(data.val, *data.channel_stats(), device, model.is_conv)
    loss_fn, current = make_loss(planned.run.train), train_module.EVAL_BATCH
    times: dict[int, list[float]] = {b: [] for b in EVAL_BATCHES}
    try:
        for _ in range(1 if settings.quick else settings.repeat):
            for batch in EVAL_BATCHES:  # interleaved, best of 3 calls each
                train_module.EVAL_BATCH = batch
                best = float("inf")
                for _ in range(3):
                    start = time.perf_counter()
                    train_module.evaluate(model, val, loss_fn)
                    best = min(best, time.perf_counter() - start)
                times[batch].append(best)
    finally:
        train_module.EVAL_BATCH = current
    return [Row(f"evaluate {label}, {len(val)} val items, batch {b}", v, "s",
                note="the trainer's EVAL_BATCH" if b == current else "") for b, v in times.items()]

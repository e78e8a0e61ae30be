"""Real, tiny trained runs for section tests: 20 digits per class per split, small nets, one or two epochs.

``tiny_group("conv")`` trains (once per process, memoised) and returns a RunGroup with its dataset and the
weights kept in memory, exactly what a section receives during a build.
"""

from __future__ import annotations

from pathlib import Path

import torch

from reportgen.config.specs import RunSpec, TrainConfig
from reportgen.data import load_dataset
from reportgen.runs.plan import PlannedRun, run_key, training_code_hash
from reportgen.sections import RunGroup
from reportgen.training.train import train

TINY_DATA = {
    "split": (0.6, 0.2, 0.2),
    "class_caps": {str(d): 20 for d in range(10)},
    "caps_apply_to": "all",
}

TINY_MODELS = {
    "conv": ("C2", "conv_mobilenet", {"conv_blocks": 2, "mobilenet_blocks": 0, "channels": 8}),
    "mobilenet": ("C1+M1", "conv_mobilenet", {"conv_blocks": 1, "mobilenet_blocks": 1, "channels": 8}),
    "mlp": ("MLP", "mlp", {"hidden": (32,)}),
    # A student's own nn.Module from a file (tests/user_models/models.py), as `arch = "models.py:StudentNet"`.
    "student": ("Student", "models.py:StudentNet", {"width": 4}),
    "student_wide": ("Student, wide", "models.py:StudentNet", {"width": 8}),
}
USER_MODELS = Path(__file__).resolve().parent / "user_models"


def tiny_data(**overrides):
    return load_dataset("mnist5k", {**TINY_DATA, **overrides}, Path("."))


def tiny_spec(name: str, *, epochs: int = 2, lr: float = 0.01, **train) -> RunSpec:
    label, arch, options = TINY_MODELS[name]
    return RunSpec(name, label, "mnist5k", arch, options, TrainConfig(epochs=epochs, batch_size=32, lr=lr, **train),
                   base_dir=str(USER_MODELS))


def train_spec(spec: RunSpec, seed: int, data=None):
    """Train ``spec`` at ``seed`` on the tiny data (or ``data``) and return the RunResult (weights included)."""
    data = data if data is not None else tiny_data(**spec.dataset_overrides)
    resolved = {"name": spec.name, "arch": spec.arch, "model": spec.model_options, "train": repr(spec.train),
                "data": data.fingerprint, "seed": seed, "code": training_code_hash()}
    planned = PlannedRun(spec, seed, run_key(resolved), resolved)
    return train(planned, data, torch.device("cpu"))


_TRAINED: dict[str, tuple] = {}


def _trained(spec: RunSpec, seeds: tuple[int, ...]):
    key = repr((spec, seeds))  # RunSpec holds dicts, so it is not hashable; its repr is exact
    if key not in _TRAINED:
        _TRAINED[key] = tuple(train_spec(spec, s) for s in seeds)
    return _TRAINED[key]


def group_for(spec: RunSpec, seeds: tuple[int, ...] = (0,)) -> RunGroup:
    """A RunGroup of ``spec`` trained at ``seeds`` on the tiny data (memoised per spec and seeds)."""
    outcomes = list(_trained(spec, seeds))
    return RunGroup(spec.name, spec, list(seeds), outcomes, data=tiny_data(**spec.dataset_overrides))


def tiny_group(name: str, seeds: tuple[int, ...] = (0,), **train) -> RunGroup:
    return group_for(tiny_spec(name, **train), seeds)

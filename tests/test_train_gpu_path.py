"""The GPU path's pieces, checked on the CPU: --deterministic leaves CPU numbers unchanged and is recorded, the
operations without a deterministic implementation are named, torch's settings are restored, the environment carries
the request to worker processes, and --jobs auto packs a few trainings onto one GPU."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

from reportgen.cli import build_parser
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import load_run_data, make_plan
from reportgen.training.device import (
    DETERMINISTIC_ENV,
    GPU_JOBS,
    deterministic_mode,
    deterministic_requested,
    deterministic_wanted,
    trainings_per_device,
)
from reportgen.training.train import train


@pytest.fixture(scope="module")
def planned_and_data(tmp_path_factory):
    from tests.conftest import TINY_MANIFEST

    path = tmp_path_factory.mktemp("gpu-path") / "experiments.toml"
    path.write_text(TINY_MANIFEST.replace("epochs = 1", "epochs = 2\naugment = { crop = 2, hflip = true }"))
    plan = make_plan(load_manifest(path))
    planned = plan.runs[0]
    return planned, load_run_data(plan.manifest, planned.run)


def test_deterministic_training_gives_the_same_numbers_on_the_cpu_and_says_so(planned_and_data):
    planned, data = planned_and_data
    plain = train(planned, data, torch.device("cpu"), deterministic=False)
    exact = train(planned, data, torch.device("cpu"), deterministic=True)
    for key in ("train_loss", "val_loss", "val_acc"):
        assert plain.history[key] == exact.history[key], key
    assert np.array_equal(plain.test_prob, exact.test_prob)
    assert plain.provenance["deterministic"] is False and exact.provenance["deterministic"] is True
    assert "nondeterministic_ops" not in exact.provenance  # nothing on this path lacks a deterministic kernel
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the run


def test_train_follows_the_build_request_through_the_environment(planned_and_data, monkeypatch):
    planned, data = planned_and_data
    monkeypatch.delenv(DETERMINISTIC_ENV, raising=False)
    with deterministic_requested(True):
        assert deterministic_wanted() and os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        assert train(planned, data, torch.device("cpu")).provenance["deterministic"] is True
    assert not deterministic_wanted() and DETERMINISTIC_ENV not in os.environ
    with deterministic_requested(False):
        assert not deterministic_wanted()


def test_deterministic_mode_names_the_ops_without_a_deterministic_kernel_and_restores_torch():
    torch.backends.cudnn.benchmark = True
    try:
        with deterministic_mode(True) as ops:
            assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
            assert not torch.backends.cudnn.benchmark
            for _ in range(3):  # put_ has no deterministic implementation: it warns (warn_only), every call
                torch.zeros(3).put_(torch.tensor([0]), torch.ones(1))
        assert ops == ["put_"]
        assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
        assert not torch.backends.cudnn.deterministic
    finally:
        torch.backends.cudnn.benchmark = False


def test_other_warnings_pass_through_deterministic_mode():
    with pytest.warns(UserWarning, match="someone else's warning"), deterministic_mode(True):
        warnings.warn("someone else's warning", UserWarning, stacklevel=1)


def test_a_gpu_takes_a_few_trainings_at_once():
    assert trainings_per_device("cpu", 6) == 6
    assert trainings_per_device("cuda", 16) == GPU_JOBS == 4
    assert trainings_per_device("cuda", 2) == 2  # one core per training process
    assert trainings_per_device("mps", 8) == 1
    assert trainings_per_device("cpu", 0) == 1


def test_build_takes_deterministic():
    args = build_parser().parse_args(["build", "experiments.toml", "--deterministic"])
    assert args.deterministic is True
    assert build_parser().parse_args(["build", "experiments.toml"]).deterministic is False

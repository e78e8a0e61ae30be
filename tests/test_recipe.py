"""The training recipe's keys: rmsprop, momentum, nesterov, warm-up, one-cycle, gradient clipping, augmentation."""

from __future__ import annotations

import math

import pytest
import torch

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import check_recipe
from reportgen.config.specs import TrainConfig
from reportgen.training.optim import make_optimizer, make_scheduler


def _params():
    return [torch.nn.Parameter(torch.zeros(3))]


@pytest.mark.parametrize(("cfg", "kind", "expected"), [
    (TrainConfig(optimizer="sgd"), torch.optim.SGD, {"momentum": 0.9, "nesterov": False}),
    (TrainConfig(optimizer="sgd", momentum=0.5, nesterov=True), torch.optim.SGD, {"momentum": 0.5, "nesterov": True}),
    (TrainConfig(optimizer="rmsprop"), torch.optim.RMSprop, {"momentum": 0.0}),
    (TrainConfig(optimizer="rmsprop", momentum=0.5, weight_decay=5e-4), torch.optim.RMSprop,
     {"momentum": 0.5, "weight_decay": 5e-4}),
    (TrainConfig(optimizer="adamw", weight_decay=0.05), torch.optim.AdamW, {"weight_decay": 0.05}),
])
def test_optimizers_get_their_settings(cfg, kind, expected):
    optimizer = make_optimizer(cfg, _params())
    assert type(optimizer) is kind
    assert {k: optimizer.param_groups[0][k] for k in expected} == expected


def _rates(cfg: TrainConfig, steps_per_epoch: int = 4) -> list[float]:
    optimizer = make_optimizer(cfg, _params())
    scheduler = make_scheduler(cfg, optimizer, steps_per_epoch * cfg.epochs, steps_per_epoch)
    rates = []
    for _ in range(steps_per_epoch * cfg.epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return rates


def test_warmup_ramps_the_rate_linearly_then_hands_over_to_the_schedule():
    rates = _rates(TrainConfig(lr=0.1, epochs=3, warmup_epochs=1))
    assert rates[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1]) and rates[4:] == pytest.approx([0.1] * 8)
    cosine = _rates(TrainConfig(lr=0.1, epochs=3, warmup_epochs=1, lr_schedule="cosine"))
    assert cosine[0] == pytest.approx(0.025 * 0.5 * (1 + math.cos(0)))
    assert cosine[6] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 6 / 12)))


def test_onecycle_rises_to_lr_and_falls_far_below_it():
    rates = _rates(TrainConfig(lr=0.1, epochs=5, lr_schedule="onecycle"))
    peak = max(rates)
    assert peak == pytest.approx(0.1, rel=0.05) and rates[0] < 0.01 and rates[-1] < 1e-3
    assert rates.index(peak) < len(rates) // 2


def test_no_schedule_no_warmup_means_no_scheduler():
    assert make_scheduler(TrainConfig(), make_optimizer(TrainConfig(), _params()), 10, 5) is None


@pytest.mark.parametrize(("cfg", "where", "message"), [
    (TrainConfig(optimizer="adam", momentum=0.5), "r.momentum", 'applies to optimizer "sgd" or "rmsprop" only'),
    (TrainConfig(optimizer="rmsprop", nesterov=True), "r.nesterov", 'needs optimizer "sgd" with momentum > 0'),
    (TrainConfig(optimizer="sgd", momentum=0.0, nesterov=True), "r.nesterov", "momentum > 0"),
    (TrainConfig(lr_schedule="onecycle", warmup_epochs=1, epochs=3), "r.warmup_epochs", "warms up by itself"),
    (TrainConfig(warmup_epochs=3, epochs=3), "r.warmup_epochs", "must be below epochs (= 3)"),
    (TrainConfig(augment={"crop": -1}), "r.augment.crop", "must be >= 0"),
    (TrainConfig(augment={"flip": True}), "r.augment.flip", 'did you mean "hflip"'),
])
def test_impossible_recipes_are_located_errors(cfg, where, message):
    with pytest.raises(ManifestError) as info:
        check_recipe(cfg, "r")
    assert str(info.value).startswith(f"{where}: ") and message in str(info.value)


def test_built_in_models_accept_dropout_one():
    from reportgen.models import build_model

    model = build_model("mlp", {"dropout": 1.0, "hidden": [8]}, (1, 28, 28), 10)
    x = torch.randn(4, 1, 28, 28)
    model.train()
    hidden = model.forward_features(x)
    assert torch.count_nonzero(hidden) == 0  # every unit dropped while training, as PyTorch defines p = 1
    model.eval()
    assert torch.count_nonzero(model.forward_features(x)) > 0


def test_grad_clip_bounds_the_update(tmp_path, tiny_manifest_text, write_manifest):
    from reportgen.config.manifest import load_manifest
    from reportgen.runs.plan import load_run_data, make_plan
    from reportgen.training.train import train

    text = tiny_manifest_text.replace("lr = 0.01", 'lr = 0.5\noptimizer = "sgd"\nmomentum = 0.0\ngrad_clip = 1e-6')
    manifest = load_manifest(write_manifest(text))
    planned = make_plan(manifest).by_name["conv"][0]
    data = load_run_data(manifest, planned.run)
    result = train(planned, data, torch.device("cpu"))
    torch.manual_seed(planned.seed)
    from reportgen.models import build_run_model

    initial = build_run_model(planned.run, data.input_shape, data.num_classes).state_dict()
    steps = math.ceil(len(data.train) / planned.run.train.batch_size)
    moved = torch.sqrt(sum(((result.state_dict[k] - v) ** 2).sum() for k, v in initial.items()
                           if v.dtype.is_floating_point and "running" not in k))
    assert 0 < moved <= steps * 0.5 * 1e-6 * 1.01  # each step moves the weights by at most lr * max norm


def test_augmentation_is_seeded_and_never_touches_evaluation(tiny_manifest_text, write_manifest):
    import numpy as np

    from reportgen.config.manifest import load_manifest
    from reportgen.models import build_run_model
    from reportgen.runs.plan import load_run_data, make_plan
    from reportgen.training.train import _Batches, evaluate, train

    text = tiny_manifest_text.replace("lr = 0.01", "lr = 0.01\naugment = { crop = 2, hflip = true, erase = 0.5 }")
    manifest = load_manifest(write_manifest(text))
    planned = make_plan(manifest).by_name["conv"][0]
    data = load_run_data(manifest, planned.run)
    first, second = (train(planned, data, torch.device("cpu")) for _ in range(2))
    np.testing.assert_array_equal(first.test_prob, second.test_prob)  # same seed, same augmented batches
    plain = load_manifest(write_manifest(tiny_manifest_text))
    unaugmented = train(make_plan(plain).by_name["conv"][0], data, torch.device("cpu"))
    assert not np.array_equal(first.test_prob, unaugmented.test_prob)  # augmentation did change training
    model = build_run_model(planned.run, data.input_shape, data.num_classes)
    model.load_state_dict(first.state_dict)
    mean, std = data.channel_stats()
    _, _, prob, _ = evaluate(model, _Batches(data.test, mean, std, torch.device("cpu"), True),
                             torch.nn.CrossEntropyLoss(), keep_outputs=True)
    np.testing.assert_allclose(first.test_prob, prob, atol=1e-6)  # the test pass saw plain images

"""The trainer on real tiny data: deterministic, complete artefacts, divergence caught, schedules applied."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from reportgen.config.specs import TrainConfig
from reportgen.training.losses import focal_loss, make_loss
from reportgen.training.optim import make_optimizer, make_scheduler
from tests import support


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    spec = support.tiny_spec("mobilenet", epochs=1)
    a, b, c = support.train_spec(spec, 0), support.train_spec(spec, 0), support.train_spec(spec, 1)
    np.testing.assert_array_equal(a.test_prob, b.test_prob)
    assert a.history["train_loss"] == b.history["train_loss"]
    assert not np.array_equal(a.test_prob, c.test_prob)


@pytest.mark.parametrize("name", sorted(support.TINY_MODELS))
def test_a_run_keeps_everything_the_sections_need(name):
    data = support.tiny_data()
    result = support.train_spec(support.tiny_spec(name, epochs=2), 0)
    n, k = len(data.test), data.num_classes
    assert result.status == "ok"
    assert all(len(v) == 2 for v in result.history.values())
    assert result.test_prob.shape == (n, k) and result.test_prob.dtype == np.float32
    np.testing.assert_allclose(result.test_prob.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(result.test_true, data.test.y.numpy())
    assert result.test_features.shape[0] == n and result.test_features.ndim == 2
    assert result.params > 0 and result.macs > 0 and result.train_seconds > 0
    assert result.provenance["device"] == "cpu" and result.provenance["precision"] == "float32"
    assert set(result.state_dict) and all(t.device.type == "cpu" for t in result.state_dict.values())


def test_the_reported_accuracy_is_the_models_accuracy():
    spec = support.tiny_spec("mlp", epochs=3)
    result = support.train_spec(spec, 0)
    group = support.group_for(spec)  # same spec and seed: the same trained weights, rebuilt from the state dict
    model = group.trained_model(group.results[0])
    data = support.tiny_data()
    mean, std = data.channel_stats()
    x = (data.test.x.float() / 255 - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
    with torch.inference_mode():
        pred = model(x).argmax(1).numpy()
    assert result.test_accuracy == pytest.approx(float((pred == data.test.y.numpy()).mean()))
    assert result.test_accuracy > 0.5  # an MLP learns tiny MNIST in 3 epochs; this is no chance-level artefact


def test_a_diverging_run_stops_and_says_why():
    spec = support.tiny_spec("mlp", epochs=5, lr=10.0, optimizer="sgd")
    result = support.train_spec(spec, 0)
    assert result.status == "diverged"
    assert "epoch 1" in result.reason and ("exploded" in result.reason or "nan" in result.reason)
    assert len(result.history["train_loss"]) == 1  # stopped at once, not after all five epochs


def test_cosine_schedule_anneals_to_zero_and_constant_does_not():
    param = [torch.nn.Parameter(torch.zeros(1))]
    for schedule, last in (("cosine", 0.0), ("constant", 0.1)):
        cfg = TrainConfig(lr=0.1, lr_schedule=schedule)
        opt = make_optimizer(cfg, param)
        sched = make_scheduler(cfg, opt, steps=10)
        for _ in range(10):
            opt.step()
            if sched is not None:
                sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(last, abs=1e-12)


def test_focal_loss_with_gamma_zero_is_cross_entropy_and_down_weights_easy_examples():
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.2, 0.1, 0.0]])
    target = torch.tensor([0, 2])
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert focal_loss(logits, target, 0.0) == pytest.approx(float(ce))
    assert focal_loss(logits, target, 2.0) < ce


@pytest.mark.parametrize("loss", ["cross_entropy", "focal", "nll", "mse"])
def test_every_loss_is_finite_and_has_gradients(loss):
    logits = torch.randn(8, 10, requires_grad=True)
    value = make_loss(replace(TrainConfig(), loss=loss))(logits, torch.arange(8))
    value.backward()
    assert math.isfinite(float(value.detach())) and logits.grad is not None and logits.grad.abs().sum() > 0


def test_early_stopping_stops_at_the_plateau_and_restores_the_best_epoch():
    spec = support.tiny_spec("mlp", epochs=12, lr=0.01, early_stopping=2)
    result = support.train_spec(spec, 0)
    (event,) = result.events
    assert event["kind"] == "early_stop"
    stopped = event["epoch"]
    losses = result.history["val_loss"]
    assert len(losses) == stopped < 12
    best = int(np.argmin(losses)) + 1
    assert stopped - best == 2 and f"weights of epoch {best} restored" in event["detail"]
    # The test predictions come from the restored weights: retraining for exactly `best` epochs gives them.
    again = support.train_spec(support.tiny_spec("mlp", epochs=best, lr=0.01), 0)
    np.testing.assert_allclose(result.test_prob, again.test_prob, atol=1e-6)


def test_plateau_schedule_decays_the_learning_rate_and_says_when():
    spec = support.tiny_spec("mlp", epochs=8, lr=0.01, lr_schedule="plateau", plateau_patience=1)
    result = support.train_spec(spec, 0)
    decays = [e for e in result.events if e["kind"] == "lr_decay"]
    assert decays and "learning rate 0.01 → 0.005" in decays[0]["detail"]
    assert result.history["lr"][0] == 0.01
    assert len(result.history["lr"]) == 8


def test_feature_snapshots_are_kept_and_survive_the_cache(tmp_path):
    from reportgen.runs.cache import RunCache

    result = support.train_spec(support.tiny_spec("mlp", epochs=3, feature_snapshots=(1, 2)), 0)
    assert sorted(result.feature_snapshots) == [1, 2]
    assert result.feature_snapshots[1].shape == result.test_features.shape
    assert not np.array_equal(result.feature_snapshots[1], result.test_features)
    cache = RunCache(tmp_path)
    cache.save(result)
    loaded = cache.load(result.key)
    assert sorted(loaded.feature_snapshots) == [1, 2]
    np.testing.assert_array_equal(loaded.feature_snapshots[1], result.feature_snapshots[1])
    assert loaded.events == result.events

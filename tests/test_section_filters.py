"""``filters``: weights and feature maps equal what the trained model holds and computes; no crash without convs."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from reportgen.config.specs import SectionSpec
from reportgen.sections import SECTIONS, SectionContext
from reportgen.sections.filters import feature_maps
from tests import support

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def compute(groups, **options):
    spec = SectionSpec(id="q5", type="filters", title="Filters", question="", marks=5,
                       runs=tuple(g.name for g in groups), options=options)
    impl = SECTIONS.get("filters")(spec)
    result = impl.compute(SectionContext(spec, groups))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    return impl, result


@pytest.fixture(scope="module")
def conv():
    return support.tiny_group("conv", seeds=(0, 1))


@pytest.fixture(scope="module")
def mobilenet():
    return support.tiny_group("mobilenet", seeds=(0, 1))


def normalised(group, index):
    mean, std = group.data.channel_stats()
    x = group.data.test.x[index : index + 1].float() / 255
    return (x - mean[0]) / std[0]


def test_conv_layers_and_weights(conv):
    _, result = compute([conv], max_filters=5)
    entry = result["runs"][0]
    model = conv.trained_model(conv.results[0])
    assert [(la["role"], la["name"], la["kind"]) for la in entry["layers"]] == [
        ("first", "blocks.0.conv", "standard"), ("last", "blocks.1.conv", "standard")]
    for layer in entry["layers"]:
        w = model.get_submodule(layer["name"]).weight.detach().double().numpy()
        assert layer["shape"] == list(w.shape)
        np.testing.assert_allclose(layer["weights"], w[:5], atol=5e-5)  # max_filters rows, rounded to 4 decimals
        norms = np.linalg.norm(w.reshape(len(w), -1), axis=1)
        np.testing.assert_allclose(layer["norms"], norms, atol=5e-5)  # every filter's norm, not only those shown
        assert layer["dead_seeds"]["values"][0] == (norms < 0.05 * norms.max()).sum()
        assert layer["absmax"] == pytest.approx(np.abs(w).max())
        assert layer["batchnorm"] and layer["absmax_seeds"]["n"] == 2


def test_mobilenet_last_block_is_depthwise_and_pointwise(mobilenet):
    _, result = compute([mobilenet])
    layers = result["runs"][0]["layers"]
    assert [(la["role"], la["name"], la["kind"]) for la in layers] == [
        ("first", "blocks.0.conv", "standard"), ("last", "blocks.1.depthwise", "depthwise"),
        ("last", "blocks.1.pointwise", "pointwise")]
    assert np.asarray(layers[1]["weights"]).shape == (8, 1, 3, 3)
    assert np.asarray(layers[2]["weights"]).shape == (8, 8, 1, 1)
    assert "last block is a MobileNet block" in result["analysis"][0]


def test_feature_maps_before_and_after_pooling(conv):
    _, result = compute([conv], image_index=3)
    entry = result["runs"][0]
    model = conv.trained_model(conv.results[0])
    with torch.inference_mode():
        maps = model.blocks(normalised(conv, 3))[0].numpy()
    np.testing.assert_allclose(entry["before"], maps, atol=5e-5)
    np.testing.assert_allclose(entry["after"], maps.mean(axis=(1, 2)), atol=5e-5)
    assert entry["before_shape"] == list(maps.shape) and entry["local"] is None
    assert entry["zero_maps"]["values"][0] == (maps.reshape(len(maps), -1).max(1) <= 0).sum()
    assert entry["true"] == conv.data.classes[int(conv.data.test.y[3])]
    assert entry["image_index"] == 3


def test_image_index_past_the_end(conv):
    _, result = compute([conv], image_index=10_000)
    assert result["runs"][0]["image_index"] == 0
    assert any("is past the 200 test images" in s for s in result["analysis"])


def test_local_pooling_is_found():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 2, 3),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)).eval()
    out = feature_maps(model, torch.randn(1, 1, 8, 8))
    name, before, after = out["local"]
    assert name == "MaxPool2d" and before.shape == (4, 8, 8) and after.shape == (4, 4, 4)
    np.testing.assert_allclose(after, nn.functional.max_pool2d(torch.from_numpy(before), 2).numpy())
    assert out["before"].shape == (2, 2, 2) and out["after"].shape == (2,)


def test_mlp_is_not_applicable():
    impl, result = compute([support.tiny_group("mlp")])
    entry = result["runs"][0]
    assert entry["status"] == "not applicable" and entry["figures"] == []
    assert result["analysis"] == ["MLP (mlp) has no convolution layer, so it has no filters or feature maps to show."]
    assert impl.figures(result) == []


def test_missing_weights_are_unavailable(conv):
    stripped = replace(conv, outcomes=[replace(r, state_dict=None) for r in conv.outcomes], load_weights=None)
    _, result = compute([stripped])
    assert result["runs"][0]["status"] == "unavailable" and "unavailable" in result["runs"][0]["reason"]


def test_figures_share_one_symmetric_scale(conv, mobilenet):
    impl, result = compute([conv, mobilenet])
    figures = impl.figures(result)
    names = [f.name for f in figures]
    assert names == [*result["runs"][0]["figures"], *result["runs"][1]["figures"]]
    assert len(names) == 3 + 4
    layer = result["runs"][1]["layers"][2]
    fig = figures[5].draw()
    try:
        image = fig.axes[0].images[0]
        assert image.get_clim() == pytest.approx((-layer["absmax"], layer["absmax"]))
        assert image.get_cmap().name.startswith("RdBu")
        assert any(ax.get_ylabel() == "weight" for ax in fig.axes)  # the colorbar
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("blocks", "expected"), [
    ({"conv_blocks": 1, "mobilenet_blocks": 0}, [("first and last", "blocks.0.conv")]),
    ({"conv_blocks": 0, "mobilenet_blocks": 1}, [("first and last", "blocks.0.depthwise"),
                                                 ("first and last", "blocks.0.pointwise")]),
    ({"conv_blocks": 0, "mobilenet_blocks": 2}, [("first", "blocks.0.depthwise"), ("last", "blocks.1.depthwise"),
                                                 ("last", "blocks.1.pointwise")]),
])
def test_shown_layers_of_small_models(blocks, expected):
    from reportgen.models import build_model
    from reportgen.sections.filters import shown_layers

    model = build_model("conv_mobilenet", {**blocks, "channels": 4}, (1, 28, 28), 10)
    assert [(role, name) for role, name, _ in shown_layers(model)] == expected


def test_local_pool_figure_draws():
    from reportgen.figures.filters import plot_local_pool

    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten()).eval()
    name, before, after = feature_maps(model, torch.randn(1, 1, 8, 8))["local"]
    local = {"type": name, "before": before.tolist(), "after": after.tolist(), "before_shape": list(before.shape),
             "after_shape": list(after.shape)}
    fig = plot_local_pool(local)
    try:
        fig.canvas.draw()
        assert fig.axes[0].get_title() == "before AvgPool2d: all 4 maps, 8 × 8"
        assert fig.axes[0].images[0].get_clim() == fig.axes[1].images[0].get_clim()  # one shared scale
    finally:
        plt.close(fig)

"""architecture: layer tables equal to model_summary / count_params / count_macs for every registered model,
block grouping, the receptive field against a gradient oracle, the generated text and the template."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.models import MODELS, build_model, count_macs, count_params, model_summary
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.architecture import block_of, model_architecture
from reportgen.text import count
from tests.support import tiny_group
from tests.test_sections import draw_all

KIND = "architecture"
Options = SECTIONS.get(KIND).Options


def spec_group(name: str, arch: str, options: dict | None = None, *, input_shape=(3, 28, 28), num_classes=96,
               label: str | None = None) -> RunGroup:
    """A run with no trained seeds: the section needs only its spec and its dataset's shape."""
    spec = RunSpec(name, label or name.upper(), "d", arch, options or {}, TrainConfig())
    return RunGroup(name, spec, [], [], data=SimpleNamespace(input_shape=input_shape, num_classes=num_classes))


def compute(groups, **options):
    spec = SectionSpec(id="a2", type=KIND, title="Architectures", question="?", marks=2,
                       runs=tuple(g.name for g in groups), options=options)
    impl = SECTIONS.get(KIND)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


@pytest.mark.parametrize("arch", MODELS.names())
def test_every_model_with_defaults(arch):
    group = spec_group(arch, arch)
    impl, result = compute([group])
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    entry = result["runs"][0]
    model = build_model(arch, {}, (3, 28, 28), 96)
    summary = model_summary(model, (3, 28, 28))
    layers = entry["layers"]
    assert [r["name"] for r in layers] == [s["name"] for s in summary]
    assert [r["type"] for r in layers] == [s["type"] for s in summary]
    assert [r["shape"] for r in layers] == [s["output_shape"][1:] if s["output_shape"] else None for s in summary]
    assert entry["params"] == count_params(model) == sum(r["params"] for r in layers)
    assert entry["macs"] == count_macs(model, (3, 28, 28)) == sum(r["macs"] for r in layers)
    assert sum(r["share"] for r in layers) == pytest.approx(1.0)
    blocks = entry["blocks"]
    assert sum(b["layers"] for b in blocks) == len(layers)
    assert sum(b["params"] for b in blocks) == entry["params"] and sum(b["macs"] for b in blocks) == entry["macs"]
    assert entry["largest"]["params"] == max(r["params"] for r in layers)
    assert entry["input_shape"] == [3, 28, 28]
    assert len(result["analysis"]) == 1 and isinstance(result["analysis"][0], str)  # one paragraph per run
    assert result["analysis"][0].startswith(f"{arch.upper()} ({arch}) maps a 3×28×28 input to 96 classes")
    assert [f.name for f in draw_all(impl, result)] == [f"diagram-{arch}"]


def test_conv7x7_fc_parameters_sit_in_the_first_fully_connected_layer():
    _, result = compute([spec_group("m1", "conv7x7_fc", label="Model 1")])
    entry = result["runs"][0]
    assert entry["largest"]["name"] == "fc"
    assert entry["largest"]["params"] == 6272 * 1024 + 1024
    assert entry["largest"]["share"] == pytest.approx((6272 * 1024 + 1024) / entry["params"])
    text = " ".join(result["analysis"])
    assert "flattening 32×14×14 maps into 1024 units" in text
    assert f"holds {100 * entry['largest']['share']:.1f} % of the {count(entry['params'])} parameters" in text
    assert "downsample the 28×28 input to a 14×14 map (2× per side, at pool) before flattening" in text


def gradient_extent(model: nn.Module, features: nn.Module, size: int = 64) -> int:
    """The receptive field measured: with all conv weights positive and BatchNorm an identity, the input pixels
    whose gradient reaches the centre unit of ``features``' output span exactly the receptive field."""
    model.eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = features(x)
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("options", [{}, {"conv_blocks": 1, "mobilenet_blocks": 3},
                                     {"conv_blocks": 2, "strides": [2, 2]}])
def test_receptive_field_matches_the_gradient(options):
    _, result = compute([spec_group("n", "conv_mobilenet", options, input_shape=(1, 28, 28), num_classes=10)])
    entry = result["runs"][0]
    model = build_model("conv_mobilenet", options, (1, 64, 64), 10)
    assert entry["receptive_field"] == gradient_extent(model, model.blocks)


def test_downsampling_and_receptive_field_of_the_defaults():
    _, result = compute([spec_group("c4", "conv_mobilenet", input_shape=(1, 28, 28), num_classes=10, label="C4")])
    entry = result["runs"][0]
    # 3×3 convolutions with strides 1, 2, 2, 1: 1 + 2·1 + 2·1 + 2·2 + 2·4 = 17.
    assert (entry["final_map"], entry["receptive_field"]) == ([7, 7], 17)
    assert entry["downsampled_at"] == ["blocks.1.conv", "blocks.2.conv"]
    assert entry["next"] == "AdaptiveAvgPool2d"
    assert ("The network's layers downsample the 28×28 input to a 7×7 map (4× per side, at blocks.1.conv, "
            "blocks.2.conv) before global average pooling; each position of that map sees an input window of 17×17 "
            "pixels (its theoretical receptive field), 37 % of the input's area.") in result["analysis"][0]


def test_mlp_has_no_spatial_map():
    _, result = compute([spec_group("mlp", "mlp", input_shape=(1, 28, 28), num_classes=10, label="MLP")])
    entry = result["runs"][0]
    assert entry["final_map"] is None and entry["receptive_field"] is None
    assert entry["largest"]["what"] == "flattening the 1×28×28 input into 256 units"
    assert " There are no convolutions: the first layer sees all 784 input values at once" in result["analysis"][0]


def test_long_models_are_grouped_into_blocks():
    group = spec_group("c3m5", "conv_mobilenet", {"conv_blocks": 3, "mobilenet_blocks": 5}, input_shape=(1, 28, 28))
    impl, result = compute([group])
    entry = result["runs"][0]
    assert len(entry["layers"]) == 3 * 3 + 5 * 6 + 3
    assert (entry["table_level"], entry["diagram_level"]) == ("blocks", "blocks")
    assert [b["type"] for b in entry["blocks"]] == ["ConvBlock"] * 3 + ["MobileNetBlock"] * 5 + [
        "AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert [b["name"] for b in entry["blocks"][:2]] == ["blocks.0", "blocks.1"]
    assert entry["blocks"][1]["tag"] == "3×3 s2" and entry["blocks"][3]["tag"] == "3×3 dw"
    assert entry["blocks"][3]["detail"] == "3×3, depthwise; 1×1"
    assert entry["blocks"][3]["shape"] == [32, 7, 7]
    _, forced = compute([group], table="layers", diagram="layers")
    assert (forced["runs"][0]["table_level"], forced["runs"][0]["diagram_level"]) == ("layers", "layers")
    draw_all(impl, result)


def test_a_flat_sequential_is_grouped_at_each_weighted_layer():
    model = nn.Sequential(*(m for _ in range(15) for m in (nn.Conv2d(1, 1, 3, padding=1), nn.ReLU())))
    entry = model_architecture(model, (1, 8, 8), Options())
    assert len(entry["layers"]) == 30 and entry["diagram_level"] == "blocks"
    assert [b["type"] for b in entry["blocks"]] == ["Conv2d+ReLU"] * 15
    assert entry["blocks"][0]["name"] == "0–1"


@pytest.mark.parametrize(("name", "block"), [("blocks.0.conv", "blocks.0"), ("stages.1.blocks.2.act",
                                              "stages.1.blocks.2"), ("head", "head"), ("features.3", "features.3")])
def test_block_of(name, block):
    assert block_of(name) == block


def test_real_runs_agree_with_the_trainer_and_are_compared():
    conv, mlp = tiny_group("conv"), tiny_group("mlp")
    impl, result = compute([conv, mlp])
    for entry, group in zip(result["runs"], (conv, mlp), strict=True):
        assert entry["params"] == group.results[0].params
        assert entry["macs"] == group.results[0].macs
    a, b = result["runs"]
    assert result["analysis"][-1].startswith(f"MLP has {b['params'] / a['params']:.1f}× more parameters "
                                             f"({count(b['params'])} vs {count(a['params'])})")
    assert result["analysis"][-1].endswith(" than C2.")
    html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    assert html.count("<caption>") == 3  # the side-by-side table and one layer table per run
    for row in a["layers"]:
        assert f"<code>{row['name']}</code>" in html
    assert "The architectures side by side" in html and "Total" in html


def test_missing_dataset_is_said_so():
    group = spec_group("x", "mlp")
    group.data = None
    impl, result = compute([group])
    assert result["runs"][0]["layers"] is None
    assert result["analysis"] == ["X: The run's dataset is unavailable, so its model cannot be built."]
    assert impl.figures(result) == []
    make_env().get_template(impl.template).render(s={"result": result, "figures": []})

"""Models: the Classifier contract for every registered model, plus hand-checked sizes of the handout nets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reportgen.config.errors import ManifestError, UnknownNameError
from reportgen.config.params import check_params, resolved_params
from reportgen.models import (
    MODELS,
    SUPPLIED,
    Classifier,
    build_model,
    count_macs,
    count_params,
    model_summary,
)
from reportgen.models.blocks import ConvBlock, MobileNetBlock

SHAPES = [(1, 28, 28), (3, 32, 32)]
NUM_CLASSES = 10


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _build(name: str, shape: tuple[int, int, int], **options) -> Classifier:
    return build_model(name, options, shape, NUM_CLASSES)


# --- the contract, for every registered model ---------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", MODELS.names())
def test_forward_shapes_and_split(name: str, shape: tuple[int, int, int]) -> None:
    model = _build(name, shape).eval()
    assert isinstance(model, Classifier)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        out = model(x)
        feats = model.forward_features(x)
        again = model.forward_head(feats)
    assert out.shape == (4, NUM_CLASSES)
    assert feats.ndim == 2 and feats.shape[0] == 4
    torch.testing.assert_close(again, out)


@pytest.mark.parametrize("name", MODELS.names())
def test_channels_last_matches_contiguous(name: str) -> None:
    model = _build(name, (3, 32, 32)).eval()
    if not model.is_conv:
        pytest.skip("channels_last only applies to convolutional models")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        model = model.to(memory_format=torch.channels_last)
        got = model(x.to(memory_format=torch.channels_last))
        feats = model.forward_features(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert feats.ndim == 2


@pytest.mark.parametrize("name", MODELS.names())
def test_backward_reaches_every_parameter(name: str) -> None:
    model = _build(name, (1, 28, 28)).train()
    loss = nn.functional.cross_entropy(model(torch.randn(4, 1, 28, 28)), torch.arange(4))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", MODELS.names())
def test_param_and_mac_counts(name: str) -> None:
    model = _build(name, (1, 28, 28))
    assert count_params(model) == sum(p.numel() for p in model.parameters())
    assert count_macs(model, (1, 28, 28)) > 0


@pytest.mark.parametrize("name", MODELS.names())
def test_default_options_validate(name: str) -> None:
    fn = MODELS.get(name)
    assert check_params(fn, {}, "runs.x.model", skip=SUPPLIED) == {}
    # Every option's annotation must be one check_value understands: feed it the defaults themselves.
    defaults = resolved_params(fn, {}, skip=SUPPLIED)
    checked = check_params(fn, defaults, "runs.x.model", skip=SUPPLIED)
    _build(name, (1, 28, 28), **checked)


@pytest.mark.parametrize("name", MODELS.names())
def test_model_summary_rows(name: str) -> None:
    model = _build(name, (1, 28, 28))
    rows = model_summary(model, (1, 28, 28))
    assert rows and all(set(r) == {"name", "type", "output_shape", "params"} for r in rows)
    assert sum(r["params"] for r in rows) == count_params(model)
    assert rows[-1]["output_shape"] == [1, NUM_CLASSES]
    assert model.training  # the summary's eval pass restores the mode


# --- conv_mobilenet -----------------------------------------------------------------------------------


def test_unknown_option_is_located_with_suggestion() -> None:
    with pytest.raises(ManifestError) as err:
        check_params(MODELS.get("conv_mobilenet"), {"conv_blcoks": 3}, "runs.x.model", skip=SUPPLIED)
    expected = 'runs.x.model.conv_blcoks: unknown key "conv_blcoks"; did you mean "conv_blocks"?'
    assert str(err.value) == expected


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownNameError, match='did you mean "conv_mobilenet"'):
        build_model("conv_mobilnet", {}, (1, 28, 28), NUM_CLASSES)


def test_block_params_by_hand() -> None:
    # ConvBlock(32→32): 3×3 conv without bias + BatchNorm weight and bias.
    assert count_params(ConvBlock(32, 32)) == 32 * 32 * 9 + 2 * 32  # 9280
    # MobileNetBlock(32→32): depthwise 3×3 + BN + pointwise 1×1 + BN.
    assert count_params(MobileNetBlock(32, 32)) == 32 * 9 + 2 * 32 + 32 * 32 + 2 * 32  # 1440


def test_conv_vs_mobilenet_params_and_macs() -> None:
    conv = _build("conv_mobilenet", (1, 28, 28), conv_blocks=4, channels=32)
    mobile = _build("conv_mobilenet", (1, 28, 28), conv_blocks=1, mobilenet_blocks=3, channels=32)
    first = 1 * 32 * 9 + 2 * 32  # ConvBlock(1→32) = 352
    head = 32 * NUM_CLASSES + NUM_CLASSES  # Linear(32→10) = 330
    assert count_params(conv) == first + 3 * (32 * 32 * 9 + 2 * 32) + head  # 28522
    assert count_params(mobile) == first + 3 * (32 * 9 + 2 * 32 + 32 * 32 + 2 * 32) + head  # 5002
    assert [type(b).__name__ for b in mobile.blocks] == ["ConvBlock"] + ["MobileNetBlock"] * 3
    assert count_macs(mobile, (1, 28, 28)) < count_macs(conv, (1, 28, 28))


def test_conv_block_macs_by_hand() -> None:
    # Output 8×10×10 elements, each 3 input channels × 3×3 taps; stride 2 keeps 5×5 positions.
    assert count_macs(ConvBlock(3, 8), (3, 10, 10)) == 8 * 10 * 10 * 3 * 9
    assert count_macs(ConvBlock(3, 8, stride=2), (3, 10, 10)) == 8 * 5 * 5 * 3 * 9
    # Depthwise: 4×10×10 outputs × 1 channel × 9 taps; pointwise: 8×10×10 outputs × 4 channels.
    assert count_macs(MobileNetBlock(4, 8), (4, 10, 10)) == 4 * 100 * 9 + 8 * 100 * 4


def test_default_strides_halve_twice() -> None:
    model = _build("conv_mobilenet", (1, 28, 28))
    with torch.no_grad():
        assert model.blocks(torch.zeros(2, 1, 28, 28)).shape == (2, 32, 7, 7)  # 28 → 14 → 7
        assert model.forward_features(torch.zeros(2, 1, 28, 28)).shape == (2, 32)


def test_per_block_widths_and_strides() -> None:
    model = _build(
        "conv_mobilenet",
        (3, 32, 32),
        conv_blocks=2,
        mobilenet_blocks=1,
        channels=(16, 32, 64),
        strides=(1, 2, 1),
    )
    with torch.no_grad():
        assert model.blocks(torch.zeros(1, 3, 32, 32)).shape == (1, 64, 16, 16)
    assert model.head.in_features == 64


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"channels": [16, 32, 64]}, "channels: needs one width per block (4), got 3"),
        ({"strides": [1, 2]}, "strides: needs one stride per block (4), got 2"),
        ({"conv_blocks": 0}, "conv_blocks: needs at least one block"),
    ],
)
def test_conv_mobilenet_option_errors(options: dict, message: str) -> None:
    fn = MODELS.get("conv_mobilenet")
    checked = check_params(fn, options, "runs.x.model", skip=SUPPLIED)
    with pytest.raises(ManifestError) as err:
        fn(input_shape=(1, 28, 28), num_classes=NUM_CLASSES, **checked)
    assert str(err.value).startswith(message)


def test_conv_mobilenet_rejects_bad_values() -> None:
    fn = MODELS.get("conv_mobilenet")
    with pytest.raises(ManifestError, match=r"channels\[1\]: must be >= 1, got 0"):
        check_params(fn, {"channels": [8, 0, 8, 8]}, "runs.x.model", skip=SUPPLIED)
    with pytest.raises(ManifestError, match=r"strides\[0\]: must be <= 4, got 5"):
        check_params(fn, {"strides": [5, 1, 1, 1]}, "runs.x.model", skip=SUPPLIED)


# --- mlp ----------------------------------------------------------------------------------------------


def test_mlp_hidden_sizes() -> None:
    model = _build("mlp", (1, 28, 28), hidden=(64, 32))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 64), (64, 32), (32, NUM_CLASSES)]
    assert model.forward_features(torch.zeros(5, 1, 28, 28)).shape == (5, 32)
    assert count_params(model) == 784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10


def test_mlp_without_hidden_layers_is_linear() -> None:
    model = _build("mlp", (3, 32, 32), hidden=())
    assert model.forward_features(torch.zeros(2, 3, 32, 32)).shape == (2, 3 * 32 * 32)
    assert count_params(model) == 3 * 32 * 32 * NUM_CLASSES + NUM_CLASSES


@pytest.mark.parametrize(
    ("activation", "cls"),
    [
        ("relu", nn.ReLU),
        ("gelu", nn.GELU),
        ("tanh", nn.Tanh),
        ("sigmoid", nn.Sigmoid),
        ("leaky_relu", nn.LeakyReLU),
        ("elu", nn.ELU),
    ],
)
def test_mlp_activation_choice(activation: str, cls: type[nn.Module]) -> None:
    model = _build("mlp", (1, 28, 28), hidden=(16, 8), activation=activation)
    acts = [m for m in model.modules() if isinstance(m, cls)]
    assert len(acts) == 2


def test_mlp_unknown_activation() -> None:
    with pytest.raises(ManifestError) as err:
        check_params(MODELS.get("mlp"), {"activation": "relu6"}, "runs.x.model", skip=SUPPLIED)
    assert str(err.value) == "runs.x.model.activation: unknown value \"relu6\"; did you mean \"relu\"?"


def test_mlp_batchnorm_and_dropout() -> None:
    model = _build("mlp", (1, 28, 28), hidden=(16,), batchnorm=True, dropout=0.5)
    group = model.layers[0]
    assert list(dict(group.named_children())) == ["linear", "bn", "act", "dropout"]
    assert group.linear.bias is None  # BatchNorm's shift replaces it
    assert isinstance(group.dropout, nn.Dropout) and group.dropout.p == 0.5

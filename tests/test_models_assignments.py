"""The assignment models: ``cnn`` (ITU DL 2022 A2), ``conv7x7_fc`` and ``bottleneck_cnn`` (IIT Mandi CS-671 A2).

Parameter counts are written out by hand, layer by layer, so a change in the architecture shows up here.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from reportgen.config.errors import ManifestError
from reportgen.config.params import check_params
from reportgen.models import MODELS, SUPPLIED, build_model, count_macs, count_params

RGB28 = (3, 28, 28)
LINE_CLASSES = 96


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _checked(name: str, options: dict) -> dict:
    """``options`` as a manifest would pass them: through the same validation."""
    return check_params(MODELS.get(name), options, "runs.x.model", skip=SUPPLIED)


def _build(name: str, shape=(1, 28, 28), num_classes: int = 10, **options):
    return build_model(name, _checked(name, options), shape, num_classes)


def _leaf_types(model: nn.Module) -> list[str]:
    return [type(m).__name__ for n, m in model.named_modules() if n and not any(m.children())]


# --- cnn ------------------------------------------------------------------------------------------------


def test_cnn_default_params_by_hand() -> None:
    model = _build("cnn")
    block0 = 1 * 32 * 3 * 3 + 2 * 32  # conv 1→32, 3×3, no bias (BatchNorm follows) + BN γ, β = 352
    block1 = 32 * 64 * 3 * 3 + 2 * 64  # conv 32→64 + BN = 18,560
    fc = 64 * 7 * 7 * 128 + 128  # 28 → 14 → 7: flatten 3,136 → 128 = 401,536
    head = 128 * 10 + 10  # 1,290
    assert count_params(model) == block0 + block1 + fc + head == 421_738


def test_cnn_structure_names_and_shapes() -> None:
    model = _build("cnn").eval()
    assert model.is_conv
    assert len(model.blocks) == 2
    for block, width in zip(model.blocks, (32, 64), strict=True):
        assert list(dict(block.named_children())) == ["conv", "bn", "act", "pool"]
        assert block.conv.out_channels == width and block.conv.kernel_size == (3, 3)
        assert block.conv.bias is None
    assert isinstance(model.head, nn.Linear) and model.head.in_features == 128
    x = torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        assert model.blocks(x).shape == (2, 64, 7, 7)  # each pool halves H and W
        assert model.forward_features(x).shape == (2, 128)  # the last hidden FC layer


def test_cnn_same_padding_for_any_kernel_size() -> None:
    x = torch.randn(2, 1, 28, 28)
    for k in (1, 2, 4, 5, 11):
        conv = _build("cnn", filters=[8], kernel_size=k, fc=[]).blocks[0].conv
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("error")  # padding="same" warns on every call with an even kernel
            out = conv(x)
        assert out.shape == (2, 8, 28, 28), k
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = nn.functional.conv2d(x, conv.weight, conv.bias, padding="same")
        torch.testing.assert_close(out, expected)  # the same padding split as PyTorch's padding="same"


def test_cnn_without_batchnorm() -> None:
    model = _build("cnn", batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) for m in model.modules())
    assert all(block.conv.bias is not None for block in model.blocks)  # the conv keeps its bias instead
    assert list(dict(model.blocks[0].named_children())) == ["conv", "act", "pool"]
    conv0, conv1 = 1 * 32 * 9 + 32, 32 * 64 * 9 + 64
    assert count_params(model) == conv0 + conv1 + (3136 * 128 + 128) + (128 * 10 + 10)  # 421,642


def test_cnn_dropout_present_or_absent() -> None:
    assert not any(isinstance(m, nn.Dropout | nn.Dropout2d) for m in _build("cnn").modules())

    model = _build("cnn", dropout=0.3, fc=[64, 32])
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout | nn.Dropout2d)]
    assert len(drops) == 2 and all(type(d) is nn.Dropout and d.p == 0.3 for d in drops)
    assert [list(dict(g.named_children())) for g in model.fc] == [["linear", "act", "dropout"]] * 2
    assert not any(isinstance(m, nn.Dropout | nn.Dropout2d) for m in model.blocks.modules())  # conv blocks: none

    # Dropout is active in training and off in evaluation.
    x = torch.randn(8, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))
        model.train()
        assert not torch.equal(model.forward_features(x), model.forward_features(x))


def test_cnn_without_fc_layers() -> None:
    model = _build("cnn", fc=[]).eval()
    with torch.no_grad():
        assert model.forward_features(torch.zeros(3, 1, 28, 28)).shape == (3, 64 * 7 * 7)
    assert count_params(model) == 352 + 18_560 + 3136 * 10 + 10
    # With no hidden layer, dropout acts on the head's input.
    dropped = _build("cnn", fc=[], dropout=0.5)
    assert [type(m).__name__ for m in dropped.fc.modules()][-1] == "Dropout"


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
def test_cnn_activation_choice(activation: str, cls: type[nn.Module]) -> None:
    model = _build("cnn", filters=[8, 8, 8], fc=[16, 16], activation=activation)
    acts = [m for m in model.modules() if isinstance(m, cls)]
    assert len(acts) == 3 + 2  # one per conv block, one per hidden FC layer
    others = {nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU} - {cls}
    assert not any(type(m) in others for m in model.modules())


def test_cnn_rejects_unknown_activation() -> None:
    with pytest.raises(ManifestError) as err:
        _checked("cnn", {"activation": "relu6"})
    assert str(err.value) == 'runs.x.model.activation: unknown value "relu6"; did you mean "relu"?'


def test_cnn_too_many_blocks_for_the_input() -> None:
    # 28 → 14 → 7 → 3 → 1: four pools fit, a fifth would pool a 1×1 map.
    _build("cnn", filters=[4, 4, 4, 4])
    fn = MODELS.get("cnn")
    with pytest.raises(ManifestError) as err:
        fn(input_shape=(1, 28, 28), num_classes=10, **_checked("cnn", {"filters": [4, 4, 4, 4, 4]}))
    assert err.value.location == "filters"
    assert str(err.value).startswith("filters: 5 conv blocks each halve the 28×28 input, but it can be halved only 4")
    with pytest.raises(ManifestError, match="^filters: needs at least one conv block"):
        fn(input_shape=(1, 28, 28), num_classes=10, filters=())
    with pytest.raises(ManifestError, match=r"filters\[1\]: must be >= 1, got 0"):
        _checked("cnn", {"filters": [8, 0]})
    with pytest.raises(ManifestError, match="kernel_size: must be <= 11, got 13"):
        _checked("cnn", {"kernel_size": 13})


# --- conv7x7_fc (CS-671 model 1.2.1) --------------------------------------------------------------------


def test_conv7x7_fc_params_by_hand() -> None:
    model = _build("conv7x7_fc", RGB28, LINE_CLASSES)
    conv = 32 * 3 * 7 * 7 + 32  # 7×7 conv, 3 → 32 channels, with bias (ReLU, not BN, follows it) = 4,736
    bn = 2 * 32  # 64
    fc = (32 * 14 * 14) * 1024 + 1024  # 28×28 pooled to 14×14: 6,272 inputs → 1,024 = 6,423,552
    head = 1024 * 96 + 96  # 98,400
    assert count_params(model) == conv + bn + fc + head == 6_526_752
    assert model.fc.weight.numel() == 6_422_528  # ≈ 6.4 M weights in the fully connected layer alone


def test_conv7x7_fc_layers_in_handout_order() -> None:
    model = _build("conv7x7_fc", RGB28, LINE_CLASSES).eval()
    assert _leaf_types(model) == ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    assert model.conv.kernel_size == (7, 7) and model.conv.stride == (1, 1) and model.conv.out_channels == 32
    assert model.pool.kernel_size == 2 and model.pool.stride == 2
    x = torch.randn(2, *RGB28)
    with torch.no_grad():
        assert model.conv(x).shape == (2, 32, 28, 28)  # same padding
        feats = model.forward_features(x)
    assert feats.shape == (2, 1024) and (feats >= 0).all()  # the 1,024-unit ReLU output


def test_conv7x7_fc_macs_by_hand() -> None:
    model = _build("conv7x7_fc", RGB28, LINE_CLASSES)
    conv = 32 * 28 * 28 * 3 * 7 * 7  # 3,687,936
    assert count_macs(model, RGB28) == conv + 6272 * 1024 + 1024 * 96  # 10,208,768


def test_conv7x7_fc_options() -> None:
    model = _build("conv7x7_fc", RGB28, LINE_CLASSES, filters=16, kernel_size=5, fc=256)
    assert count_params(model) == (16 * 3 * 25 + 16) + 2 * 16 + (16 * 14 * 14 * 256 + 256) + (256 * 96 + 96)


# --- bottleneck_cnn (CS-671 model 1.2.2) ------------------------------------------------------------------


def test_bottleneck_cnn_params_by_hand() -> None:
    model = _build("bottleneck_cnn", RGB28, LINE_CLASSES)
    conv0 = 3 * 64 * 9 + 2 * 64  # 3×3, 3 → 64, no bias + BN = 1,856
    conv1 = 64 * 16 + 2 * 16  # 1×1, 64 → 16 + BN = 1,056
    conv2 = 16 * 64 * 9 + 2 * 64  # 3×3, 16 → 64 + BN = 9,344
    conv3 = 64 * 16 + 2 * 16  # 1×1 = 1,056
    conv4 = 16 * 96 * 9 + 2 * 96  # 3×3, 16 → 96 + BN = 14,016
    head = 96 * 96 + 96  # global average pool → linear = 9,312
    assert count_params(model) == conv0 + conv1 + conv2 + conv3 + conv4 + head == 36_640


def test_bottleneck_is_far_smaller_than_conv7x7_fc() -> None:
    small = count_params(_build("bottleneck_cnn", RGB28, LINE_CLASSES))
    big = count_params(_build("conv7x7_fc", RGB28, LINE_CLASSES))
    assert small < 100_000 < 6_000_000 < big


def test_bottleneck_cnn_structure() -> None:
    model = _build("bottleneck_cnn", RGB28, LINE_CLASSES).eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.out_channels) for c in convs] == [
        ((3, 3), 64), ((1, 1), 16), ((3, 3), 64), ((1, 1), 16), ((3, 3), 96)
    ]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 2
    assert isinstance(model.gap, nn.AdaptiveAvgPool2d)
    assert isinstance(model.dropout, nn.Dropout) and model.dropout.p == 0.2
    x = torch.randn(2, *RGB28)
    with torch.no_grad():
        assert model.features(x).shape == (2, 96, 7, 7)
        assert model.forward_features(x).shape == (2, 96)
    assert _leaf_types(model)[-3:] == ["Flatten", "Dropout", "Linear"]
    assert isinstance(_build("bottleneck_cnn", RGB28, LINE_CLASSES, dropout=0.0).dropout, nn.Identity)


def test_bottleneck_cnn_width_errors() -> None:
    fn = MODELS.get("bottleneck_cnn")
    with pytest.raises(ManifestError, match="^widths: needs an odd number of widths"):
        fn(input_shape=RGB28, num_classes=10, **_checked("bottleneck_cnn", {"widths": [32, 8]}))
    with pytest.raises(ManifestError, match="^widths: 11 widths mean 5 2×2 max-pools"):
        fn(input_shape=RGB28, num_classes=10, widths=(8,) * 11)
    one = _build("bottleneck_cnn", RGB28, 10, widths=[8])  # a single 3×3 conv, no pool
    assert count_params(one) == 3 * 8 * 9 + 16 + 8 * 10 + 10

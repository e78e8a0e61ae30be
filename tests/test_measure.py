"""measure: PyTorch's FLOP counter against the old hand counter (the oracle) on every registered model, attention
counted for a ViT, a published-style count of ResNet-18, and per-layer summaries of any module."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from reportgen.models import MODELS, build_model, count_macs, count_params, model_summary
from reportgen.models.measure import first_tensor, macs_by_module

SHAPES = [(1, 28, 28), (3, 32, 32)]
VARIANTS = {  # a couple of non-default options per model, besides the defaults
    "cnn": [{"batchnorm": False}, {"batchnorm": True, "kernel_size": 5, "dropout": 0.2}],
    "conv_mobilenet": [{"conv_blocks": 1, "mobilenet_blocks": 3}, {"conv_blocks": 0, "mobilenet_blocks": 2}],
    "mlp": [{"batchnorm": True, "dropout": 0.1}],
}


def hand_macs(model: nn.Module, input_shape: tuple[int, int, int]) -> int:
    """The old hand counter: convolutions ``out_elements × in/groups × kH × kW`` and linear layers ``in × out`` (per
    output row), from forward hooks; nothing else."""
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output[0].numel() * (module.in_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output[0].numel() * module.in_features

    handles = [m.register_forward_hook(conv_hook if isinstance(m, nn.Conv2d) else linear_hook)
               for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total


CASES = [(name, options) for name in MODELS.names() for options in [{}, *VARIANTS.get(name, [])]]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "options"), CASES)
def test_flop_counter_agrees_with_the_hand_count(name, options, shape):
    # Built-in models compute only in Conv2d and Linear layers; the counter ignores biases, BatchNorm, activations
    # and pooling, exactly as the hand count does, so the two are equal.
    model = build_model(name, options, shape, 10).train()
    assert count_macs(model, shape) == hand_macs(model, shape) > 0
    assert model.training  # the mode is restored
    assert sum(v["macs"] for v in macs_by_module(model, shape).values()) == count_macs(model, shape)


def test_grouped_and_strided_convolutions():
    model = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, groups=8, bias=False), nn.Flatten(), nn.LazyLinear(5))
    model(torch.zeros(1, 4, 11, 11))  # materialise the lazy layer
    assert count_macs(model, (4, 11, 11)) == hand_macs(model, (4, 11, 11)) == 8 * 36 * 2 * 9 + 8 * 16 * 9 + 128 * 5


@pytest.fixture(scope="module")
def vit():
    timm = pytest.importorskip("timm")
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=28, patch_size=4, in_chans=1,
                             num_classes=10)


def test_vit_attention_is_counted(vit):
    linear_and_conv = hand_macs(vit, (1, 28, 28))
    macs = count_macs(vit, (1, 28, 28))
    # 12 blocks × 3 heads, 49 patches + the class token, head size 64: Q·Kᵀ and softmax·V, 50·50·64 each.
    attention = 12 * 3 * 2 * 50 * 50 * 64
    assert macs == linear_and_conv + attention
    by_module = macs_by_module(vit, (1, 28, 28))
    assert by_module["blocks.0.attn"]["macs"] == attention // 12
    assert "attention" in by_module["blocks.0.attn"]["ops"][0]
    assert sum(v["macs"] for v in by_module.values()) == macs


def test_matmul_in_a_forward_is_counted():
    class Bilinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(16, 8)
            self.w = nn.Parameter(torch.randn(8, 3))

        def forward(self, x):
            return self.proj(x.flatten(1)) @ self.w

    model = Bilinear()
    assert count_macs(model, (1, 4, 4)) == 16 * 8 + 8 * 3
    assert macs_by_module(model, (1, 4, 4)) == {"": {"macs": 24, "ops": ["aten.mm"]},
                                                "proj": {"macs": 128, "ops": ["aten.addmm"]}}
    rows = model_summary(model, (1, 4, 4))
    assert [(r["name"], r["type"], r["output_shape"], r["params"]) for r in rows] == [
        ("w", "Parameter", None, 24), ("proj", "Linear", [1, 8], 136), ("", "Bilinear", [1, 3], 0)]


def resnet18_hand_count(num_classes: int, size: int) -> int:
    """ResNet-18 (torchvision's: 7×7/2 stem, 3×3 max pool /2, four stages of two basic blocks, 1×1 projection
    shortcuts) on a ``size``×``size`` RGB image: its convolutions and fully connected layer, by hand."""
    s = size // 2  # the stem's 7×7 stride-2 conv
    total = 64 * s * s * 3 * 49
    s //= 2  # max pool
    total += 4 * 64 * s * s * 64 * 9  # layer1: four 3×3 convs, 64 → 64
    c = 64
    for width in (128, 256, 512):
        s //= 2
        total += width * s * s * c * 9 + 3 * width * s * s * width * 9 + width * s * s * c  # 3×3/2, 3 × 3×3, 1×1/2
        c = width
    return total + 512 * num_classes


def test_resnet18_count_is_plausible():
    from torchvision.models import resnet18

    model = resnet18(num_classes=10)
    assert count_macs(model, (3, 32, 32)) == resnet18_hand_count(10, 32) == hand_macs(model, (3, 32, 32))
    assert count_macs(model, (3, 32, 32)) == 37_016_576
    # The published figure for ImageNet (224×224, 1000 classes) is 1.82 G multiply-adds.
    assert resnet18_hand_count(1000, 224) == pytest.approx(1.82e9, rel=0.005)


def test_model_summary_of_resnet18_sums_to_the_parameters():
    from torchvision.models import resnet18

    model = resnet18(num_classes=10)
    rows = model_summary(model, (3, 32, 32))
    assert sum(r["params"] for r in rows) == count_params(model) == sum(p.numel() for p in model.parameters())
    by_name = {r["name"]: r for r in rows}
    assert by_name["fc"]["output_shape"] == [1, 10]
    assert by_name["layer1.0.relu"]["output_shape"] == [1, 64, 8, 8]  # called twice per block: the first call
    assert "Parameter" not in {r["type"] for r in rows}


def test_model_summary_of_vit_has_its_own_parameters_and_attention(vit):
    rows = model_summary(vit, (1, 28, 28))
    assert sum(r["params"] for r in rows) == count_params(vit) == sum(p.numel() for p in vit.parameters())
    own = [(r["name"], r["params"], r["output_shape"]) for r in rows if r["type"] == "Parameter"]
    assert own == [("cls_token", 192, None), ("pos_embed", 50 * 192, None)]
    attention = [r for r in rows if r["type"] == "Attention"]
    assert [r["name"] for r in attention] == [f"blocks.{i}.attn" for i in range(12)]
    names = [r["name"] for r in rows]
    assert names.index("blocks.0.attn.proj") < names.index("blocks.0.attn") < names.index("blocks.0.ls1")
    assert rows[-1]["name"] == "head" and rows[-1]["output_shape"] == [1, 10]


@dataclass
class Output:
    logits: torch.Tensor | None
    extra: int = 0


class Odd(nn.Module):
    """Outputs that are not tensors, a leaf called twice, a leaf never called."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.act = nn.ReLU()
        self.unused = nn.Linear(3, 3)
        self.pair = Pair()
        self.wrap = Wrap()

    def forward(self, x):
        x = self.act(self.act(self.conv(x)).flatten(1))
        a, _ = self.pair(x)
        return self.wrap(a)


class Pair(nn.Module):
    def forward(self, x):
        return (None, [x[:, :4], x]), {"x": x}


class Wrap(nn.Module):
    def forward(self, x):
        return Output(logits=None, extra=1) if x is None else Output(logits=x * 2)


def test_model_summary_of_odd_outputs():
    rows = {r["name"]: r for r in model_summary(Odd(), (1, 5, 5))}
    assert rows["act"]["output_shape"] == [1, 2, 3, 3]  # first call (before flattening)
    assert rows["unused"]["output_shape"] is None
    assert rows["pair"]["output_shape"] == [1, 4]  # first tensor, depth first
    assert rows["wrap"]["output_shape"] == [1, 4]


def test_first_tensor():
    t = torch.zeros(2)
    assert first_tensor(t) is t
    assert first_tensor((None, {"a": 1, "b": [t]})) is t
    assert first_tensor(Output(logits=t)) is t
    assert first_tensor((None, 3, "x")) is None


def test_model_without_children_is_its_own_row():
    rows = model_summary(nn.Linear(4, 3), (1, 3, 4))
    assert rows == [{"name": "", "type": "Linear", "output_shape": [1, 1, 3, 3], "params": 15}]

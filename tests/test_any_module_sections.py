"""architecture and filters on models reportgen did not write: a course-style ``Net`` from a user's ``models.py``,
torchvision's ResNet-18, timm's ViT, and an MLP without a convolution. Freshly built models stand in for trained ones
(their ``state_dict`` is the run's weights); the data are four random 28×28 grey images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
import torch

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.models import build_run_model, count_macs
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.training.result import RunResult

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

USER_MODELS = '''
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """A typical course starter network: two unpadded 5×5 convolutions, one max pool used twice, two linears."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))  # 6×12×12
        x = self.pool(F.relu(self.conv2(x)))  # 16×4×4
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


class MLP(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.net(x)
'''

CLASSES = tuple("0123456789")
CASES = {
    "net": ("models.py:Net", {}),
    "resnet": ("torchvision.models:resnet18", {}),
    "vit": ("timm:vit_tiny_patch16_224", {"img_size": 28, "patch_size": 4}),
    "mlp": ("models.py:MLP", {}),
}


@dataclass
class Split:
    x: torch.Tensor  # (N, C, H, W) uint8
    y: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.y)


def fake_data() -> SimpleNamespace:
    g = torch.Generator().manual_seed(0)
    test = Split(torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8, generator=g), torch.tensor([3, 1, 4, 1]))
    return SimpleNamespace(input_shape=(1, 28, 28), num_classes=10, classes=CLASSES, test=test,
                           channel_stats=lambda: ([0.5], [0.25]))


def fake_result(model) -> RunResult:
    """A finished run whose weights are ``model``'s."""
    return RunResult(key="k", spec={}, history={}, test_true=np.zeros(4, np.int64),
                     test_prob=np.full((4, 10), 0.1, np.float32), test_features=np.zeros((4, 2), np.float32),
                     classes=CLASSES, params=0, macs=0, train_seconds=0.0,
                     state_dict={k: v.clone() for k, v in model.state_dict().items()})


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A manifest folder holding the user's ``models.py`` (a reference's file is relative to the manifest's folder,
    the runs' ``base_dir``; the working directory plays no part)."""
    path = tmp_path_factory.mktemp("course")
    (path / "models.py").write_text(USER_MODELS)
    return path


_BUILT: dict[str, tuple[RunGroup, torch.nn.Module]] = {}


@pytest.fixture
def case(request, workdir):
    """``(group, model)``: a run of the case's model with one finished seed (built once per module)."""
    arch, options = CASES[request.param]
    if arch.startswith("timm:"):
        pytest.importorskip("timm")
    if request.param not in _BUILT:
        torch.manual_seed(0)
        spec = RunSpec(request.param, request.param.upper(), "d", arch, options, TrainConfig(), base_dir=str(workdir))
        data = fake_data()
        model = build_run_model(spec, data.input_shape, data.num_classes)
        _BUILT[request.param] = RunGroup(request.param, spec, [0], [fake_result(model)], data=data), model
    return _BUILT[request.param]


def draw_all(impl, result) -> list:
    """Build every figure of the section (not rendered to pixels: the section tests do that) and close it."""
    figures = impl.figures(result)
    for f in figures:
        assert f.caption.strip() and f.alt.strip(), f.name
        fig = f.draw()
        try:
            assert fig.axes, f.name
        finally:
            plt.close(fig)
    return figures


def compute(kind: str, group: RunGroup, **options):
    spec = SectionSpec(id=kind, type=kind, title=kind, question="?", marks=1, runs=(group.name,), options=options)
    impl = SECTIONS.get(kind)(spec)
    result = impl.compute(SectionContext(spec, [group]))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    make_env().get_template(impl.template).render(s={"result": result, "figures": []})
    return impl, result


@pytest.mark.parametrize("case", list(CASES), indirect=True)
def test_architecture_of_any_module(case):
    group, model = case
    impl, result = compute("architecture", group)
    entry = result["runs"][0]
    assert entry["layers"] is not None, entry.get("note")
    assert entry["params"] == sum(p.numel() for p in model.parameters()) == sum(r["params"] for r in entry["layers"])
    assert entry["macs"] == count_macs(model, (1, 28, 28)) == sum(r["macs"] for r in entry["layers"]) > 0
    assert sum(b["params"] for b in entry["blocks"]) == entry["params"]
    assert "counted by PyTorch's FLOP counter" in result["analysis"][0]
    draw_all(impl, result)
    name = group.name
    if name == "net":
        assert entry["macs"] == 6 * 24 * 24 * 25 + 16 * 8 * 8 * 6 * 25 + 256 * 120 + 120 * 10
        assert (entry["final_map"], entry["receptive_field"]) == ([4, 4], 16)  # the pool runs twice
        assert entry["downsampled_at"] == ["pool", "pool"]
        assert "at pool (twice)) before fc1 (Linear)" in result["analysis"][0]
    elif name == "resnet":
        assert entry["build_notes"] and "replaced by a freshly initialised one" in entry["build_notes"][0]
        built = "How reportgen built it: its first convolution (conv1) expected 3 input channels"
        assert built in result["analysis"][0]
        assert [b["type"] for b in entry["blocks"]].count("BasicBlock") == 8
        assert "layer2.0.downsample.0" not in entry["downsampled_at"]  # a shortcut beside the main path
    elif name == "vit":
        assert [r["name"] for r in entry["loose_params"]] == ["cls_token", "pos_embed"]
        assert len(entry["own_compute"]) == 12 and entry["own_compute"][0]["kind"] == "attention"
        assert entry["final_map"] == [7, 7] and entry["receptive_field"] == 4 and entry["attention_after"]
        assert "12 modules compute attention in their own forward" in result["analysis"][0]
    else:
        assert entry["final_map"] is None and entry["weight_layers"] == {"conv": 0, "linear": 2}
        assert "There are no convolutions" in result["analysis"][0]


@pytest.mark.parametrize("case", list(CASES), indirect=True)
def test_filters_of_any_module(case):
    group, model = case
    impl, result = compute("filters", group, max_filters=8)
    entry = result["runs"][0]
    name = group.name
    if name == "mlp":
        assert entry["status"] == "not applicable" and impl.figures(result) == []
        assert result["analysis"] == ["MLP (models.py:MLP) has no convolution layer, so it has no filters or feature "
                                      "maps to show."]
        html = make_env().get_template(impl.template).render(s={"result": result, "figures": []})
        assert "has no convolution layer" in html
        return
    assert entry["status"] == "ok", entry["reason"]
    shown = [(la["role"], la["name"]) for la in entry["layers"]]
    for layer in entry["layers"]:
        np.testing.assert_allclose(layer["weights"], model.get_submodule(layer["name"]).weight.detach()
                                   .double().numpy()[:8, : len(layer["weights"][0])], atol=5e-5)
    if name == "net":
        assert shown == [("first", "conv1"), ("last", "conv2")]
        # No global pooling: the maps are those the second pool passes on to fc1.
        assert entry["before_shape"] == [16, 4, 4] and entry["maps_source"] == "pool" and entry["after"] is None
        assert entry["local"]["before_shape"] == [6, 24, 24] and entry["local"]["after_shape"] == [6, 12, 12]
    elif name == "resnet":
        assert shown == [("first", "conv1"), ("last", "layer4.1.conv2")]
        assert entry["before_shape"] == [512, 1, 1] and len(entry["after"]) == 512
        assert "global average pooling (avgpool)" in " ".join(result["analysis"])
    elif name == "vit":
        assert shown == [("first and last", "patch_embed.proj")]
        assert entry["before_shape"] == [192, 7, 7] and entry["maps_source"] == "patch_embed.proj"
        assert entry["after"] is None and entry["local"] is None
    assert len(draw_all(impl, result)) == len(entry["figures"])

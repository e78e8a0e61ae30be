"""model_size (old name block_mix): structure facts from the models' own describe() or from any nn.Module, metrics
equal to scikit-learn's, the Pareto front against brute force, and swaps of one kind of block for another at equal
depth judged against seed noise."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score
from torch import nn

from reportgen.config.manifest import load_manifest
from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.models import build_run_model
from reportgen.models.conv_mobilenet import block_counts
from reportgen.models.describe import block_kinds, compact_widths, describe_model, generic_facts
from reportgen.render.env import make_env
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.model_size import pareto
from tests.support import tiny_group
from tests.test_sections import draw_all, make_result

ROOT = Path(__file__).resolve().parents[1]
KIND = "model_size"
MNIST = SimpleNamespace(input_shape=(1, 28, 28), num_classes=10)
HERE = "tests.test_section_model_size"


# --- models for the describe() protocol, built by reference like a user's ------------------------------------


class DescribedNet(nn.Module):
    """A user's model that says what it is: two kinds of blocks (``dense`` and ``sparse``) and a width."""

    def __init__(self, num_classes: int = 10, dense: int = 2, sparse: int = 0, width: int = 8) -> None:
        super().__init__()
        self.dense, self.sparse, self.width = dense, sparse, width
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.body(x))

    def describe(self):
        return {"dense blocks": self.dense, "sparse blocks": self.sparse, "width": self.width, "kind": ("toy", 1)}


def sequential_mlp(num_classes: int = 10):
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, num_classes))


class BadlyDescribed(DescribedNet):
    def describe(self):
        return ["not", "a", "dict"]


class OddFacts(nn.Module):
    def describe(self):
        return {"x": object()}


class SelfAttention(nn.Module):  # a user's attention module: counted by its class name, its inner parts are not
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.inner = nn.MultiheadAttention(dim, 2, batch_first=True)


# --- helpers -------------------------------------------------------------------------------------------------


def compute(groups, kind=KIND, **options):
    spec = SectionSpec(id="q2", type=kind, title="Q2", question="?", marks=5, runs=tuple(g.name for g in groups),
                       options=options)
    impl = SECTIONS.get(kind)(spec)
    return impl, impl.compute(SectionContext(spec, groups))


def synthetic(spec: RunSpec, accuracies: list[float], params: int, macs: int = 10_000, data=MNIST) -> RunGroup:
    """``spec`` with synthetic results of the given accuracies (one per seed) and sizes."""
    base = sum(spec.name.encode())
    outcomes = [make_result(base + s, accuracy=a, params=params, macs=macs) for s, a in enumerate(accuracies)]
    return RunGroup(spec.name, spec, list(range(len(accuracies))), outcomes, data=data)


def mix_group(conv: int, mobile: int, accuracies: list[float], params: int, macs: int = 10_000) -> RunGroup:
    """A conv_mobilenet run labelled like the handout ("C3+M1") with synthetic results of given accuracies."""
    label = "+".join(p for p in (f"C{conv}" if conv else "", f"M{mobile}" if mobile else "") if p)
    spec = RunSpec(label.lower().replace("+", ""), label, "digits", "conv_mobilenet",
                   {"conv_blocks": conv, "mobilenet_blocks": mobile}, TrainConfig(epochs=3))
    return synthetic(spec, accuracies, params, macs)


def ref_group(name: str, arch: str, accuracies: list[float], params: int, macs: int = 10_000, **options) -> RunGroup:
    spec = RunSpec(name, name.upper(), "digits", arch, options, TrainConfig(epochs=3), base_dir=str(ROOT))
    return synthetic(spec, accuracies, params, macs)


def render(impl, result) -> str:
    figures = [{"name": "tradeoff", "caption": "c", "alt": "a", "src": "x.png", "number": 1, "wide": True}]
    return make_env().get_template(impl.template).render(s={"result": result, "figures": figures})


# --- the old block_mix tests, through both names ---------------------------------------------------------------


@pytest.fixture(scope="module", params=["model_size", "block_mix"])
def real(request):
    groups = [tiny_group("conv", seeds=(0, 1)), tiny_group("mobilenet", seeds=(0, 1)), tiny_group("mlp", seeds=(0, 1))]
    impl, result = compute(groups, kind=request.param)
    return groups, impl, result


def test_the_old_name_is_an_alias():
    assert SECTIONS.get("block_mix") is SECTIONS.get("model_size")
    assert SECTIONS.canonical("block_mix") == "model_size" and "block_mix" not in SECTIONS.names()


def test_rows_equal_sklearn_and_the_models_facts(real):
    groups, impl, result = real
    json.loads(json.dumps(result, allow_nan=False))
    for g, row in zip(groups, result["rows"], strict=True):
        accs = [accuracy_score(r.test_true, r.test_pred) for r in g.results]
        assert row["accuracy"]["values"] == pytest.approx(accs)
        assert row["params"] == g.results[0].params and row["macs"] == g.results[0].macs
        assert row["epoch_seconds"]["mean"] == pytest.approx(np.mean([np.mean(r.history["epoch_seconds"])
                                                                       for r in g.results]))
        assert row["accuracy_per_10k_params"] == pytest.approx(100 * np.mean(accs) / (row["params"] / 1e4))
    assert [r["facts"] for r in result["rows"]] == [
        {"conv blocks": 2, "MobileNet blocks": 0, "widths": "8"},
        {"conv blocks": 1, "MobileNet blocks": 1, "widths": "8"},
        {"hidden layers": 1, "hidden units": "32"},
    ]
    assert result["fact_columns"] == ["conv blocks", "MobileNet blocks", "widths", "hidden layers", "hidden units"]
    assert [f.name for f in draw_all(impl, result)] == ["tradeoff"]


def test_conv_mobilenet_describes_what_its_spec_says():
    # The block counts the table shows are the handout's, defaults filled in, whatever the widths.
    for options in ({}, {"conv_blocks": 1, "mobilenet_blocks": 3}, {"conv_blocks": 3, "channels": [8, 16, 16]}):
        spec = RunSpec("x", "X", "digits", "conv_mobilenet", options, TrainConfig())
        facts = describe_model(build_run_model(spec, (1, 28, 28), 10))
        assert (facts["conv blocks"], facts["MobileNet blocks"]) == block_counts(spec)
    assert facts["widths"] == "8, 16"
    assert block_counts(RunSpec("c4", "C4", "digits", "conv_mobilenet", {}, TrainConfig())) == (4, 0)


@pytest.mark.parametrize("manifest", ["experiments.toml", "examples/itu-a3-course.toml"])
def test_the_a3_manifests_block_mix_means_the_same(manifest):
    """Its section still says block_mix, now model_size: every run's described blocks are its manifest's."""
    loaded = load_manifest(ROOT / manifest)
    section = loaded.sections["block_mix"]
    assert section.type == "model_size"
    for name in section.runs:
        spec = loaded.runs[name]
        facts = describe_model(build_run_model(spec, (1, 28, 28), 10))
        assert facts == {"conv blocks": spec.model_options["conv_blocks"],
                         "MobileNet blocks": spec.model_options["mobilenet_blocks"], "widths": "32"}


def test_pareto_front():
    # (accuracy, size): b is beaten by a on both; d ties a on size and is less accurate.
    points = [(0.90, 1000), (0.80, 2000), (0.95, 5000), (0.85, 1000), (0.95, 5000)]
    assert pareto(points) == [True, False, True, False, True]


def brute_force_front(values):
    return [not any(b[0] >= a[0] and b[1] <= a[1] and (b[0] > a[0] or b[1] < a[1]) for b in values) for a in values]


def test_pareto_front_equals_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(500):
        n = int(rng.integers(1, 12))
        # Few distinct values, so ties on accuracy, on size and on both are common.
        values = [(float(a), int(s)) for a, s in zip(rng.integers(0, 5, n) / 4, rng.integers(0, 5, n), strict=True)]
        assert pareto(values) == brute_force_front(values), values
    assert pareto([]) == []


def test_analysis_names_best_smallest_front_and_swaps():
    groups = [
        mix_group(4, 0, [0.96, 0.97, 0.965], 28_000, 3_000_000),
        mix_group(3, 1, [0.95, 0.96, 0.955], 20_000, 2_000_000),
        mix_group(1, 3, [0.80, 0.81, 0.805], 5_000, 600_000),
        mix_group(3, 3, [0.97, 0.965, 0.975], 40_000, 3_500_000),
    ]
    _, result = compute(groups, sort_by="accuracy")
    assert [r["label"] for r in result["rows"]] == ["C3+M3", "C4", "C3+M1", "C1+M3"]
    assert {r["label"] for r in result["rows"] if r["pareto_params"]} == {"C4", "C3+M1", "C1+M3", "C3+M3"}
    text = " ".join(result["analysis"])
    assert "C3+M3 has the highest mean test accuracy (97.0 %)" in text and "within seed-to-seed noise" in text
    assert "C1+M3 is the smallest (5 k parameters" in text
    assert "Pareto-optimal): C1+M3, C3+M1, C4, C3+M3." in text
    assert "At 4 blocks, replacing 1 conv block by MobileNet blocks (C4 → C3+M1, 1.4× fewer parameters) moved " \
           "accuracy from 96.5 % to 95.5 % (1.0 point); the change is within seed-to-seed noise (p = " in text
    assert "At 4 blocks, replacing 3 conv blocks by MobileNet blocks (C4 → C1+M3, 5.6× fewer parameters) " \
           "lowered accuracy" in text
    # Three tests in the section (the lead and two swaps): Holm-corrected together, each with its 95 % CI.
    assert "the change is larger than seed-to-seed noise (p < 0.001, Holm-adjusted over 3; 95 % CI -17.1 to -14.9 " \
           "points)." in text
    assert "Holm-corrected for the 3 comparisons" in result["rule"] and "little power" in result["power"]
    assert "better" not in text.lower() and "worse" not in text.lower()


def test_one_seed_leaves_every_gap_untested():
    groups = [mix_group(4, 0, [0.97], 28_000), mix_group(1, 3, [0.90], 5_000)]
    text = " ".join(compute(groups)[1]["analysis"])
    assert "untested" in text and "p = " not in text
    assert "moved accuracy from 97.0 % to 90.0 % (7.0 points); the change is untested" in text


def test_no_equal_depth_pair_is_said_so():
    groups = [mix_group(4, 0, [0.97, 0.96], 28_000), mix_group(3, 3, [0.96, 0.97], 40_000)]
    text = " ".join(compute(groups)[1]["analysis"])
    assert "the effect of swapping conv blocks for MobileNet blocks cannot be separated from the effect of depth" \
           in text


def test_template_renders_the_facts_and_dashes(real):
    _, impl, result = real
    html = render(impl, result)
    assert html.count("<caption>") == 1 and html.count("<figure") == 1
    for header in ("Conv blocks", "MobileNet blocks", "Widths", "Hidden layers", "Hidden units"):
        assert f"<th>{header}</th>" in html
    mlp_row = html[html.index(">MLP"):]
    assert mlp_row[:mlp_row.index("</tr>")].count("<td>–</td>") == 3  # no conv, MobileNet or widths facts
    conv_row = html[html.index(">C2"):]
    assert conv_row[:conv_row.index("</tr>")].count("<td>–</td>") == 2  # no hidden layers or units


# --- the describe() protocol on any model -----------------------------------------------------------------------


def test_a_users_describe_shows_its_own_keys_and_its_swaps():
    groups = [ref_group("d4", f"{HERE}:DescribedNet", [0.9, 0.91], 8000, dense=4, sparse=0),
              ref_group("d2s2", f"{HERE}:DescribedNet", [0.8, 0.81], 4000, dense=2, sparse=2),
              ref_group("mlp", f"{HERE}:sequential_mlp", [0.85, 0.86], 25_000)]
    impl, result = compute(groups)
    facts = [r["facts"] for r in result["rows"]]
    assert facts[0] == {"dense blocks": 4, "sparse blocks": 0, "width": 8, "kind": "toy, 1"}
    assert facts[2] == {"conv layers": 0, "linear layers": 2, "attention layers": 0, "weighted layers": 2}
    assert result["fact_columns"] == ["dense blocks", "sparse blocks", "width", "kind", "conv layers",
                                      "linear layers", "attention layers", "weighted layers"]
    text = " ".join(result["analysis"])
    assert "At 4 blocks, replacing 2 dense blocks by sparse blocks (D4 → D2S2, 2.0× fewer parameters) " in text
    assert "MobileNet" not in text and "conv block" not in text
    html = render(impl, result)
    assert "<th>Dense blocks</th>" in html and "<td>toy, 1</td>" in html


def test_models_without_describe_get_generic_facts():
    torchvision = pytest.importorskip("torchvision")
    assert describe_model(torchvision.models.resnet18(num_classes=10)) == {
        "conv layers": 20, "linear layers": 1, "attention layers": 0, "weighted layers": 21,
        "conv widths": "64, 128, 256, 512"}
    # Built as a run: its first convolution adapted to one channel, the facts the same.
    groups = [ref_group("resnet", "torchvision.models:resnet18", [0.9, 0.92], 11_000_000),
              ref_group("mlp", f"{HERE}:sequential_mlp", [0.85, 0.86], 25_000)]
    _, result = compute(groups)
    assert result["rows"][0]["facts"]["conv layers"] == 20 and "conv widths" not in result["rows"][1]["facts"]
    text = " ".join(result["analysis"])
    assert "blocks" not in text  # no model describes kinds of blocks: nothing said about swapping them


def test_attention_modules_are_counted_outermost():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), SelfAttention(8), nn.MultiheadAttention(8, 2))
    facts = generic_facts(model)
    # qkv + inner.out_proj + the second attention's out_proj; weighted adds the two in_proj_weight and the conv.
    assert facts == {"conv layers": 1, "linear layers": 3, "attention layers": 2, "weighted layers": 6,
                     "conv widths": "4"}


def test_a_describe_that_breaks_leaves_a_note_not_a_failure():
    groups = [ref_group("bad", f"{HERE}:BadlyDescribed", [0.9, 0.91], 8000),
              ref_group("good", f"{HERE}:DescribedNet", [0.8, 0.81], 4000)]
    impl, result = compute(groups)
    bad = result["rows"][0]
    assert bad["facts"] == {} and bad["structure_note"].startswith("its structure is unknown (TypeError: "
                                                                   "BadlyDescribed.describe() must return a dict")
    assert "BadlyDescribed.describe() must return a dict" in render(impl, result)
    with pytest.raises(TypeError, match=r"OddFacts.describe\(\)\['x'\] must be a str, number, bool or None"):
        describe_model(OddFacts())


def test_describing_leaves_the_global_rng_alone():
    groups = [mix_group(4, 0, [0.97], 28_000), mix_group(1, 3, [0.90], 5_000)]
    before = torch.random.get_rng_state()
    compute(groups)
    assert torch.equal(before, torch.random.get_rng_state())


def test_helpers():
    assert compact_widths([32, 32, 32]) == "32" and compact_widths([16, 32, 32, 64, 32]) == "16, 32, 64, 32"
    assert compact_widths(range(1, 20)) == "1, 2, 3, 4, 5, 6, …, 19"
    assert block_kinds({"conv blocks": 1, "widths": "8", "MobileNet blocks": 0, "odd blocks": True}) == (
        "conv blocks", "MobileNet blocks")

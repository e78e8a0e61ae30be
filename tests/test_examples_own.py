"""The two bring-your-own examples: examples/own-model/ (a student's nn.Module and a course's loader) loads and plans;
examples/cifar10.toml (torchvision ResNet-18 vs a timm ViT, with and without augmentation) builds end to end on a tiny
generated dataset in CIFAR-10's on-disk format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.build import build
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import make_plan
from tests.data_files import write_cifar10

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_own_model_example_loads_and_plans_with_its_own_code():
    manifest = load_manifest(EXAMPLES / "own-model" / "experiments.toml")
    assert manifest.runs["starter"].arch == "models.py:StarterNet"
    assert manifest.runs["finetuned"].init_from == "starter"
    plan = make_plan(manifest)
    finetuned = plan.by_name["finetuned"][0]
    assert finetuned.init_from == plan.by_name["starter"][0].key
    assert plan.runs.index(plan.by_name["starter"][0]) < plan.runs.index(finetuned)
    assert plan.by_name["starter"][0].spec["evaluate_on"].keys() == {"noisy"}


def test_the_cifar10_example_builds_on_tiny_cifar_files(tmp_path):
    pytest.importorskip("timm")
    write_cifar10(tmp_path / "data", n_train=60, n_test=20)
    text = (EXAMPLES / "cifar10.toml").read_text(encoding="utf-8")
    text = text.replace("epochs = 15", "epochs = 1").replace("seeds = [0, 1]", "seeds = [0]")
    text = text.replace("depth = 6 }", "depth = 1, embed_dim = 48, num_heads = 2 }")
    (tmp_path / "experiments.toml").write_text(text, encoding="utf-8")
    summary = build(tmp_path / "experiments.toml", quiet=True)
    assert summary.failed == 0
    results = json.loads(summary.results.read_text(encoding="utf-8"))
    rows = {r["run"]: r for r in results["sections"]["compare"]["result"]["rows"]}
    assert set(rows) == {"resnet", "resnet_aug", "vit", "vit_aug"}
    assert results["runs"]["resnet"]["test_size"] == 20 and results["runs"]["resnet"]["classes"] == 10
    text = "\n".join(page.extract_text() for page in PdfReader(summary.pdf).pages)
    assert "ResNet-18 + augmentation" in text and "ViT-Tiny/4" in text

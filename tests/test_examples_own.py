"""The two bring-your-own examples: examples/own-model/ (a student's nn.Module and a course's loader) loads and plans;
examples/cifar10.toml (torchvision ResNet-18 vs a timm ViT, with and without augmentation) builds end to end on a tiny
generated dataset in CIFAR-10's on-disk format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen.build import build
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import make_plan
from tests.data_files import write_cifar10, write_mnist

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


def test_the_own_model_example_builds_with_its_own_code_on_fewer_digits(tmp_path):
    """The example as written, with one seed, one epoch and 30 digits per class (its full build takes minutes)."""
    for name in ("models.py", "data.py"):
        shutil.copy(EXAMPLES / "own-model" / name, tmp_path / name)
    text = (EXAMPLES / "own-model" / "experiments.toml").read_text(encoding="utf-8")
    caps = "{" + ", ".join(f'"{c}" = 30' for c in range(10)) + "}"
    text = (text.replace("seeds = [0, 1]", "seeds = [0]").replace("epochs = 4", "epochs = 1")
            .replace("epochs = 2", "epochs = 1").replace("warmup_epochs = 1", "warmup_epochs = 0")
            .replace("split = [0.6, 0.2, 0.2]", f'split = [0.6, 0.2, 0.2]\nclass_caps = {caps}\ncaps_apply_to = "all"'))
    (tmp_path / "experiments.toml").write_text(text, encoding="utf-8")
    summary = build(tmp_path / "experiments.toml", quiet=True)
    assert summary.failed == 0
    results = json.loads(summary.results.read_text(encoding="utf-8"))
    assert all(s["status"] == "ok" for s in results["sections"].values())
    transfer = {r["run"]: r for r in results["sections"]["transfer"]["result"]["rows"]}
    assert transfer["starter"]["scores"]["noisy"]["n"] == 1 and transfer["scratch_noisy"]["role"] == "from scratch"
    assert transfer["finetuned"]["role"] == "fine-tuned"
    assert any("started from the trained weights of run starter" in n for n in transfer["finetuned"]["notes"])
    dropout = results["sections"]["dropout"]["result"]["factors"][0]
    assert [r["text"] for r in dropout["rows"]] == ["0", "0.25", "0.5", "1"]


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


def test_the_fashion_example_builds_on_a_generated_stand_in(tmp_path):
    """examples/fashion/ as written (its own models.py, every question type it uses, the target and the transfer),
    with Debian's Fashion-MNIST replaced by generated idx files of the same layout, one seed and one epoch."""
    shutil.copy(EXAMPLES / "fashion" / "models.py", tmp_path / "models.py")
    write_mnist(tmp_path / "fashion", per_class=(30, 10))
    text = (EXAMPLES / "fashion" / "experiments.toml").read_text(encoding="utf-8")
    text = (text.replace('root = "/usr/share/datasets/fashion-mnist"', 'root = "fashion"')
            .replace("limit_train = 12000\n", "").replace("limit_test = 2000\n", "")
            .replace("seeds = [0, 1]", "seeds = [0]"))
    for n in (3, 4, 6):
        text = text.replace(f"epochs = {n}\n", "epochs = 1\n")
    (tmp_path / "experiments.toml").write_text(text, encoding="utf-8")
    summary = build(tmp_path / "experiments.toml", quiet=True)
    assert summary.failed == 0
    results = json.loads(summary.results.read_text(encoding="utf-8"))
    assert all(s["status"] == "ok" for s in results["sections"].values()), {
        k: s.get("status") for k, s in results["sections"].items()}
    assert results["sections"]["best"]["target"]["runs"][0]["run"] == "best"
    tuned = {r["run"]: r for r in results["sections"]["transfer"]["result"]["rows"]}["digits_finetuned"]
    assert any("its head (fc2) was re-initialised" in note for note in tuned["notes"])
    text = "\n".join(page.extract_text() for page in PdfReader(summary.pdf).pages)
    assert "Best: BN, wider, augmented" in text and "88" in text


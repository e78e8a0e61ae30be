"""A model from a file, a factory from a module, torchvision's ResNet-18 and timm's ViT, each through every section
type that applies to any model, in one real (small) report whose HTML and PDF are opened."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from reportgen.build import build
from tests.test_own_models import NET

RUNS = ["file", "module", "torchvision", "timm"]
SECTIONS = ["data", "architecture", "compare", "confusion", "predictions", "filters", "ablation", "tsne_epochs",
            "factor_confusion", "sweeps", "model_size", "roc", "curves", "tsne", "conclusions"]
MANIFEST = """\
[report]
title = "Any model through every section"
seeds = [0]

[datasets.digits]
kind = "mnist5k"
class_caps = {0 = 10, 1 = 10, 2 = 10, 3 = 10, 4 = 10, 5 = 10, 6 = 10, 7 = 10, 8 = 10, 9 = 10}
caps_apply_to = "all"

[runs.file]
label = "Net (file)"
dataset = "digits"
model = { arch = "models.py:Net", width = 4 }
epochs = 2
batch_size = 25
feature_snapshots = [1]

[runs.module]
extends = "file"
label = "small (module)"
model = { arch = "course_models_e2e:small", hidden = 8 }

[runs.torchvision]
extends = "file"
label = "ResNet-18"
model = { arch = "torchvision.models:resnet18" }

[runs.timm]
extends = "file"
label = "ViT"
model = { arch = "timm:vit_tiny_patch16_224", img_size = 28, patch_size = 7, depth = 2, embed_dim = 32, num_heads = 2 }
augment = { crop = 2, hflip = true }

[sections.data]
runs = ["file"]
[sections.architecture]
runs = RUNS
[sections.compare]
runs = RUNS
[sections.confusion]
runs = RUNS
[sections.predictions]
runs = RUNS
[sections.filters]
runs = RUNS
[sections.ablation]
runs = RUNS
reference = "module"
tsne_points = 50
[sections.tsne_epochs]
runs = RUNS
tsne_points = 50
[sections.factor_confusion]
runs = RUNS
[sections.sweeps]
runs = ["file"]
factors = { "model.dropout" = [1.0], optimizer = ["rmsprop"] }
[sections.model_size]
runs = RUNS
[sections.roc]
runs = RUNS
[sections.curves]
runs = RUNS
[sections.tsne]
runs = RUNS
tsne_points = 50
[sections.conclusions]
""".replace("runs = RUNS", "runs = " + json.dumps(RUNS))


def test_every_kind_of_model_goes_through_every_section(tmp_path, monkeypatch):
    pytest.importorskip("timm")
    from reportgen.sections import SECTIONS as REGISTERED

    # Every registered section type is here but two that need runs of their own making or another dataset (grid,
    # transfer: tests/test_sections.py runs them on a model from a user file, examples/fashion builds both).
    assert set(REGISTERED.names()) - {"grid", "transfer"} == set(SECTIONS)
    (tmp_path / "models.py").write_text(NET, encoding="utf-8")
    (tmp_path / "course_models_e2e.py").write_text(NET, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "experiments.toml").write_text(MANIFEST, encoding="utf-8")
    summary = build(tmp_path / "experiments.toml", quiet=True)
    assert summary.failed == 0 and summary.unfinished == 0

    results = json.loads(summary.results.read_text(encoding="utf-8"))
    assert list(results["sections"]) == SECTIONS
    assert all(s["status"] == "ok" for s in results["sections"].values())
    rows = {r["run"]: r for r in results["sections"]["compare"]["result"]["rows"]}
    assert set(rows) == set(RUNS) and all(r["status"] == "ok" and r["macs"] > 0 for r in rows.values())
    assert rows["torchvision"]["params"] > 10_000_000 and rows["module"]["params"] == 28 * 28 * 8 + 8 + 8 * 10 + 10
    filters = {r["run"]: r for r in results["sections"]["filters"]["result"]["runs"]}
    assert filters["module"]["status"] == "not applicable" and filters["file"]["status"] == "ok"
    architecture = {r["run"]: r for r in results["sections"]["architecture"]["result"]["runs"]}
    assert any("first convolution" in note for note in architecture["torchvision"].get("build_notes", []))

    html = summary.html.read_text(encoding="utf-8")
    text = "\n".join(page.extract_text() for page in PdfReader(summary.pdf).pages)
    for label in ("Net (file)", "small (module)", "ResNet-18", "ViT"):
        assert label in html and label in text
    assert "has no convolution" in html

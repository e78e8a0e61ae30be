"""``data``: class counts, imbalance, stratification and pixel statistics of real (tiny) splits of the digits,
including the assignment's imbalanced variant (0, 4 and 7 cut in training)."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
import torch

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.data import DatasetSplits, Split
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.data import pixel_stats, stratification
from reportgen.training.result import RunFailure
from tests import support

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

IMBALANCED = {"class_caps": {"0": 5, "4": 5, "7": 5}, "caps_apply_to": "train"}


def group(name: str, data, **overrides) -> RunGroup:
    spec = RunSpec(name, name.upper(), "digits", "mlp", {}, TrainConfig(), dataset_overrides=overrides)
    return RunGroup(name, spec, [0], [RunFailure("f" * 20, {}, "not trained")], data=data)


def compute(groups: list[RunGroup], **options):
    spec = SectionSpec(id="data", type="data", title="Data", question="", marks=0, runs=tuple(g.name for g in groups),
                       options=options)
    impl = SECTIONS.get("data")(spec)
    result = impl.compute(SectionContext(spec, groups))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    return impl, result


def test_counts_sizes_and_pixel_stats_of_balanced_splits():
    data = support.tiny_data()
    _, result = compute([group("a", data)])
    (entry,) = result["datasets"]
    for split in ("train", "val", "test"):
        y = getattr(data, split).y.numpy()
        assert entry["splits"][split]["counts"] == np.bincount(y, minlength=10).tolist()
        assert entry["splits"][split]["size"] == len(y)
        assert entry["splits"][split]["imbalance"] == pytest.approx(1.0)
    mean, std = data.channel_stats()
    assert entry["pixel_mean"] == pytest.approx(mean, rel=1e-5)
    assert entry["pixel_std"] == pytest.approx(std, rel=1e-5)
    assert entry["image_shape"] == [1, 28, 28] and entry["classes"] == list("0123456789")
    assert entry["stratification"]["stratified"] and entry["under_represented"] == []
    text = " ".join(result["analysis"])
    assert "Dataset digits has 600 images of 1×28×28 pixels in 10 classes: 200 for training (33 %)" in text
    assert "The splits are stratified" in text and "No class is under-represented" in text


def test_the_imbalanced_variant_shows_its_cut_classes():
    data = support.tiny_data(**IMBALANCED)
    impl, result = compute([group("imb", data)])
    (entry,) = result["datasets"]
    train = entry["splits"]["train"]
    assert [train["counts"][d] for d in (0, 4, 7)] == [5, 5, 5]
    assert train["imbalance"] == pytest.approx(max(train["counts"]) / 5)
    assert [u["class"] for u in entry["under_represented"]] == ["0", "4", "7"]
    assert not entry["stratification"]["stratified"]
    assert entry["stratification"]["largest_gap"]["class"] in ("0", "4", "7")
    text = " ".join(result["analysis"])
    assert "The splits are not stratified" in text
    assert "Classes 0, 4 and 7 are under-represented in training, with 5, 5 and 5 images" in text
    fig = impl.figures(result)[0].draw()
    try:
        ax = fig.axes[0]
        assert len(ax.patches) == 30  # 10 classes × train, val, test
        assert [t.get_text() for t in ax.get_xticklabels()] == list("0123456789")
        assert sorted(t.get_text() for t in ax.texts) == ["5", "5", "5"]  # the cut classes are labelled
    finally:
        plt.close(fig)


def test_datasets_are_deduplicated_by_fingerprint_and_named_by_overrides():
    balanced, other = support.tiny_data(), support.tiny_data(split=(0.8, 0.1, 0.1))
    _, result = compute([group("a", balanced), group("b", balanced), group("c", other, split=(0.8, 0.1, 0.1))])
    assert [(d["name"], d["runs"]) for d in result["datasets"]] == [
        ("digits", ["A", "B"]), ("digits (split = [0.8, 0.1, 0.1])", ["C"])]
    assert [r["dataset"] for r in result["runs"]] == ["digits", "digits", "digits (split = [0.8, 0.1, 0.1])"]


def test_stratification_allows_one_image_of_rounding():
    classes = ("a", "b")
    assert stratification({"train": [7, 6], "val": [2, 3], "test": [1, 1]}, classes)["stratified"]
    off = stratification({"train": [2, 12], "val": [5, 5], "test": [5, 5]}, classes)
    assert not off["stratified"]
    assert off["largest_gap"]["class"] in classes and off["largest_gap"]["low_split"] == "train"


def test_pixel_stats_in_chunks_match_the_whole():
    x = torch.randint(0, 256, (50, 3, 5, 4), dtype=torch.uint8)
    mean, std = pixel_stats(x, chunk=7)
    xf = x.double() / 255
    assert mean == pytest.approx(xf.mean(dim=(0, 2, 3)).tolist())
    assert std == pytest.approx(xf.std(dim=(0, 2, 3)).tolist())


def test_large_colour_samples_are_downsampled_and_drawn():
    def split(n):
        return Split(torch.randint(0, 256, (n, 3, 96, 64), dtype=torch.uint8), torch.arange(n) % 3)

    data = DatasetSplits(split(12), split(6), split(6), ("cat", "dog", "a-rather-long-class-name")).with_fingerprint()
    impl, result = compute([group("rgb", data)], samples_per_class=2)
    samples = result["datasets"][0]["samples"]
    image = np.asarray(samples["images"][0][0])
    assert image.shape == (3, 48, 32) and len(samples["images"][2]) == 2
    for f in impl.figures(result):
        fig = f.draw()
        try:
            fig.canvas.draw()
        finally:
            plt.close(fig)


def test_no_samples_when_asked_for_none_and_failures_kept():
    impl, result = compute([group("a", support.tiny_data())], samples_per_class=0)
    assert result["datasets"][0]["samples"] is None
    assert [f.name for f in impl.figures(result)] == ["counts-1"]
    assert result["runs"][0]["failures"] == ["seed 0: failed: not trained"]


def test_template_renders_the_counts_table():
    from reportgen.render.env import make_env

    _, result = compute([group("imb", support.tiny_data(**IMBALANCED)), group("bal", support.tiny_data())])
    html = make_env().get_template("sections/data.html.j2").render(s={"result": result, "figures": []})
    assert html.count("<table") == 2 and "<h3>digits (IMB)</h3>" in html
    assert "<td>5</td>" in html

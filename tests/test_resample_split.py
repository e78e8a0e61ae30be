"""``resample_split``: each seed re-draws the train/validation partition (stratified, same per-class counts), the
test set stays fixed; set in ``[report]``, a ``[datasets.NAME]`` table or a run; in a run's key only when on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reportgen.config.specs import RunSpec, SectionSpec, TrainConfig
from reportgen.data import Split
from reportgen.data.split import resample_train_val
from reportgen.runs.plan import make_plan
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.data import describe_resampled
from reportgen.training.result import RunFailure
from reportgen.training.train import resample_split
from tests import support
from tests.conftest import edit

# A generated pool: 3 classes of 8×8 images (a bright row per class, plus noise), 24 per class; split 50/25/25.
LOADER = '''\
import numpy as np


def load(n=24):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 60, size=(3 * n, 8, 8), dtype=np.uint8)
    y = np.repeat(np.arange(3), n)
    for i, label in enumerate(y):
        x[i, 2 * label + 1] = 250
    return {"x": x, "y": y, "classes": ["top", "middle", "bottom"]}
'''

MANIFEST = '''\
[report]
title = "Split noise"
seeds = [0, 1]

[datasets.gen]
kind = "python"
loader = "gen.py:load"
split = [0.5, 0.25, 0.25]

[runs.mlp]
dataset = "gen"
model = { arch = "mlp", hidden = [16] }
epochs = 1
batch_size = 8
lr = 0.01

[runs.wide]
extends = "mlp"
model = { hidden = [24] }

[sections.compare]
type = "compare"
runs = ["mlp", "wide"]
'''


@pytest.fixture
def manifest_with(write_manifest, monkeypatch):
    """``manifest_with(old, new)``: the generated-data manifest with one edit, loaded from its own folder."""
    from reportgen.config.manifest import load_manifest

    def load(old: str = "", new: str = ""):
        path = write_manifest(edit(MANIFEST, old, new) if old else MANIFEST)
        (path.parent / "gen.py").write_text(LOADER, encoding="utf-8")
        monkeypatch.chdir(path.parent)
        return load_manifest(Path(path.name))

    return load


def _ids(split: Split) -> set[bytes]:
    """The images of a split, as a set (every image of the tiny digits is distinct)."""
    return {bytes(img.numpy().tobytes()) for img in split.x}


# --- the draw ---------------------------------------------------------------------------------------------------


def test_each_seed_draws_its_own_partition_and_the_same_seed_the_same_one():
    data = support.tiny_data()
    assert len(_ids(data.train) | _ids(data.val)) == len(data.train) + len(data.val)  # distinct images
    train0, val0 = resample_train_val(data.train, data.val, 0)
    again0, _ = resample_train_val(data.train, data.val, 0)
    train1, val1 = resample_train_val(data.train, data.val, 1)
    assert torch.equal(train0.x, again0.x) and torch.equal(train0.y, again0.y)
    assert _ids(train0) != _ids(train1)
    assert _ids(train0) != _ids(data.train)  # seed 0 is a new draw, not the dataset's own split
    for train, val in ((train0, val0), (train1, val1)):  # a partition of the same pooled images
        assert _ids(train) | _ids(val) == _ids(data.train) | _ids(data.val)
        assert not _ids(train) & _ids(val)


def test_every_class_keeps_its_counts_in_train_and_val():
    data = support.tiny_data(class_caps={"0": 5, "4": 5, "7": 5}, caps_apply_to="train")  # imbalanced training
    for seed in (0, 1, 2):
        train, val = resample_train_val(data.train, data.val, seed)
        assert train.class_counts(10) == data.train.class_counts(10)
        assert val.class_counts(10) == data.val.class_counts(10)
        assert train.y.dtype == torch.int64 and train.x.dtype == torch.uint8
        # Labels travel with their images: the same image carries the same label after the draw.
        pooled = (data.train, data.val)
        label_of = {bytes(x.numpy().tobytes()): int(y) for s in pooled for x, y in zip(s.x, s.y, strict=True)}
        assert all(label_of[bytes(x.numpy().tobytes())] == int(y) for x, y in zip(train.x, train.y, strict=True))


def test_the_test_split_and_fingerprint_stay_and_a_note_says_so():
    data = support.tiny_data()
    redrawn, note = resample_split(data, 3)
    assert redrawn.test is data.test
    assert redrawn.fingerprint == data.fingerprint and redrawn.classes == data.classes
    assert not torch.equal(redrawn.train.x, data.train.x)
    assert "resample_split" in note and f"{len(data.train):,} + {len(data.val):,}" in note


# --- manifest and keys ------------------------------------------------------------------------------------------


def _flags(manifest) -> dict[str, bool]:
    return {name: run.train.resample_split for name, run in manifest.runs.items()}


def test_off_by_default_and_set_by_report_dataset_or_run(manifest_with):
    assert _flags(manifest_with()) == {"mlp": False, "wide": False}
    on_report = manifest_with('seeds = [0, 1]\n', 'seeds = [0, 1]\nresample_split = true\n')
    assert on_report.report.resample_split and _flags(on_report) == {"mlp": True, "wide": True}
    on_dataset = manifest_with('split = [0.5, 0.25, 0.25]\n', 'split = [0.5, 0.25, 0.25]\nresample_split = true\n')
    assert _flags(on_dataset) == {"mlp": True, "wide": True}
    assert "resample_split" not in on_dataset.datasets["gen"].options  # never a loader option
    # The run's own key wins over the dataset's, and a run that extends it inherits it.
    run_off = manifest_with('split = [0.5, 0.25, 0.25]\n',
                            'split = [0.5, 0.25, 0.25]\nresample_split = true\n\n[runs.other]\ndataset = "gen"\n'
                            'model = "mlp"\nresample_split = false\n')
    assert _flags(run_off) == {"other": False, "mlp": True, "wide": True}
    parent_on = manifest_with('lr = 0.01\n', 'lr = 0.01\nresample_split = true\n')
    assert _flags(parent_on) == {"mlp": True, "wide": True}
    child_on = manifest_with('model = { hidden = [24] }\n', 'model = { hidden = [24] }\nresample_split = true\n')
    assert _flags(child_on) == {"mlp": False, "wide": True}


def test_a_dataset_false_overrides_the_report(write_manifest, monkeypatch):
    from reportgen.config.manifest import load_manifest

    text = edit(edit(MANIFEST, 'seeds = [0, 1]\n', 'seeds = [0, 1]\nresample_split = true\n'),
                'split = [0.5, 0.25, 0.25]\n', 'split = [0.5, 0.25, 0.25]\nresample_split = false\n')
    text += '\n[runs.bare]\ndataset = "mnist5k"\nmodel = "mlp"\n'  # a bare kind: the report's default
    path = write_manifest(text)
    (path.parent / "gen.py").write_text(LOADER, encoding="utf-8")
    monkeypatch.chdir(path.parent)
    assert _flags(load_manifest(Path(path.name))) == {"mlp": False, "wide": False, "bare": True}


@pytest.mark.parametrize(("old", "new", "message"), [
    ('seeds = [0, 1]\n', 'seeds = [0, 1]\nresample_split = "yes"\n',
     "experiments.toml: report.resample_split: expected boolean, got string 'yes'"),
    ('split = [0.5, 0.25, 0.25]\n', 'split = [0.5, 0.25, 0.25]\nresample_split = 1\n',
     "experiments.toml: datasets.gen.resample_split: expected boolean, got integer 1"),
    ('lr = 0.01\n', 'lr = 0.01\nresample_split = []\n',
     "experiments.toml: runs.mlp.resample_split: expected boolean, got list []"),
])
def test_a_wrong_type_is_a_located_error(load_error, old, new, message):
    assert load_error(edit(MANIFEST, old, new)) == message


def test_key_unchanged_when_off_and_changed_when_on(manifest_with):
    def keys(manifest):
        return {(p.run.name, p.seed): p for p in make_plan(manifest).runs}

    default = keys(manifest_with())
    explicit_off = keys(manifest_with('lr = 0.01\n', 'lr = 0.01\nresample_split = false\n'))
    on = keys(manifest_with('lr = 0.01\n', 'lr = 0.01\nresample_split = true\n'))
    assert {k: p.key for k, p in explicit_off.items()} == {k: p.key for k, p in default.items()}
    assert all("resample_split" not in p.spec["train"] for p in default.values())  # the key every run had before
    assert all(on[k].key != default[k].key for k in default)
    assert all(on[k].spec["train"]["resample_split"] is True for k in on)
    # The dataset part of the key, fingerprint included, is the same: the flag is no dataset option.
    assert all(on[k].spec["dataset"] == default[k].spec["dataset"] for k in default)
    split = 'split = [0.5, 0.25, 0.25]\n'
    on_dataset = keys(manifest_with(split, split + 'resample_split = true\n'))
    assert {k: p.key for k, p in on_dataset.items()} == {k: p.key for k, p in on.items()}


# --- end to end -------------------------------------------------------------------------------------------------


def test_one_epoch_on_generated_data_trains_each_seed_on_its_own_partition(manifest_with):
    from reportgen.runs.executors import train_task

    manifest = manifest_with('split = [0.5, 0.25, 0.25]\n', 'split = [0.5, 0.25, 0.25]\nresample_split = true\n')
    plain = manifest_with()
    on = {p.seed: p for p in make_plan(manifest).by_name["mlp"]}
    off = {p.seed: p for p in make_plan(plain).by_name["mlp"]}
    results = {(name, seed): train_task(m, planned, "cpu", 1)
                for name, m, runs in (("on", manifest, on), ("off", plain, off)) for seed, planned in runs.items()}
    assert all(r.ok for r in results.values()), [getattr(r, "reason", "") for r in results.values()]
    on0 = results["on", 0]
    assert len(on0.history["train_loss"]) == 1
    assert any("resample_split" in note and "36 + 18" in note for note in on0.notes)  # 72 images, split 50/25/25
    assert not any("resample_split" in note for note in results["off", 0].notes)
    # Every run and seed is scored on the same test images.
    for r in results.values():
        assert (r.test_true == on0.test_true).all()
    # Same seed, same init and batch order: only the training images differ, and so does the first epoch's loss.
    assert results["on", 0].history["train_loss"] != results["off", 0].history["train_loss"]
    # Trained again, the same seed gives the same numbers (the partition is seeded by it).
    again = train_task(manifest, on[0], "cpu", 1)
    assert again.history == {**on0.history, "epoch_seconds": again.history["epoch_seconds"]}


def test_the_data_section_says_when_runs_resample():
    data = support.tiny_data()  # 20 images per class in each split: 400 for training and validation, 200 for testing

    def analysis(*flags: bool) -> str:
        groups = [RunGroup(f"r{i}", RunSpec(f"r{i}", f"R{i}", "digits", "mlp", {}, TrainConfig(resample_split=flag)),
                           [0], [RunFailure("f" * 20, {}, "not trained")], data=data) for i, flag in enumerate(flags)]
        spec = SectionSpec(id="data", type="data", title="Data", question="", marks=0,
                           runs=tuple(g.name for g in groups))
        return " ".join(SECTIONS.get("data")(spec).compute(SectionContext(spec, groups))["analysis"])

    assert "resample_split" not in analysis(False, False)
    assert ("Run R1 re-draws training and validation for each seed (resample_split): each seed trains on its own "
            "stratified draw from these 400 images with the per-class counts above, and every seed is tested on the "
            "same 200 test images") in analysis(False, True)
    assert "Runs R0 and R1 re-draw" in analysis(True, True)
    assert describe_resampled({"resampled": [], "splits": {}}) == []

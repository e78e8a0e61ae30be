"""Data that moves keys the same (location options are not keyed), and `reportgen cache prune` keeps what it cannot
account for: a manifest it cannot plan stops it, a TOML file that is no manifest does not, and a manifest whose data
is gone is keyed from the fingerprints its build recorded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reportgen.build import build
from reportgen.cli import main
from reportgen.config.manifest import load_manifest
from reportgen.data.loading import FingerprintStore, clear_cache, data_identity
from reportgen.runs.cache import RunCache
from reportgen.runs.cache_commands import not_a_manifest
from reportgen.runs.plan import dataset_key, make_plan, remember_fingerprints

IMAGE_MANIFEST = """\
[report]
title = "Shapes"
seeds = [0]

[datasets.shapes]
kind = "imagefolder"
root = "shapes"
split = [0.5, 0.25, 0.25]

[datasets.other]
kind = "imagefolder"
root = "other"
split = [0.5, 0.25, 0.25]

[runs.mlp]
label = "MLP"
dataset = "shapes"
model = { arch = "mlp", hidden = [8] }
evaluate_on = ["other"]
epochs = 1
batch_size = 8
lr = 0.01

[sections.curves]
type = "curves"
title = "Learning curves"
question = "How did the MLP learn?"
marks = 1
runs = ["mlp"]
"""

CSV_MANIFEST = """\
[report]
title = "Shapes from a CSV"
seeds = [0]

[datasets.shapes]
kind = "imagefolder_csv"
root = "pictures"
csv = "labels.csv"
split = [0.5, 0.25, 0.25]

[runs.mlp]
label = "MLP"
dataset = "shapes"
model = { arch = "mlp", hidden = [8] }

[sections.curves]
type = "curves"
title = "Learning curves"
question = "How did the MLP learn?"
marks = 1
runs = ["mlp"]
"""

PYPROJECT = '[project]\nname = "coursework"\n\n[tool.ruff]\nline-length = 120\n'


def write_image_folder(folder: Path, seed: int, per_class: int = 8) -> Path:
    """``folder/<class>/<i>.png``: 8x8 grayscale noise, brighter for class "b" (so the classes can be told apart)."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(("a", "b")):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 128, size=(8, 8), dtype=np.uint8) + 100 * c
            Image.fromarray(pixels.astype(np.uint8), mode="L").save(folder / name / f"{i}.png")
    return folder


def write_csv_dataset(project: Path, seed: int = 0) -> None:
    """``project/pictures/<i>.png`` and ``project/labels.csv`` (file, label) for the same two classes."""
    write_image_folder(project / "sorted", seed)
    (project / "pictures").mkdir()
    rows = ["file,label"]
    for path in sorted((project / "sorted").rglob("*.png")):
        name = f"{path.parent.name}{path.stem}.png"
        shutil.copy(path, project / "pictures" / name)
        rows.append(f"{name},{path.parent.name}")
    shutil.rmtree(project / "sorted")
    (project / "labels.csv").write_text("\n".join(rows) + "\n")


def keys_of(manifest: Path) -> list[str]:
    return sorted(p.key for p in make_plan(load_manifest(manifest)).runs)


def image_project(folder: Path, text: str = IMAGE_MANIFEST) -> Path:
    write_image_folder(folder / "shapes", seed=0)
    write_image_folder(folder / "other", seed=1)
    manifest = folder / "experiments.toml"
    manifest.write_text(text)
    return manifest


# Item 8: options that say where the data is are not in a run's key.


def test_the_same_image_folder_in_two_places_keys_the_same(tmp_path):
    first = image_project(tmp_path / "here")
    shutil.copytree(tmp_path / "here", tmp_path / "there")
    # And the data moved out of the project, named by an absolute path:
    shutil.move(str(tmp_path / "there" / "shapes"), str(tmp_path / "elsewhere"))
    moved = tmp_path / "there" / "experiments.toml"
    moved.write_text(IMAGE_MANIFEST.replace('root = "shapes"', f'root = "{(tmp_path / "elsewhere").as_posix()}"'))
    assert keys_of(first) == keys_of(moved)
    spec = make_plan(load_manifest(moved)).runs[0].spec
    assert "root" not in spec["dataset"] and spec["dataset"]["kind"] == "imagefolder"


def test_changing_one_image_changes_the_key(tmp_path):
    manifest = image_project(tmp_path / "here")
    before = keys_of(manifest)
    shutil.copytree(tmp_path / "here", tmp_path / "edited")
    image = tmp_path / "edited" / "shapes" / "a" / "3.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8), mode="L").save(image)
    assert keys_of(tmp_path / "edited" / "experiments.toml") != before
    # The image the run is only evaluated on (evaluate_on) counts too.
    shutil.copytree(tmp_path / "here", tmp_path / "edited-other")
    blank = Image.fromarray(np.zeros((8, 8), dtype=np.uint8), mode="L")
    blank.save(tmp_path / "edited-other" / "other" / "b" / "0.png")
    assert keys_of(tmp_path / "edited-other" / "experiments.toml") != before


def test_a_csv_dataset_moved_keys_the_same_and_an_edited_label_does_not(tmp_path):
    write_csv_dataset(tmp_path / "one")
    (tmp_path / "one" / "experiments.toml").write_text(CSV_MANIFEST)
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    (tmp_path / "two" / "labels.csv").rename(tmp_path / "two" / "renamed.csv")
    (tmp_path / "two" / "pictures").rename(tmp_path / "two" / "images")
    (tmp_path / "two" / "experiments.toml").write_text(
        CSV_MANIFEST.replace('"labels.csv"', '"renamed.csv"').replace('"pictures"', '"images"'))
    assert keys_of(tmp_path / "one" / "experiments.toml") == keys_of(tmp_path / "two" / "experiments.toml")
    shutil.copytree(tmp_path / "one", tmp_path / "three")
    csv = tmp_path / "three" / "labels.csv"
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].replace(",a", ",b")  # one image relabelled
    csv.write_text("\n".join(lines) + "\n")
    assert keys_of(tmp_path / "three" / "experiments.toml") != keys_of(tmp_path / "one" / "experiments.toml")


def test_torchvision_root_and_download_are_location_only():
    here = dataset_key("torchvision", {"name": "mnist", "root": "data", "download": True})
    there = dataset_key("torchvision", {"name": "mnist", "root": "/srv/datasets/mnist"})
    assert here == there and "root" not in here and "download" not in here
    assert here != dataset_key("torchvision", {"name": "mnist", "limit_train": 100})
    # A kind without location options keys every option, as before.
    assert dataset_key("mnist5k", {"seed": 1}) == {"caps_apply_to": "train", "class_caps": None, "seed": 1,
                                                   "split": [0.6, 0.2, 0.2]}


# Item 10: `cache prune` keeps what it cannot account for.


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A project whose one run (evaluated on a second image folder) was built, so its cache records both folders'
    fingerprints."""
    manifest = image_project(tmp_path_factory.mktemp("built"))
    build(manifest, device="cpu", quiet=True, pdf=False, jobs=1)
    return manifest


@pytest.fixture
def project(built, tmp_path):
    """A copy of the built project (with a pyproject.toml), built again where it now is, to break freely; returns
    (manifest, its cache)."""
    shutil.copytree(built.parent, tmp_path / "proj")
    (tmp_path / "proj" / "pyproject.toml").write_text(PYPROJECT)
    manifest = tmp_path / "proj" / "experiments.toml"
    # The moved project's data keys the same: its build trains nothing, and records where its data now is.
    assert build(manifest, device="cpu", quiet=True, pdf=False, jobs=1).trained == 0
    clear_cache()  # nothing loaded in this process may stand in for data that is gone
    return manifest, RunCache(manifest.parent / "out" / "cache")


def stray_entry(cache: RunCache) -> Path:
    stray = cache.path("0" * 20)
    stray.mkdir(parents=True)
    (stray / "meta.json").write_text("{}")
    return stray


def test_a_build_records_the_fingerprints_of_the_data_it_keyed(project):
    manifest, cache = project
    stored = json.loads((cache.root / FingerprintStore.FILE).read_text())
    spec = make_plan(load_manifest(manifest)).runs[0].spec
    options = {name: spec.options for name, spec in load_manifest(manifest).datasets.items()}
    assert stored[data_identity("imagefolder", options["shapes"], manifest.parent)] == spec["dataset"]["fingerprint"]
    assert stored[data_identity("imagefolder", options["other"], manifest.parent)] == spec["evaluate_on"]["other"]


def test_prune_with_a_pyproject_and_a_manifest_whose_data_is_absent_deletes_nothing(tmp_path, built):
    """The issue's "done when": a fresh process, a folder with pyproject.toml and a manifest whose data was never
    here (no build recorded it); the cache holds entries prune cannot tell from unused ones."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "experiments.toml").write_text(IMAGE_MANIFEST)  # no shapes/ nor other/ here
    shutil.copytree(built.parent / "out" / "cache", folder / "out" / "cache")
    cache = RunCache(folder / "out" / "cache")
    before = cache.keys()
    assert before
    done = subprocess.run([sys.executable, "-m", "reportgen", "cache", "prune"], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert cache.keys() == before
    assert "experiments.toml" in done.stderr and "image folder shapes not found" in done.stderr
    assert "deleted nothing" in done.stderr and "--force" in done.stderr
    assert "pyproject.toml" not in done.stderr  # not a manifest: not a reason to refuse


def test_a_manifest_whose_data_is_gone_keeps_its_entries_through_the_recorded_fingerprints(project, capsys,
                                                                                          monkeypatch):
    manifest, cache = project
    stray = stray_entry(cache)
    shutil.rmtree(manifest.parent / "shapes")
    shutil.rmtree(manifest.parent / "other")
    monkeypatch.chdir(manifest.parent)
    assert main(["cache", "prune"]) == 0
    captured = capsys.readouterr()
    assert "not a manifest, ignored: pyproject.toml" in captured.err
    assert not stray.exists() and len(cache.keys()) == 1  # the built run kept, the stray entry gone
    assert "kept 1 entries used by 1 manifest(s)" in captured.out
    # Without the fingerprint of the evaluate_on folder, its keys are unknown again: prune refuses.
    fingerprints = cache.root / FingerprintStore.FILE
    stored = json.loads(fingerprints.read_text())
    other = data_identity("imagefolder", load_manifest(manifest).datasets["other"].options, manifest.parent)
    del stored[other]
    fingerprints.write_text(json.dumps(stored))
    assert main(["cache", "prune"]) == 1
    assert "image folder other not found" in capsys.readouterr().err and len(cache.keys()) == 1


def test_force_prunes_against_the_readable_manifests_and_names_the_skipped(project, capsys, monkeypatch):
    manifest, cache = project
    stray = stray_entry(cache)
    (manifest.parent / "broken.toml").write_text('[report]\ntitle = "unfinished\n')  # a syntax error
    monkeypatch.chdir(manifest.parent)
    assert main(["cache", "prune"]) == 1
    err = capsys.readouterr().err
    assert "broken.toml" in err and "invalid TOML" in err and stray.exists()
    assert main(["cache", "prune", "--force"]) == 0
    captured = capsys.readouterr()
    assert "skipped (--force), its entries not kept: broken.toml" in captured.err
    assert not stray.exists() and len(cache.keys()) == 1


def test_dry_run_lists_and_deletes_nothing_and_refuses_like_a_real_prune(project, capsys, monkeypatch):
    manifest, cache = project
    stray = stray_entry(cache)
    monkeypatch.chdir(manifest.parent)
    assert main(["cache", "prune", "--dry-run"]) == 0
    assert f"would delete: {stray}" in capsys.readouterr().out and stray.exists()
    shutil.rmtree(manifest.parent / "shapes")
    (cache.root / FingerprintStore.FILE).unlink()  # the data is gone and no build's record is left
    assert main(["cache", "prune", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "cannot compute the run keys of 1 manifest(s)" in err and "image folder shapes not found" in err
    assert stray.exists() and len(cache.keys()) == 2


def test_a_folder_of_no_manifest_prunes_nothing(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    stray = stray_entry(RunCache(tmp_path / "out" / "cache"))
    monkeypatch.chdir(tmp_path)
    assert main(["cache", "prune", "--force"]) == 1
    assert "no manifest to prune against" in capsys.readouterr().err and stray.exists()


@pytest.mark.parametrize(("text", "manifest"), [
    (PYPROJECT, False),
    ("not = 'a manifest'\n", False),
    ("", False),
    ('[report]\ntitle = "x"\n', True),
    ('[run.conv]\nepochs = 1\n', True),  # a near miss of [runs]: a manifest with a typo, not another file
    ('[report\n', True),  # cannot be parsed: may be a manifest
])
def test_what_counts_as_a_manifest(tmp_path, text, manifest):
    path = tmp_path / "some.toml"
    path.write_text(text)
    assert (not_a_manifest(path) is None) == manifest


def test_a_stored_fingerprint_never_feeds_a_build(tmp_path):
    manifest = image_project(tmp_path)
    plan = make_plan(load_manifest(manifest))
    store = FingerprintStore(tmp_path / "cache")
    options = load_manifest(manifest).datasets["shapes"].options
    store.record({data_identity("imagefolder", options, tmp_path): "0123456789abcdef"})  # stale: other content
    assert keys_of(manifest) == sorted(p.key for p in plan.runs)  # a build's plan loads the data
    stale = make_plan(load_manifest(manifest), stored=FingerprintStore(tmp_path / "cache"))
    assert stale.runs[0].spec["dataset"]["fingerprint"] == "0123456789abcdef"  # only pruning reads the store
    remember_fingerprints(plan, tmp_path / "cache")  # what a build does: the real fingerprint replaces the stale one
    assert FingerprintStore(tmp_path / "cache").lookup("imagefolder", options, tmp_path) == \
        plan.runs[0].spec["dataset"]["fingerprint"]

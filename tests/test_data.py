"""Dataset kinds, splitting and caps. Every test makes its own tiny data on disk; nothing is downloaded."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reportgen.config.errors import DataError, ManifestError
from reportgen.config.params import check_params
from reportgen.data import DATASETS, Split, load_dataset
from reportgen.data.imagefolder import imagefolder_csv
from reportgen.data.loading import clear_cache
from reportgen.data.mnist5k import mnist5k
from reportgen.data.split import apply_class_caps, stratified_sample, stratified_split
from reportgen.data.torchvision_data import torchvision_dataset

DIGITS = tuple(str(d) for d in range(10))


# --- splitting ------------------------------------------------------------------------------------------


def test_stratified_split_is_seeded_disjoint_and_keeps_small_classes():
    y = torch.tensor([0] * 50 + [1] * 30 + [2] * 3)
    tr, va, te = stratified_split(y, (0.6, 0.2, 0.2), seed=1)
    assert sorted(torch.cat([tr, va, te]).tolist()) == list(range(len(y)))
    assert torch.bincount(y[tr]).tolist() == [30, 18, 1]
    assert torch.bincount(y[va]).tolist() == [10, 6, 1]
    assert torch.bincount(y[te]).tolist() == [10, 6, 1]
    again = stratified_split(y, (0.6, 0.2, 0.2), seed=1)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again, strict=True))
    assert not torch.equal(tr, stratified_split(y, (0.6, 0.2, 0.2), seed=2)[0])


def test_stratified_sample_keeps_proportions():
    y = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    idx = stratified_sample(y, 20, seed=0)
    assert torch.bincount(y[idx]).tolist() == [12, 6, 2]
    assert len(set(idx.tolist())) == 20


# --- mnist5k --------------------------------------------------------------------------------------------


def test_mnist5k_shapes_balance_and_fractions(tmp_path):
    d = load_dataset("mnist5k", {}, tmp_path)
    assert d.classes == DIGITS and d.input_shape == (1, 28, 28)
    assert (len(d.train), len(d.val), len(d.test)) == (3000, 1000, 1000)
    for split, n in ((d.train, 300), (d.val, 100), (d.test, 100)):
        assert split.x.dtype == torch.uint8 and split.y.dtype == torch.int64
        assert split.class_counts(10) == [n] * 10
    assert int(d.train.x.max()) > 200  # real 0..255 pixels, not 0..1
    other = load_dataset("mnist5k", {"split": (0.8, 0.1, 0.1)}, tmp_path)
    assert (len(other.train), len(other.val), len(other.test)) == (4000, 500, 500)


def test_mnist5k_seed_determinism_and_fingerprint(tmp_path):
    a, b = mnist5k(base_dir=tmp_path, seed=3), mnist5k(base_dir=tmp_path, seed=3)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.x, mnist5k(base_dir=tmp_path, seed=4).train.x)

    clear_cache()
    first = load_dataset("mnist5k", {"seed": 3}, tmp_path)
    assert load_dataset("mnist5k", {"seed": 3}, tmp_path) is first  # memoised
    clear_cache()
    assert load_dataset("mnist5k", {"seed": 3}, tmp_path).fingerprint == first.fingerprint  # stable
    assert load_dataset("mnist5k", {}, tmp_path).fingerprint != first.fingerprint
    capped = load_dataset("mnist5k", {"seed": 3, "class_caps": {"3": 10}}, tmp_path)
    assert capped.fingerprint != first.fingerprint


def test_class_caps_train_only_or_all(tmp_path):
    d = load_dataset("mnist5k", {"class_caps": {"3": 20, "7": 5}}, tmp_path)
    assert d.train.class_counts(10)[3] == 20 and d.train.class_counts(10)[7] == 5
    assert d.train.class_counts(10)[0] == 300
    assert d.val.class_counts(10)[3] == 100 and d.test.class_counts(10)[7] == 100
    d = load_dataset("mnist5k", {"class_caps": {"3": 20}, "caps_apply_to": "all"}, tmp_path)
    assert [s.class_counts(10)[3] for s in (d.train, d.val, d.test)] == [20, 20, 20]


def test_class_caps_unknown_class():
    split = Split(torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 1, 2]))
    with pytest.raises(DataError) as err:
        apply_class_caps(split, {"11": 5}, DIGITS, seed=0)
    assert str(err.value) == 'class_caps: unknown class "11"; did you mean "1"?'
    with pytest.raises(DataError, match=r'unknown class "zebra" \(classes: 0, 1, 2'):
        apply_class_caps(split, {"zebra": 5}, DIGITS, seed=0)


# --- manifest checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "required"),
    [
        (mnist5k, {}),
        (torchvision_dataset, {"name": "mnist"}),
        (imagefolder_csv, {"root": "images", "csv": "labels.csv"}),
    ],
)
def test_check_params_on_every_kind(fn, required):
    ok = check_params(fn, dict(required), "datasets.d", skip=("base_dir",))
    assert ok == required
    assert DATASETS.get(next(n for n in DATASETS.names() if DATASETS.get(n) is fn)) is fn
    caps = check_params(fn, {**required, "class_caps": {"3": 2}, "seed": 1}, "datasets.d", skip=("base_dir",))
    assert caps["class_caps"] == {"3": 2}
    with pytest.raises(ManifestError) as err:
        check_params(fn, {**required, "class_caps": {"3": 0}}, "datasets.d", skip=("base_dir",))
    assert str(err.value) == "datasets.d.class_caps.3: must be >= 1, got 0"
    with pytest.raises(ManifestError) as err:
        check_params(fn, {**required, "caps_apply_to": "every"}, "datasets.d", skip=("base_dir",))
    assert str(err.value).startswith("datasets.d.caps_apply_to: unknown value \"every\"")


@pytest.mark.parametrize("fn", [mnist5k, imagefolder_csv])
def test_check_params_split_fractions(fn):
    base = {"root": "i", "csv": "l.csv"} if fn is imagefolder_csv else {}
    ok = check_params(fn, {**base, "split": [0.7, 0.15, 0.15]}, "datasets.d", skip=("base_dir",))
    assert ok["split"] == (0.7, 0.15, 0.15)
    with pytest.raises(ManifestError) as err:
        check_params(fn, {**base, "split": [0.5, 0.3, 0.3]}, "datasets.d", skip=("base_dir",))
    assert str(err.value) == "datasets.d.split: must add up to 1, got 0.5 + 0.3 + 0.3 = 1.1"
    with pytest.raises(ManifestError) as err:
        check_params(fn, {**base, "split": [1, 0, 0]}, "datasets.d", skip=("base_dir",))
    assert str(err.value) == "datasets.d.split: must be > 0, got 0"


def test_split_needs_three_fractions(tmp_path):
    with pytest.raises(DataError, match=r"split: expected 3 fractions \[train, val, test\], got 2"):
        mnist5k(base_dir=tmp_path, split=(0.5, 0.5))


# --- torchvision ----------------------------------------------------------------------------------------


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _tiny_mnist(folder: Path, suffix: str = "") -> None:
    """60 training and 20 test 28x28 digits in the idx format (6 and 2 per class); pixel = label * 10."""
    folder.mkdir(parents=True)
    for prefix, per_class in (("train", 6), ("t10k", 2)):
        y = np.tile(np.arange(10), per_class)
        x = np.repeat(y[:, None, None] * 10, 28 * 28).reshape(-1, 28, 28)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)


def test_torchvision_mnist_from_torchvision_layout(tmp_path):
    _tiny_mnist(tmp_path / "data" / "MNIST" / "raw")
    d = load_dataset("torchvision", {"name": "mnist", "val_fraction": 0.2}, tmp_path)
    assert d.classes == DIGITS and d.input_shape == (1, 28, 28)
    assert (len(d.train), len(d.val), len(d.test)) == (50, 10, 20)
    assert d.train.class_counts(10) == [5] * 10 and d.test.class_counts(10) == [2] * 10
    assert torch.equal(d.train.x[:, 0, 0, 0], (d.train.y * 10).to(torch.uint8))  # labels stay with images

    d = load_dataset(
        "torchvision",
        {
            "name": "mnist",
            "root": str(tmp_path / "data"),
            "limit_train": 30,
            "limit_test": 10,
            "class_caps": {"0": 1},
        },
        Path("/"),
    )
    assert (len(d.train), len(d.val), len(d.test)) == (19, 10, 10)  # 3 per class: 2 train + 1 val
    assert d.train.class_counts(10)[0] == 1


def test_torchvision_flat_gz_layout(tmp_path):
    # Debian's dataset-fashion-mnist package: the four .gz idx files directly in one folder.
    _tiny_mnist(tmp_path / "fashion-mnist", suffix=".gz")
    d = load_dataset("torchvision", {"name": "fashion_mnist", "root": "fashion-mnist"}, tmp_path)
    assert d.classes[0] == "T-shirt/top" and d.num_classes == 10
    assert len(d.train) + len(d.val) == 60 and len(d.test) == 20


def test_torchvision_missing_root(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("torchvision", {"name": "mnist", "root": "nowhere"}, tmp_path)
    assert str(err.value) == (
        f'torchvision dataset "mnist" not found under {(tmp_path / "nowhere").resolve()} '
        "(set download = true to fetch it, or point root at a folder holding it)"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match='torchvision dataset "kmnist" not found under'):
        load_dataset("torchvision", {"name": "kmnist", "root": "empty"}, tmp_path)


# --- imagefolder_csv ------------------------------------------------------------------------------------


def _image_folder(tmp_path: Path, labels=("1", "2", "10"), per_class: int = 10, mode: str = "L") -> None:
    """``images/img_<i>.png`` (8x8, pixel = class index * 20) and ``labels.csv`` with a header row."""
    (tmp_path / "images").mkdir()
    rows = []
    for i in range(per_class * len(labels)):
        k = i % len(labels)
        value = (k * 20,) * 3 if mode == "RGB" else k * 20
        Image.new(mode, (8, 8), value).save(tmp_path / "images" / f"img_{i}.png")
        rows.append((f"img_{i}.png", labels[k]))
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("filename", "label"), *rows])


def test_imagefolder_csv_gray(tmp_path):
    _image_folder(tmp_path)
    d = load_dataset("imagefolder_csv", {"root": "images", "csv": "labels.csv"}, tmp_path)
    assert d.classes == ("1", "2", "10")  # numeric labels sort numerically
    assert d.input_shape == (1, 8, 8) and d.train.x.dtype == torch.uint8
    assert (len(d.train), len(d.val), len(d.test)) == (18, 6, 6)
    assert d.train.class_counts(3) == [6, 6, 6]
    # Class indices follow the sorted names: "10" (written with pixel 40) is class 2.
    assert torch.equal(d.train.x[:, 0, 0, 0].long(), torch.tensor([0, 20, 40])[d.train.y])


def test_imagefolder_csv_rgb_resize_and_columns(tmp_path):
    _image_folder(tmp_path, labels=("cat", "dog"), mode="RGB")
    opts = {
        "root": "images",
        "csv": "labels.csv",
        "image_size": (4, 6),
        "file_column": "filename",
        "label_column": "label",
    }
    d = load_dataset("imagefolder_csv", opts, tmp_path)
    assert d.classes == ("cat", "dog") and d.input_shape == (3, 4, 6)
    d = load_dataset("imagefolder_csv", {"root": "images", "csv": "labels.csv", "grayscale": True}, tmp_path)
    assert d.input_shape == (1, 8, 8)
    with pytest.raises(DataError, match='labels.csv: label_column: no column "lable"; did you mean "label"?'):
        load_dataset(
            "imagefolder_csv", {"root": "images", "csv": "labels.csv", "label_column": "lable"}, tmp_path
        )


def test_imagefolder_csv_errors(tmp_path):
    _image_folder(tmp_path)
    (tmp_path / "images" / "img_3.png").unlink()  # data row 4 = CSV line 5
    with pytest.raises(DataError) as err:
        load_dataset("imagefolder_csv", {"root": "images", "csv": "labels.csv"}, tmp_path)
    assert str(err.value) == 'labels.csv:5: image "img_3.png" not found under images/'

    Image.new("L", (9, 8)).save(tmp_path / "images" / "img_3.png")
    with pytest.raises(DataError, match=r'labels.csv:5: image "img_3.png" is 8x9 \(HxW\) but earlier'):
        load_dataset("imagefolder_csv", {"root": "images", "csv": "labels.csv"}, tmp_path)


def test_empty_split_is_an_error(tmp_path):
    _image_folder(tmp_path, labels=("a", "b"), per_class=2)
    with pytest.raises(DataError, match='dataset kind "imagefolder_csv": the test split is empty'):
        load_dataset("imagefolder_csv", {"root": "images", "csv": "labels.csv"}, tmp_path)

"""The ``torchvision`` dataset kind on any torchvision class: CIFAR pickles, the MNIST family, SVHN, EMNIST and
a class read item by item (FakeData), all on tiny files written here; nothing is downloaded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from reportgen.config.errors import DataError
from reportgen.config.params import check_params
from reportgen.data import load_dataset
from reportgen.data.torchvision_data import class_name, torchvision_dataset
from tests.data_files import CIFAR10_CLASSES, write_cifar10, write_cifar100, write_mnist


def test_cifar10_by_class_name_and_alias(tmp_path):
    write_cifar10(tmp_path / "data", n_train=60, n_test=20)
    d = load_dataset("torchvision", {"name": "CIFAR10", "root": "data"}, tmp_path)
    assert d.classes == tuple(CIFAR10_CLASSES) and d.input_shape == (3, 32, 32)
    assert d.train.x.dtype == torch.uint8 and (len(d.train), len(d.val), len(d.test)) == (50, 10, 20)
    for split in (d.train, d.val, d.test):
        assert torch.equal(split.x[:, 0, 0, 0].long(), split.y * 20)  # labels stay with their images
    alias = load_dataset("torchvision", {"name": "cifar10", "root": "data"}, tmp_path)
    assert alias.fingerprint == d.fingerprint


def test_cifar10_reads_what_torchvision_reads(tmp_path, monkeypatch):
    write_cifar10(tmp_path, n_train=30, n_test=10, seed=1)
    # torchvision checks the md5s of the official release, which generated files cannot match ...
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        tvd.CIFAR10(str(tmp_path), train=True, download=False)
    # ... so reportgen parses the pickles itself; with the check switched off, torchvision's parse is the oracle.
    monkeypatch.setattr(tvd.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tvd.cifar, "check_integrity", lambda *args, **kwargs: True)
    d = torchvision_dataset(base_dir=tmp_path, name="CIFAR10", root=".", val_fraction=0.5)
    for train, ours in ((True, torch.cat([d.train.x, d.val.x])), (False, d.test.x)):
        ref = tvd.CIFAR10(str(tmp_path), train=train, download=False)
        expected = torch.from_numpy(ref.data).permute(0, 3, 1, 2)
        assert sorted(map(bytes, ours.numpy())) == sorted(map(bytes, expected.numpy()))
        assert list(ref.classes) == list(d.classes)


def test_cifar100_fine_labels(tmp_path):
    write_cifar100(tmp_path / "c100", n_train=200, n_test=100)
    d = torchvision_dataset(base_dir=tmp_path, name="CIFAR100", root="c100")
    assert d.num_classes == 100 and d.classes[:2] == ("c00", "c01") and d.input_shape == (3, 32, 32)
    assert (len(d.train), len(d.val), len(d.test)) == (100, 100, 100)
    assert torch.equal(d.test.x[:, 0, 0, 0].long(), d.test.y * 2)


def test_cifar_pickle_errors_name_the_file(tmp_path):
    folder = write_cifar10(tmp_path)
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"data_batch_3: not a CIFAR pickle"):
        torchvision_dataset(base_dir=tmp_path, name="CIFAR10", root=".")
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"data_batch_3: file missing from the CIFAR folder"):
        torchvision_dataset(base_dir=tmp_path, name="CIFAR10", root=".")


def test_mnist_class_name_is_the_alias(tmp_path):
    write_mnist(tmp_path / "data" / "MNIST" / "raw")
    old = load_dataset("torchvision", {"name": "mnist"}, tmp_path)
    new = load_dataset("torchvision", {"name": "MNIST"}, tmp_path)
    assert new.fingerprint == old.fingerprint and new.classes == tuple("0123456789")
    assert new.input_shape == (1, 28, 28)


def test_emnist_takes_options(tmp_path):
    write_mnist(tmp_path / "EMNIST" / "raw", prefix="emnist-digits-")
    d = torchvision_dataset(base_dir=tmp_path, name="EMNIST", root=".", options={"split": "digits"})
    assert d.classes == tuple("0123456789") and (len(d.train) + len(d.val), len(d.test)) == (60, 20)
    with pytest.raises(DataError, match=r"torchvision's EMNIST needs options.split \(options = \{ split = … \}\)"):
        torchvision_dataset(base_dir=tmp_path, name="EMNIST", root=".")


def test_svhn_labels_and_nchw_data(tmp_path, monkeypatch):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    for file, n in (("train_32x32.mat", 40), ("test_32x32.mat", 20)):
        y = np.arange(n) % 10 + 1  # SVHN writes digit 0 as label 10
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        x[0, 0, 0, :] = (y % 10) * 20
        savemat(tmp_path / file, {"X": x, "y": y[:, None]})
    monkeypatch.setattr(tvd.SVHN, "_check_integrity", lambda self: True)  # md5s of the official files
    d = torchvision_dataset(base_dir=tmp_path, name="SVHN", root=".")
    assert d.classes == tuple("0123456789") and d.input_shape == (3, 32, 32)  # no .classes: the labels, sorted
    assert torch.equal(d.test.x[:, 0, 0, 0].long(), d.test.y * 20)


def test_item_by_item_class_without_a_test_set(tmp_path):
    options = {"size": 40, "image_size": [3, 20, 24], "num_classes": 4}
    d = load_dataset("torchvision", {"name": "FakeData", "options": options, "test_fraction": 0.25}, tmp_path)
    assert d.input_shape == (3, 20, 24) and d.classes == ("0", "1", "2", "3")
    assert len(d.train) + len(d.val) + len(d.test) == 40
    small = torchvision_dataset(base_dir=tmp_path, name="FakeData", options=options, image_size=(10, 12))
    assert small.input_shape == (3, 10, 12)


def test_unknown_names_and_options(tmp_path):
    assert class_name("cifar100") == "CIFAR100" and class_name("fashion_mnist") == "FashionMNIST"
    with pytest.raises(DataError) as err:
        torchvision_dataset(base_dir=tmp_path, name="CIFAR-10")
    assert str(err.value) == 'name: unknown torchvision classification dataset "CIFAR-10"; did you mean "CIFAR10"?'
    with pytest.raises(DataError, match=r'^name: unknown torchvision .* "Zebra"; did you mean one of: CIFAR10, '):
        torchvision_dataset(base_dir=tmp_path, name="Zebra")
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match=r'^options.splitt: torchvision\'s CIFAR10 has no argument "splitt"'):
        torchvision_dataset(base_dir=tmp_path, name="CIFAR10", options={"splitt": "x"})
    with pytest.raises(DataError, match=r'^options.train: reportgen sets "train" of torchvision\'s MNIST itself'):
        torchvision_dataset(base_dir=tmp_path, name="MNIST", options={"train": False})
    write_cifar10(tmp_path / "data")
    with pytest.raises(DataError, match="^test_fraction: CIFAR10 has an official test set"):
        torchvision_dataset(base_dir=tmp_path, name="CIFAR10", test_fraction=0.2)


def test_never_downloads_unless_asked(tmp_path):
    (tmp_path / "empty").mkdir()
    for name in ("CIFAR10", "CIFAR100", "SVHN", "EMNIST", "USPS", "SEMEION"):  # SEMEION downloads by default
        options = {"split": "digits"} if name == "EMNIST" else {}
        with pytest.raises(DataError, match=f'^torchvision dataset "{name}" not found under '):
            torchvision_dataset(base_dir=tmp_path, name=name, root="empty", options=options)
    assert [p for p in (tmp_path / "empty").rglob("*") if p.is_file()] == []


def test_manifest_options_are_checked_without_loading():
    where, skip = "datasets.d", ("base_dir",)
    fn = torchvision_dataset
    ok = check_params(fn, {"name": "EMNIST", "options": {"split": "digits"}, "image_size": [32, 32]}, where, skip=skip)
    assert ok == {"name": "EMNIST", "options": {"split": "digits"}, "image_size": (32, 32)}

"""The run cache: a saved RunResult loads back equal; a damaged entry is never trusted."""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings

import numpy as np
import pytest
import torch

from reportgen.runs.cache import RunCache
from reportgen.training.result import RunResult

KEY = "0123456789abcdef0123"


def make_result(key: str = KEY, *, seed: int = 0, epochs: int = 3) -> RunResult:
    rng = np.random.default_rng(seed)
    prob = rng.random((12, 4)).astype(np.float32)
    prob /= prob.sum(axis=1, keepdims=True)
    history = {
        name: [float(v) for v in rng.random(epochs)]
        for name in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds")
    }
    return RunResult(
        key=key,
        spec={"model": {"arch": "mlp", "hidden": [8]}, "train": {"lr": 0.01}, "seed": seed, "code_version": 1},
        history=history,
        test_true=rng.integers(0, 4, size=12).astype(np.int64),
        test_prob=prob,
        test_features=rng.standard_normal((12, 5)).astype(np.float32),
        classes=("a", "b", "c", "d"),
        params=123,
        macs=4567,
        train_seconds=1.25,
        status="ok",
        reason="",
        provenance={"device": "cpu", "torch": torch.__version__},
        state_dict={
            "layer.weight": torch.randn(3, 4, generator=torch.Generator().manual_seed(seed)),
            "layer.bias": torch.arange(3, dtype=torch.float32),
            "bn.num_batches_tracked": torch.tensor(7),
        },
    )


def assert_same(loaded: RunResult, original: RunResult, *, weights: bool) -> None:
    for f in dataclasses.fields(RunResult):
        a, b = getattr(loaded, f.name), getattr(original, f.name)
        if f.name == "state_dict":
            continue
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert a.shape == b.shape, f.name
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name
    if weights:
        assert loaded.state_dict.keys() == original.state_dict.keys()
        for name, tensor in original.state_dict.items():
            assert loaded.state_dict[name].dtype == tensor.dtype
            assert torch.equal(loaded.state_dict[name], tensor), name
    else:
        assert loaded.state_dict is None


def test_round_trip(tmp_path):
    cache = RunCache(tmp_path / "cache")
    original = make_result()
    assert not cache.has(KEY)
    assert cache.load(KEY) is None
    entry = cache.save(original)
    assert entry == cache.path(KEY) == tmp_path / "cache" / KEY
    assert cache.has(KEY)
    assert sorted(p.name for p in entry.iterdir()) == ["arrays.npz", "history.json", "meta.json", "weights.pt"]
    assert_same(cache.load(KEY), original, weights=False)
    assert_same(cache.load(KEY, weights=True), original, weights=True)
    assert [p.name for p in cache.root.iterdir()] == [KEY]  # no temporary folder left behind


def test_round_trip_of_a_diverged_run(tmp_path):
    cache = RunCache(tmp_path)
    original = dataclasses.replace(make_result(), status="diverged", reason="loss became nan at epoch 2")
    cache.save(original)
    loaded = cache.load(KEY)
    assert loaded.status == "diverged"
    assert loaded.reason == "loss became nan at epoch 2"
    assert not loaded.ok


def test_loaded_result_computes_like_the_original(tmp_path):
    cache = RunCache(tmp_path)
    original = make_result()
    cache.save(original)
    loaded = cache.load(KEY)
    np.testing.assert_array_equal(loaded.test_pred, original.test_pred)
    assert loaded.test_accuracy == original.test_accuracy


def test_has_needs_meta_json(tmp_path):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    (cache.path(KEY) / "meta.json").unlink()
    assert not cache.has(KEY)
    assert cache.load(KEY) is None


@pytest.mark.parametrize("name", ["arrays.npz", "history.json", "weights.pt"])
def test_truncated_file_is_not_trusted(tmp_path, name):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    path = cache.path(KEY) / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="damaged"):
        assert cache.load(KEY) is None
    with pytest.warns(UserWarning, match="damaged"):
        assert cache.load(KEY, weights=True) is None


def test_altered_arrays_are_not_trusted(tmp_path):
    """A well-formed arrays.npz with different numbers is caught by the checksum, not only a broken one."""
    cache = RunCache(tmp_path)
    original = make_result()
    cache.save(original)
    np.savez(cache.path(KEY) / "arrays.npz", test_true=original.test_true[::-1],
             test_prob=original.test_prob, test_features=original.test_features)
    with pytest.warns(UserWarning, match="arrays.npz"):
        assert cache.load(KEY) is None


def test_missing_file_is_not_trusted(tmp_path):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    (cache.path(KEY) / "arrays.npz").unlink()
    with pytest.warns(UserWarning, match="damaged"):
        assert cache.load(KEY) is None


def test_corrupt_meta_is_not_trusted(tmp_path):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    (cache.path(KEY) / "meta.json").write_text('{"format": 1, "sha256": ')
    with pytest.warns(UserWarning, match="damaged"):
        assert cache.load(KEY) is None


def test_other_format_version_is_a_miss(tmp_path):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    meta_path = cache.path(KEY) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 999
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match=r"written by another cache format \(999, this is 1\); it will be retrained"):
        assert cache.load(KEY) is None


def test_leftover_temporary_folder_is_not_an_entry(tmp_path):
    """An interrupted save leaves ``.tmp-<key>-*``; even a complete one must not count as the entry."""
    cache = RunCache(tmp_path)
    cache.save(make_result())
    shutil.move(cache.path(KEY), tmp_path / f".tmp-{KEY}-abc123")
    assert not cache.has(KEY)
    assert cache.load(KEY) is None
    # A fresh save works beside the leftover and is what loads.
    cache.save(make_result(seed=1))
    assert cache.has(KEY)
    assert cache.load(KEY).spec["seed"] == 1


def test_save_replaces_an_existing_entry(tmp_path):
    cache = RunCache(tmp_path)
    first, second = make_result(seed=0), make_result(seed=1, epochs=5)
    cache.save(first)
    (cache.path(KEY) / "stray.txt").write_text("left from the old entry")
    cache.save(second)
    assert_same(cache.load(KEY, weights=True), second, weights=True)
    assert not (cache.path(KEY) / "stray.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == [KEY]


def test_save_replaces_a_damaged_entry(tmp_path):
    cache = RunCache(tmp_path)
    original = make_result()
    cache.save(original)
    (cache.path(KEY) / "arrays.npz").write_bytes(b"garbage")
    with pytest.warns(UserWarning):
        assert cache.load(KEY) is None
    cache.save(original)
    assert_same(cache.load(KEY), original, weights=False)


def test_entries_are_independent(tmp_path):
    cache = RunCache(tmp_path)
    a, b = make_result("a" * 20, seed=0), make_result("b" * 20, seed=1)
    cache.save(a)
    cache.save(b)
    assert_same(cache.load("a" * 20), a, weights=False)
    assert_same(cache.load("b" * 20), b, weights=False)


def test_meta_that_is_not_an_object_is_not_trusted(tmp_path):
    cache = RunCache(tmp_path)
    cache.save(make_result())
    (cache.path(KEY) / "meta.json").write_text("[]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = cache.load(KEY)
    assert loaded is None
    assert any("damaged" in str(w.message) for w in caught)

"""`reportgen cache verify` / `prune`, `build --strict`, and a full disk: nothing lost, nothing trusted blindly."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from reportgen.build import build
from reportgen.cli import main
from reportgen.config.errors import CacheError
from reportgen.runs.cache import RunCache
from tests.conftest import TINY_MANIFEST


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    manifest = folder / "experiments.toml"
    manifest.write_text(TINY_MANIFEST)
    build(manifest, device="cpu", quiet=True, pdf=False)
    return manifest


@pytest.fixture
def cache_copy(built, tmp_path):
    """A copy of the built output folder, to damage freely."""
    import shutil

    shutil.copytree(built.parent, tmp_path / "proj")
    return tmp_path / "proj" / "experiments.toml", RunCache(tmp_path / "proj" / "out" / "cache")


def test_verify_passes_on_a_healthy_cache(built, capsys):
    assert main(["cache", "verify", str(built)]) == 0
    assert "2 entries ok, 0 damaged, 0 leftover" in capsys.readouterr().out


def test_verify_finds_damage_and_leftovers_and_fix_removes_them(cache_copy, capsys):
    manifest, cache = cache_copy
    key = cache.keys()[0]
    (cache.path(key) / "weights.pt").write_bytes(b"not the weights")
    (cache.root / ".tmp-abc-123").mkdir()
    assert main(["cache", "verify", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert f"damaged: {cache.path(key)}: weights.pt does not match its checksum" in out
    assert "leftover:" in out and "1 entries ok, 1 damaged, 1 leftover" in out
    assert main(["cache", "verify", str(manifest), "--fix"]) == 0
    assert cache.keys() == [k for k in cache.keys() if k != key] and not cache.leftovers()
    assert main(["cache", "verify", str(manifest)]) == 0


@pytest.mark.parametrize(("damage", "why"), [
    (lambda e: (e / "meta.json").write_text("{"), "unreadable"),
    (lambda e: (e / "history.json").unlink(), "history.json is missing"),
    (lambda e: (e / "arrays.npz").write_bytes(b""), "arrays.npz does not match its checksum"),
])
def test_every_kind_of_damage_is_named(cache_copy, damage, why):
    _, cache = cache_copy
    key = cache.keys()[0]
    damage(cache.path(key))
    assert why in cache.problem(key)
    with pytest.warns(UserWarning, match="damaged"):
        assert cache.load(key) is None  # never loaded


def test_prune_keeps_what_the_manifests_use(cache_copy, capsys, monkeypatch):
    manifest, cache = cache_copy
    stray = cache.path("0" * 20)
    stray.mkdir()
    (stray / "meta.json").write_text("{}")
    (manifest.parent / "notes.toml").write_text("not = 'a manifest'\n")
    monkeypatch.chdir(manifest.parent)
    assert main(["cache", "prune", "--dry-run"]) == 0
    assert stray.exists() and "would delete" in capsys.readouterr().out
    assert main(["cache", "prune"]) == 0
    captured = capsys.readouterr()
    assert "not a manifest, ignored: notes.toml" in captured.err
    assert not stray.exists() and len(cache.keys()) == 2


def test_prune_against_a_manifest_that_uses_less_drops_the_rest(cache_copy, tmp_path):
    manifest, cache = cache_copy
    smaller = manifest.parent / "smaller.toml"
    text = TINY_MANIFEST.split("[sections.compare]")[0] + (
        '[sections.confusion]\ntype = "confusion"\nruns = ["conv"]\n')
    smaller.write_text(text)
    assert main(["cache", "prune", str(smaller), "--out", str(manifest.parent / "out")]) == 0
    assert len(cache.keys()) == 1


def test_prune_with_no_valid_manifest_refuses(cache_copy, capsys):
    manifest, cache = cache_copy
    bad = manifest.parent / "bad.toml"
    bad.write_text("[report]\n")
    assert main(["cache", "prune", str(bad), "--out", str(manifest.parent / "out")]) == 1
    err = capsys.readouterr().err
    assert "deleted nothing" in err and 'bad.toml: report: missing required key "title"' in err
    assert main(["cache", "prune", str(bad), "--out", str(manifest.parent / "out"), "--force"]) == 1
    assert "no manifest to prune against" in capsys.readouterr().err
    assert len(cache.keys()) == 2


def test_strict_turns_a_diverged_run_into_exit_status_2(write_manifest, capsys):
    text = TINY_MANIFEST.split("[runs.conv]")[0] + """
[runs.wild]
label = "MLP at lr 10"
dataset = "digits"
model = { arch = "mlp", hidden = [32] }
epochs = 5
batch_size = 32
lr = 10.0
optimizer = "sgd"

[sections.confusion]
type = "confusion"
runs = ["wild"]
"""
    manifest = write_manifest(text)
    assert main(["build", str(manifest), "--device", "cpu", "-q", "--no-pdf"]) == 0  # the report is written
    assert main(["build", str(manifest), "--device", "cpu", "-q", "--no-pdf", "--strict"]) == 2
    assert "--strict: 1 run(s) failed or diverged" in capsys.readouterr().err
    results = json.loads((manifest.parent / "out" / "results.json").read_text())
    (run,) = results["sections"]["confusion"]["runs"].values()
    assert run["status"] == "diverged" and "nan" in run["reason"] or "exploded" in run["reason"]


def test_a_full_disk_is_a_clear_error_and_leaves_no_half_entry(write_manifest, monkeypatch, capsys):
    manifest = write_manifest()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(CacheError, match="No space left on device"):
        build(manifest, device="cpu", quiet=True, pdf=False)
    cache = RunCache(manifest.parent / "out" / "cache")
    assert cache.keys() == [] and cache.leftovers() == []
    assert main(["build", str(manifest), "--device", "cpu", "-q", "--no-pdf"]) == 1
    assert "Error: cannot write cache entry" in capsys.readouterr().err


def test_an_unwritable_out_folder_is_a_clear_error(write_manifest, tmp_path, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    assert main(["build", str(write_manifest()), "--out", str(blocked / "out"), "-q"]) == 1
    assert "cannot write there" in capsys.readouterr().err

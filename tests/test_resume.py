"""Kill a build with SIGKILL at chosen moments, build again: finished runs are reused, the interrupted one is
retrained, nothing half-written is trusted, and results.json equals an uninterrupted build's (same seeds, CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.runs.cache import RunCache
from tests.conftest import TINY_MANIFEST

# Fields that say when and how fast a build ran, not what it found.
VOLATILE = {"built_at", "trained_at", "train_seconds", "epoch_seconds", "seconds", "threads", "tsne_seconds", "timing"}


def build(manifest: Path, out: Path, kill_at: str | None = None, pdf: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "REPORTGEN_KILL_AT": kill_at or ""}
    args = [sys.executable, "-m", "reportgen", "build", str(manifest), "--out", str(out), "--device", "cpu", "-q"]
    return subprocess.run([*args, *([] if pdf else ["--no-pdf"])], env=env, capture_output=True, text=True,
                          timeout=300)


def stable(node):
    """results.json without timings and timestamps (and the sentences that report timings)."""
    if isinstance(node, dict):
        return {k: stable(v) for k, v in node.items() if k not in VOLATILE}
    if isinstance(node, list):
        return [stable(v) for v in node
                if not (isinstance(v, str) and ("trained fastest" in v or "Training times are not compared" in v))]
    return node


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("resume") / "experiments.toml"
    path.write_text(TINY_MANIFEST)
    return path


@pytest.fixture(scope="module")
def reference(manifest, tmp_path_factory) -> dict:
    from reportgen.build import build as build_in_process

    out = tmp_path_factory.mktemp("reference")
    build_in_process(manifest, out=out, device="cpu", quiet=True, pdf=False)
    return stable(json.loads((out / "results.json").read_text()))


def test_a_build_killed_at_each_stage_resumes_to_the_same_results(manifest, reference, tmp_path):
    """Killed during the first training, then while the second run's entry is half written, then while rendering
    the PDF; each time the next build keeps what was finished."""
    out = tmp_path / "out"
    cache = RunCache(out / "cache")
    for kill_at, pdf, cached_after in (("epoch:1", False, 0), ("cache-write:2", False, 1), ("render", True, 2)):
        killed = build(manifest, out, kill_at, pdf)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        assert len(cache.keys()) == cached_after, kill_at  # only finished runs have an entry under their key
        assert all(cache.problem(k) is None for k in cache.keys())
        if kill_at.startswith("cache-write"):
            assert cache.leftovers(), "the half-written entry stays under its temporary name"
    assert not (out / "report.pdf").exists()  # killed before the PDF was renamed into place

    resumed = build(manifest, out, pdf=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "0 trained, 2 cached" in resumed.stdout
    assert stable(json.loads((out / "results.json").read_text())) == reference
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_a_damaged_entry_is_retrained_not_loaded(manifest, reference, tmp_path):
    from reportgen.build import build as build_in_process

    out = tmp_path / "out"
    build_in_process(manifest, out=out, device="cpu", quiet=True, pdf=False)
    cache = RunCache(out / "cache")
    victim = cache.keys()[0]
    arrays = cache.path(victim) / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])  # truncated
    assert "arrays.npz does not match its checksum" in cache.problem(victim)
    with pytest.warns(UserWarning, match="is damaged"):
        again = build_in_process(manifest, out=out, device="cpu", quiet=True, pdf=False)
    assert (again.trained, again.cached) == (1, 1)
    assert cache.problem(victim) is None
    assert stable(json.loads((out / "results.json").read_text())) == reference

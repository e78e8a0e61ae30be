"""Runs trained in parallel local processes (--jobs) or as Ray tasks give the same numbers as one after another,
and the same cache: an entry trained anywhere is interchangeable with one trained here."""

from __future__ import annotations

import importlib.util
import json

import pytest

from reportgen.build import build
from reportgen.runs.cache import RunCache
from tests.conftest import TINY_MANIFEST
from tests.test_resume import stable


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequential")
    manifest = folder / "experiments.toml"
    manifest.write_text(TINY_MANIFEST)
    summary = build(manifest, device="cpu", quiet=True, pdf=False, threads=1)
    assert summary.trained == 2
    return manifest, stable(json.loads((summary.out / "results.json").read_text()))


def test_jobs_2_gives_the_same_results_and_cache_as_sequential(sequential, tmp_path):
    manifest, expected = sequential
    # threads=1 as in the sequential build: numbers depend on the threads a training uses (summation order), and
    # the default (the cores shared among the jobs) differs from machine to machine.
    summary = build(manifest, out=tmp_path / "out", device="cpu", quiet=True, pdf=False, jobs=2, threads=1)
    assert (summary.trained, summary.failed) == (2, 0)
    assert stable(json.loads((summary.out / "results.json").read_text())) == expected
    # Same keys as the sequential build's cache: interchangeable entries.
    assert RunCache(tmp_path / "out" / "cache").keys() == RunCache(manifest.parent / "out" / "cache").keys()


def test_a_failing_run_in_a_worker_is_isolated_and_retrained_next_time(sequential, tmp_path, monkeypatch):
    manifest, expected = sequential
    out = tmp_path / "out"
    monkeypatch.setenv("REPORTGEN_RAISE_AT", "epoch@mobilenet")  # spawned workers inherit the environment
    summary = build(manifest, out=out, device="cpu", quiet=True, pdf=False, jobs=2, threads=1)
    assert (summary.trained, summary.failed) == (1, 1)
    results = json.loads((out / "results.json").read_text())
    reasons = [r["reason"] for r in results["sections"]["compare"]["runs"].values() if r["status"] != "ok"]
    assert len(reasons) == 1 and reasons[0].startswith("RuntimeError: fault injected at epoch@mobilenet")
    monkeypatch.delenv("REPORTGEN_RAISE_AT")
    again = build(manifest, out=out, device="cpu", quiet=True, pdf=False, jobs=2, threads=1)
    assert (again.trained, again.cached) == (1, 1)
    assert stable(json.loads((out / "results.json").read_text())) == expected


@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="Ray is not installed (pip install 'reportgen[ray]')")
def test_a_local_ray_instance_builds_the_same_report(sequential, tmp_path):
    import ray

    manifest, expected = sequential
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = build(manifest, out=tmp_path / "out", device="cpu", quiet=True, pdf=False, executor="ray",
                        threads=1)
    finally:
        ray.shutdown()
    assert (summary.trained, summary.failed) == (2, 0)
    assert stable(json.loads((summary.out / "results.json").read_text())) == expected

"""--jobs auto counts the CPUs this process may use (affinity, cgroup v1/v2 quota) and the memory available
(MemAvailable, cgroup limit), not os.cpu_count(): each reader runs against faked /proc and /sys/fs/cgroup files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportgen.runs import machine
from reportgen.runs.machine import WORKER_BYTES, auto_jobs, available_memory, cpu_quota, usable_cpus

GIB = 1 << 30


def fake_machine(root: Path, *, cgroup_line: str = "0::/", files: dict[str, str] | None = None,
                 mem_available: int | None = 64 * GIB) -> tuple[Path, Path]:
    """``(proc, cgroup)`` folders holding ``/proc/self/cgroup`` = ``cgroup_line``, ``/proc/meminfo`` and ``files``
    (paths relative to the cgroup root)."""
    proc, cgroup = root / "proc", root / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    (proc / "self" / "cgroup").write_text(cgroup_line + "\n")
    if mem_available is not None:
        (proc / "meminfo").write_text(f"MemTotal: {128 * GIB // 1024} kB\nMemAvailable: {mem_available // 1024} kB\n")
    for name, text in (files or {}).items():
        (cgroup / name).parent.mkdir(parents=True, exist_ok=True)
        (cgroup / name).write_text(text + "\n")
    return proc, cgroup


@pytest.fixture
def eight_cpus(monkeypatch):
    """A process allowed on 8 CPUs of a 64-CPU host."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)


def test_the_affinity_mask_not_the_hosts_cpu_count(eight_cpus, tmp_path):
    proc, cgroup = fake_machine(tmp_path)
    assert usable_cpus(proc, cgroup) == (8, "affinity")
    assert auto_jobs("cpu", proc, cgroup) == 8


@pytest.mark.parametrize(("cpu_max", "expected"), [("150000 100000", 1), ("300000 100000", 3), ("max 100000", 8),
                                                   ("1600000 100000", 8)])
def test_a_cgroup_v2_quota_lowers_the_cpus(eight_cpus, tmp_path, cpu_max, expected):
    proc, cgroup = fake_machine(tmp_path, cgroup_line="0::/user.slice/build.scope",
                                files={"user.slice/build.scope/cpu.max": cpu_max})
    assert usable_cpus(proc, cgroup)[0] == expected
    assert auto_jobs("cpu", proc, cgroup) == expected


def test_a_parent_cgroups_quota_counts_too(eight_cpus, tmp_path):
    proc, cgroup = fake_machine(tmp_path, cgroup_line="0::/kubepods/pod1/box",
                                files={"kubepods/pod1/cpu.max": "200000 100000", "kubepods/pod1/box/cpu.max":
                                       "max 100000"})
    assert cpu_quota(proc, cgroup) == 2.0
    assert usable_cpus(proc, cgroup) == (2, "cgroup cpu quota")


def test_a_container_sees_its_own_cgroup_at_the_root(eight_cpus, tmp_path):
    # /proc/self/cgroup names the host's path, which is not mounted inside the container: the root's files apply.
    proc, cgroup = fake_machine(tmp_path, cgroup_line="0::/docker/0123abcd", files={"cpu.max": "200000 100000"})
    assert usable_cpus(proc, cgroup)[0] == 2


@pytest.mark.parametrize(("quota", "expected"), [("250000", 2), ("-1", 8)])
def test_a_cgroup_v1_cfs_quota_lowers_the_cpus(eight_cpus, tmp_path, quota, expected):
    proc, cgroup = fake_machine(tmp_path, cgroup_line="11:memory:/docker/x\n4:cpu,cpuacct:/docker/x",
                                files={"cpu,cpuacct/docker/x/cpu.cfs_quota_us": quota,
                                       "cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000"})
    assert usable_cpus(proc, cgroup)[0] == expected


def test_available_memory_caps_the_jobs(eight_cpus, tmp_path):
    proc, cgroup = fake_machine(tmp_path, mem_available=3 * GIB + 5)
    assert available_memory(proc, cgroup) == 3 * GIB
    assert auto_jobs("cpu", proc, cgroup) == 3


@pytest.mark.parametrize(("limit", "current", "expected_bytes"), [
    (str(5 * GIB // 2), str(GIB // 2), 2 * GIB),  # v2 limit less what the group uses already
    ("max", str(GIB), 64 * GIB),  # no limit: MemAvailable
])
def test_a_cgroup_v2_memory_limit_caps_the_memory(eight_cpus, tmp_path, limit, current, expected_bytes):
    proc, cgroup = fake_machine(tmp_path, cgroup_line="0::/box",
                                files={"box/memory.max": limit, "box/memory.current": current})
    assert available_memory(proc, cgroup) == expected_bytes
    assert auto_jobs("cpu", proc, cgroup) == min(8, expected_bytes // WORKER_BYTES)


def test_a_cgroup_v1_memory_limit_and_its_unlimited_value(eight_cpus, tmp_path):
    files = {"memory/docker/x/memory.limit_in_bytes": str(3 * GIB), "memory/docker/x/memory.usage_in_bytes": "0"}
    proc, cgroup = fake_machine(tmp_path, cgroup_line="9:memory:/docker/x", files=files)
    assert available_memory(proc, cgroup) == 3 * GIB
    unlimited = {"memory/docker/x/memory.limit_in_bytes": "9223372036854771712"}
    proc, cgroup = fake_machine(tmp_path / "unlimited", cgroup_line="9:memory:/docker/x", files=unlimited)
    assert available_memory(proc, cgroup) == 64 * GIB


def test_little_memory_still_runs_one_job_and_a_gpu_runs_one(eight_cpus, tmp_path):
    proc, cgroup = fake_machine(tmp_path, mem_available=GIB // 3)
    assert auto_jobs("cpu", proc, cgroup) == 1
    assert auto_jobs("cuda", proc, cgroup) == 1


def test_a_cuda_gpu_is_shared_by_a_few_trainings_and_mps_runs_one(eight_cpus, tmp_path):
    proc, cgroup = fake_machine(tmp_path, mem_available=64 * GIB)
    assert auto_jobs("cuda", proc, cgroup) == 4 and auto_jobs("mps", proc, cgroup) == 1


def test_nothing_known_falls_back_to_the_affinity_alone(eight_cpus, tmp_path):
    proc, cgroup = tmp_path / "no-proc", tmp_path / "no-cgroup"
    assert available_memory(proc, cgroup) is None
    assert auto_jobs("cpu", proc, cgroup) == 8


def test_build_with_jobs_auto_uses_the_quota(eight_cpus, tmp_path, monkeypatch, write_manifest, capsys):
    from reportgen.build import build

    proc, cgroup = fake_machine(tmp_path / "machine", files={"cpu.max": "100000 100000"})
    monkeypatch.setattr(machine, "PROC", proc)
    monkeypatch.setattr(machine, "CGROUP", cgroup)
    summary = build(write_manifest(), out=tmp_path / "out", device="cpu", pdf=False, jobs="auto", threads=1)
    assert summary.trained == 2
    # One CPU granted: one training at a time, although the affinity mask holds 8 and the host 64.
    assert "training 2 runs, 1 at a time" in capsys.readouterr().err


# --- one copy of the data --------------------------------------------------------------------------------------

SHARED_DATA_MANIFEST = """\
[report]
title = "Shared data"
seeds = [0, 1]

[datasets.x]
kind = "python"
loader = "data.py:load"
split = [0.6, 0.2, 0.2]

[runs.r]
dataset = "x"
model = { arch = "mlp", hidden = [16] }
epochs = 1

[runs.r2]
extends = "r"
lr = 0.1

[sections.s]
type = "compare"
runs = ["r", "r2"]
"""

# The loader writes the id of the process that calls it: a worker that loads its own copy leaves its id too.
LOGGING_LOADER = """\
import os
from pathlib import Path

import numpy as np


def load():
    with open(Path(__file__).with_name("loads.txt"), "a") as log:
        log.write(f"{os.getpid()}\\n")
    rng = np.random.default_rng(0)
    return {"x": rng.integers(0, 256, (120, 6, 6), dtype=np.uint8), "y": np.arange(120) % 3,
            "classes": ["a", "b", "c"]}
"""


def test_workers_train_on_the_drivers_copy_of_the_data(tmp_path, monkeypatch):
    from reportgen.build import build
    from reportgen.data.loading import clear_cache
    from reportgen.runs import executors

    (tmp_path / "data.py").write_text(LOGGING_LOADER)
    manifest = tmp_path / "experiments.toml"
    manifest.write_text(SHARED_DATA_MANIFEST)
    log = tmp_path / "loads.txt"

    def build_once(out: str) -> list[str]:
        clear_cache()  # this process loads the data once, whatever earlier tests loaded
        log.unlink(missing_ok=True)
        summary = build(manifest, out=tmp_path / out, device="cpu", pdf=False, quiet=True, jobs=2, threads=1)
        assert (summary.trained, summary.failed) == (4, 0)
        return log.read_text().split()

    # The worker's training needs the data: handed none, it loads its own (so a worker did train).
    with monkeypatch.context() as patch:
        patch.setattr(executors, "shared_inputs", lambda manifest, planned: None)
        loads = build_once("own-copies")
    assert len(loads) == 2 and loads[0] == str(os.getpid())
    # Handed the driver's tensors in shared memory, no worker loads anything.
    assert build_once("shared") == [str(os.getpid())]


def test_the_memory_benchmark_samples_every_process_of_the_tree():
    import subprocess
    import sys

    from benchmarks.memory import measure

    child = "import time; time.sleep(1.0)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    memory = measure([sys.executable, "-c", parent], interval=0.02)
    assert sorted(role for role, _ in memory.peaks.values()) == ["driver", "process"]
    # Each process's own peak, summed, bounds what the tree held at any one moment (up to 1 %: the two figures come
    # from /proc files read a few microseconds apart, and a page can be touched in between).
    assert 0 < memory.max_rss_at_once <= 1.01 * memory.summed_peak_rss
    with pytest.raises(subprocess.CalledProcessError):
        measure([sys.executable, "-c", "raise SystemExit(3)"])


def test_the_memory_stage_measures_a_cold_and_a_warm_build(tiny_manifest, tmp_path):
    from benchmarks.common import Settings
    from benchmarks.memory import memory_rows

    rows = {r.what: r for r in memory_rows(Settings(manifest=tiny_manifest, report_dir=tmp_path))}
    cold = rows["summed peak RSS, cold build experiments.toml"]
    assert cold.target == ("<=", 2000.0) and len(cold.values) == 1
    assert cold.extra["processes"][0]["role"] == "driver"
    assert {"peak PSS at one moment, warm build experiments.toml", "peak RSS at one moment, cold build "
            "experiments.toml"} <= set(rows)

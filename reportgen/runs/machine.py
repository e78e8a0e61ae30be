"""What this process may use of the machine: CPUs and memory, as a container or a batch scheduler grants them.

``os.cpu_count()`` counts the host's CPUs, not the ones this process may run on: in a container limited to 2 CPUs
of a 64-core host it says 64, and ``--jobs auto`` would start 64 trainings of 1 thread each, throttled to 2 CPUs'
worth. The CPUs granted are the fewest of the affinity mask (``taskset``, Slurm's binding) and the cgroup's CPU
quota (Docker's ``--cpus``, Kubernetes' CPU limit), v2 (``cpu.max``) or v1 (``cpu.cfs_quota_us`` /
``cpu.cfs_period_us``), at every level of the process's cgroup path. Memory likewise: the least of the kernel's
``MemAvailable`` and what the cgroup's limit leaves (``memory.max`` / ``memory.limit_in_bytes`` less current use).

Every reader takes its root folders as arguments (default: :data:`PROC` and :data:`CGROUP`, read at each call), so
tests fake the files (tests/test_jobs_auto.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CGROUP = Path("/sys/fs/cgroup")

#: Memory one worker process takes at its peak while training, with headroom: measured ~0.75 GB RSS for the
#: default manifest's nets (0.5 GB of it is importing a CUDA build of torch; ``python benchmarks/run.py --only
#: memory``). ``--jobs auto`` starts no more workers than the available memory holds at this size each.
WORKER_BYTES = 1 << 30


@dataclass(frozen=True)
class Machine:
    """The CPUs and the memory available to this process; ``why`` names what limited each."""

    cpus: int
    memory: int | None  # bytes available now; None when unknown
    why: str = ""


def usable_cpus(proc: Path | None = None, cgroup: Path | None = None) -> tuple[int, str]:
    """``(CPUs this process may use, what limited them)``: the affinity mask, lowered by any cgroup CPU quota
    (rounded down, at least 1: a quota of 1.5 CPUs runs one single-threaded training at full speed, not two at
    three quarters)."""
    try:
        cpus, why = len(os.sched_getaffinity(0)), "affinity"
    except (AttributeError, OSError):  # not Linux
        cpus, why = os.cpu_count() or 1, "cpu_count"
    quota = cpu_quota(proc, cgroup)
    if quota is not None and quota < cpus:
        cpus, why = max(1, int(quota)), "cgroup cpu quota"
    return cpus, why


def cpu_quota(proc: Path | None = None, cgroup: Path | None = None) -> float | None:
    """The cgroup CPU quota in CPUs (``quota / period``), the least over the process's cgroup and its parents;
    ``None`` when there is none (``max``, ``-1``, or no cgroup files)."""
    found = []
    for folder in _cgroup_folders(proc or PROC, cgroup or CGROUP, "cpu"):
        v2 = _read(folder / "cpu.max")
        if v2 is not None:
            quota, _, period = v2.partition(" ")
            if quota != "max" and _positive(quota) and _positive(period):
                found.append(int(quota) / int(period))
            continue
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota is not None and period is not None and _positive(quota) and _positive(period):
            found.append(int(quota) / int(period))
    return min(found, default=None)


def available_memory(proc: Path | None = None, cgroup: Path | None = None) -> int | None:
    """Bytes this process can still allocate without swapping or being killed: the least of ``MemAvailable`` and
    each cgroup level's limit less its current use; ``None`` when neither is known."""
    proc, cgroup = proc or PROC, cgroup or CGROUP
    found = []
    meminfo = _read(proc / "meminfo")
    for line in (meminfo or "").splitlines():
        if line.startswith("MemAvailable:"):
            found.append(int(line.split()[1]) * 1024)
    for folder in _cgroup_folders(proc, cgroup, "memory"):
        limit = _read(folder / "memory.max") or _read(folder / "memory.limit_in_bytes")
        used = _read(folder / "memory.current") or _read(folder / "memory.usage_in_bytes")
        # v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages), v2 with "max".
        if limit is not None and _positive(limit) and int(limit) < 1 << 60:
            found.append(max(0, int(limit) - (int(used) if used is not None and used.isdigit() else 0)))
    return min(found, default=None)


def machine(proc: Path | None = None, cgroup: Path | None = None) -> Machine:
    cpus, why = usable_cpus(proc, cgroup)
    return Machine(cpus, available_memory(proc, cgroup), why)


def auto_jobs(device_type: str, proc: Path | None = None, cgroup: Path | None = None) -> int:
    """``--jobs auto``: on the CPU, one training per usable CPU, but no more than the available memory holds at
    :data:`WORKER_BYTES` each (small nets use two cores a little better as two one-thread trainings than as one
    two-thread training: ``benchmarks/run.py --only jobs``); on a CUDA GPU, a few worker processes sharing it
    (:func:`reportgen.training.device.trainings_per_device`: small classifiers leave a GPU idle between kernel
    launches); on MPS one at a time."""
    from reportgen.training.device import trainings_per_device

    found = machine(proc, cgroup)
    jobs = trainings_per_device(device_type, found.cpus)
    if found.memory is not None:
        jobs = min(jobs, found.memory // WORKER_BYTES)
    return max(1, jobs)


def _cgroup_folders(proc: Path, cgroup: Path, controller: str) -> list[Path]:
    """The cgroup folders of this process for ``controller``, from its own up to the root (v2's unified hierarchy,
    or v1's mount of that controller). A path that is not mounted here (a container sees its own cgroup as the
    root) falls back to the root folder alone."""
    text = _read(proc / "self" / "cgroup") or ""
    folders: list[Path] = []
    for line in text.splitlines():
        if line.count(":") < 2:
            continue
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: "0::/user.slice/…"
            base = cgroup
        elif controller in controllers.split(","):  # v1: "4:cpu,cpuacct:/docker/…"
            base = next((cgroup / m for m in (controllers, controller) if (cgroup / m).is_dir()), None)
            if base is None:
                continue
        else:
            continue
        here = base / path.strip("/")
        if not here.is_dir():
            here = base
        while True:
            folders.append(here)
            if here == base:
                break
            here = here.parent
    if not folders and cgroup.is_dir():
        folders.append(cgroup)
    return folders


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _positive(text: str) -> bool:
    return text.isdigit() and int(text) > 0


def release_freed_memory() -> None:
    """Hand the memory this process has freed back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    glibc keeps what a thread frees in that thread's arena for its next allocation; after the trainings the driver
    ran in its training thread, that is tens of MB no one will reuse, counted in the driver's resident set while the
    sections draw and the PDF is laid out (the build's peak)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return
    if trim is not None:
        trim(0)

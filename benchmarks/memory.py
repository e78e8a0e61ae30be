"""Memory of a ``reportgen build`` as the machine sees it: every process of its tree (the driver, its worker
processes, multiprocessing's helpers), sampled from ``/proc`` while the build runs.

Three figures, because a process tree's memory has no single honest number:

- **summed peak RSS**: each process's own peak resident set (``VmHWM``, which the kernel keeps, so sampling cannot
  miss it while the process lives), summed over the tree. The issue's target (<= 2 GB): an upper bound, since pages
  two processes share (torch's libraries, shared-memory tensors) count once in each;
- **peak RSS at one moment**: the largest sum of the tree's current ``VmRSS`` over the samples;
- **peak PSS at one moment**: the same with proportional set sizes (``/proc/PID/smaps_rollup``; a shared page
  counts 1/n in each of its n processes), what the tree really takes from the machine.

Linux only (``/proc``); elsewhere the rows are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Row, Settings, skipped

RSS_TARGET_MB = 2000.0  # issue 16: the default build's summed peak RSS <= 2 GB
SAMPLE_SECONDS = 0.05


@dataclass
class TreeMemory:
    """What sampling a process tree found; memory in MB."""

    peaks: dict[tuple[int, str], tuple[str, float]] = field(default_factory=dict)  # (pid, start) -> (role, VmHWM)
    max_rss_at_once: float = 0.0
    max_pss_at_once: float = 0.0
    samples: int = 0
    seconds: float = 0.0

    @property
    def summed_peak_rss(self) -> float:
        return sum(mb for _, mb in self.peaks.values())

    def by_role(self) -> str:
        """``driver 812, worker 701, worker 699, helper 15`` (MB), largest first after the driver."""
        ordered = sorted(self.peaks.values(), key=lambda rm: (rm[0] != "driver", -rm[1]))
        return ", ".join(f"{role} {mb:.0f}" for role, mb in ordered)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue  # gone
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after "(comm)": state, ppid
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_of(root: int) -> list[int]:
    """``root`` and every process below it."""
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        return f.read().rsplit(")", 1)[1].split()[19]  # field 22, starttime (fields 3.. follow "(comm)")


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as f:
        return dict(line.split(":", 1) for line in f if ":" in line)


def _kb(value: str) -> float:
    return float(value.split()[0])


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return _kb(line.split(":", 1)[1]) / 1024
    except OSError:
        pass
    return 0.0


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "driver"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "process"
    if "resource_tracker" in cmdline or "forkserver" in cmdline:
        return "helper"
    return "worker" if "multiprocessing" in cmdline or "spawn_main" in cmdline else "process"


def sample_tree(root: int, memory: TreeMemory) -> None:
    """One sample of the tree under ``root``: every process's peak so far, and the tree's sums at this moment."""
    rss_now = pss_now = 0.0
    for pid in tree_of(root):
        try:
            status = _status(pid)
            start = _start_time(pid)  # with the pid: a reused pid is another process
        except OSError:
            continue
        if "VmHWM" not in status:  # a zombie: its memory is gone, its peak was read while it lived
            continue
        key = (pid, start)
        role = memory.peaks.get(key, (None,))[0] or _role(pid, root)
        memory.peaks[key] = (role, _kb(status["VmHWM"]) / 1024)
        rss_now += _kb(status["VmRSS"]) / 1024
        pss_now += _pss_mb(pid)
    memory.max_rss_at_once = max(memory.max_rss_at_once, rss_now)
    memory.max_pss_at_once = max(memory.max_pss_at_once, pss_now)
    memory.samples += 1


def measure(command: list[str], env: dict[str, str] | None = None, interval: float = SAMPLE_SECONDS
            ) -> TreeMemory:
    """Run ``command`` to its end, sampling its process tree every ``interval`` seconds. Raises
    ``CalledProcessError`` (with its stderr) when it fails."""
    memory = TreeMemory()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        while process.poll() is None:
            sample_tree(process.pid, memory)
            time.sleep(interval)
        memory.seconds = time.perf_counter() - started
        if process.returncode != 0:
            err.seek(0)
            raise subprocess.CalledProcessError(process.returncode, command, stderr=err.read().decode()[-2000:])
    return memory


def build_command(settings: Settings, out: Path, manifest: Path | None = None) -> list[str]:
    """The default build of ``manifest`` (default: the settings'), as a user types it, into ``out``."""
    threads = ["--threads", str(settings.threads)] if settings.threads else []
    return [sys.executable, "-m", "reportgen", "build", str(manifest or settings.manifest), "--out", str(out),
            "--quiet", "--device", "cpu", *threads]


def memory_rows(settings: Settings, manifest: Path | None = None) -> list[Row]:
    """Cold and warm builds of the manifest (``--jobs auto``, PDF included), each measured over its process tree."""
    if not Path("/proc/self/status").is_file():
        return [skipped("summed peak RSS", "needs Linux's /proc")]
    manifest = manifest or settings.manifest
    env = {**os.environ, "REPORTGEN_JOBS": ""}  # the default, --jobs auto, not the environment's choice
    found: dict[str, list[TreeMemory]] = {"cold": [], "warm": []}
    for _ in range(settings.cold_repeat or 1):  # minutes per cold build; memory varies little between runs
        with tempfile.TemporaryDirectory(prefix="reportgen-memory-") as out:
            for kind in found:
                found[kind].append(measure(build_command(settings, Path(out), manifest), env=env))
    rows = []
    for kind, runs in found.items():
        last = runs[-1]
        what = f"{kind} build {manifest.name}"
        rows += [
            Row(f"summed peak RSS, {what}", [m.summed_peak_rss for m in runs], "MB",
                target=("<=", RSS_TARGET_MB) if kind == "cold" else None,
                note=f"{len(last.peaks)} processes: {last.by_role()}; {last.seconds:.0f} s",
                extra={"processes": [{"role": r, "peak_mb": mb} for r, mb in last.peaks.values()]}),
            Row(f"peak RSS at one moment, {what}", [m.max_rss_at_once for m in runs], "MB",
                note=f"sum of the tree's VmRSS, {last.samples} samples"),
            Row(f"peak PSS at one moment, {what}", [m.max_pss_at_once for m in runs], "MB",
                note="shared pages counted once over the tree"),
        ]
    return rows

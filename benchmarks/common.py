"""What every benchmark stage shares: a table row, the run settings, fresh-process timing and the table itself."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    """The command line, as the stages read it."""

    manifest: Path
    report_dir: Path  # a built report (out/): its cache, section outputs and report.html
    repeat: int = 3
    cold_repeat: int | None = None  # cold builds (minutes each); None: ``repeat``
    quick: bool = False  # tiny sizes, for the smoke test: the figures mean nothing
    threads: int | None = None  # torch CPU threads per training (None: torch's default)
    device: str = "cpu"  # where the in-process trainer stages train (benchmarks/gpu.sh passes cuda)
    section: str = "confusion"
    grade_report: Path = Path("/work/shared/reports/itu-a2-bscs19057.pdf")
    grade_manifest: Path = ROOT / "examples" / "itu-a2.toml"
    compare_report: Path = Path("/work/shared/reports/itu-a3-msds21001.md")  # copied into a class of reports
    compare_manifest: Path = ROOT / "examples" / "itu-a3-course.toml"
    compare_count: int = 100


@dataclass
class Row:
    """One line of the table: ``values`` are the repetitions; ``target`` is ``("<=", 10.0)`` or None."""

    what: str
    values: list[float]
    unit: str
    target: tuple[str, float] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # goes to the JSON only

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def ok(self) -> bool | None:
        if self.target is None or not self.values:
            return None
        op, bound = self.target
        return self.median <= bound if op == "<=" else self.median >= bound

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what, "unit": self.unit, "median": self.median if self.values else None,
            "min": min(self.values, default=None), "max": max(self.values, default=None), "values": self.values,
            "target": f"{self.target[0]} {self.target[1]:g}" if self.target else None, "ok": self.ok,
            "note": self.note, **self.extra,
        }


def skipped(what: str, why: str) -> Row:
    """A row with no figures: the stage could not run here, and ``why``."""
    return Row(what, [], "", note=f"skipped: {why}")


def fresh_process(args: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of ``python -m reportgen ARGS`` (imports included, as a user waits) and its stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reportgen", *args], check=True, capture_output=True, text=True,
                          env=env)
    return time.perf_counter() - start, done.stdout


def fresh_python(code: str) -> float:
    """Wall seconds of ``python -c CODE`` in a fresh interpreter."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def reported_seconds(stdout: str) -> float | None:
    """The in-process build time ``reportgen build`` prints last ("...; 3.1 s"), or None."""
    found = re.findall(r"([0-9]+(?:\.[0-9]+)?) s\s*$", stdout.strip())
    return float(found[-1]) if found else None


def synchronize(device) -> None:
    """Wait for the work queued on ``device`` (a CUDA GPU runs asynchronously): timings end here."""
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def median_of(fn, repeat: int) -> list[float]:
    """``repeat`` timings of ``fn()`` (seconds)."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _num(v: float) -> str:
    if v != v:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def format_table(rows: list[Row]) -> str:
    """The table: what, median, min, max, unit, target, ok?, note."""
    head = ("what", "median", "min", "max", "unit", "target", "ok?", "note")
    body = []
    for r in rows:
        if not r.values:
            body.append((r.what, "-", "-", "-", r.unit, "", "", r.note))
            continue
        target = f"{r.target[0]} {r.target[1]:g}" if r.target else ""
        ok = "" if r.ok is None else "yes" if r.ok else "NO"
        body.append((r.what, _num(r.median), _num(min(r.values)), _num(max(r.values)), r.unit, target, ok, r.note))
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(7)]
    right = {1, 2, 3}

    def fmt(line) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=False))]
        return "  ".join(cells) + "  " + line[7]

    rule = "-" * (sum(widths) + 2 * 7 + 4)
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])

"""``--jobs 2`` against one training at a time: cold builds of a small manifest in fresh processes, back to back
(so both see the same machine), same seeds; the speed-up is the ratio of the medians."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.common import Row, Settings, fresh_process

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "itu-a3-imbalanced.toml"  # 6 trainings: about a minute sequentially on 2 cores


def jobs_rows(settings: Settings, manifest: Path = MANIFEST) -> list[Row]:
    times: dict[int, list[float]] = {1: [], 2: []}
    env = {**os.environ, "REPORTGEN_JOBS": ""}  # the flag decides, not the environment
    for _ in range(settings.cold_repeat or settings.repeat):
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory(prefix="reportgen-jobs-") as out:
                seconds, _ = fresh_process(["build", str(manifest), "--out", out, "--quiet", "--no-pdf", "--device",
                                            "cpu", "--jobs", str(jobs)], env=env)
            times[jobs].append(seconds)
    rows = [Row(f"cold build {manifest.name}, --jobs {j}", v, "s", note="fresh process, no PDF")
            for j, v in times.items()]
    speedup = [a / b for a, b in zip(times[1], times[2], strict=True)]
    rows.append(Row("--jobs 2 speed-up over --jobs 1", speedup, "×",
                    note=f"{os.cpu_count()} cores; paired per repetition"))
    return rows

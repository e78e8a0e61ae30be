"""Time the default report: cold build, warm build and a single-section rebuild (as a user runs them).

    python benchmarks/run.py [--manifest experiments.toml] [--repeat 3] [--json PATH]

Each build runs as a fresh ``reportgen`` process (imports included, as a user waits for them) against a
temporary output folder. Cold = empty cache; warm = everything cached; section = ``--section confusion``.
The table shows the median and range over ``--repeat`` repetitions (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reportgen", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=ROOT / "experiments.toml")
    parser.add_argument("--section", default="confusion", help="the section timed for --section rebuilds")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args()

    times: dict[str, list[float]] = {"cold build": [], "warm build": [], f"--section {args.section}": []}
    for _ in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="reportgen-bench-"))
        try:
            common = [str(args.manifest), "--out", str(out), "--quiet", "--device", "cpu"]
            times["cold build"].append(timed(["build", *common]))
            times["warm build"].append(timed(["build", *common]))
            times[f"--section {args.section}"].append(timed(["build", *common, "--section", args.section]))
        finally:
            shutil.rmtree(out, ignore_errors=True)

    rows = {name: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v), "runs": len(v)}
            for name, v in times.items()}
    print(f"reportgen benchmark: {args.manifest.name}, {os.cpu_count()} CPU cores, {platform.machine()}, "
          f"{args.repeat} repetitions")
    print(f"{'what':<24}{'median':>10}{'min':>10}{'max':>10}")
    for name, row in rows.items():
        print(f"{name:<24}{row['median_s']:>9.1f}s{row['min_s']:>9.1f}s{row['max_s']:>9.1f}s")
    if args.json:
        args.json.write_text(json.dumps({"manifest": str(args.manifest), "cpus": os.cpu_count(), "times": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The Python half of ``benchmarks/gpu.sh``: the environment report, the manifests it builds, the same-numbers check
and the closing Markdown table. Each piece is a subcommand (``python -m benchmarks.gpu NAME ...``), so the script
stays a list of timed steps.

    env [--require-cuda]                      torch, CUDA, cuDNN, the device, bf16, usable CPUs
    tiny OUT                                  the tests' tiny manifest (the dry run's stand-in for experiments.toml)
    course SRC OUT --per-class N [--epochs E] [--seeds S ...]
                                              a copy of a manifest with every generated dataset's per_class set
    same A B [--require]                      results.json of two builds, timings and timestamps left out
    table STEPS [--train-json PATH] [--device D]
                                              the steps as a Markdown table for the README's Performance table
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# What says when and how fast a build ran, not what it found (as tests/test_resume.py leaves out).
VOLATILE = {"built_at", "trained_at", "train_seconds", "epoch_seconds", "seconds", "threads", "tsne_seconds", "timing"}
TIMING_SENTENCES = ("trained fastest", "Training times are not compared")


def env_report(require_cuda: bool) -> int:
    import platform

    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cudnn = torch.backends.cudnn.version() if torch.cuda.is_available() else "-"
    print(f"python {platform.python_version()}; torch {torch.__version__}; CUDA (torch built with) "
          f"{torch.version.cuda or 'none'}; cuDNN {cudnn}")
    print(f"CPUs: {os.cpu_count()} ({usable} usable by this process); {platform.machine()} {platform.processor()}")
    if not torch.cuda.is_available():
        print("CUDA: not available to torch")
        print(f"device: CPU ({usable} cores)")  # the last line: gpu.sh's label for the table
        return 1 if require_cuda else 0
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"cuda:{i}: {p.name}, compute capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB, "
              f"{p.multi_processor_count} SMs")
    print(f"bf16 supported: {torch.cuda.is_bf16_supported()}; TF32 for matmul: "
          f"{torch.backends.cuda.matmul.allow_tf32}, for cuDNN convolutions: {torch.backends.cudnn.allow_tf32}")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    return 0


def write_tiny(out: Path) -> int:
    from tests.conftest import TINY_MANIFEST

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(TINY_MANIFEST, encoding="utf-8")
    return 0


def course_copy(src: Path, out: Path, per_class: int, epochs: int | None = None,
                seeds: list[int] | None = None) -> Path:
    """``src`` rewritten with ``per_class = N`` in each dataset table that has one (and, for a dry run, every
    ``epochs`` and the report's ``seeds`` replaced); loaded back to check that the copy says what was asked."""
    from reportgen.config.manifest import load_manifest

    text = src.read_text(encoding="utf-8")
    text, found = re.subn(r"(?m)^(per_class\s*=\s*)\d+", rf"\g<1>{per_class}", text)
    if not found:
        raise SystemExit(f"{src}: no per_class = N line to change")
    if epochs is not None:
        text = re.sub(r"(?m)^(epochs\s*=\s*)\d+", rf"\g<1>{epochs}", text)
    if seeds is not None:
        text = re.sub(r"(?m)^(seeds\s*=\s*)\[[^\]]*\]", rf"\g<1>{list(seeds)}", text, count=1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    manifest = load_manifest(out)
    sizes = {name: d.options.get("per_class") for name, d in manifest.datasets.items() if "per_class" in d.options}
    if set(sizes.values()) != {per_class}:
        raise SystemExit(f"{out}: per_class is {sizes}, not {per_class}")
    return out


def stable(node):
    """results.json without timings and timestamps (and the sentences that report timings)."""
    if isinstance(node, dict):
        return {k: stable(v) for k, v in node.items() if k not in VOLATILE}
    if isinstance(node, list):
        return [stable(v) for v in node if not (isinstance(v, str) and any(s in v for s in TIMING_SENTENCES))]
    return node


def differences(a, b, path: str = "$") -> list[str]:
    """Where two JSON documents differ (JSON paths), the first few hundred."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in one" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out[:200]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")][:200]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"[:300]]


def same(a: Path, b: Path, require: bool) -> int:
    """Print whether two builds' results.json agree once timings are left out; 1 if not and ``require``."""
    docs = [stable(json.loads((p / "results.json" if p.is_dir() else p).read_text(encoding="utf-8"))) for p in (a, b)]
    found = differences(*docs)
    if not found:
        print(f"identical: {a.name} and {b.name} (results.json, timings and timestamps left out)")
        return 0
    print(f"DIFFERENT: {a.name} and {b.name} differ in {len(found)} place(s), e.g.:")
    for line in found[:10]:
        print(f"  {line}")
    return 1 if require else 0


def read_steps(path: Path) -> dict[str, dict]:
    """gpu.sh's step log: one tab-separated line per step (id, label, seconds, status, note)."""
    steps = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        sid, label, seconds, status, note = (line.split("\t") + [""] * 5)[:5]
        steps[sid] = {"label": label, "seconds": float(seconds), "status": status, "note": note}
    return steps


def train_summary(path: Path) -> tuple[str, list[str]]:
    """From ``benchmarks/run.py --only train --json``: the overhead range, and one Markdown row per model."""
    rows = {r["what"]: r for r in json.loads(path.read_text(encoding="utf-8"))["rows"]}
    overheads, lines = [], []
    for what, row in rows.items():
        if not what.endswith(" trainer") or row["median"] is None:
            continue
        model = what[len("train "):-len(" trainer")]
        floor, overhead = rows.get(f"train {model} floor", {}), rows.get(f"train {model} overhead", {})
        if overhead.get("median") is not None:
            overheads.append(overhead["median"])
        lines.append(f"| {model} | {row['median']:,.0f} | {floor.get('median') or float('nan'):,.0f} | "
                     f"{overhead.get('median') or float('nan'):+.1f} % |")
    span = f"{min(overheads):+.0f} % to {max(overheads):+.0f} %" if overheads else "not measured"
    return span, lines


def table(steps_path: Path, train_json: Path | None, device: str = "cuda") -> int:
    """The Markdown rows to paste into the README's Performance table (CUDA rows), then the per-model table."""
    steps = read_steps(steps_path)

    def cell(sid: str) -> str:
        s = steps.get(sid)
        if s is None:
            return "not run"
        if s["status"] != "ok":
            return f"{s['status']} after {s['seconds']:.0f} s"
        return f"{s['seconds']:.1f} s" + (f" ({s['note']})" if s["note"] else "")

    where = steps.get("env", {}).get("note", "") or "?"
    print(f"\n| what (on {where}) | measured | how |")
    print("|---|---|---|")
    for sid in ("default", "course"):
        if sid in steps:
            print(f"| {steps[sid]['label']} | {cell(sid)} | fresh `reportgen build` process, wall time |")
    if train_json is not None and train_json.is_file():
        span, model_lines = train_summary(train_json)
        print(f"| trainer overhead over the floor, per model | {span} | `python benchmarks/run.py --only train "
              f"--device {device}` |")
    else:
        model_lines = []
    plain, det = steps.get("plain"), [steps[k] for k in ("det1", "det2") if k in steps]
    if plain and det and plain["status"] == "ok" and all(d["status"] == "ok" for d in det):
        ratio = statistics.median(d["seconds"] for d in det) / plain["seconds"]
        with_det = ", ".join(f"{d['seconds']:.1f}" for d in det)
        print(f"| `--deterministic` cost ({plain['label']}) | {plain['seconds']:.1f} s without, {with_det} s with "
              f"({ratio:.2f}×) | fresh processes, back to back |")
    for sid in ("same", "same_plain"):
        if sid in steps:
            print(f"| {steps[sid]['label']} | {steps[sid]['note'] or steps[sid]['status']} | results.json less "
                  f"timings |")
    if model_lines:
        print("\n| model (batch) | trainer samples/s | floor samples/s | overhead |")
        print("|---|---|---|---|")
        print("\n".join(model_lines))
    failed = [sid for sid, s in steps.items() if s["status"] != "ok"]
    verdict = f"{len(steps) - len(failed)} of {len(steps)} steps ok"
    print(f"\n{verdict}; failed: {', '.join(failed)}" if failed else f"\n{verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env")
    env.add_argument("--require-cuda", action="store_true")
    tiny = commands.add_parser("tiny")
    tiny.add_argument("out", type=Path)
    course = commands.add_parser("course")
    course.add_argument("src", type=Path)
    course.add_argument("out", type=Path)
    course.add_argument("--per-class", type=int, required=True)
    course.add_argument("--epochs", type=int)
    course.add_argument("--seeds", type=int, nargs="+")
    compare = commands.add_parser("same")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--require", action="store_true")
    tab = commands.add_parser("table")
    tab.add_argument("steps", type=Path)
    tab.add_argument("--train-json", type=Path)
    tab.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    if args.command == "env":
        return env_report(args.require_cuda)
    if args.command == "tiny":
        return write_tiny(args.out)
    if args.command == "course":
        print(course_copy(args.src, args.out, args.per_class, args.epochs, args.seeds))
        return 0
    if args.command == "same":
        return same(args.a, args.b, args.require)
    return table(args.steps, args.train_json, args.device)


if __name__ == "__main__":
    raise SystemExit(main())

"""Time reportgen where a user waits: builds, the trainer vs its floor, t-SNE, figures, the PDF and grading.

    python benchmarks/run.py [--json PATH] [--repeat N] [--cold-repeat N] [--only NAME ...] [--quick]

Prints ONE table (what, median, min, max, unit, target, ok?, note) and, with ``--json``, writes the same figures.
Stages (``--only`` picks some; all by default):

  cold, warm, section  fresh ``reportgen build`` processes on a temporary folder (cold takes minutes)
  startup              fresh-interpreter costs: ``reportgen --help``, ``import torch``, a build's imports
  train                per distinct (model, batch size): trainer vs floor samples/s, overhead %, cold floor;
                       evaluation time by evaluation batch size
  tsne                 t-SNE as the report runs it; scikit-learn vs openTSNE on the same points
  figures              drawing + saving every figure of the built report from its stored section results
  pdf                  WeasyPrint on the built report.html
  grade                grading one student's report, in-process and as fresh processes
  compare              ``reportgen compare`` over a class of 100 small text reports (fresh process)
  memory               summed peak RSS over the process tree of a cold and a warm default build (minutes)

The machine is shared and noisy: every figure is a median over ``--repeat`` repetitions. ``--quick`` runs
tiny sizes once (a smoke test, seconds; its figures mean nothing) and skips the builds unless named.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Row, Settings, format_table, skipped  # noqa: E402

STAGES = ("cold", "warm", "section", "startup", "train", "tsne", "figures", "pdf", "grade", "compare", "jobs",
          "memory")
BUILD_STAGES = {"cold", "warm", "section"}

FOOTER = """\
trainer   training.train.train on the run's real data, a 2-epoch copy of the run, seed 0, CPU. samples/s counts the
          TRAINING part of an epoch only (epoch_seconds minus the validation pass, timed apart); the faster of the
          two epochs. Validation and the end-of-run test pass are shown in the note: they are extra work, not overhead.
floor     the same model (build_model, channels_last for conv nets), loss and optimizer: forward + backward + step
          over the training split as resident, already-normalised float tensors in pre-cut batches of the same
          size, in a tight loop; no gather, no conversion, no scheduler, no bookkeeping, no evaluation.
overhead  trainer seconds per training epoch / floor seconds per epoch − 1 (= floor samples/s / trainer samples/s
          − 1), paired within a repetition. Target <= 15 %.
cold floor  sum over the plan's trainings of epochs × training items / floor samples/s of its (model, batch size).
evaluate  training.train.evaluate on the validation split at several evaluation batch sizes (best of 3 calls each).
builds    fresh `reportgen build` processes (imports included); the note splits off build()'s own time.
threads   a build with --jobs 1 leaves torch's thread count alone: the header's count is the trainer's."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=FOOTER)
    parser.add_argument("--manifest", type=Path, default=ROOT / "experiments.toml")
    parser.add_argument("--report-dir", type=Path,
                        help="a built report: its run cache, section results and report.html (default: the "
                        "manifest's own output folder, out/ for experiments.toml)")
    parser.add_argument("--section", default="confusion", help="the section timed for --section rebuilds")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per figure (default: 3)")
    parser.add_argument("--cold-repeat", type=int, metavar="N",
                        help="cold builds to time (minutes each; default: --repeat, at most --repeat)")
    parser.add_argument("--only", nargs="+", choices=STAGES, metavar="NAME",
                        help=f"run only these stages: {', '.join(STAGES)}")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch CPU threads for the in-process stages, as `reportgen build --threads N` sets them "
                             "per training (default: torch's own, which a build with --jobs 1 keeps)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"),
                        help="where the train stage trains (default: cpu; benchmarks/gpu.sh passes cuda)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, once: a smoke test, not a measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    return parser.parse_args(argv)


def header(settings: Settings, stages: list[str]) -> dict:
    import torch

    return {
        "manifest": str(settings.manifest),
        "report_dir": str(settings.report_dir),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "device": settings.device,
        "device_name": torch.cuda.get_device_name() if settings.device == "cuda" else settings.device,
        "python": platform.python_version(),
        "repeat": settings.repeat,
        "quick": settings.quick,
        "stages": stages,
        "load_average_start": os.getloadavg(),
    }


def run_stages(settings: Settings, stages: list[str]) -> list[Row]:
    """Every selected stage's rows, in table order; a stage that fails becomes a skipped row saying why."""
    from benchmarks import builds, jobs, memory, outputs, trainer, tsne

    rows: list[Row] = []
    selected = set(stages)
    if selected & BUILD_STAGES:
        rows += _guard("builds", lambda: builds.build_rows(settings, selected))
    if "startup" in selected:
        rows += _guard("startup", lambda: builds.startup_rows(settings))
    if "train" in selected:
        rows += _guard("train", lambda: _train_rows(settings, trainer))
    if "tsne" in selected:
        rows += _guard("t-SNE", lambda: tsne.tsne_rows(settings))
    if selected & {"figures", "pdf"} and not builds.ensure_report(settings):
        rows += [skipped(s, f"no report in {settings.report_dir} (not built in --quick)")
                 for s in ("figures", "pdf") if s in selected]
        selected -= {"figures", "pdf"}
    if "figures" in selected:
        rows += _guard("figures", lambda: outputs.figure_rows(settings))
    if "pdf" in selected:
        rows += _guard("HTML → PDF", lambda: outputs.pdf_rows(settings))
    if "grade" in selected:
        rows += _guard("grading", lambda: outputs.grade_rows(settings))
    if "compare" in selected:
        rows += _guard("compare", lambda: outputs.compare_rows(settings))
    if "jobs" in selected:
        rows += _guard("--jobs", lambda: jobs.jobs_rows(settings))
    if "memory" in selected:
        rows += _guard("memory", lambda: memory.memory_rows(settings))
    _compare_cold(rows)
    return rows


def _train_rows(settings: Settings, trainer) -> list[Row]:
    rows, measured = trainer.trainer_rows(settings)
    rows += trainer.cold_floor_rows(measured["plan"], measured["measured"])
    return rows + trainer.eval_batch_rows(settings)


def _guard(what: str, stage) -> list[Row]:
    try:
        return stage()
    except Exception as err:  # noqa: BLE001 - one broken stage must not hide the others' figures
        return [skipped(what, f"{type(err).__name__}: {err}")]


def _compare_cold(rows: list[Row]) -> None:
    """The cold build against the floor of its trainings, when both were measured."""
    cold = next((r for r in rows if r.what == "cold build" and r.values), None)
    floor = next((r for r in rows if r.what.startswith("cold build floor") and r.values), None)
    if cold and floor:
        cold.note += f"; {cold.median / floor.median:.2f}× the training floor ({floor.median:.0f} s)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from reportgen.out_folder import default_out

    report_dir = args.report_dir or default_out(args.manifest)  # another manifest's folder would refuse its builds
    settings = Settings(manifest=args.manifest.resolve(), report_dir=report_dir.resolve(),
                        repeat=max(1, args.repeat), quick=args.quick, section=args.section,
                        cold_repeat=max(1, args.cold_repeat) if args.cold_repeat else None, threads=args.threads,
                        device=args.device)
    slow = BUILD_STAGES | {"jobs", "memory"}  # minutes each: --quick leaves them out unless named
    stages = list(args.only) if args.only else [s for s in STAGES if not (args.quick and s in slow)]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    info = header(settings, stages)
    started = time.perf_counter()
    rows = run_stages(settings, stages)
    info["load_average_end"] = os.getloadavg()
    info["seconds"] = time.perf_counter() - started
    load = "/".join(f"{v:.1f}" for v in info["load_average_start"])
    how = "quick: tiny sizes, once" if settings.quick else f"median of {settings.repeat}"
    print(f"reportgen benchmarks: {settings.manifest.name}; {info['cpus']} CPUs ({info['machine']}); torch "
          f"{info['torch']} with {info['torch_threads']} threads ({info['torch_interop_threads']} inter-op); "
          f"{how}; load average {load} at start; {info['seconds']:.0f} s in all; trainer on {info['device_name']}")
    print(format_table(rows))
    print(FOOTER)
    if args.json:
        args.json.write_text(json.dumps({**info, "rows": [r.to_json() for r in rows], "definitions": FOOTER},
                                        indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

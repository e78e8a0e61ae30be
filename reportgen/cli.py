"""The ``reportgen`` command. Thin: parse arguments, call the library, turn a ReportgenError into one
``Error: …`` line and exit status 1. Heavy modules (torch, matplotlib, WeasyPrint) are imported inside the
commands, so ``reportgen --help`` answers at once (hatch's habit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reportgen import __version__
from reportgen.device import DEVICE_CHOICES
from reportgen.errors import ReportgenError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen",
        description="Train what an assignment's questions need and write the report (HTML and PDF).",
    )
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser(
        "build",
        help="train the runs the manifest needs (cached) and write report.html, report.pdf, results.json",
        description="Train every run the manifest's sections need (each once; cached by content hash), compute "
        "the sections and write OUT/report.html, OUT/report.pdf and OUT/results.json.",
    )
    build.add_argument("manifest", type=Path, help="the manifest, e.g. experiments.toml")
    build.add_argument("--section", "-s", action="append", metavar="ID",
                       help="rebuild only this section (repeatable); the others stay as last built")
    _common(build)
    build.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                       help="where to train: auto picks cuda, then mps, then cpu (default: auto)")
    build.add_argument("--force", action="store_true", help="retrain the runs even if the cache holds them")
    build.add_argument("--no-pdf", action="store_true", help="write the HTML and JSON only")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress bars (for CI and logs)")
    build.set_defaults(func=cmd_build)

    sections = commands.add_parser(
        "sections",
        help="list the manifest's sections: id, type, title, marks, and whether their runs are cached",
        description="List the manifest's sections with their marks and whether every run they need is cached.",
    )
    sections.add_argument("manifest", type=Path, help="the manifest, e.g. experiments.toml")
    _common(sections)
    sections.set_defaults(func=cmd_sections)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", "-o", type=Path, metavar="DIR",
                        help="output folder (default: out/ beside the manifest); the run cache is OUT/cache")


def cmd_build(args: argparse.Namespace) -> int:
    from reportgen.build import build

    summary = build(args.manifest, out=args.out, sections=args.section, device=args.device, force=args.force,
                    quiet=args.quiet, pdf=not args.no_pdf)
    written = ", ".join(str(p) for p in (summary.html, summary.pdf, summary.results) if p is not None)
    print(f"wrote {written}")
    runs = f"{summary.trained} trained, {summary.cached} cached"
    if summary.failed:
        runs += f", {summary.failed} failed"
    sections = ", ".join(summary.sections_built) or "none (all up to date)"
    print(f"sections computed: {sections}; runs: {runs}; {summary.seconds:.1f} s")
    return 0


def cmd_sections(args: argparse.Namespace) -> int:
    from reportgen.build import default_out
    from reportgen.cache import RunCache
    from reportgen.manifest import load_manifest
    from reportgen.plan import make_plan

    manifest = load_manifest(args.manifest)
    plan = make_plan(manifest)
    cache = RunCache((args.out or default_out(args.manifest)) / "cache")
    rows = [("ID", "TYPE", "MARKS", "RUNS", "CACHED", "TITLE")]
    for section in plan.sections:
        planned = [p for runs in plan.runs_for(section).values() for p in runs]
        have = sum(cache.has(p.key) for p in planned)
        rows.append((section.id, section.type, f"{section.marks:g}", str(len(planned)),
                     "yes" if have == len(planned) else f"{have}/{len(planned)}", section.title))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[5])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ReportgenError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted: finished runs are kept in the cache.", file=sys.stderr)
        return 130

"""The ``reportgen`` command. Thin: parse arguments, call the library, turn a ReportgenError into one
``Error: …`` line and exit status 1. Heavy modules (torch, matplotlib, WeasyPrint) are imported inside the
commands, so ``reportgen --help`` answers at once (hatch's habit).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reportgen import __version__
from reportgen.config.errors import ReportgenBug, ReportgenError
from reportgen.training.device import DEVICE_CHOICES

# sysexits.h's EX_SOFTWARE ("an internal software error"): apart from a user's error (1) and --strict's failed runs (2).
EXIT_BUG = 70


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
                       help="rebuild only this section (repeatable); the others stay as last built. Writes "
                       "report.html and results.json; report.pdf only with --pdf (re-laying out the whole PDF costs "
                       "more than the section itself)")
    _common(build)
    build.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                       help="where to train: auto picks cuda, then mps, then cpu (default: auto)")
    build.add_argument("--deterministic", action="store_true",
                       help="torch's deterministic algorithms (cuDNN and cuBLAS included): two builds with the same "
                       "seeds give the same numbers on a GPU too (its cost there: README, On a GPU); CPU numbers are "
                       "unchanged")
    build.add_argument("--force", action="store_true", help="retrain the runs even if the cache holds them")
    build.add_argument("--no-pdf", action="store_true", help="write the HTML and JSON only")
    build.add_argument("--pdf", action="store_true", help="with --section: re-render report.pdf too")
    build.add_argument("--quiet", "-q", action="store_true",
                       help="no progress (only runs that failed); without it, a terminal shows bars and a line per "
                       "training, a log (stderr not a terminal) a line per finished run")
    build.add_argument("--jobs", "-j", type=_jobs, default=os.environ.get("REPORTGEN_JOBS") or "auto", metavar="N",
                       help="train N runs at once in local processes, the CPU threads shared among them; auto (the "
                       "default; or $REPORTGEN_JOBS): on the CPU one per CPU this process may use (affinity, cgroup "
                       "quota), no more than the available memory holds; up to 4 sharing a CUDA GPU, 1 on MPS")
    build.add_argument("--threads", type=_positive, metavar="N",
                       help="CPU threads per training (default: the usable CPUs divided by --jobs); the numbers "
                       "depend on the seed and this, not on where a run trained")
    build.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local (this machine, --jobs processes) or ray (each run a Ray task; pip install "
                       "'reportgen[ray]')")
    build.add_argument("--ray-address", metavar="ADDR",
                       help="the Ray cluster to use ('auto' finds a running one); default: start a local Ray")
    build.add_argument("--strict", action="store_true",
                       help="exit with status 2 when a run failed or diverged (the report is still written)")
    build.add_argument("--debug", action="store_true",
                       help="on an internal error (a bug in reportgen, exit status 70), print its full traceback")
    build.set_defaults(func=cmd_build)

    sections = commands.add_parser(
        "sections",
        help="list the manifest's sections: id, type, title, marks, and whether their runs are cached",
        description="List the manifest's sections with their type (built in, or registered by one of the "
        "manifest's [report] plugins), marks and whether every run they need is cached.",
    )
    sections.add_argument("manifest", type=Path, help="the manifest, e.g. experiments.toml")
    _common(sections)
    sections.set_defaults(func=cmd_sections)

    grade = commands.add_parser(
        "grade",
        help="grade students' reports (PDF, HTML, Markdown, text, DOCX, notebooks; folders and .zip bundles) against "
        "the manifest's questions",
        description="Read each report, find which of the manifest's questions it answers, extract its numbers, "
        "check them for consistency (and against a reproduction with --reference) and write a grade sheet per "
        "report: OUT/<name>.html, .pdf and .json, plus OUT/results.json in Gradescope's format. The grade is a "
        "suggestion; a human decides.",
    )
    _grading_args(grade)
    grade.add_argument("--no-pdf", action="store_true", help="write the HTML and JSON grade sheets only")
    grade.add_argument("--visibility", choices=("hidden", "after_due_date", "after_published", "visible"),
                       default="after_published",
                       help="Gradescope visibility of results.json and each of its tests (default: after_published)")
    grade.set_defaults(func=cmd_grade)

    compare = commands.add_parser(
        "compare",
        help="grade a whole class and compare: reports x questions, headline metrics, flags, shared numbers",
        description="Grade every report, then write OUT/compare.html and OUT/compare.csv: reports x questions with "
        "coverage, headline metrics and flag counts, and the pairs of reports that share identical unusual "
        "numbers or long identical passages. Each report's OUT/<name>.json is written too.",
    )
    _grading_args(compare)
    compare.add_argument("--pdf", action="store_true", help="also write compare.pdf")
    compare.set_defaults(func=cmd_compare)

    cache = commands.add_parser("cache", help="verify the run cache's checksums, or prune entries no manifest uses",
                                description="Check or clean OUT/cache, the store of trained runs.")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    verify = cache_commands.add_parser(
        "verify", help="check every entry against its checksums; exit 1 if any is damaged",
        description="Check every cache entry's files against the SHA-256 recorded when it was written. Damaged "
        "entries would be retrained anyway (a build never loads them); --fix deletes them now, with the "
        "temporary folders that interrupted writes leave behind.")
    verify.add_argument("manifest", nargs="?", type=Path, help="its cache is OUT/cache beside it (default: ./out)")
    _common(verify)
    verify.add_argument("--fix", action="store_true", help="delete damaged entries and leftover temporary folders")
    verify.set_defaults(func=cmd_cache_verify)
    prune = cache_commands.add_parser(
        "prune", help="delete the entries no manifest uses",
        description="Delete the cache entries that none of the manifests needs (every run at every seed, sweep "
        "variations included), and the temporary folders of interrupted writes. Without manifests: every *.toml "
        "in the current folder; one with no [report], [datasets], [runs], [sections] or [grading] table "
        "(pyproject.toml) is not a manifest and is ignored. Keys are computed from the data fingerprints builds "
        "recorded, so a manifest whose data is gone still keeps its entries; if any manifest cannot be read or its "
        "keys computed, nothing is deleted and the exit status is 1.")
    prune.add_argument("manifests", nargs="*", type=Path, metavar="MANIFEST")
    _common(prune)
    prune.add_argument("--dry-run", "-n", action="store_true", help="only list what would be deleted")
    prune.add_argument("--force", action="store_true",
                       help="prune against the readable manifests even if some cannot be read (their entries go)")
    prune.set_defaults(func=cmd_cache_prune)
    return parser


def _grading_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                        help="students' reports: a file (PDF, HTML, Markdown, text, DOCX, .ipynb) is one submission; "
                        "a .zip is one submission (a bundle: its main document, then its notebooks and, with --ocr, "
                        "its images); a folder is one student's bundle when it holds one report document (perhaps "
                        "with notebooks and images), else a class folder whose files and .zip files are one "
                        "submission each and whose sub-folders are one bundle each")
    parser.add_argument("--manifest", "-m", type=Path, required=True,
                        help="the manifest whose sections are the questions (e.g. examples/itu-a3-course.toml)")
    parser.add_argument("--reference", "-r", type=Path, metavar="DIR",
                        help="a built report's output folder (or its results.json) to compare claims against; it "
                        "must have been tested on the course's test set ([grading] test_size)")
    parser.add_argument("--reference-anyway", action="store_true",
                        help="use --reference even if its test set differs from the course's or is not recorded "
                        "(the grades say so)")
    parser.add_argument("--out", "-o", type=Path, default=Path("grades"), metavar="DIR",
                        help="where the grade sheets go (default: grades/)")
    parser.add_argument("--max-mb", type=float, default=20.0, metavar="MB",
                        help="refuse reports larger than this (default: 20 MB)")
    parser.add_argument("--max-pages", type=int, default=200, metavar="N",
                        help="refuse PDFs with more pages than this (default: 200)")
    parser.add_argument("--ocr", action="store_true",
                        help="also read the text in images (a PDF's images, notebook image outputs, a bundle's image "
                        "files) with Tesseract, marked as read from an image; needs apt-get install tesseract-ocr and "
                        "pip install 'reportgen[ocr]'")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors and the summary")


def _jobs(text: str) -> int | str:
    return "auto" if text == "auto" else _positive(text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", "-o", type=Path, metavar="DIR",
                        help="output folder (default: out/ beside experiments.toml, out/NAME/ beside any other "
                        "manifest NAME.toml); the run cache is OUT/cache (default: out/cache beside the manifest, "
                        "shared by its folder's manifests)")


def cmd_build(args: argparse.Namespace) -> int:
    from reportgen.build import build
    from reportgen.training.device import deterministic_requested

    try:
        with deterministic_requested(args.deterministic):  # through the environment, to the worker processes too
            summary = build(args.manifest, out=args.out, sections=args.section, device=args.device, force=args.force,
                            quiet=args.quiet, pdf=_wants_pdf(args), jobs=args.jobs, threads=args.threads,
                            executor=args.executor, ray_address=args.ray_address)
    except ReportgenError:
        raise
    except ReportgenBug as bug:
        return report_bug(bug, debug=args.debug)
    except Exception as err:  # noqa: BLE001 - the library raises ReportgenError on purpose; anything else is a bug
        return report_bug(ReportgenBug(err), debug=args.debug)
    written = ", ".join(str(p) for p in (summary.html, summary.pdf, summary.results) if p is not None)
    print(f"wrote {written}")
    if summary.pdf is None and not args.no_pdf and (summary.out / "report.pdf").is_file():
        print(f"not re-rendered: {summary.out / 'report.pdf'} still shows the report before this --section build "
              "(reportgen build, or --pdf, re-renders it)")
    runs = f"{summary.trained} trained, {summary.cached} cached"
    if summary.failed:
        runs += f", {summary.failed} failed"
    sections = ", ".join(summary.sections_built) or "none (all up to date)"
    print(f"sections computed: {sections}; runs: {runs}; {summary.seconds:.1f} s")
    if args.strict and summary.unfinished:
        print(f"Error: --strict: {summary.unfinished} run(s) failed or diverged (see the report)", file=sys.stderr)
        return 2
    return 0


def _wants_pdf(args: argparse.Namespace) -> bool:
    """A full build writes the PDF unless --no-pdf; a --section build only with --pdf. Why (README, Performance):
    laying the whole PDF out again costs about four times the rest of such a build, and per-section PDFs merged would
    still cost most of that while changing the document (each section on new pages, page numbers stamped after)."""
    if args.pdf and args.no_pdf:
        raise ReportgenError("--pdf and --no-pdf contradict each other; give one")
    return not args.no_pdf and (args.pdf or not args.section)


def report_bug(bug: ReportgenBug, *, debug: bool) -> int:
    """One line for a bug in reportgen (its traceback first with ``--debug``); exit status :data:`EXIT_BUG`."""
    import traceback

    if debug:  # the whole chain when the library raised it: where reportgen failed, then how the build got there
        traceback.print_exception(bug if bug.__traceback__ is not None else bug.error, file=sys.stderr)
    hint = "" if debug else "; run with --debug for the traceback"
    print(f"internal error in reportgen (a bug, please report it): {bug}{hint}", file=sys.stderr)
    return EXIT_BUG


def cmd_sections(args: argparse.Namespace) -> int:
    from reportgen.config.manifest import load_manifest
    from reportgen.out_folder import default_cache
    from reportgen.runs.cache import RunCache
    from reportgen.runs.status import cache_status

    manifest = load_manifest(args.manifest)
    cache = RunCache(args.out / "cache" if args.out else default_cache(args.manifest))
    status = cache_status(manifest, cache)  # reads no data: fingerprints as builds recorded them
    rows = [("ID", "TYPE", "MARKS", "RUNS", "CACHED", "TITLE")]
    for row in status.sections:
        cached = ("not yet known" if row.cached is None else "yes" if row.cached == row.trainings
                  else f"{row.cached}/{row.trainings}")
        rows.append((row.section.id, row.section.type, f"{row.section.marks:g}", str(row.trainings), cached,
                     row.section.title))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[5])
    if status.store_problem:
        print(f"\n{status.store_problem}: which runs are cached is not known until a build records the data again")
    elif status.unknown_data:
        print(f"\nnot yet known: no build into {cache.root} has loaded the data of {', '.join(status.unknown_data)}, "
              "so their cache keys (which hash the data's content) are not known yet; a build loads it")
    return 0


def _grade_batch(args: argparse.Namespace):
    from reportgen.grade.batch import grade_files
    from reportgen.grade.reading import ReadLimits

    def report(path: Path, grade, why: str) -> None:
        if grade is None:
            print(f"Error: {why}", file=sys.stderr)
        elif not args.quiet:
            flags = ", ".join(f"{n} {s}{'s' if n > 1 else ''}" for s, n in _severity_counts(grade) if n) or "no flags"
            print(f"{path.name}: {grade.score:g} / {grade.max_score:g} ({flags}; {grade.seconds:.2f} s)")

    limits = ReadLimits(max_bytes=int(args.max_mb * 1_000_000), max_pages=args.max_pages, ocr=args.ocr)
    return grade_files(args.reports, args.manifest, reference=args.reference, limits=limits, on_file=report,
                       reference_anyway=args.reference_anyway)


def _severity_counts(grade) -> list[tuple[str, int]]:
    return [(s, sum(f.severity == s for f in grade.flags)) for s in ("error", "warning", "info")]


def cmd_grade(args: argparse.Namespace) -> int:
    from reportgen.grade.sheet import report_stems, write_grade, write_gradescope

    batch = _grade_batch(args)
    for grade, stem in zip(batch.grades, report_stems(batch.grades), strict=True):
        write_grade(grade, args.out, pdf=not args.no_pdf, stem=stem)
    if batch.grades:
        write_gradescope(batch.grades, args.out, visibility=args.visibility)
        print(f"wrote {len(batch.grades)} grade sheet(s) and results.json to {args.out}/")
    if batch.failures:
        print(f"{len(batch.failures)} report(s) could not be graded (see the errors above)", file=sys.stderr)
        return 1
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import json

    from reportgen.grade.compare import compare_grades, write_comparison
    from reportgen.grade.sheet import report_stems
    from reportgen.io import save_atomic

    batch = _grade_batch(args)
    if not batch.grades:
        print("Error: no report could be graded", file=sys.stderr)
        return 1
    for grade, stem in zip(batch.grades, report_stems(batch.grades), strict=True):
        text = json.dumps(grade.to_json(), indent=2, ensure_ascii=False)
        save_atomic(args.out / f"{stem}.json", lambda tmp, text=text: Path(tmp).write_text(text, encoding="utf-8"))
    comparison = compare_grades(batch.grades)
    written = write_comparison(comparison, args.out, pdf=args.pdf)
    print(f"wrote {', '.join(str(p) for p in written)}; {len(comparison.pairs)} suspicious pair(s)")
    return 1 if batch.failures else 0


def _cache_of(args: argparse.Namespace, manifest: Path | None):
    from reportgen.out_folder import default_cache
    from reportgen.runs.cache import RunCache

    if args.out:
        return RunCache(args.out / "cache")
    return RunCache(default_cache(manifest) if manifest is not None else Path("out") / "cache")


def cmd_cache_verify(args: argparse.Namespace) -> int:
    from reportgen.runs.cache_commands import verify

    cache = _cache_of(args, args.manifest)
    found = verify(cache, fix=args.fix)
    for key, why in found.damaged.items():
        print(f"damaged: {cache.path(key)}: {why}" + (" (deleted)" if args.fix else ""))
    for path in found.leftovers:
        print(f"leftover: {path} (an interrupted write)" + (" (deleted)" if args.fix else ""))
    print(f"{cache.root}: {len(found.ok)} entries ok, {len(found.damaged)} damaged, "
          f"{len(found.leftovers)} leftover temporary folder(s)")
    return 1 if found.damaged and not args.fix else 0


def cmd_cache_prune(args: argparse.Namespace) -> int:
    from reportgen.runs.cache_commands import prune

    manifests = args.manifests or sorted(Path().glob("*.toml"))
    cache = _cache_of(args, manifests[0] if manifests else None)
    result = prune(cache, manifests, dry_run=args.dry_run, force=args.force)
    for path, why in result.not_manifests.items():
        print(f"not a manifest, ignored: {path} ({why})", file=sys.stderr)
    for why in result.skipped.values():
        print(f"skipped (--force), its entries not kept: {why}", file=sys.stderr)
    verb = "would delete" if args.dry_run else "deleted"
    for key in result.dropped:
        print(f"{verb}: {cache.path(key)}")
    print(f"{cache.root}: kept {len(result.kept)} entries used by {len(result.manifests)} manifest(s); "
          f"{verb} {len(result.dropped)} and {len(result.leftovers)} leftover temporary folder(s)")
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

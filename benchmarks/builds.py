"""Builds as a user runs them, and what a fresh process costs before it does any work.

Each build is a fresh ``reportgen build`` process (imports included) against a temporary output folder, on the
CPU. Cold = empty cache; warm = everything cached and every section up to date; section = ``--section ID``
(recomputes that section from the cached runs, redraws its figures, re-renders the HTML and results.json; the PDF
only with ``--pdf``, timed in a row of its own). With cold selected, each repetition is cold → warm → section in
one fresh folder (as before; ``--cold-repeat`` can make fewer cold builds). Without cold, the folder starts from a
copy of the report folder's run cache plus one untimed build, so warm and section can be timed without retraining.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Row, Settings, fresh_process, fresh_python, reported_seconds

WARM_TARGET = 10.0  # s (issue 6)
SECTION_TARGET = 5.0  # s (issues 6 and 16), a fresh process on 2 cores
SECTIONS_TARGET = 1.0  # s (issue 16): `reportgen sections`, which reads no data

#: What ``reportgen build`` imports before it trains or draws anything (the heavy libraries).
BUILD_IMPORTS = ("import torch, matplotlib.pyplot, weasyprint, sklearn.manifold, reportgen.build, "
                 "reportgen.training.train, reportgen.sections, reportgen.render")


def _build_args(settings: Settings, out: Path) -> list[str]:
    threads = ["--threads", str(settings.threads)] if settings.threads else []
    return ["build", str(settings.manifest), "--out", str(out), "--quiet", "--device", "cpu", *threads]


def build_rows(settings: Settings, stages: set[str]) -> list[Row]:
    """Rows for the selected ones of ``cold``, ``warm``, ``section``."""
    names = {"cold": "cold build", "warm": "warm build", "section": f"--section {settings.section}",
             "section_redraw": f"--section {settings.section}, figures redrawn",
             "section_pdf": f"--section {settings.section} --pdf"}
    wall: dict[str, list[float]] = {k: [] for k in names}
    inner: dict[str, list[float]] = {k: [] for k in names}

    def timed(kind: str, out: Path, extra: tuple[str, ...] = ()) -> None:
        seconds, stdout = fresh_process([*_build_args(settings, out), *extra])
        wall[kind].append(seconds)
        if (reported := reported_seconds(stdout)) is not None:
            inner[kind].append(reported)

    def warm_and_section(out: Path) -> None:
        if "warm" in stages:
            timed("warm", out)
        if "section" in stages:
            timed("section", out, ("--section", settings.section))
            for drawn in (out / "figures").glob(f"{settings.section}-*.png"):
                drawn.unlink()  # as after a change of the section's numbers: its figures are drawn again
            timed("section_redraw", out, ("--section", settings.section))
            timed("section_pdf", out, ("--section", settings.section, "--pdf"))

    breakdown: list[Row] = []
    if "cold" in stages:
        colds = min(settings.cold_repeat or settings.repeat, settings.repeat)
        for i in range(colds):
            with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as tmp:
                timed("cold", Path(tmp))
                # Fewer cold builds than repetitions: the last folder takes the remaining warm/section timings.
                for _ in range(1 if i < colds - 1 else settings.repeat - colds + 1):
                    warm_and_section(Path(tmp))
                if i == colds - 1:
                    breakdown = in_process_rows(settings, Path(tmp), stages)
    elif stages & {"warm", "section"}:
        with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as tmp:
            prime(settings, Path(tmp))
            for _ in range(settings.repeat):
                warm_and_section(Path(tmp))
            breakdown = in_process_rows(settings, Path(tmp), stages)

    targets = {"warm": ("<=", WARM_TARGET), "section": ("<=", SECTION_TARGET),
               "section_redraw": ("<=", SECTION_TARGET)}
    notes = {"section": "fresh process; no data read, no torch; the same numbers, so its figures are kept; HTML + "
                        "results.json (the PDF: --pdf)",
             "section_redraw": "fresh process; as above, its figures drawn again (matplotlib imported)",
             "section_pdf": "fresh process; figures kept, then the whole PDF laid out again (README, Performance)"}
    rows = []
    for kind in ("cold", "warm", "section", "section_redraw", "section_pdf"):
        if kind.split("_")[0] not in stages:
            continue
        note = notes.get(kind, "fresh process")
        if inner[kind]:
            share = statistics.median(inner[kind]) / statistics.median(wall[kind])
            note += f"; build() itself {statistics.median(inner[kind]):.1f} s ({100 * share:.0f} %), the rest is " \
                    "interpreter start-up and the imports before build()"
        rows.append(Row(names[kind], wall[kind], "s", targets.get(kind), note, {"in_process_s": inner[kind]}))
    return rows + breakdown


def in_process_rows(settings: Settings, out: Path, stages: set[str]) -> list[Row]:
    """Warm and section builds called as ``build()`` in this process (imports already paid; the dataset memo
    emptied), with the build's own split of its time: plan (manifest, data loading and fingerprints), runs
    (cache loads), sections, html, pdf."""
    from reportgen.build import build
    from reportgen.data.loading import clear_cache

    def call(sections: list[str] | None):
        clear_cache()  # a fresh process decodes and fingerprints the data again: so does each call here
        # As the command line does: a --section build leaves the PDF alone.
        return build(settings.manifest, out=out, sections=sections, device="cpu", quiet=True, pdf=not sections)

    call(None)  # untimed: the first call in a process pays the lazy imports
    rows = []
    for kind, sections in (("warm", None), ("section", [settings.section])):
        if kind not in stages:
            continue
        summaries = [call(sections) for _ in range(settings.repeat)]
        parts = {k: statistics.median(s.timings.get(k, 0.0) for s in summaries) for k in summaries[0].timings}
        split = " + ".join(f"{k} {v:.2f}" for k, v in parts.items() if k != "render")
        label = "warm build" if kind == "warm" else f"--section {settings.section}"
        done = "imports loaded, digits decoded (once per process)" if kind == "warm" else "imports loaded, no data read"
        rows.append(Row(f"{label}, in-process build()", [s.seconds for s in summaries], "s",
                        note=f"{done}; medians: {split} s",
                        extra={"timings": [s.timings for s in summaries]}))
    return rows


def prime(settings: Settings, out: Path) -> None:
    """Fill ``out`` so that the next build is warm: the report folder's run cache, then one untimed build
    (which trains whatever that cache lacks; minutes when it lacks everything)."""
    cache = settings.report_dir / "cache"
    if cache.is_dir():
        shutil.copytree(cache, out / "cache")
    else:
        print(f"benchmarks: no run cache at {cache}: training every run once before timing warm builds "
              "(minutes)", file=sys.stderr)
    fresh_process(_build_args(settings, out))


def ensure_report(settings: Settings) -> bool:
    """Build the default report into the report folder if it has none (untimed). False in ``--quick``."""
    if (settings.report_dir / "report.html").is_file():
        return True
    if settings.quick:
        return False
    print(f"benchmarks: no report in {settings.report_dir}: building it first (minutes when nothing is cached)",
          file=sys.stderr)
    fresh_process(_build_args(settings, settings.report_dir))
    return True


def startup_rows(settings: Settings) -> list[Row]:
    """Fresh-interpreter costs that every ``reportgen`` command pays before its own work, and ``reportgen sections``,
    which reads the manifest and the cache's stored fingerprints only (no data, no torch)."""
    repeat = 1 if settings.quick else settings.repeat
    help_s = [fresh_process(["--help"])[0] for _ in range(repeat)]
    torch_s = [fresh_python("import torch") for _ in range(repeat)]
    build_s = [fresh_python(BUILD_IMPORTS) for _ in range(repeat)]
    return [
        Row("startup: reportgen --help", help_s, "s", note="interpreter + CLI, no heavy import"),
        *sections_rows(settings, repeat),
        Row("startup: import torch", torch_s, "s", note="fresh interpreter"),
        Row("startup: imports of a build", build_s, "s", note="torch, matplotlib, WeasyPrint, scikit-learn, reportgen"),
    ]


def sections_rows(settings: Settings, repeat: int) -> list[Row]:
    """``reportgen sections`` in fresh processes: against the report folder's cache (keys from the fingerprints its
    builds stored; cached runs counted), and against an empty one (no data loaded anywhere: "not yet known")."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as empty:
        for what, out in (("report's cache", settings.report_dir), ("no cache, no data", Path(empty))):
            runs = [fresh_process(["sections", str(settings.manifest), "--out", str(out)]) for _ in range(repeat)]
            listed = runs[-1][1]
            said = "every key not yet known" if "not yet known:" in listed else "cached runs counted"
            rows.append(Row(f"startup: reportgen sections ({what})", [s for s, _ in runs], "s",
                            ("<=", SECTIONS_TARGET), f"fresh process; reads no data, imports no torch; {said}"))
    return rows

"""What a build does after training, and grading: figures, HTML → PDF, grading one report.

Figures: every figure of the built report, drawn from the stored section results (``out/sections/*.json``,
exactly what ``build_section`` passes to ``Section.figures``) and saved as PNG with the house style, in this
process. No training, no section computation, no HTML: the drawing and the PNG encoding only.
PDF: ``write_pdf`` on the built ``out/report.html``. Grading: in-process ``grade_report``, then fresh
``reportgen grade`` processes with and without the PDF grade sheet. Compare: a fresh ``reportgen compare`` over a
class of 100 text reports made from one student's report.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, Settings, fresh_process, median_of, skipped

GRADE_TARGET = 2.0  # s (issue 6)


def figure_rows(settings: Settings) -> list[Row]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reportgen.build import load_section_outputs
    from reportgen.config.manifest import load_manifest
    from reportgen.figures import house_style
    from reportgen.sections import SECTIONS

    manifest = load_manifest(settings.manifest)
    outputs = [o for o in load_section_outputs(manifest, settings.report_dir) if not o.get("missing")]
    if not outputs:
        return [skipped("figures: draw + save", f"no built sections in {settings.report_dir}/sections")]

    def draw_all(folder: Path) -> dict:
        per_section: dict[str, float] = {}
        draw = save = 0.0
        count = 0
        for o in outputs:
            started = time.perf_counter()
            impl = SECTIONS.get(o["type"])(manifest.sections[o["id"]])
            for figure in impl.figures(o["result"]):
                t0 = time.perf_counter()
                fig = figure.draw()
                t1 = time.perf_counter()
                try:
                    with house_style():
                        fig.savefig(folder / f"{o['id']}-{figure.name}.png", format="png")
                finally:
                    plt.close(fig)
                draw, save, count = draw + t1 - t0, save + time.perf_counter() - t1, count + 1
            per_section[o["id"]] = time.perf_counter() - started
        return {"draw_s": draw, "save_s": save, "figures": count, "per_section_s": per_section}

    passes = []
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-figures-") as tmp:
        first = draw_all(Path(tmp))  # the first pass in a process pays matplotlib's font and backend set-up
        for _ in range(0 if settings.quick else settings.repeat):
            passes.append(draw_all(Path(tmp)))
    passes = passes or [first]
    totals = [p["draw_s"] + p["save_s"] for p in passes]
    mid = sorted(passes, key=lambda p: p["draw_s"] + p["save_s"])[len(passes) // 2]
    slowest = sorted(mid["per_section_s"].items(), key=lambda kv: -kv[1])[:2]
    return [Row(f"figures: draw + save {mid['figures']} PNGs", totals, "s",
                note=f"from stored section results, in-process: draw {mid['draw_s']:.1f} s + savefig "
                     f"{mid['save_s']:.1f} s; slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest)
                     + f"; first pass in a process {first['draw_s'] + first['save_s']:.1f} s",
                extra={"passes": passes, "first_pass": first})]


def pdf_rows(settings: Settings) -> list[Row]:
    html_path = settings.report_dir / "report.html"
    if not html_path.is_file():
        return [skipped("HTML → PDF", f"no {html_path}")]
    import weasyprint  # noqa: F401  (imported before timing: a build imports it once)

    from reportgen.render.pdf import write_pdf

    html = html_path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-pdf-") as tmp:
        target = Path(tmp) / "report.pdf"
        values = median_of(lambda: write_pdf(html, target, settings.report_dir), max(settings.repeat, 1))
        pages = _pages(target)
    size = len(html.encode()) / 1e6
    return [Row("HTML → PDF (write_pdf)", values, "s",
                note=f"WeasyPrint on {html_path.name} ({size:.1f} MB with embedded PNGs) → {pages} pages; "
                     f"first call {values[0]:.1f} s (fonts)")]


def _pages(pdf: Path) -> int | str:
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(pdf)).pages)
    except Exception:  # noqa: BLE001 - a page count is a nicety
        return "?"


def grade_rows(settings: Settings) -> list[Row]:
    report, manifest_path = settings.grade_report, settings.grade_manifest
    what = f"grade {report.name}"
    for path in (report, manifest_path):
        if not path.is_file():
            return [skipped(what, f"no {path}")]
    from reportgen.config.manifest import load_manifest
    from reportgen.grade.grader import grade_report

    manifest = load_manifest(manifest_path)
    started = time.perf_counter()
    grade = grade_report(report, manifest)
    first = time.perf_counter() - started
    repeat = 1 if settings.quick else settings.repeat
    inproc = median_of(lambda: grade_report(report, manifest), repeat)
    target = ("<=", GRADE_TARGET)
    rows = [Row(f"{what}: grade_report in-process", inproc, "s", target,
                note=f"read + grade, {manifest_path.name}; score {grade.score:g}/{grade.max_score:g}; "
                     f"first call {first:.2f} s (lazy imports)")]
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-grade-") as tmp:
        args = ["grade", str(report), "-m", str(manifest_path), "--out", tmp, "-q"]
        no_pdf = [fresh_process([*args, "--no-pdf"])[0] for _ in range(repeat)]
        with_pdf = [fresh_process(args)[0] for _ in range(repeat)]
    rows.append(Row(f"{what}: fresh reportgen grade --no-pdf", no_pdf, "s", target,
                    note="process wall time: start + imports + read + grade + HTML/JSON sheets"))
    rows.append(Row(f"{what}: fresh reportgen grade (PDF sheet)", with_pdf, "s", target,
                    note="as above + WeasyPrint grade sheet"))
    return rows


QUICK_COMPARE_COUNT = 10  # reports in --quick
_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])")


def class_of_reports(source: Path, folder: Path, count: int) -> list[Path]:
    """``count`` variants of the text report ``source`` in ``folder``, as a class would hand them in: in report
    ``i`` every measured figure (3 or more decimals and significant digits) ends in the digits of ``i % 100``, so no two
    of the first 100 students share a figure, and every tenth report is a verbatim copy of the one before
    (``count // 10`` pairs that ``compare`` must find). The prose they all share is set text to ``compare`` (held
    by more than half the class), as a handout's wording is."""
    text = source.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    paths, body = [], text
    for i in range(count):
        if i % 10 != 9:
            body = _DECIMAL.sub(lambda m, i=i: _student_figure(m.group(), i), text)
        path = folder / f"student-{i:03d}{source.suffix}"
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def _student_figure(number: str, student: int) -> str:
    """A measured figure (3 or more significant digits: 0.9472, not a learning rate of 0.001) ending in the
    student's two digits; anything else as it was."""
    significant = number.replace(".", "").lstrip("0")
    return f"{number[:-2]}{student % 100:02d}" if len(significant) >= 3 else number


def compare_rows(settings: Settings) -> list[Row]:
    """``reportgen compare`` over a class of small text reports made from one student's report, as a fresh
    process (imports, reading and grading each report, the pairwise search, compare.html and .csv)."""
    report, manifest_path = settings.compare_report, settings.compare_manifest
    count = QUICK_COMPARE_COUNT if settings.quick else settings.compare_count
    what = f"compare {count} reports"
    for path in (report, manifest_path):
        if not path.is_file():
            return [skipped(what, f"no {path}")]
    repeat = 1 if settings.quick else settings.repeat
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-compare-") as tmp:
        reports = Path(tmp) / "class"
        class_of_reports(report, reports, count)
        times, said = [], ""
        for i in range(repeat):
            seconds, stdout = fresh_process(["compare", str(reports), "-m", str(manifest_path),
                                             "--out", str(Path(tmp) / f"out{i}"), "-q"])
            times.append(seconds)
            said = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    pairs = re.search(r"(\d+) suspicious pair", said)
    return [Row(f"{what}: fresh reportgen compare", times, "s",
                note=f"variants of {report.name} (figures varied; every tenth a verbatim copy: {count // 10} pairs "
                     f"to find), {manifest_path.name}; {pairs.group(1) if pairs else '?'} suspicious pairs found; "
                     f"{1000 * statistics.median(times) / count:.0f} ms per report",
                extra={"reports": count, "pairs": int(pairs.group(1)) if pairs else None})]

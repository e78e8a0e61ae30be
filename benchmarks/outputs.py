"""What a build does after training, and grading: figures, HTML → PDF, grading one report.

Figures: every figure of the built report, drawn from the stored section results (``out/sections/*.json``,
exactly what ``build_section`` passes to ``Section.figures``) and saved as PNG with the house style, in this
process. No training, no section computation, no HTML: the drawing and the PNG encoding only.
PDF: ``write_pdf`` on the built ``out/report.html``. Grading: in-process ``grade_report``, then fresh
``reportgen grade`` processes with and without the PDF grade sheet.
"""

from __future__ import annotations

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

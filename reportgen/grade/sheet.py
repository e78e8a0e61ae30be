"""Write what grading found about one report: ``<stem>.json``, a grade sheet a student can read (``<stem>.html``,
``<stem>.pdf``) and Gradescope's autograder ``results.json``.

Gradescope runs one submission at a time and reads ``/autograder/results/results.json``, so
:func:`write_gradescope` writes ``out/results.json`` in Gradescope's format when one report was graded. For several
reports it writes ``out/<stem>.results.json`` (Gradescope's format) for each, and ``out/results.json`` holding
``{"reports": {stem: <that report's Gradescope dict>}}``.

File stems come from the reports' names (:func:`safe_stem`); :func:`report_stems` makes them unique across a batch,
and ``write_grade(..., stem=...)`` takes the batch's stem so the sheet and the results file agree.
All student text reaches the HTML through Jinja's autoescaping only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2

from reportgen.config.errors import RenderError
from reportgen.grade.model import SEVERITIES, Grade, Matrix
from reportgen.io import save_atomic
from reportgen.render.env import make_env
from reportgen.render.pdf import write_pdf

# Names of files that write_gradescope and write_comparison write beside the sheets.
RESERVED_STEMS = ("results", "compare")
_MAX_STEM = 100
_MAX_QUOTE = 400
_BOUNDED = {"accuracy", "recall", "precision", "f1", "auc"}  # metrics stored as fractions
_LEADING_LOCATION = re.compile(r"^\s*((?:p\. ?\d+, )?lines? \d+(?:[–-]\d+)?)\s*[:.—–-]?\s*", re.IGNORECASE)
_TRAILING_LOCATION = re.compile(r"\s*\(((?:p\. ?\d+, )?lines? \d+(?:[–-]\d+)?)\)\s*$", re.IGNORECASE)


def safe_stem(report: str, taken: set[str] | None = None) -> str:
    """A file stem made from a report's name: no path parts, only ``[A-Za-z0-9._-]``, never empty, never a name
    this module or compare writes (``results``, ``compare``), and not in ``taken`` (compared case-insensitively)."""
    name = re.split(r"[/\\]", report)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem).strip(".")[:_MAX_STEM] or "report"
    if stem.lower() in RESERVED_STEMS or stem.lower().endswith(".results"):
        stem += "-report"
    used = {t.lower() for t in taken or ()}
    candidate, n = stem, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def report_stems(grades: list[Grade]) -> list[str]:
    """One unique stem per grade, in order (two reports named alike get ``-2``, ``-3``, ...)."""
    taken: set[str] = set()
    stems = []
    for grade in grades:
        stems.append(safe_stem(grade.report, taken))
        taken.add(stems[-1])
    return stems


def write_grade(grade: Grade, out: Path, *, pdf: bool = True, stem: str | None = None) -> list[Path]:
    """Write ``out/<stem>.json``, ``out/<stem>.html`` and (unless ``pdf`` is false) ``out/<stem>.pdf``."""
    stem = stem or safe_stem(grade.report)
    text = json.dumps(grade.to_json(), indent=2, ensure_ascii=False)
    written = [save_atomic(out / f"{stem}.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))]
    html = render_sheet(grade)
    written.append(save_atomic(out / f"{stem}.html", lambda tmp: Path(tmp).write_text(html, encoding="utf-8")))
    if pdf:
        written.append(save_atomic(out / f"{stem}.pdf", lambda tmp: write_pdf(html, Path(tmp), out)))
    return written


def render_template(name: str, **context) -> str:
    """Render one of the grade templates; a template error becomes a RenderError."""
    env = make_env()
    env.filters["marks"] = marks
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as err:
        where = f"{err.filename}:{err.lineno}: " if getattr(err, "lineno", None) else ""
        raise RenderError(f"template error: {where}{err}") from None


def render_sheet(grade: Grade) -> str:
    """The grade sheet's HTML."""
    return render_template("grade/sheet.html.j2", grade=grade, questions=[_question_view(q) for q in grade.questions],
                           flag_groups=_flag_groups(grade), claims=[_claim_view(c) for c in grade.claims],
                           matrices=[_matrix_view(m) for m in grade.matrices],
                           answered=sum(q.answered for q in grade.questions),
                           unclear=sum(q.status == "unclear" for q in grade.questions),
                           counts={s: sum(f.severity == s for f in grade.flags) for s in SEVERITIES})


def marks(x: float) -> str:
    """``7.5 -> "7.5"``, ``10.0 -> "10"``, ``4 / 3 -> "1.33"``: marks as a person writes them."""
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, (int, float)) else str(x)


def clip(text: str, limit: int = _MAX_QUOTE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_evidence(evidence: str) -> tuple[str, str]:
    """``'line 12: "Test accuracy 0.9"'`` or ``'"…" (p. 2, line 12)'`` -> (quote, location)."""
    location = ""
    for pattern in (_LEADING_LOCATION, _TRAILING_LOCATION):
        match = pattern.search(evidence)
        if match:
            location = match.group(1)
            evidence = evidence[: match.start()] + evidence[match.end():]
            break
    quote = evidence.strip()
    if len(quote) >= 2 and quote[0] + quote[-1] in ('""', "''", "“”", "‘’"):
        quote = quote[1:-1]
    return clip(quote), location


def _question_view(q) -> dict:
    return {"number": q.number, "title": q.title, "marks": q.marks, "score": q.score, "answered": q.answered,
            "full": abs(q.score - q.marks) < 1e-9, "evidence": [split_evidence(e) for e in q.evidence],
            "deductions": q.deductions, "found": q.found, "missing": q.missing, "status": q.status,
            "confidence": q.confidence, "candidates": [clip(c, 200) for c in q.candidates]}


def _flag_groups(grade: Grade) -> list[dict]:
    names = {"error": "Errors", "warning": "Warnings", "info": "Notes"}
    groups = []
    for severity in ("error", "warning", "info"):
        flags = [{"code": f.code, "message": f.message, "evidence": clip(f.evidence), "location": f.location}
                 for f in grade.flags if f.severity == severity]
        if flags:
            groups.append({"severity": severity, "name": names[severity], "flags": flags})
    return groups


def _claim_view(c) -> dict:
    value = f"{100 * c.value:.2f}\u00a0%" if c.metric in _BOUNDED else f"{c.value:.4g}"
    bounds = ""
    if c.approximate:
        def show(x):
            return "…" if x is None else (f"{100 * x:.1f}" if c.metric in _BOUNDED else f"{x:.3g}")
        bounds = f"approx. {show(c.low)}–{show(c.high)}{' %' if c.metric in _BOUNDED else ''}"
    return {"metric": c.metric, "value": value, "as_written": clip(c.as_written, 60), "split": c.split or "–",
            "average": c.average, "about": clip(c.about, 160), "location": str(c.location), "bounds": bounds,
            "model": clip(c.run or c.subject or "–", 40), "source": {"image": "read from an image",
                                                                    "output": "printed output"}.get(c.source, "")}


def _matrix_view(m: Matrix) -> dict:
    return {"size": f"{m.rows}\u00a0×\u00a0{m.cols}", "total": m.total, "accuracy": m.accuracy,
            "zero_recall": [clip(m.class_name(i), 40) for i in m.zero_recall_classes], "about": clip(m.about, 160),
            "location": str(m.location) + (f" – {m.end}" if m.end is not None and m.end != m.location else "")}


# Gradescope's visibility settings; students see the results once the grades are published, unless told otherwise.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_VISIBILITY = "after_published"


def gradescope_result(grade: Grade, *, visibility: str = DEFAULT_VISIBILITY) -> dict:
    """One report's Gradescope autograder ``results.json``: a test per question, the flags in the top ``output``.
    ``visibility`` (one of :data:`VISIBILITIES`) applies to the whole result and to every test."""
    tests = []
    for q in grade.questions:
        tests.append({
            "name": f"{q.number} {q.title}".strip(),
            "score": q.score,
            "max_score": q.marks,
            "status": "passed" if abs(q.score - q.marks) < 1e-9 else "failed",
            "output": _question_output(q),
            "visibility": visibility,
        })
    # Gradescope sums the tests' max_score for the total; extra_data carries it too for tools that read the file.
    return {"score": grade.score, "output": _summary_output(grade), "tests": tests, "visibility": visibility,
            "stdout_visibility": "hidden",
            "extra_data": {"max_score": grade.max_score, "report": grade.report, "manifest": grade.manifest,
                           "flags": {s: sum(f.severity == s for f in grade.flags) for s in SEVERITIES}}}


def _question_output(q) -> str:
    lines = [{"answered": "Answered.", "missing": "Not answered (no answer to this question was found).",
              "unclear": "Unclear: no passage surely answers it, so no marks were taken; a human should check "
                         "these passages: " + "; ".join(q.candidates)}[q.status]]
    lines += [f"Evidence: {clip(e, 300)}" for e in q.evidence[:5]]
    lines += [f"Deduction: {d}" for d in q.deductions]
    if q.found:
        lines.append("Expected items found: " + ", ".join(q.found))
    if q.missing:
        lines.append("Expected items missing: " + ", ".join(q.missing))
    return "\n".join(lines)


def _summary_output(grade: Grade) -> str:
    counts = {s: sum(f.severity == s for f in grade.flags) for s in SEVERITIES}
    lines = [f"Suggested grade for {grade.report}: {marks(grade.score)} / {marks(grade.max_score)}. "
             "The grader suggests; a human decides.",
             f"Flags: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)."]
    if grade.rule:
        lines.append(f"Scoring rule: {grade.rule}")
    order = {s: i for i, s in enumerate(("error", "warning", "info"))}
    for f in sorted(grade.flags, key=lambda f: order.get(f.severity, 3)):
        where = f" ({f.location})" if f.location else ""
        lines.append(f"[{f.severity.upper()}] {f.code}: {f.message}{where}")
    return "\n".join(lines)


def gradescope_results(grades: list[Grade], *, visibility: str = DEFAULT_VISIBILITY) -> dict:
    """What ``results.json`` holds: one report's Gradescope dict, or ``{"reports": {stem: dict}}`` for several."""
    if len(grades) == 1:
        return gradescope_result(grades[0], visibility=visibility)
    stems = report_stems(grades)
    return {"reports": {s: gradescope_result(g, visibility=visibility) for s, g in zip(stems, grades, strict=True)}}


def write_gradescope(grades: list[Grade], out: Path, *, visibility: str = DEFAULT_VISIBILITY) -> Path:
    """``out/results.json`` (see the module's docstring for the several-reports layout); returns its path."""
    def dump(path: Path, data: dict) -> Path:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        return save_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    results = gradescope_results(grades, visibility=visibility)
    if len(grades) != 1:
        for stem, data in results["reports"].items():
            dump(out / f"{stem}.results.json", data)
    return dump(out / "results.json", results)

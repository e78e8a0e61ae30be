"""What grading reads and finds, as plain dataclasses: a document's located lines, the claims and
confusion matrices extracted from it, the flags the checks raise and the grade that sums them up.

``Grade.to_json()`` is the ``grades/<name>.json`` format other tools read; its keys are kept stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


@dataclass(frozen=True)
class Location:
    """Where something is in a report: a 1-based line of the extracted text, the PDF page when known, and the file
    of a bundle (a folder or .zip graded as one submission) when the line came from one of its other files."""

    line: int
    page: int | None = None
    file: str = ""

    def __str__(self) -> str:
        where = f"p. {self.page}, line {self.line}" if self.page is not None else f"line {self.line}"
        return f"{where} of {self.file}" if self.file else where


@dataclass(frozen=True)
class Line:
    """One line of a document's text. ``number`` counts lines across the whole document (1-based);
    ``page`` is the PDF page (1-based) or None for formats without pages."""

    text: str
    number: int
    page: int | None = None
    source: str = ""  # "" the document's own text | "image" read by OCR from an image | "output" a notebook's output
    file: str = ""  # the bundle member it came from, when not the main document

    @property
    def location(self) -> Location:
        return Location(self.number, self.page, self.file)


@dataclass
class Document:
    """A report read into text. Tables arrive as text rows: Markdown pipes, tab-separated cells (HTML and DOCX
    tables are written with tabs), or space-aligned columns (PDF layout text)."""

    name: str  # the file's name, e.g. "itu-a3-msds21001.md"
    format: Literal["pdf", "html", "markdown", "text", "docx", "notebook"]
    lines: list[Line]
    pages: int | None = None  # PDF page count
    images_per_page: dict[int, int] = field(default_factory=dict)  # PDF: page -> embedded images on it
    images: int = 0  # images in the document (PDF, HTML <img>, Markdown ![]()), wherever they are
    files: list[str] = field(default_factory=list)  # a bundle's members that were read, main document first
    conflicts: list[Location] = field(default_factory=list)  # git merge-conflict blocks (one side was kept)


@dataclass
class Claim:
    """A number the report states about a metric, e.g. "Test Set Accuracy: 0.9472"."""

    metric: str  # accuracy | recall | precision | f1 | loss | auc
    value: float  # bounded metrics as fractions (69.3 on a 0-100 scale -> 0.693)
    as_written: str  # the number as the report writes it, e.g. "69.3" or "0.9472"
    about: str  # the model/setting it is about: headings, caption or table row around it
    location: Location
    split: str = ""  # test | val | train | "" (not said)
    average: str = ""  # macro | micro | weighted | "" (not said)
    column: int = 0  # character offset in its line: pairs claims set side by side in two-column layouts
    context: str = ""  # the source line, for evidence
    decimals: int = 0  # digits written after the point, on the scale written (rounding tolerance)
    percent: bool = False  # written on a 0-100 scale
    subject: str = ""  # what the sentence or table binds the value to ("accuracy of C2: 0.93" -> "C2")
    run: str = ""  # the manifest's run that subject (or the claim's context) names, when one is named
    approximate: bool = False  # "~87 %", "about 0.9", "just under 50 %", "> 92 %": the value is a bound or a guess
    low: float | None = None  # approximate claims: the values the words allow (fraction scale); None is unbounded
    high: float | None = None
    source: str = ""  # "image": read by OCR from a picture (weaker evidence); "output": a notebook's printed output
    stat: str = ""  # "max" | "final" | "mean" | "": "max test accuracy" and "final test accuracy" may differ
    spread: float | None = None  # "0.9781 (± 0.0009)": a mean over seeds and their SD (fraction scale)

    @property
    def tolerance(self) -> float:
        """Half a unit in the last written digit, on the fraction scale: what rounding alone explains."""
        unit = 10.0 ** -self.decimals
        return 0.5 * unit / (100.0 if self.percent else 1.0) + 1e-9

    @property
    def interval(self) -> tuple[float, float]:
        """The true values this claim is consistent with: the written value give or take rounding, or for an
        approximate claim the bounds its words allow (with rounding on each side)."""
        if not self.approximate:
            return self.value - self.tolerance, self.value + self.tolerance
        low = -float("inf") if self.low is None else self.low - self.tolerance
        high = float("inf") if self.high is None else self.high + self.tolerance
        return low, high

    def admits(self, x: float, slack: float = 0.0) -> bool:
        """Whether the true value ``x`` is consistent with the claim (``slack`` widens it on both sides)."""
        low, high = self.interval
        return low - slack <= x <= high + slack

    def distance(self, x: float) -> float:
        """How far ``x`` lies outside the claim's interval (0 inside it)."""
        low, high = self.interval
        return max(low - x, x - high, 0.0)

    def to_json(self) -> dict:
        out = {"metric": self.metric, "value": self.value, "as_written": self.as_written, "about": self.about,
               "location": str(self.location), "split": self.split, "average": self.average,
               "subject": self.subject, "run": self.run or None, "approximate": self.approximate}
        if self.approximate:
            out["bounds"] = [self.low, self.high]
        if self.source:
            out["source"] = self.source
        if self.spread is not None:
            out["spread"] = self.spread
        return out


@dataclass
class Setting:
    """A hyperparameter the report states (epochs, lr, batch_size, optimizer, split, dropout, ...)."""

    name: str
    value: float | str
    as_written: str
    location: Location

    def to_json(self) -> dict:
        return {"name": self.name, "value": self.value, "as_written": self.as_written, "location": str(self.location)}


@dataclass
class Matrix:
    """A confusion matrix found in the text (rows: true class, columns: predicted class)."""

    cells: list[list[int]] | list[list[float]]  # counts, or fractions/percentages when ``normalized``
    location: Location  # its first row
    about: str
    labels: list[str] = field(default_factory=list)  # class labels when the report gives them
    end: Location | None = None  # its last row
    normalized: bool = False  # rows are shares of each true class (they sum to 1 or 100): no total, no accuracy
    subject: str = ""  # the model its heading, caption or column names
    run: str = ""  # the manifest's run that subject names
    source: str = ""  # "image": read by OCR from a picture

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def cols(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    @property
    def total(self) -> int:
        return sum(map(sum, self.cells))

    @property
    def trace(self) -> int:
        return sum(self.cells[i][i] for i in range(min(self.rows, self.cols)))

    @property
    def accuracy(self) -> float:
        return self.trace / self.total if self.total else 0.0

    @property
    def zero_recall_classes(self) -> list[int]:
        """Classes with test images of which none was predicted correctly."""
        return [i for i, row in enumerate(self.cells) if sum(row) > 0 and row[i] == 0]

    def class_name(self, index: int) -> str:
        return self.labels[index] if index < len(self.labels) else str(index)

    def to_json(self) -> dict:
        out = {"rows": self.rows, "cols": self.cols, "total": None if self.normalized else self.total,
               "accuracy": None if self.normalized else self.accuracy,
               "zero_recall_classes": self.zero_recall_classes, "location": str(self.location),
               "about": self.about, "cells": self.cells, "normalized": self.normalized,
               "subject": self.subject, "run": self.run or None}
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class ClassReport:
    """A per-class report (scikit-learn's ``classification_report`` text or a table like it)."""

    rows: dict[str, dict[str, float]]  # class label -> {"precision", "recall", "f1", "support"}
    location: Location
    about: str
    summary: dict[str, tuple[list[float], Line]] = field(default_factory=dict)  # "macro avg" -> ([p, r, f1, n], line)
    lines: list[int] = field(default_factory=list)  # every line of the block

    @property
    def support_total(self) -> int:
        return int(sum(r.get("support", 0) for r in self.rows.values()))


@dataclass
class Flag:
    """One finding of a check: a stable code, how serious, one line, the quoted evidence and where."""

    code: str
    severity: Severity
    message: str
    evidence: str
    location: str  # a Location's text, or "" for findings about the whole report
    line: int | None = None  # the line it is about, to charge it to the question answered there

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message, "evidence": self.evidence,
                "location": self.location}


@dataclass
class QuestionGrade:
    """How one manifest section (a question of the handout) fares in a report."""

    id: str
    title: str
    number: str  # the handout's number, "" when it has none
    question: str
    marks: float
    answered: bool
    score: float
    evidence: list[str]  # quoted lines (with locations) that answer it
    span: tuple[int, int] | None = None  # the report's lines (first, last) taken as its answer
    found: list[str] = field(default_factory=list)  # the expected items seen (grading.questions.ID.expects)
    missing: list[str] = field(default_factory=list)  # the expected items not seen
    deductions: list[str] = field(default_factory=list)  # why the score is below the marks
    status: Literal["answered", "unclear", "missing"] = "answered"  # unclear: a human must confirm the mapping
    confidence: float = 1.0  # how sure the grader is that ``span`` answers this question (0-1)
    candidates: list[str] = field(default_factory=list)  # unclear: the passages that may answer it, located

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "marks": self.marks, "answered": self.answered,
                "status": self.status, "confidence": round(self.confidence, 2), "candidates": self.candidates,
                "score": self.score, "evidence": self.evidence, "number": self.number,
                "found": self.found, "missing": self.missing, "deductions": self.deductions}


@dataclass
class Grade:
    """Everything grading found in one report."""

    report: str  # the report's file name
    manifest: str  # the manifest's file name
    score: float
    max_score: float
    questions: list[QuestionGrade]
    claims: list[Claim]
    matrices: list[Matrix]
    flags: list[Flag]
    settings: list[Setting] = field(default_factory=list)
    document: Document | None = None  # kept for compare (passages); not written to JSON
    rule: str = ""  # the scoring rule, in words, for the grade sheet
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "report": self.report,
            "manifest": self.manifest,
            "score": self.score,
            "max_score": self.max_score,
            "questions": [q.to_json() for q in self.questions],
            "claims": [c.to_json() for c in self.claims],
            "matrices": [m.to_json() for m in self.matrices],
            "flags": [f.to_json() for f in self.flags],
            "settings": [s.to_json() for s in self.settings],
            "rule": self.rule,
            "files": list(self.document.files) if self.document is not None else [],
        }

"""Tables in a report's text, whatever shape they arrive in: Markdown pipes, tab-separated cells (HTML, DOCX),
space-aligned columns (PDF layout text), numpy-printed arrays, with or without row and column labels.

A *row* is a line cut into cells, each cell remembering its character span, so that a number can be matched to
the header cell above it even when the columns are aligned with spaces only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.grade.model import ClassReport, Document, Line, Matrix

INT = re.compile(r"^\d+$")
PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Cell:
    text: str
    start: int  # character offset of the cell in its line
    end: int

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2


def cells(text: str) -> list[Cell]:
    """``text`` cut into cells: at "|" for Markdown rows, at tabs when there are any, else at runs of two or more
    spaces (layout text), else at single spaces for rows of numbers only."""
    if "|" in text and text.strip().startswith("|") or text.count("|") >= 2:
        return _split(text, re.compile(r"\|"))
    if "\t" in text:
        return _split(text, re.compile(r"\t+"))
    parts = _split(text, re.compile(r"\s{2,}"))
    if len(parts) == 1 and all(_is_number(t) for t in text.split()):
        return _split(text, re.compile(r"\s+"))
    return parts


def _split(text: str, sep: re.Pattern) -> list[Cell]:
    out, pos = [], 0
    for piece in sep.split(text):
        start = text.index(piece, pos) if piece else pos
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            out.append(Cell(stripped, start + lead, start + lead + len(stripped)))
        pos = start + len(piece)
    return out


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?%?", token.strip(), re.IGNORECASE))


def _int_row(text: str) -> list[int] | None:
    """The integers of a matrix row ("[ 973    0    2 ...]", "| 5 | 0 | 1 |", "cat 12 0 3"), or None. A leading
    label (a word, or "3:") is dropped."""
    cleaned = re.sub(r"[\[\]|,;]|^\s*array\(|\)\s*$", " ", text).strip()  # numpy's repr: array([[...]])
    tokens = cleaned.split()
    if len(tokens) >= 3 and not INT.match(tokens[0]) and all(INT.match(t) for t in tokens[1:]):
        tokens = tokens[1:]  # a row label
    elif tokens and re.fullmatch(r"\d+:", tokens[0]):
        tokens = tokens[1:]
    if len(tokens) < 2 or not all(INT.match(t) for t in tokens):
        return None
    return [int(t) for t in tokens]


def _fraction_row(text: str) -> list[float] | None:
    """The shares of a row-normalised matrix row ("0.98 0.01 0.01", "| 97.5 | 2.5 |", "cat 0.9 0.1"), or None."""
    cleaned = re.sub(r"[\[\]|,;%]", " ", text).strip()
    tokens = cleaned.split()
    if len(tokens) >= 3 and not FLOAT.match(tokens[0]) and all(FLOAT.match(t) for t in tokens[1:]):
        tokens = tokens[1:]  # a row label
    if len(tokens) < 2 or not all(FLOAT.match(t) for t in tokens) or not any("." in t for t in tokens):
        return None
    return [float(t) for t in tokens]


FLOAT = re.compile(r"^\d*\.?\d+$")


def find_matrices(doc: Document, about) -> list[Matrix]:
    """Square tables of non-negative integers with at least 2 classes: confusion matrices; and row-normalised ones
    (each row's shares sum to 1 or 100). ``about(first, last)`` gives the context of a matrix's lines (headings,
    caption, a label line above it). Rows may be interrupted by blank lines and page numbers (a matrix split
    across a page break)."""
    return _find(doc, about, _int_row, _as_matrices) + _find(doc, about, _fraction_row, _as_normalised)


def _find(doc: Document, about, parse, build) -> list[Matrix]:
    out: list[Matrix] = []
    lines = doc.lines
    i = 0
    while i < len(lines):
        first = parse(lines[i].text)
        if first is None:
            i += 1
            continue
        rows: list[tuple[Line, list]] = [(lines[i], first)]
        j = i + 1
        while j < len(lines):
            text = lines[j].text
            row = parse(text)
            if row is not None and len(row) in (len(rows[-1][1]), len(rows[-1][1]) + 1, len(rows[-1][1]) - 1):
                rows.append((lines[j], row))
                j += 1
                if re.search(r"\]\]\)?\s*$", text):
                    break  # numpy closes a matrix with "]]" (or "]])" in its repr)
            elif not text.strip() or PAGE_NUMBER.match(text) or MARKDOWN_RULE.match(text):
                j += 1  # a gap, a page number or a Markdown rule inside the table
            else:
                break
        found = build(rows, about)
        if found:
            out.extend(found)
            i = j
        else:
            i += 1
    return out


def _as_normalised(rows: list[tuple[Line, list[float]]], about) -> list[Matrix]:
    """A row-normalised confusion matrix: n rows of n shares, each row summing to 1 (or 100)."""
    values = [r for _, r in rows]
    n = len(values)
    if n >= 2 and all(len(r) == n + 1 for r in values) and _is_index([int(r[0]) if r[0].is_integer() else -1
                                                                         for r in values]):
        values = [r[1:] for r in values]  # a column of class indices in front
    if n < 2 or any(len(r) != n for r in values):
        return []
    scale = 100.0 if all(abs(sum(r) - 100) <= 2 for r in values) else 1.0
    if not all(abs(sum(r) / scale - 1) <= 0.02 for r in values):
        return []
    shares = [[v / scale for v in r] for r in values]
    if sum(shares[k][k] for k in range(n)) < 1:  # a classifier puts most of each class on the diagonal
        return []
    first, last = rows[0][0], rows[-1][0]
    return [Matrix(cells=shares, location=first.location, about=about(first, last), end=last.location,
                   normalized=True, source=first.source)]


def _as_matrices(rows: list[tuple[Line, list[int]]], about) -> list[Matrix]:
    """One matrix, or several written one after the other (2n rows of n counts: two n-class matrices)."""
    whole = _as_matrix(rows, about)
    if whole is not None:
        return [whole]
    n = len(rows[-1][1])
    if n >= 2 and len(rows) >= 2 * n and len(rows) % n == 0 and all(len(r) == n for _, r in rows):
        parts = [_as_matrix(rows[k:k + n], about) for k in range(0, len(rows), n)]
        if all(parts):
            return parts
    return []


def _as_matrix(rows: list[tuple[Line, list[int]]], about) -> Matrix | None:
    values = [r for _, r in rows]
    labels: list[str] = []
    # A header row of class labels (0..n-1 or 1..n) above the matrix.
    if len(values) >= 3 and len(values[0]) in (len(values[1]), len(values[1]) - 1) and _is_index(values[0]):
        labels = [str(v) for v in values[0]]
        values, rows = values[1:], rows[1:]
    # A column of row indices in front of each row.
    if values and all(len(r) == len(values) + 1 for r in values) and _is_index([r[0] for r in values]):
        labels = labels or [str(r[0]) for r in values]
        values = [r[1:] for r in values]
    n = len(values)
    if n < 2 or any(len(r) != n for r in values) or (n == 2 and not labels):
        return None
    total = sum(map(sum, values))
    if total < 2 * n:
        return None
    trace = sum(values[k][k] for k in range(n))
    # A classifier's confusion matrix has its largest share on the diagonal unless the model is useless; this keeps
    # tables of layer sizes ("1 32 5 2 / 32 16 3 1") from passing as matrices.
    if n >= 3 and trace < total / n:
        return None
    return Matrix(cells=values, location=rows[0][0].location, about=about(rows[0][0], rows[-1][0]),
                  labels=labels if len(labels) == n else [], end=rows[-1][0].location, source=rows[0][0].source)


def _is_index(values: list[int]) -> bool:
    return values == list(range(len(values))) or values == list(range(1, len(values) + 1))


CLASS_REPORT_HEADER = re.compile(r"precision\s+recall\s+(?:f1(?:[-_ ]?score)?|f[-_ ]?score|f[-_ ]?measure)\s+support",
                                 re.IGNORECASE)
SUMMARY_LABEL = re.compile(r"^(accuracy|(?:micro|macro|weighted|samples) avg(?:erage)?)$", re.IGNORECASE)
# "0.90", "90 %", "97.0 ± 1.7 %" (a mean over seeds: its mean)
SPREAD = r"(?:±|\+/-|\+-)\s*\d*\.?\d+"  # "± 0.2", "+/- 0.3"
CELL_NUMBER = re.compile(rf"^(?P<value>\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:{SPREAD}|\(\s*{SPREAD}\s*%?\s*\))?\s*"
                         rf"(?P<pct>%)?\s*(?:\(\s*{SPREAD}\s*%?\s*\))?$")  # "0.9781 (±0.0009)", "97.1 % (± 0.3)"


def cell_spread(text: str) -> str | None:
    """The spread a cell gives with its number, as written ("0.9781 (±0.0009)" -> "0.0009"), or None."""
    m = re.search(rf"{SPREAD}", text) if cell_number(text) else None
    return re.search(r"\d*\.?\d+", m.group(0)).group(0) if m else None


def cell_number(text: str) -> tuple[str, bool] | None:
    """A table cell's number as written and whether it is a percentage, or None: "0.93", "93.1 %", "95.3 ± 0.2 %"."""
    m = CELL_NUMBER.match(text.strip().strip("*_").strip())  # "**98.66**": the best value, in bold
    return (m.group("value"), bool(m.group("pct"))) if m else None


def find_class_reports(doc: Document, about) -> list[ClassReport]:
    """Per-class reports — scikit-learn's ``classification_report`` as printed, or a Markdown/HTML table with the
    same columns — with their summary rows (accuracy, macro and weighted averages). Values are fractions."""
    out = []
    lines = doc.lines
    for i, line in enumerate(lines):
        if not CLASS_REPORT_HEADER.search(_plain(line.text)):
            continue
        rows: dict[str, dict[str, float]] = {}
        summary: dict[str, tuple[list[float], Line]] = {}
        used = [line.number]
        for following in lines[i + 1: i + 400]:
            if not following.text.strip() or MARKDOWN_RULE.match(following.text):
                continue
            parts = [c.text for c in cells(following.text)]
            label, values = (parts[0], parts[1:]) if parts else ("", [])
            numbers = [cell_number(v) for v in values]
            if not label or not numbers or None in numbers:
                break
            fractions = [float(v) / (100 if pct or float(v) > 1 else 1) for v, pct in numbers]
            if SUMMARY_LABEL.match(label):
                summary[label.lower()] = (fractions, following)
            elif len(numbers) == 4:
                scores = dict(zip(("precision", "recall", "f1"), fractions[:3], strict=True))
                rows[label] = scores | {"support": float(numbers[3][0])}
            else:
                break
            used.append(following.number)
        if len(rows) >= 2:
            out.append(ClassReport(rows, line.location, about(line), summary=summary, lines=used))
    return out


def _plain(text: str) -> str:
    """A table row with its Markdown pipes and tabs turned into spaces."""
    return re.sub(r"[|\t]", "  ", text)

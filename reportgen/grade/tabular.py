"""Claims from tables, in either orientation:

* metrics as columns — ``| Model | Train acc | Test acc |`` — each value's subject is its row's label;
* models as columns — ``| Metric | CNN | MLP |`` over ``| Test accuracy | 0.97 | 0.91 |`` — each value's metric
  is its row's label and its subject its column's header.

Rows and columns are matched by position when the table is laid out with spaces (PDF text), by index when its
cells are explicit (Markdown pipes, tabs from HTML and DOCX tables). Classification reports are read elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reportgen.grade.context import Context
from reportgen.grade.metric_words import METRIC, SPLIT, make_claim, metric_of
from reportgen.grade.model import Claim, Document, Line
from reportgen.grade.tables import CLASS_REPORT_HEADER, Cell, cell_number, cell_spread, cells

# "Accuracy (%) per 10k params", "accuracy gain", "Δ accuracy": derived from a metric, not the metric.
# "5-NN accuracy" is a probe of the features, not the model's accuracy.
DERIVED = re.compile(r"\b(?:per|gain|drop|change|difference|delta|improvement|rank|std|sd|knn|k-nn|\d+-nn|top-?[2-9]|"
                     r"curves?)\b|[/÷Δ±]", re.IGNORECASE)
# Column headers that say nothing about whose value it is ("Value", "Score") or hold no metric ("Std", "Params").
NEUTRAL_COLUMN = re.compile(r"^(?:values?|scores?|results?|mean|average|avg|metric|metrics|number|%|\(%\)|"
                            r"train(?:ing)?|val(?:idation)?|dev|test(?:ing)?|held[- ]out)(?:\s+set)?$", re.I)
NOT_A_VALUE_COLUMN = re.compile(r"\b(?:std|sd|stdev|±|params?|parameters?|time|seconds|epochs?|macs|flops|size|"
                                r"rank|n|support|#)\b", re.IGNORECASE)
# A label column that names a setting: its values are settings ("Batch size | Accuracy" over "32 | 0.95").
SETTING_COLUMN = re.compile(r"\b(?:batch[\s_-]*size|bs|learning[\s_-]*rate|lr|epochs?|dropout|optimi[sz]er|loss|"
                            r"activation|split|ratio|momentum|weight[\s_-]*decay|hidden|neurons?|layers?|filters?|"
                            r"kernel|scheduler|augmentation)\b", re.IGNORECASE)
# A table of one row per class ("class | precision | recall"): its rows are per-class values, not a model's,
# except the averages.
CLASS_COLUMN = re.compile(r"^(?:class(?:es)?|class\s+name|digits?|labels?|categor(?:y|ies)|true\s+class)$",
                          re.IGNORECASE)
AVERAGE_ROW = re.compile(r"\b(?:macro|micro|weighted|avg|average|mean|overall|total|all)\b", re.IGNORECASE)
TABLE_END_WORDS = 8  # a line of more words than this, without numbers, is a paragraph: the table has ended


@dataclass
class _Table:
    header: list[Cell]
    header_line: Line
    rows: list[tuple[Line, list[Cell]]]
    wrapped: int  # header lines merged into the first


def table_claims(doc: Document, ctx: Context, is_prose_claim, run_of, skip: set[int] = frozenset()
                 ) -> tuple[list[Claim], set[int]]:
    """Claims from the document's tables, and the numbers of the lines they were read from.
    ``is_prose_claim(line)`` tells a sentence with its own claims (not a table row); ``run_of(text)`` names the
    run a label names; ``skip``: lines read otherwise (classification reports)."""
    claims: list[Claim] = []
    used: set[int] = set(skip)
    skip = set(skip)
    lines = unslashed(doc.lines)
    for i, line in enumerate(lines):
        if line.number in skip or line.number in used:
            continue
        explicit = "|" in line.text or "\t" in line.text
        header = explicit_cells(line.text) if explicit else cells(line.text)
        if len([c for c in header if c.text]) < 2 \
                or not any(re.search(r"[A-Za-z]", c.text) and not cell_number(c.text) for c in header) \
                or _sentence(line.text) or is_prose_claim(line) \
                or CLASS_REPORT_HEADER.search(line.text.replace("|", " ")):
            continue
        if explicit:
            header, wrapped = _merge_header_rows(header, lines[i + 1: i + 5])
        else:
            header, wrapped = _merge_wrapped_header(header, lines[i + 1: i + 3])
        metric_cols = [(c, metric) for c in header if (metric := _header_metric(c.text))]
        rows = [r for r in _rows(lines[i + 1 + wrapped: i + 80], is_prose_claim, explicit) if r[0].number not in used]
        table = _Table(header, line, rows, wrapped)
        if metric_cols:
            found = _metric_columns(table, metric_cols, ctx, run_of)
        else:
            found = _model_columns(table, ctx, run_of) or _grid(table, doc, ctx, run_of)
        if found:
            skip.update(x.number for x in lines[i + 1: i + 1 + wrapped])
            claims.extend(found)
            used.update(c.location.line for c in found)
    return claims, used - skip


SLASH_HEADER = re.compile(r"^\s*[A-Za-z][\w-]{0,15}(?:\s+/\s+[A-Za-z][\w-]{0,15})+\s*$")  # "train  /  val  /  test"
SLASH_VALUES = re.compile(r"\d*\.?\d+\s*%?(?:\s*/\s*\d*\.?\d+\s*%?)+\s*$")  # "0.5418 / 0.4862 / 0.4790"


def unslashed(lines: list[Line]) -> list[Line]:
    """``lines`` with a laid-out table of slashes ("train  /  val  /  test" over "accuracy  0.54 / 0.49 / 0.48")
    written as columns: each slash becomes a space, so that the columns keep their places."""
    out = list(lines)
    for i, line in enumerate(lines):
        header = SLASH_HEADER.match(line.text)
        if not header:
            continue
        width = line.text.count("/")
        k = i + 1
        while k < len(lines) and (found := SLASH_VALUES.search(lines[k].text)) and found.group(0).count("/") == width:
            k += 1
        if k > i + 1:
            for j in range(i, k):
                out[j] = replace(lines[j], text=lines[j].text.replace("/", " "))
    return out


def _rows(following: list[Line], is_prose_claim, explicit: bool = False) -> list[tuple[Line, list[Cell]]]:
    """The rows of a table under its header (``explicit``: its cells are pipes or tabs, and a blank line ends it)."""
    rows, gap = [], 0
    for row_line in following:
        row = explicit_cells(row_line.text) if explicit and ("|" in row_line.text or "\t" in row_line.text) \
            else cells(row_line.text)
        if _sentence(row_line.text) and is_prose_claim(row_line):
            break  # a sentence with its own numbers: the table has ended
        if explicit and not row_line.text.strip():
            break
        if not any(cell_number(c.text) for c in row):
            if not row_line.text.strip() or _is_rule(row_line.text):
                continue
            if row_line.text.rstrip().endswith(":") or len(row) >= 2 and any(_header_metric(c.text) for c in row):
                break  # "Validation accuracy, 100 hidden units:" or a header: the next table begins
            gap += 1
            # Wrapped row labels and remarks are short; a paragraph ends the table.
            if gap > 3 or len(row_line.text.split()) > TABLE_END_WORDS:
                break
            continue
        gap = 0
        rows.append((row_line, row))
    return rows


def _metric_columns(table: _Table, metric_cols, ctx: Context, run_of) -> list[Claim]:
    out = []
    metric_of_col = {id(c): m for c, m in metric_cols}
    label_header = next((c.text for c in table.header if id(c) not in metric_of_col), "")
    per_class = bool(CLASS_COLUMN.match(label_header.strip(" *_")))
    for row_line, row in table.rows:
        if any(not cell_number(c.text) and c.text.rstrip().endswith((":", "=")) and _header_metric(c.text)
               for c in row):
            break  # "Max training accuracy: 93.9": a line that names its own metric is not a row of this table
        found = []
        for cell in (c for c in row if cell_number(c.text)):
            column = _column_for(cell, row, table.header, row_line.text, table.header_line.text)
            metric = metric_of_col.get(id(column)) if column is not None else None
            if metric is not None:
                found.append((cell, column, metric))
        if not found:
            continue
        # The row's label: every cell left of its first metric ("3  C2+M2" keeps the rank with the run).
        label = " ".join(c.text for c in row if c.start < found[0][0].start)
        if per_class and not AVERAGE_ROW.search(label):
            continue  # "cat | 0.1671 | 0.2120": one class's values
        setting = bool(label_header and SETTING_COLUMN.search(label_header) and not run_of(label)
                       and not SPLIT.fullmatch(label.strip()))  # ("split | train": the split, not a setting)
        shown = f"{label_header} {label}" if setting else label
        for cell, column, metric in found:
            written, pct = cell_number(cell.text)
            # A table is captioned above it, if at all; a caption below belongs to what follows.
            claim = make_claim(metric, written, pct, line=row_line, column=cell.start,
                               qualifier=f"{column.text} {label}", about=ctx.about(row_line, label=shown,
                                                                                     lookahead=False))
            if claim is not None:
                # A row of a setting ("optimizer | sgd") is another configuration: its own subject, no run.
                claim.subject = shown if setting else _subject_label(label)
                # ... else the run its column's group names ("| | MLP | | CNN |" over "| | acc | loss | acc |")
                claim.run = run_of(label) or run_of(column.text) if not setting else ""
                spread = cell_spread(cell.text)
                if spread is not None:
                    claim.spread = float(spread) / (100.0 if claim.percent else 1.0)
                out.append(claim)
    return out


def _model_columns(table: _Table, ctx: Context, run_of) -> list[Claim]:
    """Models (or configurations) as columns, metrics as rows."""
    header = table.header
    subjects = [c for c in header if not cell_number(c.text) and not NEUTRAL_COLUMN.match(c.text.strip())]
    splits = [c for c in header if SPLIT.fullmatch(c.text.strip())]  # "train  val  test" over "accuracy  0.54 ..."
    if not subjects and len(splits) < 2:
        return []
    out = []
    for row_line, row in table.rows:
        if not row or cell_number(row[0].text) or sum(bool(_header_metric(c.text)) for c in row) > 1:
            continue  # (a row of several labelled values, laid out side by side, is read as prose)
        metric = _header_metric(row[0].text)
        if not metric:
            continue
        for cell in (c for c in row[1:] if cell_number(c.text)):
            column = _column_for(cell, row, header, row_line.text, table.header_line.text)
            explicit = "|" in row_line.text or "\t" in row_line.text
            if column is None or NOT_A_VALUE_COLUMN.search(column.text) or not explicit and \
                    column.start < row[0].end and column.end > row[0].start:
                continue  # (a space-aligned header cell over the row labels heads the labels, not values)
            written, pct = cell_number(cell.text)
            subject = "" if NEUTRAL_COLUMN.match(column.text.strip()) else " ".join(SPLIT.sub(" ", column.text).split())
            claim = make_claim(metric, written, pct, line=row_line, column=cell.start,
                               qualifier=f"{row[0].text} {column.text}", about=ctx.about(row_line, label=subject,
                                                                                         lookahead=False))
            if claim is not None:
                claim.subject = subject
                claim.run = run_of(subject) if subject else ""
                out.append(claim)
    return out


def _sentence(text: str) -> bool:
    """A line of running prose, not a table row: words separated by single spaces, more than a few of them."""
    return "|" not in text and "\t" not in text and not re.search(r"\S\s{3,}\S", text.strip()) \
        and len(text.split()) >= 6


def _grid(table: _Table, doc: Document, ctx: Context, run_of) -> list[Claim]:
    """A grid of one metric over two factors ("hidden size \\ learning rate" over rows of values), the metric named
    by the line above the table or its caption ("Validation accuracy after 20 epochs:")."""
    label = _label_above(doc, table.header_line) or ctx.caption(table.header_line, lookahead=False)
    if re.search(r"\d\.\d|%", label):
        return []  # a line of results above, not a label naming the table's metric
    named = {metric_of(m) for m in re.finditer(rf"\b(?:{METRIC})(?!\w)", label, re.IGNORECASE)}
    if len(named) != 1 or DERIVED.search(label):
        return []
    metric = named.pop()
    header = table.header
    corner = header[0].text if header and not cell_number(header[0].text) else ""
    out = []
    for row_line, row in table.rows:
        if not row or not cell_number(row[0].text) and len(row) < 2:
            continue
        for cell in row[1:]:
            if not cell_number(cell.text):
                continue
            column = _column_for(cell, row, header, row_line.text, table.header_line.text)
            if column is None or column is header[0] and corner:
                continue
            where = f"{corner} {row[0].text} / {column.text}".strip()
            written, pct = cell_number(cell.text)
            claim = make_claim(metric, written, pct, line=row_line, column=cell.start, qualifier=label,
                               about=ctx.about(row_line, label=where, lookahead=False))
            if claim is not None:
                claim.run = run_of(row[0].text) or run_of(column.text)
                out.append(claim)
    return out


def _label_above(doc: Document, header_line: Line) -> str:
    """The short line just above a table that says what it shows ("Validation accuracy after 20 epochs:")."""
    index = header_line.number - 1
    for before in reversed(doc.lines[max(0, index - 3):index]):
        text = before.text.strip()
        if text:
            return text if len(text.split()) <= 12 else ""
    return ""


def _subject_label(label: str) -> str:
    label = re.sub(r"^\s*\d{1,2}[.)]?\s+(?=\S)", "", label).strip()  # a rank in front of the name
    return "" if SPLIT.fullmatch(label) else label  # a row of the training split is about no model


def explicit_cells(text: str) -> list[Cell]:
    """A pipe or tab row's cells, empty ones kept (a merged header cell, a missing value): column k is cell k."""
    sep = "|" if "|" in text else "\t"
    pieces, out, pos = text.split(sep), [], 0
    for k, piece in enumerate(pieces):
        start = pos
        pos += len(piece) + 1
        if sep == "|" and (k == 0 or k == len(pieces) - 1) and not piece.strip():
            continue  # the outer pipes of "| a | b |"
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        out.append(Cell(stripped, start + lead, start + lead + len(stripped)))
    return out


def _merge_header_rows(header: list[Cell], following: list[Line]) -> tuple[list[Cell], int]:
    """A header over two rows ("| | MLP | | CNN | |" over "| | train | test | train | test |", or an HTML table's
    colspan): each column's header is its group's (carried right over the empty cells it spans) and its own.
    Returns the merged header and how many rows it took beyond the first."""
    taken = 0
    for k, line in enumerate(following):
        if _is_rule(line.text):
            continue  # a Markdown rule
        below = explicit_cells(line.text) if ("|" in line.text or "\t" in line.text) else []
        if len(below) != len(header) or any(cell_number(c.text) for c in below) or not any(c.text for c in below):
            break
        group, merged = "", []
        for index, (top, sub) in enumerate(zip(header, below, strict=True)):
            group = top.text or (group if index > 0 else "")
            text = sub.text if group == sub.text else f"{group} {sub.text}".strip()
            merged.append(Cell(text, min(top.start, sub.start), max(top.end, sub.end)))
        header, taken = merged, k + 1
    return header, taken


def _merge_wrapped_header(header: list[Cell], following: list[Line]) -> tuple[list[Cell], int]:
    """A header whose cells wrap onto the next line ("Testing" / "Accuracy"): the words under each cell joined to
    it (the nearest cell that overlaps), and how many lines that took (0 when the header does not wrap)."""
    for k, line in enumerate(following):
        below = cells(line.text)
        if not below:
            continue
        if any(cell_number(c.text) for c in below) or "|" in line.text or "\t" in line.text or _sentence(line.text):
            break  # a row of values, prose, or a table with explicit cells (those do not wrap)
        merged = list(header)
        for cell in below:
            near = [j for j, h in enumerate(merged) if h.start - 2 <= cell.end and cell.start <= h.end + 2]
            if not near:
                if len(below) < 2:
                    return header, 0
                merged.append(cell)  # the first line held only some columns' first words ("Conv +" over "Run ...")
                continue
            j = min(near, key=lambda j: abs(merged[j].centre - cell.centre))
            h = merged[j]
            merged[j] = Cell(f"{h.text} {cell.text}", min(h.start, cell.start), max(h.end, cell.end))
        return sorted(merged, key=lambda c: c.start), k + 1
    return header, 0


def _header_metric(text: str) -> str:
    text = text.replace("_", " ")  # "train_acc", "test_acc": a DataFrame's column names
    m = re.search(rf"\b(?:{METRIC})(?!\w)", text, re.IGNORECASE)
    if not m and (short := HEADER_SHORT.fullmatch(text.strip(" *"))):
        return HEADER_SHORT_METRICS[short.group(1).lower()]
    return metric_of(m) if m and len(text.split()) <= 5 and not DERIVED.search(text) else ""


# Abbreviations a table header uses that prose does not: "acc / prec / rec / F1"
HEADER_SHORT_METRICS = {"prec": "precision", "pre": "precision", "rec": "recall", "sens": "recall"}
HEADER_SHORT = re.compile(r"(?:(?:test|val|train)\s+)?(prec|pre|rec|sens)\.?", re.IGNORECASE)


def _column_for(cell: Cell, row: list[Cell], header: list[Cell], row_text: str, header_text: str) -> Cell | None:
    """The header cell above ``cell``: by position when both lines are space-aligned, else by index."""
    explicit = "|" in row_text or "\t" in row_text
    index = row.index(cell)
    if explicit and len(row) == len(header):
        return header[index]
    if explicit and len(row) == len(header) + 1:
        return header[index - 1] if index >= 1 else None  # the header's empty corner cell was dropped
    if explicit and "|" in header_text and len(row) == len(header) - 1:
        return header[index + 1]
    if not explicit and len(row) == len(header) and len(header) >= 3:
        return header[index]  # one cell under each header: by order (a PDF may shift a row's columns sideways)
    overlapping = [h for h in header if h.start - 2 <= cell.end and cell.start <= h.end + 2]
    if overlapping:
        return min(overlapping, key=lambda h: abs(h.centre - cell.centre))
    nearest = min(header, key=lambda h: abs(h.centre - cell.centre))
    return nearest if abs(nearest.centre - cell.centre) <= 12 else None


def _is_rule(text: str) -> bool:
    """A Markdown table's rule ("|---|:---:|"): dashes, colons, pipes and spaces only (a set test, not a regex: a
    regex over a long line of spaces backtracks)."""
    stripped = text.strip()
    return bool(stripped) and "-" in stripped and set(stripped) <= set("-:| ")

"""Claims: the metric values a report states, read from prose ("Test Set Accuracy: 0.9472", "accuracy of 95%",
"93.6 training accuracy") and from tables whose header names a metric ("Training Accuracy | Validation Accuracy").

Bounded metrics are stored as fractions: a number above 1 (or written with "%") is on a 0-100 scale, so
``69.29693603515625`` means 0.693. A value above 100 stays as written; IMPOSSIBLE_VALUE reports it.
"""

from __future__ import annotations

import re

from reportgen.grade.context import Context
from reportgen.grade.model import Claim, Document, Line
from reportgen.grade.tables import CLASS_REPORT_HEADER, Cell, cell_number, cells, find_class_reports
from reportgen.grade.words import decimals

METRICS = {
    "accuracy": r"acc(?:uracy|uracies|\.)?",
    "recall": r"recall|sensitivity",
    "precision": r"precision",
    "f1": r"f1(?:[-_ ]?scores?)?|f[-_ ]?scores?|fscores?|f[-_ ]?measure|f-?1",
    "auc": r"(?:roc[-_ ]?)?auc|area under (?:the )?(?:roc )?curve",
    "loss": r"loss",
}
BOUNDED = ("accuracy", "recall", "precision", "f1", "auc")
METRIC = "|".join(f"(?P<{name}>{pattern})" for name, pattern in METRICS.items())
SPLIT_WORDS = {
    "test": r"test(?:ing)?|held[- ]out",
    "val": r"val(?:idation)?|dev(?:elopment)?",
    "train": r"train(?:ing)?",
}
QUALIFIER = r"(?:test(?:ing)?|val(?:idation)?|dev|train(?:ing)?|macro|micro|weighted|max(?:imum)?|best|final|overall|" \
            r"mean|avg|average|top-?1|set|classification|model|the|its|our)"
VALUE = r"(?P<value>[-+]?(?:\d+\.\d+|\.\d+|\d+)(?:[eE][-+]?\d+)?)\s*(?P<pct>%|percent)?"
END = r"(?![\w]|\.\d)"  # a sentence's full stop may follow; more digits may not
# "accuracy of C2: 0.93", "accuracy for the MLP = 0.91", "Accuracy (CNN): 0.95": the model named between.
NOT_A_MODEL = r"(?!(?:epochs?|lr|learning|batch|rate|size|class|classes|iterations?|steps?|layers?|dropout|seed|" \
              r"split|ratio|k|n)\b)"
SUBJECT = rf"(?:\s+(?:of|for|on|with)\s+(?:the\s+)?{NOT_A_MODEL}(?P<subject>(?!\d)[\w+\-.]{{1,24}}" \
          rf"(?:\s+{NOT_A_MODEL}(?!\d)[\w+\-.]{{1,24}})?)" \
          r"\s*(?=[:=(]|\bis\b|\bwas\b))?(?:\s*\((?P<paren>[^)\d]{1,30})\))?"
CONNECT = r"\s*(?:scores?)?\s*(?:\((?:macro|micro|weighted)\))?\s*(?:[:=]|:-|\bis\b|\bof\b|\bwas\b|\bequals?\b|" \
          r"\breached(?:\s+to)?\b|\bachieved\b|\bat\b|\bto\b|-)?\s*(?:of\s*)?(?:about|around|approximately|~)?\s*"
# "Test Set Accuracy: 0.9472", "accuracy of 95%", "Fscore = 0.986"
METRIC_THEN_VALUE = re.compile(
    rf"(?P<qual>(?:\b{QUALIFIER}\b\.?[\s_-]*){{0,4}})\b(?:{METRIC})(?!\w){SUBJECT}{CONNECT}{VALUE}{END}", re.IGNORECASE)
# "93.6 training accuracy", "90% acc."
VALUE_THEN_METRIC = re.compile(
    rf"(?<![\w.]){VALUE}\s+(?P<qual>(?:\b{QUALIFIER}\b\.?[\s_-]*){{0,3}})\b(?:{METRIC})(?!\w)", re.IGNORECASE)


def metric_of(match: re.Match) -> str:
    return next(name for name in METRICS if match.group(name))


def split_of(text: str) -> str:
    for split, pattern in SPLIT_WORDS.items():
        if re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            return split
    return ""


def average_of(text: str) -> str:
    m = re.search(r"\b(macro|micro|weighted)\b", text, re.IGNORECASE)
    return m.group(1).lower() if m else ""


def make_claim(metric: str, as_written: str, percent_sign: bool, *, line: Line, column: int, qualifier: str,
               about: str = "") -> Claim | None:
    try:
        raw = float(as_written)
    except ValueError:
        return None
    percent = percent_sign or (metric in BOUNDED and 1.0 < raw <= 100.0)
    value = raw / 100.0 if percent else raw
    return Claim(metric=metric, value=value, as_written=as_written + ("%" if percent_sign else ""), about=about,
                 location=line.location, split=split_of(qualifier), average=average_of(qualifier), column=column,
                 context=line.text.strip()[:300], decimals=decimals(as_written), percent=percent,
                 source=line.source)


def prose_claims(line: Line) -> list[Claim]:
    """Claims written in a sentence or a "name: value" line."""
    found: dict[int, Claim] = {}
    text = line.text
    for pattern in (METRIC_THEN_VALUE, VALUE_THEN_METRIC):
        for m in pattern.finditer(text):
            start = m.start("value")
            if any(abs(start - s) < 2 for s in found):
                continue
            if _is_range_or_count(text, m):
                continue
            if pattern is VALUE_THEN_METRIC and "." not in m.group("value") and not m.group("pct"):
                continue  # "1 Loss and accuracy curves": a heading's number, not a loss of 1
            subject = _group(m, "subject") or _group(m, "paren")
            claim = make_claim(metric_of(m), m.group("value"), bool(m.group("pct")), line=line, column=m.start(),
                               qualifier=" ".join(filter(None, (m.group("qual"), subject))))
            if claim is not None:
                claim.subject = subject or ""
                found[start] = claim
    return [found[k] for k in sorted(found)]


def _group(m: re.Match, name: str) -> str:
    try:
        return (m.group(name) or "").strip()
    except IndexError:
        return ""


def _is_range_or_count(text: str, m: re.Match) -> bool:
    # "accuracy at 3 epochs", "loss after 10 iterations": the number counts something else.
    after = text[m.end("value"): m.end("value") + 14].lower()
    return bool(re.match(r"\s*(?:epochs?|iterations?|steps?|layers?|images?|samples?|classes|x\b|×)", after))


def table_claims(doc: Document, ctx: Context) -> tuple[list[Claim], set[int]]:
    """Claims from tables whose header row names metrics; also the numbers of the lines they used."""
    claims: list[Claim] = []
    used: set[int] = set()
    lines = doc.lines
    wrapped_lines: set[int] = set()
    for i, line in enumerate(lines):
        if line.number in wrapped_lines or line.number in used:
            continue
        header = cells(line.text)
        if len(header) < 2 or not re.search(r"[A-Za-z]{2}", line.text) or prose_claims(line) \
                or CLASS_REPORT_HEADER.search(line.text.replace("|", " ")):
            continue  # (classification reports are read by class_report_claims)
        # A header may wrap: "Training  Testing" over "Accuracy  Accuracy".
        header, wrapped = _merge_wrapped_header(header, lines[i + 1: i + 3])
        metric_cols = [(c, metric) for c in header if (metric := _header_metric(c.text))]
        if not metric_cols:
            continue
        wrapped_lines.update(x.number for x in lines[i + 1: i + 1 + wrapped])
        gap = 0
        for row_line in lines[i + 1 + wrapped: i + 60]:
            row = cells(row_line.text)
            numbers = [c for c in row if cell_number(c.text)]
            if prose_claims(row_line):
                break  # a sentence with its own numbers: the table has ended
            if not numbers:
                if not row_line.text.strip() or re.fullmatch(r"\s*\|?[-:| ]+\|?\s*", row_line.text):
                    continue
                gap += 1
                # Wrapped row labels and remarks are short; a paragraph ends the table.
                if gap > 3 or len(row_line.text.split()) > 8:
                    break
                continue
            gap = 0
            metric_of_col = {id(c): m for c, m in metric_cols}
            found = []
            for cell in numbers:
                column = _column_for(cell, row, header, row_line.text, line.text)
                metric = metric_of_col.get(id(column)) if column is not None else None
                if metric is not None:
                    found.append((cell, column, metric))
            if not found:
                continue
            # The row's label: every cell left of its first metric ("3  C2+M2" keeps the rank with the run).
            label = " ".join(c.text for c in row if c.start < found[0][0].start)
            for cell, column, metric in found:
                written, pct = cell_number(cell.text)
                # A table is captioned above it, if at all; a caption below belongs to what follows.
                claim = make_claim(metric, written, pct, line=row_line, column=cell.start, qualifier=column.text,
                                   about=ctx.about(row_line, label=label, lookahead=False))
                if claim is not None:
                    claims.append(claim)
                    used.add(row_line.number)
    return claims, used


def _merge_wrapped_header(header: list[Cell], following: list[Line]) -> tuple[list[Cell], int]:
    """A header whose cells wrap onto the next line ("Testing" / "Accuracy"): the words under each cell joined to
    it (the nearest cell that overlaps), and how many lines that took (0 when the header does not wrap)."""
    for k, line in enumerate(following):
        below = cells(line.text)
        if not below:
            continue
        if re.search(r"\d", line.text) or "|" in line.text or "\t" in line.text:
            break  # a row of values, or a table with explicit cells (those do not wrap)
        merged = list(header)
        for cell in below:
            near = [j for j, h in enumerate(merged) if h.start - 2 <= cell.end and cell.start <= h.end + 2]
            if not near:
                return header, 0
            j = min(near, key=lambda j: abs(merged[j].centre - cell.centre))
            h = merged[j]
            merged[j] = Cell(f"{h.text} {cell.text}", min(h.start, cell.start), max(h.end, cell.end))
        return merged, k + 1
    return header, 0


def class_report_claims(doc: Document, ctx: Context) -> tuple[list[Claim], set[int]]:
    """The summary rows of classification reports as claims: "accuracy", "macro avg", "weighted avg"."""
    claims: list[Claim] = []
    used: set[int] = set()
    for report in find_class_reports(doc, lambda line: ctx.about(line)):
        used.update(report.lines)
        for label, (_, line) in report.summary.items():
            metrics = ["accuracy"] if label == "accuracy" else ["precision", "recall", "f1"]
            values = [n for c in cells(line.text)[1:] if (n := cell_number(c.text))]
            for metric, (written, pct) in zip(metrics, values, strict=False):
                claim = make_claim(metric, written, pct, line=line, column=0, qualifier=label,
                                   about=ctx.about(line, lookahead=False))
                if claim is not None:
                    claims.append(claim)
    return claims, used


# "Accuracy (%) per 10k params", "accuracy gain", "Δ accuracy": derived from a metric, not the metric.
# "5-NN accuracy" is a probe of the features, not the model's accuracy.
DERIVED = re.compile(r"\b(?:per|gain|drop|change|difference|delta|improvement|rank|std|sd|knn|k-nn|\d+-nn)\b|[/÷Δ]",
                     re.IGNORECASE)


def _header_metric(text: str) -> str:
    m = re.search(rf"\b(?:{METRIC})(?!\w)", text, re.IGNORECASE)
    return metric_of(m) if m and len(text.split()) <= 5 and not DERIVED.search(text) else ""


def _column_for(cell: Cell, row: list[Cell], header: list[Cell], row_text: str, header_text: str) -> Cell | None:
    """The header cell above ``cell``: by position when both lines are space-aligned, else by index."""
    explicit = "|" in row_text or "\t" in row_text
    if explicit and len(row) == len(header):
        return header[row.index(cell)]
    if explicit and "|" in header_text and len(row) == len(header) - 1:
        return header[row.index(cell) + 1]
    overlapping = [h for h in header if h.start - 2 <= cell.end and cell.start <= h.end + 2]
    if overlapping:
        return min(overlapping, key=lambda h: abs(h.centre - cell.centre))
    nearest = min(header, key=lambda h: abs(h.centre - cell.centre))
    return nearest if abs(nearest.centre - cell.centre) <= 12 else None


def extract_claims(doc: Document, ctx: Context) -> list[Claim]:
    """Every claim of the document, each with what it is about."""
    claims, table_lines = table_claims(doc, ctx)
    report_claims, report_lines = class_report_claims(doc, ctx)
    claims += report_claims
    per_line = [(line, prose_claims(line)) for line in doc.lines if line.number not in table_lines | report_lines]
    per_line = [(line, found) for line, found in per_line if found]
    # Lines of claims close together form a group that shares one caption ("Figure 30: Scores with batch size 32").
    groups: list[list[tuple[Line, list[Claim]]]] = []
    for line, found in per_line:
        previous = groups[-1][-1][0] if groups else None
        if previous is not None and line.number - previous.number <= 3 and not _caption_between(doc, previous, line):
            groups[-1].append((line, found))
        else:
            groups.append([(line, found)])
    for group in groups:
        end = group[-1][0]
        for line, found in group:
            about = ctx.about(line, group_end=end)
            for claim in found:
                claim.about = " | ".join(p for p in (about, claim.subject) if p)
                claims.append(claim)
    claims.sort(key=lambda c: (c.location.line, c.column))
    return claims


def _caption_between(doc: Document, a: Line, b: Line) -> bool:
    from reportgen.grade.outline import CAPTION

    # Lines are numbered 1, 2, ... in order: the ones between a and b are a slice, not a scan of the document.
    return any(CAPTION.match(line.text.strip()) for line in doc.lines[a.number:b.number - 1])

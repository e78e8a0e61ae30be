"""What a line of a report is about: the headings above it and the caption beside it.

Students put the setting of a number in a heading ("9.2 Changing batch Size"), in a caption under it
("Figure 30: Scores with batch size = 32") or in the row label of a table; a claim's ``about`` joins them.
"""

from __future__ import annotations

import bisect
import re

from reportgen.grade.model import Document, Line
from reportgen.grade.outline import CAPTION, Heading, headings

CAPTION_LOOKAHEAD = 6  # non-blank lines after a group of numbers in which its caption may follow
CAPTION_LOOKBEHIND = 2  # ... and before it (tables are captioned above)


class Context:
    """Headings and captions of one document, indexed by line number."""

    def __init__(self, doc: Document, found: list[Heading] | None = None) -> None:
        self.doc = doc
        self.headings = headings(doc) if found is None else found
        self._starts = [h.line.number for h in self.headings]
        self._index = {line.number: i for i, line in enumerate(doc.lines)}
        self._heading_lines = set(self._starts)

    def heading(self, line: Line) -> Heading | None:
        """The heading whose block holds ``line`` (the line itself if it is a heading)."""
        k = bisect.bisect_right(self._starts, line.number) - 1
        return self.headings[k] if k >= 0 else None

    def caption(self, line: Line, group_end: Line | None = None, lookahead: bool = True) -> str:
        """The caption of the figure or table ``line`` belongs to: the first "Figure N:"/"Table N:" line within a
        few lines after its group (``group_end``, default the line; unless ``lookahead`` is off), else just before
        it; "" when none."""
        end = self._index.get((group_end or line).number, 0)
        seen = 0
        for following in self.doc.lines[end + 1:] if lookahead else ():
            if following.number in self._heading_lines:
                break
            text = following.text.strip()
            if not text or text.startswith("```"):
                continue
            if CAPTION.match(text):
                return _clean(text)
            seen += 1
            if seen >= CAPTION_LOOKAHEAD:
                break
        start = self._index.get(line.number, 0)
        seen = 0
        for before in reversed(self.doc.lines[max(0, start - 8):start]):
            text = before.text.strip()
            if before.number in self._heading_lines:
                break
            if not text or text.startswith("```"):
                continue
            if CAPTION.match(text) and text.lower().startswith("table"):
                return _clean(text)
            seen += 1
            if seen >= CAPTION_LOOKBEHIND:
                break
        return ""

    def about(self, line: Line, group_end: Line | None = None, label: str = "", lookahead: bool = True) -> str:
        """``"headings > ... | caption | row label"``: everything that says what a number on ``line`` is about."""
        heading = self.heading(line)
        parts = [heading.path if heading else "", self.caption(line, group_end, lookahead), label]
        return " | ".join(p for p in parts if p)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300]


LABEL_LINES = 3  # lines above a table in which a short label may name what it shows ("Confusion matrix of C4:")


def table_label(doc: Document, first: Line, skip) -> str:
    """A short line just above a table (past blank lines and the table's own header rows) that names it:
    "Confusion matrix (C4):", "**MLP**", "Model B" — "" when there is none. ``skip(line)``: lines of the table."""
    index = first.number - 1  # lines are numbered 1, 2, ... in order
    seen = 0
    for before in reversed(doc.lines[max(0, index - 8):index]):
        text = before.text.strip().strip("*_#>:").strip()
        if not text or skip(before) or re.fullmatch(r"[-|: ]+", text):
            continue
        if CAPTION.match(text) or len(text.split()) > 12 or re.search(r"\d\.\d", text):
            return ""
        seen += 1
        if re.search(r"[A-Za-z]{2}", text):
            return _clean(text)
        if seen >= LABEL_LINES:
            break
    return ""


TABLE_ROW = re.compile(r"\t|\||^\s*\[?\s*\d+(?:[\s,]+\d+){2,}")  # a row of a table or matrix


def table_caption(doc: Document, first: Line, last: Line) -> str:
    """The caption of a table or matrix spanning ``first``..``last``: one just above it (tables are captioned above;
    past its header rows), else one just below it that does not head the next table."""
    index = first.number - 1  # lines are numbered 1, 2, ... in order
    seen = 0
    for before in reversed(doc.lines[max(0, index - 8):index]):
        text = before.text.strip()
        if not text or TABLE_ROW.search(text) or re.fullmatch(r"[-|:= ]+", text):
            continue  # (its own header rows and rules)
        if CAPTION.match(text):
            return _clean(text)
        seen += 1  # (a caption may wrap over a few lines)
        if seen >= 3:
            break
    after = doc.lines[last.number:last.number + 6]
    for k, below in enumerate(after):
        text = below.text.strip()
        if not text:
            continue
        if CAPTION.match(text):
            rest = [line.text for line in after[k + 1:k + 4] if line.text.strip()]
            return "" if rest and TABLE_ROW.search(rest[0]) else _clean(text)
        if not TABLE_ROW.search(below.text):
            break
    return ""

"""A report's running text cut into passages and sentences, each character traceable to its line and column.

Prose wraps: a sentence of a PDF or a Markdown paragraph runs over several lines, so the lines of one paragraph are
joined before its sentences are read. What is not running prose stays one passage per line: headings, captions,
list items' first lines, table rows, code and printed output, and lines laid out in columns (a two-column PDF page
puts two unrelated texts on one line, separated by a wide gap — each side is a passage of its own).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reportgen.grade.model import Line
from reportgen.grade.outline import CAPTION

BULLET = re.compile(r"^\s*(?:[-*+•●▪◦‣∙]|\(?[0-9]{1,2}[.)]|\(?[a-hivx]{1,4}\))\s+")
# A wide gap between two pieces of text on one line: columns, not words of one sentence ("accuracy of      95%"
# is justified text, so the right side must start with a letter to be a column of its own).
COLUMN_GAP = re.compile(r"(?<=\S)\s{4,}(?=[A-Z(•●\-*])")
WIDE_GAP = re.compile(r"\S\s{4,}\S")  # laid-out text (a PDF's columns or table): its lines are not joined
MATH_MARKUP = re.compile(r"\$+|\\[()\[\]]|`")  # TeX's $...$, \( \), \[ \] and code ticks around numbers
LEADERS = re.compile(r"(?:\s?[.·…_]){4,}\s?")  # dot leaders between a label and its value
FENCE = re.compile(r"^\s*(```|~~~)")
# An enumerator at the start of a line ("3.", "2)", "(b)", "•"), or a heading's number ("## 3.1 Results"): not a value.
ENUMERATOR = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\d{1,2}(?:\.\d{1,2}){0,3}[.)]|\(?[a-hivx]{1,4}\)|[-*+•●▪◦‣∙])(?=\s)")
HEADING_NUMBER = re.compile(r"^\s*(?:#{1,6}\s*)?\d{1,2}(?:\.\d{1,2}){0,3}[.)]?(?=\s)")
# Sentence ends: ". " before a capital or an opening bracket, not after an abbreviation or an initial.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])")  # a ";" ends a clause, not a sentence
ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|fig|figs|eq|eqs|no|approx|acc|resp|cf|al|sec|tab|ca|avg|"
                           r"max|min|std|[A-Za-z])\.)$", re.IGNORECASE)


@dataclass
class Passage:
    """Text joined from one or more lines; ``starts[i]`` is where ``lines[i]``'s piece begins in ``text``, and
    ``columns[i]`` the piece's first column in that line."""

    text: str = ""
    lines: list[Line] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)

    def add(self, line: Line, piece: str, column: int) -> None:
        if self.text:
            if self.text.endswith("-") and not self.text.endswith(" -") and piece[:1].islower():
                self.text = self.text[:-1]  # "classifi-" + "cation": a word hyphenated at the line's end
            elif not (self.text.endswith("-") and not self.text.endswith(" -") and piece[:1].isalnum()):
                self.text += " "  # ("5-" + "NN accuracy" stays "5-NN")
        self.starts.append(len(self.text))
        self.lines.append(line)
        self.columns.append(column)
        self.text += piece

    def locate(self, offset: int) -> tuple[Line, int]:
        """The line holding character ``offset`` of the text, and its column there."""
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        return self.lines[i], self.columns[i] + offset - self.starts[i]

    def sentences(self) -> list[tuple[int, int]]:
        """(start, end) of each sentence."""
        out, start = [], 0
        for m in SENTENCE_END.finditer(self.text):
            if ABBREVIATIONS.search(self.text[max(0, m.start() - 8):m.start()]):
                continue
            out.append((start, m.start()))
            start = m.end()
        out.append((start, len(self.text)))
        return [(a, b) for a, b in out if self.text[a:b].strip()]


def passages(lines: Iterable[Line], *, headings: set[int], skip: set[int], starts: dict[int, int] | None = None
             ) -> list[Passage]:
    """The passages of ``lines``; ``headings`` are the line numbers of headings, ``skip`` lines read elsewhere
    (table rows already read as tables), ``starts`` lines that begin a passage after a marker of that many
    characters ("**A.2** Lines, 6 epochs ...": an answer that runs on in the lines below)."""
    starts = starts or {}
    out: list[Passage] = []
    current: Passage | None = None
    in_code = False

    def close() -> None:
        nonlocal current
        if current is not None and current.text.strip():
            out.append(current)
        current = None

    for line in lines:
        text = line.text
        if FENCE.match(text):
            close()
            in_code = not in_code
            continue
        if line.number in skip:
            close()
            continue
        if not text.strip():
            close()
            continue
        marker = starts.get(line.number)
        if marker is not None:
            text = " " * marker + text[marker:]
        lead = (HEADING_NUMBER if line.number in headings else ENUMERATOR).match(text)
        if lead:
            text = " " * lead.end() + text[lead.end():]  # spaces keep the columns
        text = MATH_MARKUP.sub(lambda m: " " * len(m.group(0)), text)  # "lr $= 0.1$" reads as "lr = 0.1"
        text = LEADERS.sub(lambda m: " " * len(m.group(0)), text)  # "C4 ........ 0.9846": a laid-out row
        caption = CAPTION.match(text)  # a caption begins a passage of its own, and may wrap onto the next lines
        alone = (in_code or line.source or line.number in headings or "|" in text
                 or "\t" in text or WIDE_GAP.search(text))
        pieces = _columns(text)
        if alone or len(pieces) > 1:
            close()
            for column, piece in pieces:
                single = Passage()
                single.add(line, piece, column)
                out.append(single)
            continue
        column, piece = pieces[0]
        if current is not None and (lead or marker is not None or caption or BULLET.match(line.text)
                                    or _ends_a_statement(current.text, piece)):
            close()
        if current is None:
            current = Passage()
        current.add(line, piece, column)
    close()
    return out


def _columns(text: str) -> list[tuple[int, str]]:
    """The pieces of a line split at column gaps, with their first columns."""
    out, start = [], 0
    for m in COLUMN_GAP.finditer(text):
        piece = text[start:m.start()]
        if piece.strip():
            out.append((start + len(piece) - len(piece.lstrip()), piece.strip()))
        start = m.end()
    piece = text[start:]
    if piece.strip():
        out.append((start + len(piece) - len(piece.lstrip()), piece.strip()))
    return out or [(0, text.strip())]


def _ends_a_statement(previous: str, piece: str) -> bool:
    # "Test accuracy: 0.97" over "Test recall: 0.95": lines of values, not one wrapped sentence.
    return bool(re.search(r"[\d%)]\s*$", previous)) and piece[:1].isupper() or previous.rstrip().endswith(":")

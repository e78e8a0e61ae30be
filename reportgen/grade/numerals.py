"""Reports written with a decimal comma ("98,74 %", "0,9874") and a thousands dot ("10.000 test images"), as
students in much of Europe write numbers: such a document is read with its numbers rewritten the English way, so
that every later stage sees "98.74 %" and "10000"."""

from __future__ import annotations

import re
from dataclasses import replace

from reportgen.grade.model import Document

COMMA_DECIMAL = re.compile(r"(?<![\d,.])(?:0,\d+|\d{1,3},\d{1,2}(?!\d)|\d{1,3},\d{4,})(?![\d,])")  # 0,97 98,74 1,2345
POINT_DECIMAL = re.compile(r"(?<![\d,.])\d+\.(?:\d{1,2}|\d{4,})(?![\d.])")  # 98.74, 0.9874 (not 10.000)
THOUSANDS_DOT = re.compile(r"(?<=\d)\.(?=\d{3}(?![\d.]))")
DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
MIN_EVIDENCE = 2  # numbers written with a decimal comma before a document is read that way


def decimal_comma(doc: Document) -> bool:
    """Whether the document writes decimals with a comma: more (and at least two) numbers read that way."""
    commas = points = 0
    for line in doc.lines:
        commas += len(COMMA_DECIMAL.findall(line.text))
        points += len(POINT_DECIMAL.findall(line.text))
    return commas >= MIN_EVIDENCE and commas > points


def english_numbers(doc: Document) -> Document:
    """The document with "98,74" read as 98.74 and "10.000" as 10000 (when it writes decimal commas), else itself."""
    if not decimal_comma(doc):
        return doc
    lines = [replace(line, text=DECIMAL_COMMA.sub(".", THOUSANDS_DOT.sub("", line.text))) for line in doc.lines]
    return replace(doc, lines=lines)

"""A report's outline: its headings, whatever the format wrote them as, and the blocks of lines under them.

Headings come as Markdown (``## 2.1 Task1``), as numbered lines (``3 Confusion matrices ...``, ``3.1.2 Results``),
as list items (``2. Learning Rate``) or as labels (``Task 2``, ``Question 3``, ``Part 1``). A heading of one kind
ends the blocks of the headings of the same kind at its depth or deeper; its ancestors give a block its context
("Task 2 > Changing Epochs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportgen.grade.model import Document, Line

MARKDOWN = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(r"^\s*([1-9]\d?(?:\.(?:[1-9]\d?|0)){0,3})(\.|\))?\s+(\S.*)$")
LABELLED = re.compile(r"^\s*(task|part|question|q|section|problem|exercise)\s*[-#]?\s*"
                      r"(\d{1,2}(?:\.\d{1,2})*)\b[\s:.)\-–]*(.*)$",
                      re.IGNORECASE)
CAPTION = re.compile(r"^\s*(figure|fig\.?|table)\s*\d+\s*[:.]", re.IGNORECASE)
LETTER = re.compile(r"[A-Za-z]")
MAX_HEADING_WORDS = 60


@dataclass
class Heading:
    line: Line
    kind: str  # "md" | "num" | "list" | "label"
    depth: int  # numbering depth ("3.1" -> 2) or Markdown level
    number: str  # "3.1", "" when unnumbered
    text: str  # the heading's words without its number or "#" marks
    parents: list[Heading] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.number.split(".")[0] if self.number else ""

    @property
    def path(self) -> str:
        return " > ".join([*(p.title for p in self.parents), self.title])

    @property
    def title(self) -> str:
        if self.kind == "label":
            return self.text  # "Task 2 Hyperparameter settings" already holds its number
        return f"{self.number} {self.text}".strip()


@dataclass
class Block:
    """The lines under one heading, up to the next heading of any kind."""

    heading: Heading | None  # None: the lines before the first heading
    lines: list[Line]

    @property
    def first(self) -> int:
        return self.heading.line.number if self.heading else (self.lines[0].number if self.lines else 0)

    @property
    def last(self) -> int:
        return self.lines[-1].number if self.lines else self.first

    @property
    def context(self) -> str:
        return self.heading.path if self.heading else ""


def parse_heading(line: Line, markdown: bool = True) -> Heading | None:
    """The heading ``line`` is, if it is one. ``markdown``: whether "#" marks headings (not in PDF text, where a
    line starting with "#" is a code comment)."""
    text = line.text.strip()
    if not text or len(text.split()) > MAX_HEADING_WORDS or CAPTION.match(text):
        return None
    md = MARKDOWN.match(text) if markdown else None
    if md:
        inner = md.group(2).strip()
        num = NUMBERED.match(inner) or None
        if num and LETTER.search(num.group(3)):
            number = num.group(1)
            return Heading(line, "num", number.count(".") + 1, number, num.group(3).strip())
        return Heading(line, "md", len(md.group(1)), "", inner) if LETTER.search(inner) else None
    label = LABELLED.match(text)
    if label and (not label.group(3) or LETTER.match(label.group(3))) and "=" not in text:
        return Heading(line, "label", 1, label.group(2), f"{label.group(1).capitalize()} {label.group(2)} "
                       f"{label.group(3)}".strip())
    num = NUMBERED.match(text)
    # "4. 4 correct and 4 wrong predictions" is a list item; "2 32 5 1" is a row of numbers.
    starts_with_words = num and (LETTER.match(num.group(3)) or num.group(2) and LETTER.search(num.group(3)[:12]))
    if starts_with_words and not _reads_like_a_value(num.group(3)):
        number = num.group(1)
        kind = "list" if num.group(2) and "." not in number else "num"
        depth = 1 if kind == "list" else number.count(".") + 1
        return Heading(line, kind, depth, number, num.group(3).strip())
    return None


def _reads_like_a_value(rest: str) -> bool:
    if re.search(r"[%±]|\d\.\d.*\d\.\d", rest):
        return True  # a table row ("1   C3+M3   96.3 ± 0.2 %   23.6 k"), not a heading
    # "1. Accuracy = 0.9861" is a list of values, not a heading; "28 x 28" is not one either.
    return bool(re.search(r"[=:]\s*[-+]?\d", rest)) or bool(re.match(r"(%|[x×]\s*\d)", rest, re.IGNORECASE))


def headings(doc: Document) -> list[Heading]:
    """The document's headings with their parents. A bare numbered line is a heading only when its number fits
    the numbering so far (not "10 epochs were used" in the middle of section 3)."""
    found: list[Heading] = []
    last_top = 0
    markdown = doc.format in ("markdown", "html", "docx")
    for line in doc.lines:
        heading = parse_heading(line, markdown)
        if heading is None:
            continue
        if heading.kind == "num" and not (markdown and MARKDOWN.match(line.text)):
            top = int(heading.top)
            fits = last_top < top <= last_top + 3 if heading.depth == 1 else top == last_top
            if not fits:
                continue
        if heading.kind == "num":
            last_top = max(last_top, int(heading.top))
        found.append(heading)
    stack: list[Heading] = []
    for heading in found:
        # A heading closes the open headings at its rank or below: "Task 2" closes all of Task 1, "3.2" closes
        # "3.1.4", a list item closes the item before it.
        while stack and _rank(stack[-1]) >= _rank(heading):
            stack.pop()
        heading.parents = list(stack)
        stack.append(heading)
    return found


def _rank(heading: Heading) -> int:
    return {"label": 0, "md": heading.depth, "num": heading.depth, "list": 50}[heading.kind]



def blocks(doc: Document, found: list[Heading] | None = None) -> list[Block]:
    """The document cut at every heading."""
    found = headings(doc) if found is None else found
    starts = {h.line.number: h for h in found}
    out: list[Block] = [Block(None, [])]
    for line in doc.lines:
        if line.number in starts:
            out.append(Block(starts[line.number], []))
        else:
            out[-1].lines.append(line)
    return [b for b in out if b.heading is not None or b.lines]

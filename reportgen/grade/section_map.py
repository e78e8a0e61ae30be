"""A report organised by model, not by question, may say where each answer is: "Question 3 → B, C", a bullet list
("- Q2 (line dataset): A.2 and B.2"), or a table ("| 1 – Conv vs MobileNet | A.1, B.1 |"); "Q5: not done" says a
question is not answered anywhere."""

from __future__ import annotations

import re
from collections.abc import Callable

from reportgen.grade.model import Document

MAP_LINE = re.compile(r"\b(?:question|q)\.?\s*(?P<q>\d{1,2}(?:\.\d{1,2})*)\b\s*[):.]?\s*", re.IGNORECASE)
SECTION_REF = r"[A-H](?:\.\d{1,2})*"  # "B", "A.1"
SECTION_REFS = rf"{SECTION_REF}(?:\s*(?:,|and|&|\+)\s*{SECTION_REF})*"
MAP_TARGET = re.compile(r"(?:\s*\([^()]{0,80}\))?\s*"  # "Q2 (line dataset: curves, F-scores): A.2 and B.2"
                        r"(?:→|->|=>|:|–|-|see|in|answered\s+in|under)\s*(?:sections?\s*|§\s*|parts?\s*)?"
                        rf"(?P<t>{SECTION_REFS})\b(?![\w.+-])", re.IGNORECASE)
MAP_ROW_QUESTION = re.compile(r"^\s*(?:(?:question|q)\.?\s*)?(?P<q>\d{1,2}(?:\.\d{1,2})*)\b(?!\.\d|\s*%)",
                              re.IGNORECASE)
MAP_ROW_TARGET = re.compile(rf"^\s*(?:sections?\s*|§\s*|parts?\s*)?(?P<t>{SECTION_REFS})\s*$", re.IGNORECASE)
NOT_DONE = re.compile(r"\bnot\s+(?:done|answered|attempted)|\bmissing\b|\bskipped\b|\bn/a\b", re.IGNORECASE)


def section_map(doc: Document, question_numbered: Callable[[str], str]) -> tuple[dict[str, set[str]], set[str]]:
    """A report organised by model may say where each answer is: "Question 3 → B, C", "Q5: not done". Returns
    section letter -> the questions it answers, and the questions the map says are not done.
    ``question_numbered(number)``: the question a number names, or ""."""
    sections: dict[str, set[str]] = {}
    declined: set[str] = set()
    rows: list[tuple[str, str]] = []  # a map written as a table: "| 1 – Conv vs MobileNet | A.1, B.1 |"
    for line in doc.lines:
        if line.text.count("|") >= 2:
            rows += _map_row(line.text, question_numbered)
            continue
        found = list(MAP_LINE.finditer(line.text))
        for k, m in enumerate(found):
            qid = question_numbered(m.group("q"))
            if not qid:
                continue
            rest = line.text[m.end():found[k + 1].start() if k + 1 < len(found) else m.end() + 80]
            target = MAP_TARGET.match(rest)
            if target and target.group("t").strip():
                for ref in re.findall(SECTION_REF, target.group("t")):
                    sections.setdefault(ref.upper(), set()).add(qid)
            elif NOT_DONE.match(rest.strip(" :–-→>")) or NOT_DONE.search(rest[:20]):
                declined.add(qid)
    if len({qid for qid, _ in rows}) >= 2:  # one such row could be a coincidence; a map has several
        for qid, target in rows:
            if target:
                for ref in re.findall(SECTION_REF, target):
                    sections.setdefault(ref.upper(), set()).add(qid)
            else:
                declined.add(qid)
    return sections, declined


def _map_row(text: str, question_numbered: Callable[[str], str]) -> list[tuple[str, str]]:
    """(question, its sections) from a table row whose first cell names a question and another cell holds only
    section references, or (question, "") where that cell says it was not done."""
    cells = [c.strip(" *_") for c in text.strip().strip("|").split("|")]
    first = MAP_ROW_QUESTION.match(cells[0]) if cells else None
    qid = question_numbered(first.group("q")) if first else None
    if not qid:
        return []
    for cell in cells[1:]:
        target = MAP_ROW_TARGET.match(cell)
        if target:
            return [(qid, target.group("t"))]
        if NOT_DONE.match(cell):
            return [(qid, "")]
    return []


def mapped_questions(number: str, mapped: dict[str, set[str]]) -> set[str]:
    """The questions a map sends to section `number` ("A.1") or to a section above it ("A")."""
    parts = number.upper().split(".")
    return set().union(*(mapped.get(".".join(parts[:k]), set()) for k in range(1, len(parts) + 1)))

"""Questions pasted into a report: students copy the handout's question text above their answer, often as a plain
paragraph, not a heading. A passage of one to a few lines that holds most of a question's words, and little else,
marks the start of that question's answer."""

from __future__ import annotations

import math
import re

from reportgen.grade.model import Document, Line
from reportgen.grade.outline import CAPTION, Heading
from reportgen.grade.words import matched, tokens

MIN_QUESTION_WORDS = 4  # shorter questions ("Report your inferences.") are too common words to spot when pasted
COVER = 0.7  # the passage holds at least this share of the question's words (and of their weight) ...
PRECISION = 0.75  # ... and at least this share of the passage's words are the question's (a paste, not an answer)
VERBATIM = 0.9  # ... and a paste this exact restates the question: its words show none of the expected items
MARGIN = 0.15  # ... and it fits its question this much better than any other
MAX_LINES = 5  # a pasted question wraps over at most this many lines
VALUE = re.compile(r"\d\.\d|\d\s*%")


def pasted_questions(doc: Document, questions, skip: set[int] = frozenset(), idf: dict[str, float] | None = None
                     ) -> list[Heading]:
    """Markers (kind "quote") where a passage pastes or closely paraphrases a question's text. ``questions``: objects
    with ``id``, ``text`` and ``title``; ``skip``: lines that are headings already (a heading that restates a
    question is matched as a heading)."""
    wanted = {q.id: set(tokens(q.text)) for q in questions}
    wanted = {qid: ws for qid, ws in wanted.items() if len(ws) >= MIN_QUESTION_WORDS}
    if not wanted:
        return []
    if idf is None:  # a word's weight is its rarity among the questions: "confusion" tells them apart, "test" not
        df: dict[str, int] = {}
        for ws in wanted.values():
            for w in ws:
                df[w] = df.get(w, 0) + 1
        idf = {w: math.log(1 + len(wanted) / c) for w, c in df.items()}
    lines = doc.lines
    out: list[Heading] = []
    i = 0
    while i < len(lines):
        best = None if lines[i].number in skip else _best_window(lines, i, wanted, skip, idf)
        if best is None:
            i += 1
            continue
        qid, end, text, precision = best
        out.append(Heading(lines[i], "quote", 1, "", text, question=qid, end=lines[end].number,
                           verbatim=precision >= VERBATIM))
        i = end + 1
    return out


def _best_window(lines: list[Line], i: int, wanted: dict[str, set[str]], skip: set[int], idf: dict[str, float]):
    first = lines[i].text.strip()
    if not first or CAPTION.match(first) or lines[i].source or VALUE.search(first):
        return None
    have: set[str] = set()
    words: list[str] = []
    best = None
    for end in range(i, min(len(lines), i + MAX_LINES)):
        text = lines[end].text.strip()
        if not text or lines[end].number in skip and end > i or VALUE.search(text):
            break  # a question states no results: a line with a value is an answer
        found = tokens(text)
        words.extend(found)
        have.update(found)
        if len(words) > 3 * max(len(ws) for ws in wanted.values()):
            break
        scores = sorted(((_fit(ws, have, len(set(words)), idf), qid) for qid, ws in wanted.items()), reverse=True)
        (cover, weighted, precision), qid = scores[0]
        runner_up = scores[1][0][0] if len(scores) > 1 else 0.0
        if min(cover, weighted) >= COVER and precision >= PRECISION and cover - runner_up >= MARGIN:
            if best is None or cover > best[0]:
                best = (cover, qid, end, precision)
    if best is None:
        return None
    _, qid, end, precision = best
    return qid, end, " ".join(line.text.strip() for line in lines[i:end + 1]), precision


def _fit(wanted: set[str], have: set[str], distinct: int, idf: dict[str, float]) -> tuple[float, float, float]:
    hits = matched(wanted, have)
    weight = sum(idf.get(w, 0.0) for w in wanted) or 1.0
    return len(hits) / len(wanted), sum(idf.get(w, 0.0) for w in hits) / weight, len(hits) / max(distinct, 1)

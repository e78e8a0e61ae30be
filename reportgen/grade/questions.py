"""Which parts of a report answer which question of the handout.

Each heading's block (its heading, its ancestors' headings and its first words) is scored against every question
by a weighted F-measure over content words, where a word's weight is its rarity among the questions (``mnist``
or ``roc`` tell questions apart; ``accuracy`` does not). A block is taken as answering the questions it scores
well on; blocks with no match of their own answer what their nearest matched ancestor answers ("1.1 Task1" under
"1 Loss and accuracy curves"). A question is *answered* when its blocks hold substance: a number, a table or
matrix, a figure, or enough prose — not a bare heading.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from reportgen.grade.model import Claim, Document, Matrix
from reportgen.grade.outline import CAPTION, Block, Heading
from reportgen.grade.words import matched, tokens

MATCH_THRESHOLD = 0.34  # a block answers a question from this score up ...
STRONG_MATCH = 0.5  # a heading that scores this by its own words names the question for its whole section
RUNNER_UP = 0.6  # ... and so does any other question scoring at least this share of its best
BODY_WORDS = 80  # words of a block's text that count towards its match, after its headings
IMAGE_MARK = re.compile(r"!\[[^\]]*\]\(|\[image(?::[^\]]*)?\]", re.IGNORECASE)


@dataclass
class Question:
    """A manifest section as grading sees it."""

    id: str
    number: str
    title: str
    text: str
    marks: float
    expects: list[str] = field(default_factory=list)
    required: bool = True
    keywords: list[str] = field(default_factory=list)

    def words(self) -> set[str]:
        return set(tokens(" ".join([self.title, self.text, *self.keywords])))


@dataclass
class Answer:
    """What a report holds for one question."""

    question: Question
    blocks: list[Block] = field(default_factory=list)
    substance: list[str] = field(default_factory=list)  # evidence lines: "why this counts as answered"
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    best: float = 0.0
    owned: set[int] = field(default_factory=set)  # lines of blocks this question matched best: flags there are its
    weak: bool = False  # no block chose it; it took the block it matched best

    @property
    def answered(self) -> bool:
        return bool(self.substance)

    def lines(self) -> set[int]:
        return {line.number for block in self.blocks for line in _block_lines(block)}


def _block_lines(block: Block):
    if block.heading is not None:
        yield block.heading.line
    yield from block.lines


class QuestionMatcher:
    """Scores blocks against questions with weights learnt from the questions themselves."""

    def __init__(self, questions: list[Question]) -> None:
        self.questions = questions
        self.words = {q.id: q.words() for q in questions}
        df: dict[str, int] = {}
        for ws in self.words.values():
            for w in ws:
                df[w] = df.get(w, 0) + 1
        n = max(len(questions), 1)
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.vocabulary = set(df)

    def _weight(self, ws) -> float:
        return sum(self.idf.get(w, 0.0) for w in ws)

    def score(self, question: Question, block_words: set[str], heading_words: set[str] | None = None) -> float:
        """Weighted F-measure of the question's words in the block's. Precision is taken over the heading's words
        when they hold any question word: a heading that says "MNIST" is not about the line dataset, whatever
        words the text under it shares with that question."""
        wanted = self.words[question.id]
        have = matched(self.vocabulary, block_words)  # the block's words that any question uses (typos allowed)
        if not wanted or not have:
            return 0.0
        hits = wanted & have
        if not hits:
            return 0.0
        recall = self._weight(hits) / self._weight(wanted)
        named = matched(self.vocabulary, heading_words or set())
        basis = named if named else have
        precision = self._weight(wanted & basis) / self._weight(basis)
        return 0.0 if precision == 0 else 2 * precision * recall / (precision + recall)

    def block_words(self, block: Block) -> set[str]:
        heading = block.heading
        text = heading.path if heading else ""
        body = " ".join(line.text for line in block.lines)
        return set(tokens(text)) | set(tokens(body)[:BODY_WORDS])

    def heading_scores(self, heading: Heading) -> dict[str, float]:
        """Scores from the heading's own words: a heading that names a question ("Inferences", "3 Confusion
        matrices, recall and accuracy") claims it for everything under it."""
        ws = set(tokens(heading.text))
        out = {q.id: self.score(q, ws) for q in self.questions}
        if heading.number and heading.kind != "list":
            # A heading numbered like the handout's question is a strong hint, if its words agree at all.
            for q in self.questions:
                if q.number and heading.number == q.number and out[q.id] >= 0.1:
                    out[q.id] += 0.3
        return out

    def scores(self, block: Block) -> dict[str, float]:
        """Scores from the block's headings and first words, or its heading's own words, whichever is higher."""
        ws = self.block_words(block)
        path = set(tokens(block.heading.path)) if block.heading else set()
        by_heading = self.heading_scores(block.heading) if block.heading else {}
        return {q.id: max(self.score(q, ws, path), by_heading.get(q.id, 0.0)) for q in self.questions}


def match_questions(doc: Document, blocks: list[Block], questions: list[Question], claims: list[Claim],
                    matrices: list[Matrix], min_words: int) -> dict[str, Answer]:
    matcher = QuestionMatcher(questions)
    answers = {q.id: Answer(q) for q in questions}
    own: dict[int, list[str]] = {}  # heading line -> questions its block matched
    named: dict[int, list[str]] = {}  # heading line -> questions its heading names by itself
    for block in blocks:
        if block.heading is None:
            continue
        line = block.heading.line.number
        own[line] = _best(matcher.scores(block))
        named[line] = _best(matcher.heading_scores(block.heading), STRONG_MATCH, 0.9)
        for qid, s in matcher.scores(block).items():
            answers[qid].best = max(answers[qid].best, s)
    best_block: dict[str, tuple[float, Block]] = {}
    for block in blocks:
        if block.heading is None:
            continue
        if not named.get(block.heading.line.number):  # a heading that names a question is taken
            for qid, s in matcher.scores(block).items():
                if s > best_block.get(qid, (0.0, block))[0]:
                    best_block[qid] = (s, block)
        assigned = _assigned(block.heading, own, named)
        for qid in assigned:
            answers[qid].blocks.append(block)
        if assigned:
            answers[assigned[0]].owned.update(line.number for line in _block_lines(block))
    for qid, answer in answers.items():
        # A question no block chose takes the block it matches best, if that is a match at all: a report that
        # shows the line dataset's confusion matrix inside its "Line dataset" section answers it there.
        if not answer.blocks and qid in best_block and best_block[qid][0] >= MATCH_THRESHOLD:
            answer.blocks.append(best_block[qid][1])
            answer.weak = True
    for answer in answers.values():
        _find_substance(doc, answer, claims, matrices, min_words)
        _find_expected(answer, matcher)
    return answers


def _best(scores: dict[str, float], threshold: float = MATCH_THRESHOLD, runner_up: float = RUNNER_UP) -> list[str]:
    best = max(scores.values(), default=0.0)
    if best < threshold:
        return []
    return [qid for qid, s in scores.items() if s >= max(threshold, runner_up * best)]


def _assigned(heading: Heading | None, own: dict[int, list[str]], named: dict[int, list[str]]) -> list[str]:
    """A block's questions: those its outermost ancestor's heading names, else its own best matches (with those its
    heading names), else those of its nearest ancestor that matched any."""
    if heading is None:
        return []
    for h in heading.parents:
        if named.get(h.line.number):
            return named[h.line.number]
    mine = own.get(heading.line.number, []) + named.get(heading.line.number, [])
    if mine:
        return list(dict.fromkeys(mine))
    for h in reversed(heading.parents):
        if own.get(h.line.number):
            return own[h.line.number]
    return []


def _find_substance(doc: Document, answer: Answer, claims: list[Claim], matrices: list[Matrix],
                    min_words: int) -> None:
    lines = answer.lines()
    if not lines:
        return
    evidence: list[str] = []
    for claim in claims:
        if claim.location.line in lines:
            evidence.append(f"{claim.location}: “{claim.context}”")
            break
    for matrix in matrices:
        if matrix.location.line in lines:
            evidence.append(f"{matrix.location}: a {matrix.rows}×{matrix.cols} confusion matrix")
            break
    pages: set[int] = set()
    words = 0
    for block in answer.blocks:
        if block.heading is not None and block.heading.line.page is not None:
            pages.add(block.heading.line.page)
        for line in block.lines:
            text = line.text.strip()
            if CAPTION.match(text) and len(evidence) < 6:
                evidence.append(f"{line.location}: “{text[:160]}”")
            elif IMAGE_MARK.search(text) and len(evidence) < 6:
                evidence.append(f"{line.location}: an image")
            if line.page is not None:
                pages.add(line.page)
            words += len(text.split())
    for page in sorted(pages):
        if doc.images_per_page.get(page) and len(evidence) < 6:
            evidence.append(f"p. {page}: {doc.images_per_page[page]} figure(s) on the page of the answer")
            break
    if words >= min_words:
        first = next((line for b in answer.blocks for line in b.lines if len(line.text.split()) >= 6), None)
        if first is not None:
            evidence.append(f"{first.location}: {words} words, e.g. “{first.text.strip()[:160]}”")
    heading = next((b.heading for b in answer.blocks if b.heading is not None and _has_text(b)), None)
    heading = heading or answer.blocks[0].heading
    if evidence and heading is not None:
        evidence.insert(0, f"{heading.line.location}: heading “{heading.title[:120]}”")
    answer.substance = evidence


def _has_text(block: Block) -> bool:
    return any(line.text.strip() for line in block.lines) or block.heading.kind != "label"


def _find_expected(answer: Answer, matcher: QuestionMatcher) -> None:
    """Which of the rubric's expected items the answer shows (an item's words, or one of its "|" synonyms). A
    heading that restates the question ("8 Report the accuracy by changing loss functions, batch size, ...") shows
    nothing: only the text under it, sub-headings and captions count."""
    q = answer.question
    if not q.expects:
        return
    have: set[str] = set()
    for block in answer.blocks:
        heading = block.heading
        if heading is not None and matcher.heading_scores(heading).get(q.id, 0.0) < STRONG_MATCH:
            have.update(tokens(heading.text))
        for line in block.lines:
            have.update(tokens(line.text))
    for item in answer.question.expects:
        options = [set(tokens(option)) for option in item.split("|")]
        if any(o and len(matched(o, have)) == len(o) for o in options):
            answer.found.append(item.split("|")[0])
        else:
            answer.missing.append(item.split("|")[0])

"""Which parts of a report answer which question of the handout, and how sure that is.

Every marker's block (see :mod:`reportgen.grade.outline`) is scored against every question by a weighted F-measure
over content words, where a word's weight is its rarity among the questions (``mnist`` or ``roc`` tell questions
apart; ``accuracy`` does not). A block is then given to questions by the strongest evidence it has:

* a pasted question text (the student copied the handout's question above the answer) — confidence 0.95;
* a marker that names a question by its number: "Question 3", "Q3.", "Answer 3", "3)" — 0.9;
* a heading whose own words name a question ("3 Confusion matrices, recall and accuracy") — 0.9;
* a number that matches a question's where the words agree, or a grouping label ("Task 2", "Part 1.2") whose
  answer's words agree — 0.8 ("Task 2" alone, whose words say nothing: 0.55, unclear);
* the block's own words and first lines — 0.5 + score / 2;
* what its nearest matched ancestor answers ("1.1 Task1" under "1 Loss and accuracy curves").

A question is *answered* when it was found with confidence ≥ :data:`CONFIDENT` and its blocks hold substance;
*unclear* when the only passages that may answer it were found with less confidence (a human checks them; no
marks are taken); *missing* when no passage may answer it, or the passage that surely does has nothing in it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from reportgen.grade.model import Claim, Document, Matrix
from reportgen.grade.outline import Block, Heading, normalise_number
from reportgen.grade.section_map import mapped_questions, section_map
from reportgen.grade.substance import find_expected, find_substance
from reportgen.grade.words import matched, tokens

MATCH_THRESHOLD = 0.34  # a block answers a question from this score up ...
STRONG_MATCH = 0.5  # a heading that scores this by its own words names the question for its whole section
RUNNER_UP = 0.6  # ... and so does any other question scoring at least this share of its best
GAP_MATCH = 0.2  # ... or this much, when it is the one section between the sections of the questions around it
CANDIDATE = 0.3  # a block scoring this much may answer a question no block was given to (unclear)
CONFIDENT = 0.6  # a question found with this confidence is answered (or missing) without asking a human
BODY_WORDS = 80  # words of a block's text that count towards its match, after its headings
AGREE = 0.1  # a numbered heading's words agree with the question its number names from this score
TITLE_MATCH = 0.95  # the score of a heading that holds a question's whole title
LEAD_IN = re.compile(r"^\s*(?:\*\*|__)(.{2,60}?)(?:\*\*|__)|^\s*([^.:]{2,40})[.:]\s")  # "**Conclusions.** ..."


@dataclass
class Question:
    """A manifest section as grading sees it."""

    id: str
    number: str
    title: str
    text: str
    marks: float
    expects: list = field(default_factory=list)  # str items, or ExpectedItem (with marks, explain)
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
    weak: bool = False  # no block was given to it; it took the passage it matched best
    confidence: float = 0.0
    candidates: list[str] = field(default_factory=list)  # located passages that may answer it (when unclear)
    explained: bool = True  # for MISSING_EXPLANATION: the items asking for reasons found reasons in prose

    @property
    def status(self) -> str:
        if not self.substance:
            return "missing"
        return "answered" if self.confidence >= CONFIDENT else "unclear"

    @property
    def answered(self) -> bool:
        return self.status == "answered"

    def lines(self) -> set[int]:
        return {line.number for block in self.blocks for line in block_lines(block)}


def block_lines(block: Block):
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
        self.numbers = {normalise_number(q.number): q.id for q in questions if q.number.strip()}
        self.titles = {q.id: set(tokens(q.title)) for q in questions}
        self.shows: dict[int, set[str]] = {}  # heading line -> words for what its block shows (a matrix)

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
        # What the block shows counts like words that say it: a confusion matrix answers "confusion matrices".
        shown = self.shows.get(block.heading.line.number if heading else 0, set())
        return set(tokens(text)) | set(tokens(body)[:BODY_WORDS]) | shown

    def heading_scores(self, heading: Heading) -> dict[str, float]:
        """Scores from the heading's own words (not its number). A heading that holds every word of a question's
        title (of two or more words) names that question: "1. Conv blocks vs MobileNet blocks"."""
        ws = set(tokens(heading.text))
        out = {q.id: self.score(q, ws) for q in self.questions}
        lead = LEAD_IN.match(heading.text)
        lead_words = set(tokens(lead.group(1) or lead.group(2))) if lead else set()
        for q in self.questions:
            title = self.titles[q.id]
            whole = len(title) >= 2 and len(matched(title, ws)) == len(title) and len(ws) <= 2 * len(title) + 2
            if whole or title and lead_words == title:  # "7. **Conclusions.** MobileNet blocks give ..."
                out[q.id] = max(out[q.id], TITLE_MATCH)
        return out

    def scores(self, block: Block) -> dict[str, float]:
        """Scores from the block's headings and first words, or its heading's own words, whichever is higher."""
        ws = self.block_words(block)
        path = set(tokens(block.heading.path)) if block.heading else set()
        by_heading = self.heading_scores(block.heading) if block.heading else {}
        return {q.id: max(self.score(q, ws, path), by_heading.get(q.id, 0.0)) for q in self.questions}

    def question_numbered(self, number: str) -> str:
        """The question a marker's number names: exactly, or its part's question ("3.b" -> question "3")."""
        number = normalise_number(number) if number else ""
        while number:
            if number in self.numbers:
                return self.numbers[number]
            if not re.search(r"\.[a-z]+$", number):
                return ""
            number = number.rsplit(".", 1)[0]
        return ""


MARKER, NAMED, WORDS = 2, 1, 0  # how a block's questions were found, strongest first


GROUPING_LABELS = ("task", "part", "section")
FAMILY_MIN = 3  # a grouping label numbers the questions when it marks at least this many of them ...
FAMILY_SHARE = 0.5  # ... and at least this share of the handout's numbered questions, in order


def numbering_labels(blocks: list[Block], matcher: QuestionMatcher) -> set[str]:
    """Grouping labels ("Task", "Part") that this report uses to number the handout's questions: "Task 1" ...
    "Task 7" over a seven-question handout does; "Task 1" and "Task 2" over thirteen questions group them."""
    numbers: dict[str, list[str]] = {}
    for block in blocks:
        h = block.heading
        if h is not None and h.label in GROUPING_LABELS and h.number:
            numbers.setdefault(h.label, []).append(h.number)
        elif h is not None and h.kind == "list" and h.number and not any(p.kind == "list" for p in h.parents):
            numbers.setdefault("list", []).append(h.number)  # "1. ... 2. ... 8. ...": the answers, in order
    trusted = set()
    for label, found in numbers.items():
        hits = [matcher.question_numbered(n) for n in found]
        named = [q for q in hits if q]
        order = [list(matcher.numbers.values()).index(q) for q in named]
        if len(set(named)) >= max(FAMILY_MIN, FAMILY_SHARE * len(matcher.numbers)) and order == sorted(order):
            trusted.add(label)
    return trusted


def _claims_of(block: Block, matcher: QuestionMatcher, numbering: set[str] = frozenset()
               ) -> tuple[dict[str, float], int]:
    """The questions a block's own marker gives it, with confidences, and how they were found (MARKER: a pasted
    question or a question's number; NAMED: the heading's own words; WORDS: the block's words)."""
    heading = block.heading
    scores = matcher.scores(block)
    by_heading = matcher.heading_scores(heading)
    if heading.kind == "quote" and heading.question:
        return {heading.question: 0.95}, MARKER
    named = _best(by_heading, STRONG_MATCH, 0.9)
    numbered = matcher.question_numbered(heading.number) if heading.number else ""
    if len(heading.numbers) > 1 and (heading.names_a_question or heading.label in numbering):
        several = [q for q in (matcher.question_numbered(n) for n in heading.numbers) if q]
        if several:
            return {qid: 0.9 for qid in several}, MARKER  # "Questions 3 and 4": one answer to both
    if numbered:
        agrees = by_heading[numbered] >= AGREE  # the heading's own words, not what is under it
        contradicted = named and numbered not in named
        if (heading.names_a_question or heading.label in numbering or heading.kind == "list" and "list" in numbering) \
                and not contradicted:
            return {numbered: 0.95 if agrees else 0.9}, MARKER
        if agrees and not contradicted:
            return _own(scores) | {qid: 0.9 for qid in named} | {numbered: 0.85}, MARKER
        if heading.label in ("task", "part", "section") and not contradicted and not _says_anything(by_heading):
            return {numbered: 0.55}, WORDS
    own = _own(scores)
    if named:
        # The heading names these; others its words match as well as them come along ("8 Report what you
        # learned ..., your analysis, ..." answers "Analysis" too).
        return own | {qid: 0.9 for qid in named}, NAMED
    return own, WORDS


def _own(scores: dict[str, float]) -> dict[str, float]:
    return {qid: min(0.9, 0.5 + scores[qid] / 2) for qid in _best(scores)}


def _says_anything(scores: dict[str, float]) -> bool:
    return max(scores.values(), default=0.0) >= AGREE


def match_questions(doc: Document, blocks: list[Block], questions: list[Question], claims: list[Claim],
                    matrices: list[Matrix], min_words: int) -> dict[str, Answer]:
    matcher = QuestionMatcher(questions)
    mapped, declined_by_map = section_map(doc, matcher.question_numbered)
    for block in blocks:
        lines = {line.number for line in block.lines}
        if any(m.location.line in lines for m in matrices):
            matcher.shows[block.heading.line.number if block.heading else 0] = set(tokens("confusion matrix"))
    answers = {q.id: Answer(q) for q in questions}
    own: dict[int, tuple[dict[str, float], int]] = {}  # heading line -> (questions, how found)
    block_scores: dict[int, dict[str, float]] = {}
    numbering = numbering_labels(blocks, matcher)
    for block in blocks:
        if block.heading is None:
            continue
        line = block.heading.line.number
        own[line] = _claims_of(block, matcher, numbering)
        sent_here = mapped_questions(block.heading.number, mapped) if block.heading.label == "letter" else set()
        if sent_here:
            own[line] = {qid: 0.9 for qid in sent_here}, MARKER  # "B. C1+M3" answers 1, 3, 6
        block_scores[line] = matcher.scores(block)
        for qid, s in block_scores[line].items():
            answers[qid].best = max(answers[qid].best, s)
    strongly_taken: set[int] = set()
    for block in blocks:
        if block.heading is None:
            continue
        given = _assigned(block.heading, own)
        for qid, confidence in given.items():
            answers[qid].blocks.append(block)
            answers[qid].confidence = max(answers[qid].confidence, confidence)
        if given:
            first = max(given, key=given.get)
            answers[first].owned.update(line.number for line in block_lines(block))
        if own[block.heading.line.number][1] >= NAMED:
            strongly_taken.add(block.heading.line.number)  # its marker or heading names another question
    _fill_gaps(answers, questions, blocks, block_scores)
    for answer in answers.values():
        if not answer.blocks:
            _take_candidates(answer, blocks, block_scores, strongly_taken)
    for answer in answers.values():
        if _declined(answer) or answer.question.id in declined_by_map and not answer.blocks:
            answer.blocks, answer.confidence = [], 0.9  # "there is nothing for Question 4": surely missing
            continue
        find_substance(doc, answer, claims, matrices, min_words)
        if answer.status == "missing" and answer.weak:
            answer.blocks, answer.confidence = [], 0.0  # a loose match with nothing in it is no candidate
        find_expected(answer, matcher, STRONG_MATCH)
    return answers


DECLINED = re.compile(r"\b(?:nothing|no\s+answer|no\s+results?)\s+(?:for|to|on)\s+(?:question|q|task|exercise|part)\s*"
                      r"(?P<a>\d{1,2}(?:\.\d{1,2})*)|\b(?:question|q|task|exercise|part)\s*(?P<b>\d{1,2}(?:\.\d{1,2})*)\s+"
                      r"(?:was|is|has\s+been)\s+(?:not|never)\s+(?:done|attempted|answered|finished)|"
                      r"\b(?:skipped|did(?:n't|\s+not)\s+(?:do|answer|attempt))\s+(?:question|q|task|exercise|part)\s*"
                      r"(?P<c>\d{1,2}(?:\.\d{1,2})*)", re.IGNORECASE)


def _declined(answer: Answer) -> bool:
    """Whether the answer's own text says its question was not done ("there is nothing for Question 4")."""
    number = normalise_number(answer.question.number) if answer.question.number else ""
    if not number:
        return False
    for block in answer.blocks:
        for line in block_lines(block):
            for m in DECLINED.finditer(line.text):
                if normalise_number(m.group("a") or m.group("b") or m.group("c")) == number:
                    return True
    return False


def _fill_gaps(answers: dict[str, Answer], questions: list[Question], blocks: list[Block],
               block_scores: dict[int, dict[str, float]]) -> None:
    """A question no section was given to, between two questions that were, takes the one section marked like
    theirs between their sections when that section matches it better than any other question: reports follow
    the handout's order ("**Q:** BatchNorm before or after the ReLU?" between the optimizer and the confusion
    answers)."""
    given = {b.heading.line.number for a in answers.values() for b in a.blocks}
    first = {q.id: min(b.heading.line.number for b in answers[q.id].blocks) for q in questions
             if answers[q.id].blocks and answers[q.id].confidence >= CONFIDENT}
    by_line = {b.heading.line.number: b for b in blocks if b.heading is not None}
    order = [q.id for q in questions]
    for k, qid in enumerate(order):
        before = [first[q] for q in order[:k] if q in first]
        after = [first[q] for q in order[k + 1:] if q in first]
        if answers[qid].blocks or not before or not after or max(before) >= min(after):
            continue
        marked = (by_line[max(before)].heading.kind, by_line[max(before)].heading.label)
        free = [line for line, b in by_line.items() if max(before) < line < min(after) and line not in given
                and (b.heading.kind, b.heading.label) == marked]
        if len(free) != 1:
            continue
        scores = block_scores[free[0]]
        if scores[qid] >= GAP_MATCH and scores[qid] >= max(scores.values()):
            answers[qid].blocks.append(by_line[free[0]])
            answers[qid].confidence = CONFIDENT
            answers[qid].owned.update(line.number for line in block_lines(by_line[free[0]]))


def _take_candidates(answer: Answer, blocks: list[Block], block_scores: dict[int, dict[str, float]],
                     taken: set[int]) -> None:
    """A question no block was given to takes the passages that match it at all, except ones whose marker or
    heading names another question (a section may answer two questions; a question's own section answers only
    it). The grade sheet shows them; a human decides."""
    qid = answer.question.id

    def plausible(block: Block) -> bool:
        line = block.heading.line.number
        scores = block_scores[line]
        if line in taken or scores[qid] < CANDIDATE:
            return False
        return True

    ranked = sorted(((block_scores[b.heading.line.number][qid], b) for b in blocks
                     if b.heading is not None and plausible(b)), key=lambda item: -item[0])
    if not ranked:
        return
    answer.weak = True
    answer.blocks = [b for _, b in ranked[:2]]
    answer.confidence = min(ranked[0][0], CONFIDENT - 0.01)
    answer.owned.update(line.number for line in block_lines(ranked[0][1]))
    answer.candidates = [f"{b.heading.line.location}: “{b.heading.title[:120]}” (match {s:.2f})" for s, b in ranked[:3]]


def _best(scores: dict[str, float], threshold: float = MATCH_THRESHOLD, runner_up: float = RUNNER_UP) -> list[str]:
    best = max(scores.values(), default=0.0)
    if best < threshold:
        return []
    return [qid for qid, s in scores.items() if s >= max(threshold, runner_up * best)]


def _assigned(heading: Heading, own: dict[int, tuple[dict[str, float], int]]) -> dict[str, float]:
    """A block's questions with confidences: those its own question marker names; else those its outermost
    ancestor names by marker or by its heading's words (a question's heading holds for its whole answer: "1.1
    Mobilenet Block Architecture" under "1 Compare ... vs MobileNet ..."); else its heading's or its own words'
    matches; else those of its nearest ancestor that matched any."""
    mine, how = own.get(heading.line.number, ({}, WORDS))
    if mine and how == MARKER:
        return mine
    for h in heading.parents:
        theirs, their_how = own.get(h.line.number, ({}, WORDS))
        if theirs and their_how >= NAMED:
            return theirs
    if mine:
        return mine
    for h in reversed(heading.parents):
        theirs, _ = own.get(h.line.number, ({}, WORDS))
        if theirs:
            return {qid: c * 0.95 for qid, c in theirs.items()}
    return {}

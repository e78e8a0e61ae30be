"""A report's outline: its question markers, whatever the format wrote them as, and the blocks of lines under them.

Markers come as Markdown headings (``## 2.1 Task1``, ``### Question 3``), numbered lines (``3 Confusion matrices``,
``3.1.2 Results``), list items (``2. Learning Rate``, ``3) ...``), labels (``Task 2``, ``Question 3``, ``Q3.``,
``Problem 2``, ``Part 1.2``, ``Question 1.1 a)``, ``Answer 4:``), sub-parts (``(b)``, ``b)``) and bold lines
(``**Results**``). A marker closes the open markers of its rank or below; its ancestors give a block its context
("Task 2 > Changing Epochs"). Numbers are normalised ("Q3(b)" -> ``3.b``) so that they compare with the
manifest's section numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportgen.grade.model import Document, Line

MARKDOWN = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(r"^\s*([1-9]\d?(?:\.(?:[1-9]\d?|0)){0,3})(\.|\))?\s+(\S.*)$")
SUB_LETTER = r"(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)"
# "Question 3", "Q3.", "Problem 2", "Part 1.2", "Question 1.1 a)", "Q3(b)", "Answer 4:", "Ex. 2"
ROMAN = r"(?=[IVX])(?:X{0,2}(?:IX|IV|V?I{0,3}))"  # I .. XXIX, upper case: "Question IV", "II."
# Label words, English and some others students write in ("Aufgabe 2", "Ejercicio 3", "Opgave 1").
FOREIGN_LABELS = ("aufgabe|aufgaben|teilaufgabe|frage|fragen|übung|uebung|ejercicio|pregunta|tarea|exercice|"
                  "opgave|oppgave|uppgift|zadanie|esercizio|domanda|vraag|opdracht")
LABEL_NUMBER = rf"(?:\d{{1,2}}(?:\.\d{{1,2}})*|(?-i:{ROMAN})(?=[\s.:)\-–,&]|$))"
LABELLED = re.compile(
    rf"^\s*(tasks?|parts?|questions?|ques\.?|qn\.?|q|sections?|problems?|prob\.?|exercises?|ex\.?|answers?|ans\.?|"
    rf"{FOREIGN_LABELS})\s*[-#.]?\s*"
    rf"({LABEL_NUMBER}(?:\s*(?:,|&|\+|and|und|y|et)\s*{LABEL_NUMBER})*)"  # "Questions 3 and 4", "Q 12 & 13"
    rf"(?:\s*\.?\s*\(?({SUB_LETTER})\)|({SUB_LETTER})(?![\w]))?"
    r"(?![\w.]\d)[\s:.)\-–]*(.*)$",
    re.IGNORECASE)
# A marker in bold at the start of a paragraph that goes on with the answer: "**2.** The confusion matrix ...".
DOTTED_LETTER = re.compile(r"[A-H](?:\.\d{1,2})+")  # "A.2": the second part of section A
INLINE_BOLD = re.compile(r"^\s*(?:\*\*|__)(?=\S)(.{1,30}?)(?<=\S)(?:\*\*|__)\s*[:.)\-–]?\s+(\S.*)$")
ROMAN_HEADING = re.compile(rf"^\s*((?-i:{ROMAN}))[.)](?:\s+((?:[A-Z]|[a-z]{{1,2}}-?[A-Z]).*))?$")  # "VII. t-SNE ..."
# A question written out as "Q: ..." or "**Q:** ..." (FAQ style): its words say which question it is.
ASKED = re.compile(r"^\s*(?:\*\*|__)?(?:q|question)\s*[:.](?:\*\*|__)?\s*(\S.{3,})$", re.IGNORECASE)
# A sub-part of the question above: "(b)", "b)", "(iii)".
SUB_PART = re.compile(rf"^\s*\(?({SUB_LETTER})\)\s*(\S.*)?$")
# A number alone, as a marker: "3.", "3)", "(3)", "2(b)" (a bare "3" is more often a page number).
NUMBER_ONLY = re.compile(rf"^\s*(?:\((\d{{1,2}}(?:\.\d{{1,2}})*)\)|(\d{{1,2}}(?:\.\d{{1,2}})*)"
                         rf"(?:\s*\(?({SUB_LETTER})\))?[.)])\s*$")
BOLD = re.compile(r"^\s*(?:\*\*|__)(?=\S)(.+?)(?<=\S)(?:\*\*|__)\s*:?\s*$")
BRACKETED = re.compile(r"^\[(\d{1,2}(?:\.\d{1,2})*)\]\s*[:.)\-–]?\s*(.*)$")  # "[3] Confusion matrices"
LETTERED = re.compile(r"^([A-H](?:\.\d{1,2})+|[A-H](?=[.)]))[.)]?\s+(\S.{0,80})$")  # "B. C1+M3", "C) …", "A.1 Results"
# "Figure 3: ...", "*Figure 3 – ...*", "Figures 8–10 - ...", "Table 2. ..."
CAPTION = re.compile(r"^\s*[*_]{0,2}\s*(figures?|figs?\.?|tables?)\s*\d+(?:\s*[–-]\s*\d+)?\s*(?:[:.]|\s[–—-]\s)",
                     re.IGNORECASE)
LETTER = re.compile(r"[A-Za-z]")
TOC_ENTRY = re.compile(r"[A-Za-z)](?:\s*\.){3,}\s*\d{1,3}$|[A-Za-z)]\s{4,}\d{1,3}$")
MAX_HEADING_WORDS = 60
MAX_SUB_PART_WORDS = 25  # a lettered line longer than this is a paragraph of a list, not a marker
# Labels that name a question of the handout by its number (others, like "Task" or "Part", may group questions).
ANSWER_GAP = re.compile(r"[.:)]?(?:\s{2,}|\s*[:.)]\s)")  # "Ans. 3  H = 100": the answer after a gap or a colon
QUESTION_LABELS = ("question", "ques", "qn", "q", "problem", "prob", "exercise", "ex", "answer", "ans", "number")
INLINE_WORDS = 6  # a label followed by this many words on its line starts its answer there ("Q3. The accuracy ...")


@dataclass
class Heading:
    line: Line
    kind: str  # "md" | "num" | "list" | "label" | "sub" | "bold" | "quote" (a pasted question's text)
    depth: int  # numbering depth ("3.1" -> 2) or Markdown level
    number: str  # normalised: "3.1", "3.b", "" when unnumbered
    text: str  # the heading's words without its number or "#" marks
    parents: list[Heading] = field(default_factory=list)
    label: str = ""  # the label word, lower-case: "question", "task", ... ("" for none)
    question: str = ""  # kind "quote": the question whose text it pastes
    end: int = 0  # kind "quote": the last line of the pasted text (it may wrap)
    verbatim: bool = False  # kind "quote": the question's words and almost nothing else (its words show nothing)
    numbers: list[str] = field(default_factory=list)  # every question number it names ("Questions 3 and 4")
    inline: bool = False  # the answer starts on the marker's own line ("**2.** The confusion matrix shows ...")

    @property
    def top(self) -> str:
        return self.number.split(".")[0] if self.number else ""

    @property
    def path(self) -> str:
        return " > ".join([*(p.title for p in self.parents), self.title])

    @property
    def title(self) -> str:
        if self.kind in ("label", "quote", "sub", "bold") or self.label:
            return self.text  # "Task 2 Hyperparameter settings" already holds its number
        return f"{self.number} {self.text}".strip()

    @property
    def names_a_question(self) -> bool:
        """Whether its number is a question's number by its label ("Question 3", "Q3", "Answer 3")."""
        return self.label in QUESTION_LABELS


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


def roman_value(text: str) -> int:
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for a, b in zip(text, text[1:] + " ", strict=True):
        total += -values[a] if values.get(b, 0) > values[a] else values[a]
    return total


def normalise_number(number: str, sub: str = "") -> str:
    """ "3" -> "3", "1.1" + "a" -> "1.1.a", "2b" -> "2.b", "2(b)" -> "2.b", "Q3." -> "3", "IV" -> "4" """
    if re.fullmatch(ROMAN, number.strip()) and number.strip():
        number = str(roman_value(number.strip()))
    text = number.strip().lower().strip(".)( ")
    text = re.sub(r"^(?:q|question|task|part|problem)\s*", "", text)
    text = re.sub(r"\s*\(?([a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)?$", r".\1", text) if re.search(r"\d", text) else text
    text = re.sub(r"[\s.]+", ".", text).strip(".")
    return f"{text}.{sub.lower()}" if sub else text


def marker_length(text: str) -> int:
    """How many characters an inline marker takes at the start of ``text`` ("**A.2** ", "Question 3: ")."""
    bold = INLINE_BOLD.match(text)
    if bold:
        return bold.start(2)
    labelled = LABELLED.match(text)
    return labelled.start(5) if labelled else 0


def _label(line: Line, text: str, depth: int = 1, kind: str = "label") -> Heading | None:
    label = LABELLED.match(text)
    if not label or (label.group(5) and not LETTER.match(label.group(5))):
        return None
    word = label.group(1).lower().rstrip(".")
    word = {"questions": "question", "tasks": "task", "parts": "part", "sections": "section", "problems": "problem",
            "exercises": "exercise", "answers": "answer"}.get(word, word)
    if "=" in text and not (word in QUESTION_LABELS and ANSWER_GAP.match(text, label.end(2))):
        return None  # "Task 1 accuracy = 0.97" states a value; "Ans. 3  H = 100, lr 0.1, ..." begins an answer
    if word in FOREIGN_LABELS.split("|"):
        word = "exercise"  # a task of the handout, by its number
    sub = label.group(3) or label.group(4) or ""
    numbers = re.findall(LABEL_NUMBER, label.group(2))
    number = normalise_number(numbers[0], sub)
    shown = f"{label.group(1).capitalize()} {label.group(2)}{(' ' + sub + ')') if sub else ''} {label.group(5)}"
    heading = Heading(line, kind, depth, number, " ".join(shown.split()), label=word)
    heading.numbers = [number, *(normalise_number(n) for n in numbers[1:])]
    return heading


def parse_heading(line: Line, markdown: bool = True) -> Heading | None:
    """The heading ``line`` is, if it is one. ``markdown``: whether "#" and "**" mark headings (not in PDF text,
    where a line starting with "#" is a code comment)."""
    text = line.text.strip()
    if not text or len(text.split()) > MAX_HEADING_WORDS or CAPTION.match(text):
        return None
    alone = NUMBER_ONLY.match(text)
    if alone:
        number = normalise_number(alone.group(1) or alone.group(2), alone.group(3) or "")
        return Heading(line, "num", number.count(".") + 1, number, "", label="number")
    md = MARKDOWN.match(text) if markdown else None
    if md:
        inner = md.group(2).strip().strip("*_ ").strip()
        alone = NUMBER_ONLY.match(inner) or re.fullmatch(r"(\d{1,2}(?:\.\d{1,2})*)", inner)
        if alone:
            return Heading(line, "md", len(md.group(1)), normalise_number(alone.group(1) or alone.group(2)), "",
                           label="number")
        roman = ROMAN_HEADING.match(inner + (" " if inner.endswith((".", ")")) else ""))
        if roman and roman.group(1):
            return Heading(line, "md", len(md.group(1)), str(roman_value(roman.group(1))),
                           (roman.group(2) or "").strip(), label="" if roman.group(2) else "number")
        bracketed = BRACKETED.match(inner)
        if bracketed:  # "## [3] Confusion matrices": the question's number in brackets
            return Heading(line, "md", len(md.group(1)), normalise_number(bracketed.group(1)),
                           bracketed.group(2).strip(), label="number")
        lettered = LETTERED.match(inner)
        if lettered:  # "## B. C1+M3": a lettered section (a map may say which questions it answers)
            return Heading(line, "md", len(md.group(1)), lettered.group(1), lettered.group(2).strip(),
                           label="letter")
        labelled = _label(line, inner, len(md.group(1)), "md")
        if labelled is not None:
            return labelled
        num = NUMBERED.match(inner) or None
        if num and LETTER.search(num.group(3)):
            number = num.group(1)
            return Heading(line, "num", number.count(".") + 1, number, num.group(3).strip())
        return Heading(line, "md", len(md.group(1)), "", inner) if LETTER.search(inner) else None
    inline = INLINE_BOLD.match(text) if markdown and not BOLD.match(text) else None
    if inline:
        marker = inline.group(1).strip().rstrip(":.)")
        number = NUMBER_ONLY.match(marker + ".") or re.fullmatch(r"\(?(\d{1,2}(?:\.\d{1,2})*)\)?", marker)
        labelled = None if number else _label(line, marker, 1, "bold")
        if not number and not labelled and DOTTED_LETTER.fullmatch(marker):
            labelled = Heading(line, "bold", 1, marker.upper(), "", label="letter")  # "**A.2** Lines, 6 epochs"
        if number or labelled:
            heading = labelled or Heading(line, "bold", 1, normalise_number(number.group(1) or number.group(2) or ""),
                                          "", label="number")
            heading.inline = True
            return heading
    bold = BOLD.match(text) if markdown else None
    if bold:
        inner = bold.group(1).strip().rstrip(":")
        alone = NUMBER_ONLY.match(inner) or re.fullmatch(r"(\d{1,2}(?:\.\d{1,2})*)", inner)
        if alone:
            return Heading(line, "bold", 1, normalise_number(alone.group(1)), "", label="number")
        labelled = _label(line, inner, 1, "bold")
        if labelled is not None:
            return labelled
        num = NUMBERED.match(inner)
        if num and LETTER.search(num.group(3)):
            return Heading(line, "bold", 1, num.group(1), num.group(3).strip())
        return Heading(line, "bold", 1, "", inner) if LETTER.search(inner) and len(inner.split()) <= 12 else None
    labelled = _label(line, text)
    if labelled is not None:
        rest = LABELLED.match(text).group(5)
        long = len(rest.split()) >= INLINE_WORDS
        if long and labelled.label not in QUESTION_LABELS and re.match(r"^\s*\S+\s*\S*\s*:", text):
            return None  # "Task 1: Linear(784, 128) - ReLU - ...": a labelled line of an answer, not a section
        labelled.inline = long and labelled.label in QUESTION_LABELS
        return labelled
    asked = ASKED.match(text)
    if asked and LETTER.search(asked.group(1)):
        return Heading(line, "label", 1, "", asked.group(1).strip("*_ ").strip(), label="q")
    roman = ROMAN_HEADING.match(text)
    if roman and roman.group(1) and (roman.group(2) is None or len(roman.group(2).split()) <= 15):
        number = str(roman_value(roman.group(1)))
        return Heading(line, "num", 1, number, (roman.group(2) or "").strip(), label="number" if not roman.group(2)
                       else "")
    sub = SUB_PART.match(text)
    if sub and len(text.split()) <= MAX_SUB_PART_WORDS and not _reads_like_a_value(sub.group(2) or ""):
        return Heading(line, "sub", 1, sub.group(1).lower(), text)
    if TOC_ENTRY.search(text):
        return None  # "3.1 Learning curves . . . . 2": the table of contents points at the heading, it is not one
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
    if re.search(r"[%±]|\d\.\d.*\d\.\d", rest) and len(rest.split()) < 12:
        return True  # a table row ("1   C3+M3   96.3 ± 0.2 %   23.6 k"), not a heading
    # "1. Accuracy = 0.9861" is a list of values, not a heading (a question pasted after its number may hold
    # "p = 0.2" further on); "28 x 28" is not one either.
    return bool(re.search(r"[=:]\s*[-+]?\d", " ".join(rest.split()[:4]))) \
        or bool(re.match(r"(%|[x×]\s*\d)", rest, re.IGNORECASE))


def headings(doc: Document, extra: list[Heading] | None = None) -> list[Heading]:
    """The document's headings with their parents (``extra``: markers found otherwise, e.g. pasted question texts).
    A bare numbered line is a heading only when its number fits the numbering so far (not "10 epochs were used"
    in the middle of section 3); a sub-part only under a marker it can belong to."""
    found: list[Heading] = []
    last_top = 0
    markdown = doc.format in ("markdown", "html", "docx", "notebook")
    covered = {n for h in extra or () for n in range(h.line.number, max(h.end, h.line.number) + 1)}
    extra_at = {h.line.number: h for h in extra or ()}
    parent_number = ""
    for line in doc.lines:
        if line.number in extra_at:
            found.append(extra_at[line.number])
            continue
        if line.number in covered or line.source:
            continue  # (printed output and text read from images are not the author's headings)
        heading = parse_heading(line, markdown)
        if heading is None:
            continue
        if heading.kind == "num" and heading.label != "number" and not (markdown and MARKDOWN.match(line.text)):
            top = int(heading.top)
            # ("1.1 ..." may open section 1 without a heading "1" of its own)
            fits = last_top < top <= last_top + 3 if heading.depth == 1 else last_top <= top <= last_top + 1
            if not fits:
                continue
        if heading.kind == "num":
            last_top = max(last_top, int(heading.top))
        if heading.kind == "sub":
            if not parent_number:
                continue  # "(a)" with no numbered marker above it: a list, not a question's part
            heading.number = f"{parent_number}.{heading.number}"
        elif heading.number:
            parent_number = heading.number.rsplit(".", 1)[0] if re.search(r"\.[a-z]+$", heading.number) \
                else heading.number
        found.append(heading)
    stack: list[Heading] = []
    for heading in found:
        # A heading closes the open headings at its rank or below: "Task 2" closes all of Task 1, "3.2" closes
        # "3.1.4", a list item closes the item before it. Another file of a bundle starts afresh.
        if stack and stack[-1].line.file != heading.line.file:
            stack = []
        while stack and _rank(stack[-1]) >= _rank(heading):
            stack.pop()
        heading.parents = list(stack)
        stack.append(heading)
    return found


def _rank(heading: Heading) -> float:
    if heading.kind == "quote":
        return 1.5  # a pasted question holds what follows, up to the next top-level heading or marker
    if heading.kind == "label" or heading.kind == "num" and heading.label == "number":
        return 0  # a question's marker opens its answer: what follows belongs to it up to the next marker
    return {"md": heading.depth, "num": heading.depth, "bold": 7, "list": 50, "sub": 60}[heading.kind]


def blocks(doc: Document, found: list[Heading] | None = None) -> list[Block]:
    """The document cut at every heading (a pasted question's wrapped lines belong to its heading)."""
    found = headings(doc) if found is None else found
    starts = {h.line.number: h for h in found}
    inside = {n for h in found if h.kind == "quote" for n in range(h.line.number + 1, h.end + 1)}
    out: list[Block] = [Block(None, [])]
    for line in doc.lines:
        if line.number in starts:
            heading = starts[line.number]
            out.append(Block(heading, [line] if heading.inline else []))
        elif line.number not in inside:
            out[-1].lines.append(line)
    return [b for b in out if b.heading is not None or b.lines]

"""Whether an answer holds anything, and which of the rubric's expected items it shows.

Substance, broadly: a number the report states (a claim, a confusion matrix, a line of values, a notebook's printed
output), a figure (a caption such as "Figure 3:" or a sub-figure's "(b) mnist-1.2.2", an image), an equation (a
derivation question is answered by math), or enough prose. A bare heading is not an answer.

An expected item that asks for reasons ("reasoning", "explain why ...") is shown by prose that gives reasons, not
by its words: a table alone does not explain anything.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reportgen.grade.model import Claim, Document, Line, Matrix
from reportgen.grade.outline import CAPTION
from reportgen.grade.words import matched, tokens

if TYPE_CHECKING:
    from reportgen.grade.questions import Answer, QuestionMatcher

IMAGE_MARK = re.compile(r"!\[[^\]]*\]\(|\[image(?::[^\]]*)?\]", re.IGNORECASE)
SUB_FIGURE = re.compile(r"^\s*\(([a-h])\)\s+\S.{0,80}$")
# LaTeX or typed math: "$$ ... $$", "\frac{...}", "\begin{align}", "∂L/∂w = ...", "dL/dw = x - y".
EQUATION = re.compile(r"\$[^$]+\$|\\(?:frac|partial|sum|prod|nabla|begin\{(?:equation|align|eqnarray|gather)|cdot|"
                      r"sigma|theta|mathbf|hat|left|right|sqrt)\b|[∂∑∏∇√≈≤≥σθ]|\b[dδ][A-Za-z]\w*\s*/\s*[dδ][A-Za-z]\w*|"
                      r"^\s*[A-Za-z][\w^{}']*(?:\([^)]*\))?\s*=\s*[^=]*[-+*/^][^=]*$")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
MAX_EVIDENCE = 6
# Under a marker that surely names the question ("Q4.", "Part 4"), a sentence of this many words answers it: a
# short conclusion is a conclusion; a human judges how good it is.
SURE = 0.85
SHORT_ANSWER_WORDS = 12
SENTENCE = re.compile(r"[A-Za-z][^.!?]{8,}[.!?](?:\s|$)")
# An expected item that asks for reasons.
ASKS_FOR_REASONS = re.compile(r"\b(?:reasons?|reasoning|why|explain\w*|justif\w*|discuss\w*|analys[ie]s|analy[sz]e|"
                              r"interpret\w*|comments?|insights?|observations?|conclusions?|inferences?)\b",
                              re.IGNORECASE)
# Words of a sentence that gives a reason or draws a conclusion.
REASON_CUE = re.compile(
    r"\b(?:because|since|due\s+to|as\s+a\s+result|therefore|thus|hence|so\s+that|this\s+(?:is|shows|means|suggests|"
    r"indicates|happens|could|might|may)|which\s+(?:means|shows|suggests|explains|indicates|leads?|causes?)|"
    r"reasons?|explain\w*|caus\w*|lead(?:s|ing)?\s+to|led\s+to|results?\s+in|resulting|helps?|allows?|prevents?|"
    r"avoid\w*|overfit\w*|underfit\w*|generali[sz]\w*|capacity|converg\w*|regulari[sz]\w*|suggests?|indicates?|"
    r"implies|likely|probably|expected|we\s+(?:observe|see|notice|conclude|believe|think|found)|observed|"
    r"better|worse|higher|lower|fewer|more\s+(?:parameters|layers|data|epochs))\b", re.IGNORECASE)
MIN_REASON_WORDS = 8  # a sentence this long with a reason cue explains something
# A placeholder where an answer should be: "TODO", "not done", "ran out of time", "will hand in later".
NON_ANSWER = re.compile(r"\b(?:todo|tbd|tba|to\s+do|not\s+(?:yet\s+)?(?:done|finished|implemented|attempted|answered)|"
                        r"did(?:n't|\s+not)\s+(?:get|manage|have\s+time|finish|do)|ran\s+out\s+of\s+time|no\s+time|"
                        r"skipped|will\s+(?:add|do|hand\s+in|follow|update)|coming\s+soon|n/a|work\s+in\s+progress|"
                        r"nothing\s+(?:here|yet)|left\s+out)\b", re.IGNORECASE)
NON_ANSWER_WORDS = 40  # ... in an answer this short with nothing else in it


def _lines(answer: Answer):
    from reportgen.grade.questions import block_lines

    seen: set[int] = set()
    for block in answer.blocks:
        for line in block_lines(block):
            if line.number not in seen:
                seen.add(line.number)
                yield line


def find_substance(doc: Document, answer: Answer, claims: list[Claim], matrices: list[Matrix],
                   min_words: int) -> None:
    """Fill ``answer.substance`` with located evidence of what the answer holds (empty: nothing)."""
    lines = answer.lines()
    if not lines:
        return
    evidence: list[str] = []

    def add(text: str) -> None:
        if len(evidence) < MAX_EVIDENCE:
            evidence.append(text)

    claim = next((c for c in claims if c.location.line in lines), None)
    if claim is not None:
        add(f"{claim.location}: “{claim.context}”")
    matrix = next((m for m in matrices if m.location.line in lines), None)
    if matrix is not None:
        add(f"{matrix.location}: a {matrix.rows}×{matrix.cols} confusion matrix")
    pages: set[int] = set()
    words = 0
    own: list[str] = []  # the answer's own prose: not its headings, nor lines that restate the question
    seen_kinds: set[str] = set()
    markers = {b.heading.line.number: b.heading for b in answer.blocks if b.heading is not None}
    asked = set(tokens(f"{answer.question.title} {answer.question.text}"))
    for line in _lines(answer):
        text = line.text.strip()
        if line.page is not None:
            pages.add(line.page)
        marker = markers.get(line.number)
        kind = _kind(line, text) if marker is None or marker.kind == "sub" else ""  # a heading's own number is not one
        if kind and kind not in seen_kinds:
            seen_kinds.add(kind)
            add(f"{line.location}: {kind}" + (f" “{text[:160]}”" if kind in ("a caption", "an equation",
                                                                                "printed output") else ""))
        if (marker is None or marker.inline) and not _restates(text, asked):
            words += len(text.split())
            own.append(text)
    if not claim and not matrix and not seen_kinds & {"a caption", "an image", "an equation", "printed output",
                                                      "numbers"} and words < NON_ANSWER_WORDS \
            and NON_ANSWER.search(" ".join(own)):
        return  # "TODO - need to download MNIST first": a placeholder, not an answer
    for page in sorted(pages):
        if doc.images_per_page.get(page):
            add(f"p. {page}: {doc.images_per_page[page]} figure(s) on the page of the answer")
            break
    prose = " ".join(line.text for b in answer.blocks for line in b.lines)
    short_but_sure = answer.confidence >= SURE and words >= SHORT_ANSWER_WORDS and SENTENCE.search(prose) is not None
    if words >= min_words or short_but_sure:
        first = next((line for line in _lines(answer) if len(line.text.split()) >= 3), None)
        if first is not None:
            add(f"{first.location}: {words} words, e.g. “{first.text.strip()[:160]}”")
    heading = next((b.heading for b in answer.blocks if b.heading is not None and _has_text(b)), None)
    heading = heading or (answer.blocks[0].heading if answer.blocks else None)
    if evidence and heading is not None:
        evidence.insert(0, f"{heading.line.location}: heading “{heading.title[:120]}”")
    answer.substance = evidence


def _restates(text: str, asked: set[str]) -> bool:
    """A line that is mostly the question's own words (a heading that wraps, a pasted question): not the answer."""
    ws = tokens(text)
    return len(ws) >= 3 and sum(w in asked for w in ws) >= 0.7 * len(ws)


def _kind(line: Line, text: str) -> str:
    """What kind of substance a line is, if any."""
    if not text:
        return ""
    if CAPTION.match(text) or SUB_FIGURE.match(text):
        return "a caption"
    if IMAGE_MARK.search(text):
        return "an image"
    if line.source == "output" and NUMBER.search(text):
        return "printed output"
    if EQUATION.search(text):
        return "an equation"
    if len(NUMBER.findall(text)) >= 2 and not re.match(r"^\s*#", text):
        return "numbers"
    return ""


def _has_text(block) -> bool:
    return any(line.text.strip() for line in block.lines) or block.heading.kind != "label"


def item_text(item) -> str:
    return item if isinstance(item, str) else item.text


def asks_for_reasons(item) -> bool:
    explicit = getattr(item, "explain", None)
    return bool(explicit) if explicit is not None else bool(ASKS_FOR_REASONS.search(item_text(item)))


def reasons_given(answer: Answer) -> list[str]:
    """Sentences of the answer's prose that give reasons (not headings, captions, table rows or code)."""
    prose = []
    for line in _lines(answer):
        text = line.text.strip()
        table_row = "|" in text or "\t" in text or re.search(r"\S\s{4,}\S", text) and len(NUMBER.findall(text)) >= 2
        if not text or line.source or CAPTION.match(text) or table_row or text.startswith(("#", "`")):
            continue
        prose.append((line, " ".join(text.split())))
    found = []
    for k, (line, text) in enumerate(prose):
        # A sentence runs on into the next line ("Normalising before the ReLU works better. The" / "ReLU then ...")
        joined = f"{text} {prose[k + 1][1]}" if k + 1 < len(prose) else text
        if REASON_CUE.search(text) and len(joined.split()) >= MIN_REASON_WORDS:
            found.append(f"{line.location}: “{text[:160]}”")
    return found


def find_expected(answer: Answer, matcher: QuestionMatcher, strong: float) -> None:
    """Which of the rubric's expected items the answer shows (an item's words, or one of its "|" synonyms; an item
    asking for reasons: prose that gives them). A heading that restates the question ("8 Report the accuracy by
    changing loss functions, batch size, ...") shows nothing: only the text under it, sub-headings and captions
    count."""
    q = answer.question
    if not q.expects:
        return
    have: set[str] = set()
    for block in answer.blocks:
        heading = block.heading
        if heading is not None and not heading.verbatim and (
                heading.kind == "quote" or matcher.heading_scores(heading).get(q.id, 0.0) < strong):
            have.update(tokens(heading.text))
        for line in block.lines:
            have.update(tokens(line.text))
    reasons = None
    for item in q.expects:
        text = item_text(item)
        name = text.split("|")[0]
        if asks_for_reasons(item):
            reasons = reasons_given(answer) if reasons is None else reasons
            shown = bool(reasons)
            if not shown:
                answer.explained = False
        else:
            options = [set(tokens(option)) for option in text.split("|")]
            shown = any(o and len(matched(o, have)) == len(o) for o in options)
        (answer.found if shown else answer.missing).append(name)

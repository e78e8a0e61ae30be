"""``reportgen compare``: graded reports side by side, and the pairs of reports that share what independent work
rarely shares.

Two kinds of sharing make a pair: identical *unusual* numbers (claims written with at least five significant digits,
e.g. ``0.9477546579444083``; or whole confusion matrices with errors off the diagonal), and long identical passages
(at least three shared 12-word shingles). Words of the handout (the questions' text) never pair reports, nor does
anything most of a large class shares (set text the manifest does not quote). A pair is a lead for a person to
read, not a finding.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from reportgen.grade.model import Grade, Location
from reportgen.grade.outline import parse_heading
from reportgen.grade.sheet import clip, render_template
from reportgen.io import save_atomic
from reportgen.render.pdf import write_pdf

SHINGLE = 12  # words per shingle: a 12-word run is rarely shared by chance
MIN_SHINGLES = 3
MIN_DIGITS = 5
_MAX_WORDS = 200_000  # per document: bounds time and memory on huge or hostile reports
_MAX_PASSAGE = 300
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class QuestionCell:
    answered: bool
    score: float
    marks: float

    @property
    def state(self) -> str:
        """The cell's colour: full marks, answered, or unanswered."""
        return "unanswered" if not self.answered else "full" if self.score >= self.marks - 1e-9 else "answered"


@dataclass
class Row:
    """One report's line of the comparison."""

    report: str
    score: float
    max_score: float
    questions: dict[str, QuestionCell]  # question id -> how the report fares on it
    answered: int
    headline_accuracy: float | None  # the best test (or split-less) accuracy the report claims
    mean_accuracy: float | None  # the mean of all its accuracy claims
    severities: dict[str, int]  # error / warning / info -> count
    codes: dict[str, int]  # flag code -> count


@dataclass
class Shared:
    """One thing two reports share, and where each has it."""

    what: str  # the number as written, the matrix's size, or the passage (quoted, capped)
    location_a: str
    location_b: str


@dataclass
class Pair:
    a: str
    b: str
    numbers: list[Shared] = field(default_factory=list)
    matrices: list[Shared] = field(default_factory=list)
    shingles: int = 0  # 12-word shingles the two share (handout words left out)
    passage: Shared | None = None  # the longest shared passage

    @property
    def strength(self) -> int:
        return 10 * len(self.numbers) + 20 * len(self.matrices) + self.shingles


@dataclass
class Comparison:
    rows: list[Row]
    pairs: list[Pair]
    questions: list[tuple[str, str, str, float]]  # (id, number, title, marks) in the manifest's order
    codes: list[str]  # every flag code raised, sorted


def compare_grades(grades: list[Grade], *, min_digits: int = MIN_DIGITS,
                   min_shingles: int = MIN_SHINGLES) -> Comparison:
    """Rows of scores, flags and headline metrics, and the pairs of reports worth reading side by side."""
    questions: dict[str, tuple[str, str, str, float]] = {}
    for g in grades:
        for q in g.questions:
            questions.setdefault(q.id, (q.id, q.number, q.title, q.marks))
    rows = [_row(g) for g in grades]
    codes = sorted({code for row in rows for code in row.codes})
    return Comparison(rows, find_pairs(grades, min_digits=min_digits, min_shingles=min_shingles),
                      list(questions.values()), codes)


def _row(g: Grade) -> Row:
    accuracies = [c.value for c in g.claims if c.metric == "accuracy"]
    headline = [c.value for c in g.claims if c.metric == "accuracy" and c.split in ("test", "")]
    return Row(
        report=g.report, score=g.score, max_score=g.max_score,
        questions={q.id: QuestionCell(q.answered, q.score, q.marks) for q in g.questions},
        answered=sum(q.answered for q in g.questions),
        headline_accuracy=max(headline) if headline else None,
        mean_accuracy=sum(accuracies) / len(accuracies) if accuracies else None,
        severities={s: sum(f.severity == s for f in g.flags) for s in ("error", "warning", "info")},
        codes=dict(Counter(f.code for f in g.flags)),
    )


def significant_digits(written: str) -> int:
    """Significant digits of a number as written: ``"0.95484375" -> 8``, ``"95.0" -> 2``, ``"10" -> 1``.
    Trailing zeros are not counted: they carry no information that makes two reports alike."""
    mantissa = re.split(r"[eE]", written.strip(), maxsplit=1)[0]
    return len("".join(ch for ch in mantissa if ch.isdigit()).strip("0"))


def find_pairs(grades: list[Grade], *, min_digits: int = MIN_DIGITS, min_shingles: int = MIN_SHINGLES) -> list[Pair]:
    # Shared by more than this many reports, a number or passage is set text, not copying.
    common = max(3, len(grades) // 2)
    handout = " ".join(q.question for g in grades for q in g.questions if q.question)
    pairs: dict[tuple[int, int], Pair] = {}

    def pair(i: int, j: int) -> Pair:
        return pairs.setdefault((i, j), Pair(grades[i].report, grades[j].report))

    numbers = [_unusual_numbers(g, min_digits, handout) for g in grades]
    for key, holders in _holders(numbers, common).items():
        for i, j in combinations(holders, 2):
            pair(i, j).numbers.append(Shared(key, numbers[i][key], numbers[j][key]))
    matrices = [_distinctive_matrices(g) for g in grades]
    for key, holders in _holders(matrices, common).items():
        for i, j in combinations(holders, 2):
            pair(i, j).matrices.append(Shared(f"{len(key)} × {len(key[0])}", matrices[i][key], matrices[j][key]))

    texts = [_Text.of(_prose(g.document)) if g.document else _Text.of(()) for g in grades]
    shingles = [t.shingles() for t in texts]
    for (i, j), hashes in _shared_shingles(shingles, _Text.of([(handout, None)]).shingles(), common).items():
        if len(hashes) >= min_shingles:
            p = pair(i, j)
            p.shingles = len(hashes)
            p.passage = _longest_passage(hashes, texts[i], shingles[i], texts[j], shingles[j])
    return sorted(pairs.values(), key=lambda p: (-p.strength, p.a, p.b))


def _prose(doc) -> list[tuple[str, Location]]:
    """The document's lines less its headings: students copy the handout's questions as headings, and the same
    question in two reports is not copying."""
    markdown = doc.format in ("markdown", "html", "docx", "notebook")
    return [(line.text, line.location) for line in doc.lines if parse_heading(line, markdown) is None]


def _holders(per_report: list[dict], common: int) -> dict:
    """Key -> the indices of the reports holding it, for keys held by 2 to ``common`` reports."""
    index: dict = defaultdict(list)
    for i, keys in enumerate(per_report):
        for key in keys:
            index[key].append(i)
    return {key: holders for key, holders in index.items() if 2 <= len(holders) <= common}


def _unusual_numbers(g: Grade, min_digits: int, handout: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for c in g.claims:
        written = c.as_written.strip()
        if significant_digits(written) >= min_digits and written not in handout:
            found.setdefault(written, str(c.location))
    return found


def _distinctive_matrices(g: Grade) -> dict[tuple, str]:
    """Matrices with some error off the diagonal: a perfect diagonal (every image right) is shared by chance."""
    found: dict[tuple, str] = {}
    for m in g.matrices:
        if m.rows >= 2 and any(v for r, row in enumerate(m.cells) for c, v in enumerate(row) if r != c):
            found.setdefault(tuple(tuple(row) for row in m.cells), str(m.location))
    return found


@dataclass
class _Text:
    """A report's words in reading order: lowercased for matching, as written for quoting, and where they are."""

    keys: list[str]
    words: list[str]
    starts: list[int]  # the index of each line's first word
    where: list[Location | None]  # each line's location

    @classmethod
    def of(cls, lines: Iterable[tuple[str, Location | None]]) -> _Text:
        """Lines without a letter (numbers, matrix rows, page numbers) are left out."""
        words: list[str] = []
        starts, where = [], []
        for text, location in lines:
            if _LETTER.search(text):
                starts.append(len(words))
                where.append(location)
                words.extend(_WORD.findall(text))
                if len(words) >= _MAX_WORDS:
                    break
        del words[_MAX_WORDS:]
        return cls([w.lower() for w in words], words, starts, where)

    def shingles(self) -> list[int]:
        """The hash of each run of SHINGLE words, by its first word's position (Python's hash: one process only)."""
        return list(map(hash, zip(*(self.keys[k:] for k in range(SHINGLE)), strict=False)))

    def location(self, index: int) -> Location | None:
        return self.where[bisect_right(self.starts, index) - 1]


def _shared_shingles(shingles: list[list[int]], handout: list[int], common: int) -> dict[tuple[int, int], set[int]]:
    """(i, j) -> the shingles reports i and j share, leaving out the handout's and those more than ``common`` share."""
    first_holder: dict[int, int] = {}
    holders: dict[int, list[int]] = {}
    excluded = set(handout)
    for i, hashes in enumerate(shingles):
        mine = set(hashes).difference(excluded)
        new = mine.difference(first_holder)  # set-minus-dict runs in C, in time linear in `mine`
        for h in mine.difference(new):
            holders.setdefault(h, [first_holder[h]]).append(i)
        first_holder.update(dict.fromkeys(new, i))
    shared: dict[tuple[int, int], set[int]] = defaultdict(set)
    for h, held in holders.items():
        if len(held) <= common:
            for i, j in combinations(held, 2):
                shared[i, j].add(h)
    return shared


def _longest_passage(shared: set[int], text_a: _Text, hashes_a: list[int], text_b: _Text,
                     hashes_b: list[int]) -> Shared:
    """The longest run of shingles that follow each other in both reports, quoted from the first."""
    # Each shingle's first position: later writes win, so write the positions backwards.
    first_a, first_b = ({h: i for i, h in reversed(list(enumerate(hashes)))} for hashes in (hashes_a, hashes_b))
    starts = sorted((first_a[h], first_b[h]) for h in shared)
    best = (starts[0], starts[0])
    run_start = prev = starts[0]
    for a, b in starts[1:]:
        if (a, b) != (prev[0] + 1, prev[1] + 1):
            run_start = (a, b)
        prev = (a, b)
        if prev[0] - run_start[0] > best[1][0] - best[0][0]:
            best = (run_start, prev)
    (a0, b0), (a1, b1) = best
    quote = clip(" ".join(text_a.words[a0:a1 + SHINGLE]), _MAX_PASSAGE)
    return Shared(quote, _span(text_a.location(a0), text_a.location(a1 + SHINGLE - 1)),
                  _span(text_b.location(b0), text_b.location(b1 + SHINGLE - 1)))


def _span(first: Location | None, last: Location | None) -> str:
    """Where a passage runs: "line 4", "p. 2, lines 4–6" or "p. 2, line 40 – p. 3, line 2"."""
    if first is None or last is None:
        return ""
    if first.line == last.line:
        return str(first)
    if first.page == last.page:
        return f"p. {first.page}, lines {first.line}–{last.line}" if first.page else f"lines {first.line}–{last.line}"
    return f"{first} – {last}"


def write_comparison(comparison: Comparison, out: Path, *, pdf: bool = False) -> list[Path]:
    """Write ``out/compare.csv`` and ``out/compare.html`` (and ``out/compare.pdf`` when asked)."""
    text = comparison_csv(comparison)
    written = [save_atomic(out / "compare.csv", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))]
    html = render_template("grade/compare.html.j2", c=comparison)
    written.append(save_atomic(out / "compare.html", lambda tmp: Path(tmp).write_text(html, encoding="utf-8")))
    if pdf:
        written.append(save_atomic(out / "compare.pdf", lambda tmp: write_pdf(html, Path(tmp), out)))
    return written


def comparison_csv(comparison: Comparison) -> str:
    fixed = ["report", "score", "max_score"]
    tail = ["answered", "headline_accuracy", "mean_accuracy", "errors", "warnings", "infos"]
    taken = set(fixed + tail + comparison.codes)
    qcols = [(qid, qid if qid not in taken else f"q_{qid}") for qid, *_ in comparison.questions]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fixed + [name for _, name in qcols] + tail + comparison.codes)
    for r in comparison.rows:
        cells = [_cell(r.report), r.score, r.max_score]
        cells += [r.questions[qid].score if qid in r.questions else "" for qid, _ in qcols]
        cells += [r.answered] + ["" if x is None else round(x, 6) for x in (r.headline_accuracy, r.mean_accuracy)]
        cells += [r.severities["error"], r.severities["warning"], r.severities["info"]]
        cells += [r.codes.get(code, 0) for code in comparison.codes]
        writer.writerow(cells)
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet reads a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


"""Claims: the metric values a report states, one per number, each with what it is about.

Read from tables (:mod:`reportgen.grade.tabular`, either orientation), from the summary rows of classification
reports, and from sentences (:mod:`reportgen.grade.prose`). Bounded metrics are stored as fractions: a number
above 1 (or written with "%") is on a 0-100 scale, so ``69.29693603515625`` means 0.693. A value above 100 stays
as written; IMPOSSIBLE_VALUE reports it.

A claim's ``about`` joins everything that says what it is about — headings, caption, the table row or column,
the settings its clause states, the model its sentence names and the dataset — most general first; its ``run``
is the manifest's run that its own subject names, or, when the sentence names no model, the one its headings
and caption name.
"""

from __future__ import annotations

import re

from reportgen.grade.context import Context
from reportgen.grade.metric_words import METRIC, make_claim, metric_of
from reportgen.grade.model import Claim, Document, Line
from reportgen.grade.outline import CAPTION, marker_length
from reportgen.grade.passages import Passage, passages
from reportgen.grade.prose import SentenceReader
from reportgen.grade.subjects import Subjects
from reportgen.grade.tables import cell_number, cells, find_class_reports
from reportgen.grade.tabular import table_claims

CAPTION_GROUP_LINES = 3  # claims on lines this close share the caption that follows the last of them


def class_report_claims(doc: Document, ctx: Context) -> tuple[list[Claim], set[int]]:
    """The summary rows of classification reports as claims: "accuracy", "macro avg", "weighted avg"."""
    claims: list[Claim] = []
    used: set[int] = set()
    for report in find_class_reports(doc, lambda line: ctx.about(line)):
        used.update(report.lines)
        for label, (_, line) in report.summary.items():
            metrics = ["accuracy"] if label == "accuracy" else ["precision", "recall", "f1"]
            values = [n for c in cells(line.text)[1:] if (n := cell_number(c.text))]
            for metric, (written, pct) in zip(metrics, values, strict=False):
                claim = make_claim(metric, written, pct, line=line, column=0, qualifier=label,
                                   about=ctx.about(line, lookahead=False))
                if claim is not None:
                    claims.append(claim)
    return claims, used


def extract_claims(doc: Document, ctx: Context, subjects: Subjects | None = None) -> list[Claim]:
    """Every claim of the document, each with what it is about (``subjects`` knows the manifest's runs)."""
    subjects = subjects or Subjects()
    reader = SentenceReader(subjects)

    def is_prose_claim(line: Line) -> bool:
        single = Passage()
        single.add(line, line.text, 0)
        return bool(reader.passage_claims(single))

    report_claims, report_lines = class_report_claims(doc, ctx)
    claims, table_lines = table_claims(doc, ctx, is_prose_claim, subjects.run_of_label, skip=report_lines)
    for claim in claims:
        if not claim.run and not claim.subject:  # a row or column that names no model: the headings may
            claim.run = subjects.run_of_about(claim.about)
    for claim in report_claims:
        claim.run = subjects.run_of_about(claim.about)
    claims += report_claims
    heading_lines = {h.line.number for h in ctx.headings if not h.inline}
    # A marker at the start of an answer ("**A.2** Lines, ...", "Question 3: The accuracy ..."): its text is prose
    inline = {h.line.number: marker_length(h.line.text) for h in ctx.headings if h.inline}
    found = []
    heading, named, topic = object(), [], ""  # (a sentinel: the lines before the first heading are a block too)
    for passage in passages(doc.lines, headings=heading_lines, skip=table_lines | report_lines, starts=inline):
        here = ctx.heading(passage.lines[0])
        if here is not heading:  # a new block: the models and the metric its headings (or else its text) name
            heading = here
            path = heading.path if heading is not None else ""
            named = [m for m in subjects.find(path) if m.kind in ("run", "name")]
            topic = _topic(path) or _topic(" ".join(line.text for line in _block_lines(doc, ctx, heading)))
        found.extend(reader.passage_claims(passage, named, topic))
    # Claims close together form a group that shares one caption ("Figure 30: Scores with batch size 32").
    ends: dict[int, Line] = {}
    group: list[Line] = []
    for line in sorted({c.location.line: _line(doc, c) for c, *_ in found}.values(), key=lambda x: x.number):
        if group and (line.number - group[-1].number > CAPTION_GROUP_LINES or _caption_between(doc, group[-1], line)):
            ends.update({x.number: group[-1] for x in group})
            group = []
        group.append(line)
    ends.update({x.number: group[-1] for x in group})
    for claim, subject, dataset, stated in found:
        line = _line(doc, claim)
        context = ctx.about(line, group_end=ends.get(line.number))
        pieces = [context, stated, claim.subject, dataset.text if dataset is not None else ""]
        claim.about = " | ".join(p for p in pieces if p)
        if subject is not None:
            claim.run = subject.run  # a model the manifest does not know names no run, whatever the heading says
        else:
            claim.run = subjects.run_of_about(" | ".join(p for p in (context, stated) if p))
        claims.append(claim)
    for claim in claims:
        if not claim.stat and (ONE_SEED.search(claim.about) or ONE_SEED.search(_line(doc, claim).text)):
            claim.stat = "one seed"  # "seed 0 (accuracy 0.9226)": one seed's result, not the mean of the others
    claims.sort(key=lambda c: (c.location.line, c.column))
    return claims


ONE_SEED = re.compile(r"\b(?:seed\s*[=:#]?\s*\d+\s*(?:only|alone)?\b(?!\s*(?:and|,|-|–|to)\s*\d)|"
                      r"(?:this|one|a single)\s+seed\b)", re.IGNORECASE)


def _topic(path: str) -> str:
    """The one metric a heading path names ("3.2 Test accuracy"), else ""."""
    named = {metric_of(m) for m in re.finditer(rf"\b(?:{METRIC})(?!\w)", path, re.IGNORECASE)}
    return named.pop() if len(named) == 1 else ""


def _block_lines(doc: Document, ctx: Context, heading) -> list[Line]:
    """The lines under ``heading`` up to the next heading (the lines before the first, for None)."""
    starts = [h.line.number for h in ctx.headings]
    first = heading.line.number if heading is not None else 0
    later = [n for n in starts if n > first]
    last = later[0] - 1 if later else len(doc.lines)
    return doc.lines[first:last]


def _line(doc: Document, claim: Claim) -> Line:
    return doc.lines[claim.location.line - 1]


def _caption_between(doc: Document, a: Line, b: Line) -> bool:
    # Lines are numbered 1, 2, ... in order: the ones between a and b are a slice, not a scan of the document.
    return any(CAPTION.match(line.text.strip()) for line in doc.lines[a.number:b.number - 1])

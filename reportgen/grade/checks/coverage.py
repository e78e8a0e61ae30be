"""MISSING_QUESTION: a required question with marks that the report does not answer."""

from __future__ import annotations

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.model import Flag


@check("MISSING_QUESTION", "A required question (with marks) is not answered: no matching text with substance "
                           "(numbers, a table, a figure or enough prose).")
def missing_question(f: Findings) -> list[Flag]:
    flags = []
    for answer in f.answers.values():
        q = answer.question
        if answer.status != "missing" or q.marks <= 0 or not q.required:
            continue  # an unclear question is a human's to judge, not a deduction
        title = f"{q.number} {q.title}".strip()
        if answer.blocks and answer.blocks[0].heading is not None:
            heading = answer.blocks[0].heading
            words = sum(len(line.text.split()) for block in answer.blocks for line in block.lines)
            flags.append(flag("MISSING_QUESTION", "error",
                              f"question {title} ({q.marks:g} marks): its heading has too little under it ({words} "
                              "words; no numbers, table or figure)",
                              heading.line.text.strip(), heading.line.number, str(heading.line.location)))
        else:
            flags.append(flag("MISSING_QUESTION", "error", f"question {title} ({q.marks:g} marks) is not answered",
                              q.text[:200], None, ""))
    return flags

"""MISSING_EXPLANATION: the rubric asks for reasons ("reasoning", "explain why ...") and the answer gives only a
table, figures or numbers — no sentence that explains."""

from __future__ import annotations

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.model import Flag
from reportgen.grade.substance import asks_for_reasons, item_text


@check("MISSING_EXPLANATION", "An expected item that asks for reasons ([grading.questions.ID] expects, e.g. "
                              "\"reasoning\") is answered only by a table, figures or numbers: no sentence explains.")
def missing_explanation(f: Findings) -> list[Flag]:
    flags = []
    for answer in f.answers.values():
        if answer.status != "answered" or answer.explained:
            continue
        asked = [item_text(i).split("|")[0] for i in answer.question.expects if asks_for_reasons(i)]
        heading = next((b.heading for b in answer.blocks if b.heading is not None), None)
        if heading is None:
            continue
        q = answer.question
        shown = ", ".join(e.split(": ", 1)[-1].split(" “")[0] for e in answer.substance[1:4]) or "no prose"
        flags.append(flag("MISSING_EXPLANATION", "warning",
                          f"question {q.number} {q.title}: the rubric asks for {', '.join(asked)}, but the answer "
                          f"shows only {shown} — no sentence explains why",
                          heading.line.text.strip(), heading.line.number, str(heading.line.location)))
    return flags

"""Marks per question from coverage and checks. The grader suggests; a human decides (the sheet says so)."""

from __future__ import annotations

from reportgen.grade.model import Flag, QuestionGrade
from reportgen.grade.questions import Answer
from reportgen.grade.rubric import GradingSpec


def rule(grading: GradingSpec) -> str:
    """The scoring rule in words, printed on every grade sheet."""
    return (
        "A question earns its marks when the report answers it with substance: numbers, a table or matrix, a figure, "
        f"or at least {grading.min_words} words under a heading that matches the question. Where the rubric lists "
        "items the answer must show, it earns the share of those items it shows. Each distinct problem the checks "
        f"find inside the answer then costs {100 * grading.error_deduction:g} % of the question's marks for an "
        f"error and {100 * grading.warning_deduction:g} % for a warning, never below 0. An unanswered question "
        "earns 0. These are suggestions: a human grader decides."
    )


def score_question(answer: Answer, flags: list[Flag], grading: GradingSpec) -> QuestionGrade:
    q = answer.question
    lines = answer.lines()
    owned = answer.owned  # a flag costs marks once, in the question whose answer it lies in most clearly
    deductions: list[str] = []
    if not answer.answered:
        score = 0.0
        deductions.append("not answered")
    else:
        share = len(answer.found) / len(q.expects) if q.expects else 1.0
        score = q.marks * share
        if answer.weak:
            deductions.append("matched only loosely: check that this part answers the question")
        if answer.missing:
            deductions.append(f"shows {len(answer.found)} of {len(q.expects)} expected items; missing: "
                              + ", ".join(answer.missing))
        charged: set[str] = set()
        for f in flags:
            if f.line is None or f.line not in owned or f.code in charged or f.code == "MISSING_QUESTION":
                continue
            rate = {"error": grading.error_deduction, "warning": grading.warning_deduction}.get(f.severity, 0.0)
            if rate:
                charged.add(f.code)
                score -= rate * q.marks
                deductions.append(f"{f.code} ({f.severity}): −{rate * q.marks:g}")
        score = max(0.0, score)
    return QuestionGrade(
        id=q.id, title=q.title, number=q.number, question=q.text, marks=q.marks, answered=answer.answered,
        score=round(score, 2), evidence=answer.substance[:6],
        span=(min(lines), max(lines)) if lines else None,
        found=list(answer.found), missing=list(answer.missing), deductions=deductions,
    )

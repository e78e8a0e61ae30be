"""Marks per question from coverage and checks. The grader suggests; a human decides (the sheet says so)."""

from __future__ import annotations

from reportgen.grade.model import Flag, QuestionGrade
from reportgen.grade.questions import Answer
from reportgen.grade.rubric import GradingSpec

# Flags whose cost is already in the question's score: an unanswered question earns 0, an item asking for reasons
# that the answer does not give earns nothing.
PRICED_BY_ITEMS = ("MISSING_QUESTION", "MISSING_EXPLANATION")


def rule(grading: GradingSpec) -> str:
    """The scoring rule in words, printed on every grade sheet."""
    return (
        "A question earns its marks when the report answers it with substance (numbers, a table or matrix, a figure, "
        f"an equation, or at least {grading.min_words} words) in a passage found to answer it: under its question "
        "marker or number, below its pasted text, or under a heading whose words match it. Where the rubric lists "
        "items the answer must show, it earns the share of those items it shows (an item with marks of its own earns "
        "those; an item asking for reasons needs prose that gives them). Each distinct problem the checks find "
        f"inside the answer then costs {100 * grading.error_deduction:g} % of the question's marks for an error and "
        f"{100 * grading.warning_deduction:g} % for a warning, never below 0. A question no passage answers earns 0. "
        "A question whose passage was found with low confidence is marked unclear and loses nothing until a human "
        "has checked it. These are suggestions: a human grader decides."
    )


def score_question(answer: Answer, flags: list[Flag], grading: GradingSpec) -> QuestionGrade:
    q = answer.question
    lines = answer.lines()
    owned = answer.owned  # a flag costs marks once, in the question whose answer it lies in most clearly
    deductions: list[str] = []
    status = answer.status
    if status == "missing":
        score = 0.0
        deductions.append("not answered")
    elif status == "unclear":
        # Never deduct on a guess: the marks stand until a human has looked at the candidate passages.
        score = q.marks
        deductions.append(f"unclear (confidence {answer.confidence:.2f}): no passage surely answers it; a human "
                          "should check the candidate passages — no marks taken")
    else:
        score = q.marks * expected_share(q, answer.found)
        if answer.missing:
            deductions.append(f"shows {len(answer.found)} of {len(q.expects)} expected items; missing: "
                              + ", ".join(answer.missing))
        charged: set[str] = set()
        for f in flags:
            if f.line is None or f.line not in owned or f.code in charged or f.code in PRICED_BY_ITEMS:
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
        status=status, confidence=answer.confidence, candidates=list(answer.candidates),
    )


def expected_share(q, found: list[str]) -> float:
    """The share of a question's marks its expected items found earn: items with marks of their own earn those,
    the others share what is left equally."""
    if not q.expects:
        return 1.0
    from reportgen.grade.substance import item_text

    given = [getattr(item, "marks", None) for item in q.expects]
    fixed = sum(m for m in given if m)
    free = [i for i, m in enumerate(given) if not m]
    rest = max(q.marks - fixed, 0.0) / len(free) if free else 0.0
    weights = [m if m else rest for m in given]
    total = sum(weights)
    if total <= 0:
        return 1.0
    names = {item_text(item).split("|")[0] for item in q.expects}
    earned = sum(w for item, w in zip(q.expects, weights, strict=True) if item_text(item).split("|")[0] in found)
    return earned / total if names else 1.0

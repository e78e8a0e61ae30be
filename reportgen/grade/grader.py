"""Grade one report against a manifest: read → outline → claims, matrices → questions → checks → score."""

from __future__ import annotations

import time
from pathlib import Path

from reportgen.config.specs import Manifest
from reportgen.grade.checks import Findings, run_checks
from reportgen.grade.claims import extract_claims
from reportgen.grade.context import Context, table_caption, table_label
from reportgen.grade.model import Document, Grade
from reportgen.grade.numerals import english_numbers
from reportgen.grade.outline import blocks, headings
from reportgen.grade.pasted import pasted_questions
from reportgen.grade.questions import Question, match_questions
from reportgen.grade.reading import ReadLimits, read_document
from reportgen.grade.reference import Reference
from reportgen.grade.rubric import grading_of
from reportgen.grade.scoring import rule, score_question
from reportgen.grade.settings import extract_settings
from reportgen.grade.subjects import Subjects
from reportgen.grade.tables import find_class_reports, find_matrices


def questions_of(manifest: Manifest) -> list[Question]:
    """The manifest's sections that carry marks (or a rubric entry), as questions."""
    out, grading = [], grading_of(manifest)
    for section in manifest.sections.values():
        rubric = grading.rubric(section.id)
        if section.marks <= 0 and section.id not in grading.questions:
            continue
        out.append(Question(id=section.id, number=section.number or "", title=section.title,
                            text=section.question, marks=section.marks, expects=list(rubric.expects),
                            required=rubric.required, keywords=list(rubric.keywords)))
    return out


def aliases_of(manifest: Manifest) -> dict[str, list[str]]:
    """Phrases that name each run: the course's aliases, the run's label and (if distinctive) its name."""
    out: dict[str, list[str]] = {}
    aliases = grading_of(manifest).aliases
    for name, run in manifest.runs.items():
        phrases = list(aliases.get(name, ()))
        phrases.append(run.label)
        if len(name) >= 3:
            phrases.append(name)
        out[name] = [p for p in dict.fromkeys(phrases) if p]
    return out


def grade_document(doc: Document, manifest: Manifest, reference: Reference | None = None) -> Grade:
    """Grade a report already read into a :class:`Document`."""
    start = time.perf_counter()
    doc = english_numbers(doc)  # "98,74 %" and "10.000" where the report writes decimal commas
    grading = grading_of(manifest)
    questions = questions_of(manifest)
    # Pasted question texts are markers too: find them first, so that every stage sees the same outline.
    marked = {h.line.number for h in headings(doc)}
    context = Context(doc, headings(doc, extra=pasted_questions(doc, questions, skip=marked)))
    aliases = aliases_of(manifest)
    subjects = Subjects(aliases, [k for t in grading.all_test_sets() for k in t.keywords])
    claims = extract_claims(doc, context, subjects)
    matrices = find_matrices(doc, lambda first, last: " | ".join(p for p in (
        context.heading(first).path if context.heading(first) else "", table_caption(doc, first, last),
        table_label(doc, first, lambda line: False)) if p))
    for matrix in matrices:  # the model its label line, caption or headings name
        model = subjects.model_of_about(matrix.about)
        matrix.subject, matrix.run = (model.text, model.run) if model is not None else ("", "")
    class_reports = find_class_reports(doc, lambda line: context.about(line))
    answers = match_questions(doc, blocks(doc, context.headings), questions, claims, matrices, grading.min_words)
    findings = Findings(
        doc=doc, context=context, claims=claims, matrices=matrices, class_reports=class_reports, answers=answers,
        grading=grading, reference=reference, aliases=aliases, manifest=manifest,
        run_settings={name: {"epochs": r.train.epochs, "lr": r.train.lr, "batch_size": r.train.batch_size}
                      for name, r in manifest.runs.items()},
    )
    flags = run_checks(findings)
    graded = [score_question(answer, flags, grading) for answer in answers.values()]
    return Grade(
        report=doc.name, manifest=manifest.path.name,
        score=round(sum(q.score for q in graded), 2), max_score=sum(q.marks for q in graded),
        questions=graded, claims=claims, matrices=matrices, flags=flags, settings=extract_settings(doc),
        document=doc, rule=rule(grading), seconds=time.perf_counter() - start,
    )


def grade_report(path: Path, manifest: Manifest, reference: Reference | None = None,
                 limits: ReadLimits | None = None) -> Grade:
    """Read and grade the report at ``path`` (raises ReportReadError if it cannot be read)."""
    start = time.perf_counter()
    doc = read_document(Path(path), limits or ReadLimits())
    grade = grade_document(doc, manifest, reference)
    grade.seconds = time.perf_counter() - start
    return grade

"""Grade many reports: one unreadable file is an error for that file only; the others are still graded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.config.errors import ReportgenError
from reportgen.config.manifest import load_manifest
from reportgen.grade.bundle import SKIPPED_FOLDERS, is_submission_folder
from reportgen.grade.grader import grade_report
from reportgen.grade.model import Grade
from reportgen.grade.ocr import require_ocr
from reportgen.grade.reading import ReadLimits
from reportgen.grade.reference import check_reference, load_reference
from reportgen.grade.rubric import grading_of


@dataclass
class Batch:
    grades: list[Grade] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)


def grade_files(files: list[Path], manifest_path: Path, *, reference: Path | None = None,
                limits: ReadLimits | None = None, on_file: Callable[[Path, Grade | None, str], None] | None = None,
                reference_anyway: bool = False
                ) -> Batch:
    """Grade each file; a file that cannot be read or graded is recorded with its reason, never raised.
    The manifest and the reference are checked first: without them nothing can be graded. A reference whose test
    set is not the course's ([grading]) is refused unless ``reference_anyway``; the grades then say so."""
    if limits is not None and limits.ocr:
        require_ocr()  # one error before anything is graded, not one per report
    manifest = load_manifest(manifest_path)
    grading_of(manifest)  # a bad [grading] table is one error before anything is graded
    ref = load_reference(reference) if reference is not None else None
    if ref is not None:
        check_reference(ref, grading_of(manifest), manifest_path, known_runs=set(manifest.runs),
                        anyway=reference_anyway)
    batch = Batch()
    for path in _expand(files):
        try:
            grade = grade_report(path, manifest, ref, limits)
        except ReportgenError as err:
            why = str(err)
            batch.failures.append((path, why))
            if on_file:
                on_file(path, None, why)
            continue
        batch.grades.append(grade)
        if on_file:
            on_file(path, grade, "")
    return batch


def _expand(files: list[Path]) -> list[Path]:
    """The submissions the command line names, in order. A file is one (a .zip is one bundle); a folder is one
    student's bundle when :func:`~reportgen.grade.bundle.is_submission_folder` says so (one report document, perhaps
    with notebooks and images), else a class folder: each of its files is a submission (a .zip a bundle) and each of
    its sub-folders a bundle, sorted, so that `grade submissions/` works."""
    out: list[Path] = []
    for path in files:
        if path.is_dir() and not is_submission_folder(path):
            for p in sorted(path.iterdir()):
                if p.name.startswith("."):
                    continue
                if p.is_file() or (p.is_dir() and p.name.lower() not in SKIPPED_FOLDERS):
                    out.append(p)
        else:
            out.append(path)
    return out

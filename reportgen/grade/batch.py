"""Grade many reports: one unreadable file is an error for that file only; the others are still graded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.grade.grader import grade_report
from reportgen.grade.model import Grade
from reportgen.grade.reading import ReadLimits
from reportgen.grade.reference import load_reference
from reportgen.manifest import load_manifest


@dataclass
class Batch:
    grades: list[Grade] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)


def grade_files(files: list[Path], manifest_path: Path, *, reference: Path | None = None,
                limits: ReadLimits | None = None, on_file: Callable[[Path, Grade | None, str], None] | None = None
                ) -> Batch:
    """Grade each file; a file that cannot be read or graded is recorded with its reason, never raised.
    The manifest and the reference are checked first: without them nothing can be graded."""
    manifest = load_manifest(manifest_path)
    ref = load_reference(reference) if reference is not None else None
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
    """Files as given; a folder stands for the reports in it (sorted), so `grade submissions/` works."""
    out: list[Path] = []
    for path in files:
        if path.is_dir():
            out.extend(p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith("."))
        else:
            out.append(path)
    return out

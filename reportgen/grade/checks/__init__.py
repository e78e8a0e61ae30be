"""Consistency checks: each a registered unit with a stable code, run over what grading extracted.

A check is a function ``(Findings) -> list[Flag]`` registered with ``@check(CODE, description)``; the codes are
what grade sheets, ``grades/<name>.json`` and downstream tools key on, so they never change meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reportgen.config.registry import Registry
from reportgen.config.specs import Manifest
from reportgen.grade.context import Context
from reportgen.grade.model import Claim, ClassReport, Document, Flag, Matrix, Severity
from reportgen.grade.questions import Answer
from reportgen.grade.reference import Reference
from reportgen.grade.rubric import GradingSpec


@dataclass
class Findings:
    """Everything a check may look at."""

    doc: Document
    context: Context
    claims: list[Claim]
    matrices: list[Matrix]
    class_reports: list[ClassReport]
    answers: dict[str, Answer]
    grading: GradingSpec
    reference: Reference | None = None
    aliases: dict[str, list[str]] = field(default_factory=dict)  # run -> phrases that name it (labels included)
    run_settings: dict[str, dict] = field(default_factory=dict)  # run -> {"epochs", "lr", "batch_size"} trained with
    manifest: Manifest | None = None  # the course's manifest (its sections' targets, for BELOW_TARGET)

    def same_block(self, a: int, b: int) -> bool:
        """Whether two line numbers lie under the same heading (lines are numbered 1, 2, ... in order)."""
        lines = self.doc.lines
        if not (0 < a <= len(lines) and 0 < b <= len(lines)):
            return False
        return self.context.heading(lines[a - 1]) is self.context.heading(lines[b - 1])


@dataclass(frozen=True)
class Check:
    code: str
    description: str  # one sentence, for the grade sheet and the docs
    run: Callable[[Findings], list[Flag]]


CHECKS: Registry[Check] = Registry("check")


def check(code: str, description: str):
    """Decorator: register ``fn`` as the check ``code``."""

    def add(fn: Callable[[Findings], list[Flag]]):
        CHECKS.register(code)(Check(code, description, fn))
        return fn

    return add


def flag(code: str, severity: Severity, message: str, evidence: str, line: int | None, location: str) -> Flag:
    return Flag(code=code, severity=severity, message=message, evidence=evidence[:400], location=location, line=line)


def run_checks(findings: Findings, codes: list[str] | None = None) -> list[Flag]:
    """Every registered check (or those named), flags in document order. A check registered by a plugin
    (``[report] plugins``) runs only for a manifest that loads that plugin."""
    flags: list[Flag] = []
    for code in codes or [c for c in CHECKS.names() if _applies(c, findings.manifest)]:
        flags.extend(CHECKS.get(code).run(findings))
    return sorted(flags, key=lambda f: (f.line is None, f.line or 0, f.code))


def _applies(code: str, manifest: Manifest | None) -> bool:
    """Whether ``code`` is reportgen's own, or a check of one of ``manifest``'s plugins."""
    origin = CHECKS.origin(code)
    if origin is None or manifest is None:
        return True
    from reportgen.config.plugins import plugin_origins

    return origin in plugin_origins(manifest.report.plugins, manifest.base_dir)


from reportgen.grade.checks import (  # noqa: E402,F401  (registers)
    arithmetic,
    consistency,
    coverage,
    explanation,
    markers,
    repeat,
    target,
    vs_reference,
)

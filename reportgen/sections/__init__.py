"""Section (question) types. Importing this package registers every built-in type."""

from reportgen.sections import compare, confusion  # noqa: F401  (registration)
from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext, SectionOutput

__all__ = ["SECTIONS", "Figure", "RunGroup", "Section", "SectionContext", "SectionOutput"]

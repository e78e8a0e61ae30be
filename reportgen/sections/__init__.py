"""Section (question) types. Importing this package registers every built-in type: each module of this
package that is not infrastructure defines one type (drop a module in, and it is registered and tested)."""

import importlib
import pkgutil

from reportgen.sections.base import SECTIONS, Figure, RunGroup, Section, SectionContext, SectionOutput

_INFRASTRUCTURE = {"base", "stats", "text", "target", "records", "other_tests", "embedding", "leakage", "metrics"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["SECTIONS", "Figure", "RunGroup", "Section", "SectionContext", "SectionOutput"]

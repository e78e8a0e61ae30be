"""The contract of a section type: compute a JSON-able result from runs; describe figures drawn from it.

A section type is a :class:`Section` subclass registered with ``@SECTIONS.register("confusion")``. It
declares its manifest options as a dataclass (``Options``), how many runs it takes (``run_count``) and the
template that shows it. ``compute`` turns runs into plain data (numbers, lists, strings); ``figures``
draws *only from that data*, so a figure or template change never needs the runs — let alone retraining.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reportgen.registry import Registry
from reportgen.run_result import RunFailure, RunResult
from reportgen.specs import RunSpec, SectionSpec

#: Section (question) types.
SECTIONS: Registry = Registry("section type")


@dataclass
class RunGroup:
    """One manifest run across the report's seeds."""

    name: str
    spec: RunSpec
    seeds: list[int]
    outcomes: list[RunResult | RunFailure]  # one per seed, same order as ``seeds``

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def results(self) -> list[RunResult]:
        """The seeds that finished (diverged ones included: their numbers are real, if bad)."""
        return [o for o in self.outcomes if isinstance(o, RunResult)]

    @property
    def failures(self) -> list[str]:
        pairs = zip(self.seeds, self.outcomes, strict=True)
        return [f"seed {s}: {o.status}: {o.reason}" for s, o in pairs if not o.ok]


@dataclass
class SectionContext:
    section: SectionSpec
    groups: list[RunGroup]  # in the order the section lists its runs


@dataclass
class Figure:
    """A figure of a section: ``draw()`` returns a matplotlib Figure built from the section's result."""

    name: str  # unique within the section; the PNG is ``figures/<section id>-<name>.png``
    caption: str
    alt: str  # text alternative for screen readers and the PDF's text layer
    draw: Callable[[], Any]
    wide: bool = False  # spans the page width instead of the text column


@dataclass(frozen=True)
class NoOptions:
    """For section types that take no options of their own."""


class Section:
    Options: ClassVar[type] = NoOptions
    run_count: ClassVar[tuple[int, int | None]] = (1, None)  # (at least, at most or None)
    template: ClassVar[str] = ""

    def __init__(self, spec: SectionSpec) -> None:
        self.spec = spec
        self.options = self.Options(**spec.options)

    def compute(self, ctx: SectionContext) -> dict[str, Any]:
        """The section's numbers and generated analysis, JSON-able."""
        raise NotImplementedError

    def figures(self, result: dict[str, Any]) -> list[Figure]:
        """Figures drawn from ``result`` alone."""
        return []


@dataclass
class SectionOutput:
    """A computed section as the renderer sees it (also what ``out/sections/<id>.json`` holds)."""

    id: str
    type: str
    result: dict[str, Any]
    figures: list[dict[str, Any]] = field(default_factory=list)  # name, caption, alt, file (relative to out/)

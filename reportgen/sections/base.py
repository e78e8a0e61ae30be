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

from reportgen.config.registry import Registry
from reportgen.config.specs import RunSpec, SectionSpec
from reportgen.training.result import RunFailure, RunResult

#: Section (question) types.
SECTIONS: Registry = Registry("section type")


@dataclass
class RunGroup:
    """One manifest run across the report's seeds.

    ``data`` is the dataset the run trains on (test images, class counts); given ``load_data`` instead, it is
    loaded on first use, so that a section reading only the cached test-set arrays (most of them) never decodes the
    data, nor imports torch to hold it. ``load_weights(key)`` returns a finished run's ``state_dict`` from the cache,
    for sections that look inside the trained model.
    """

    name: str
    spec: RunSpec
    seeds: list[int]
    outcomes: list[RunResult | RunFailure]  # one per seed, same order as ``seeds``
    data: Any = field(default=None, repr=False)  # reportgen.data.DatasetSplits; a property, see below the class
    load_weights: Callable[[str], dict | None] | None = None
    load_data: Callable[[], Any] | None = field(default=None, repr=False)

    def trained_model(self, result: RunResult):
        """The model of ``result`` (one of ``self.results``) with its trained weights, in eval mode on the CPU."""
        from reportgen.config.errors import CacheError
        from reportgen.models import build_run_model

        state = result.state_dict
        if state is None and self.load_weights is not None:
            state = self.load_weights(result.key)
        if not state:
            raise CacheError(f"the weights of run {self.name!r} (cache entry {result.key}) are unavailable")
        model = build_run_model(self.spec, self.data.input_shape, self.data.num_classes)
        model.load_state_dict(state)
        return model.eval()

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def results(self) -> list[RunResult]:
        """The seeds that trained to the end. Diverged seeds are left out (their weights may be NaN, so their
        "predictions" mean nothing) and listed in ``failures``; sections that show divergence use ``outcomes``."""
        return [o for o in self.outcomes if isinstance(o, RunResult) and o.ok]

    @property
    def failures(self) -> list[str]:
        pairs = zip(self.seeds, self.outcomes, strict=True)
        return [f"seed {s}: {o.status}: {o.reason}" for s, o in pairs if not o.ok]


def _data(group: RunGroup) -> Any:
    if group._data is None and group.load_data is not None:
        group._data = group.load_data()
    return group._data


def _set_data(group: RunGroup, value: Any) -> None:
    group._data = value


# After the dataclass is made: its __init__ still takes ``data=`` (and assigns it through the setter).
RunGroup.data = property(_data, _set_data, doc="The run's dataset, loaded by ``load_data`` on first use.")


@dataclass
class SectionContext:
    section: SectionSpec
    groups: list[RunGroup]  # in the order the section lists its runs, then its derived runs
    # The stored outputs of the report's other sections, by id (for sections that summarise the others).
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


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
    # True for sections computed from the other sections' results (conclusions): built after them.
    summarises: ClassVar[bool] = False
    # True for sections whose result["rows"] hold each run's test accuracy over seeds ("run", "label", "dataset",
    # "accuracy", "params", "macs"): the per-run records a summary reads (see sections/records.py).
    records: ClassVar[bool] = False
    # Bump when a change to compute() or figures() changes what a section shows: stored results are redone.
    version: ClassVar[int] = 1
    # Options that make a minimal valid instance (used by the tests and as documentation).
    example_options: ClassVar[dict[str, Any]] = {}

    @classmethod
    def derive_runs(
        cls, spec: SectionSpec, runs: dict[str, RunSpec], datasets: dict[str, Any], seeds: tuple[int, ...] = ()
    ) -> dict[str, RunSpec]:
        """Runs this section makes itself from its options (a sweep's variations), checked and named
        uniquely (e.g. ``"sweeps:lr=0.01"``). Raise ``ManifestError`` located in the section for bad options.
        ``seeds``: the report's, for a section that states what its runs will cost before they train."""
        return {}

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

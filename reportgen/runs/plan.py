"""From a manifest (and an optional ``--section`` filter) to the sections to build and the unique runs.

A run's identity is a hash of its fully resolved spec — model with every default filled in, dataset kind,
options and content fingerprint, training configuration, seed and :data:`TRAIN_CODE_VERSION` — so two
sections (or two differently named runs) asking for the same configuration share one training, and any
change that could change the numbers changes the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from reportgen.config.errors import DataError, ManifestError
from reportgen.config.registry import did_you_mean
from reportgen.config.specs import Manifest, RunSpec, SectionSpec

#: Bump when a change to training code changes what a run produces: every cached run is then retrained.
TRAIN_CODE_VERSION = 1


@dataclass(frozen=True)
class PlannedRun:
    """One training: a manifest run at one seed."""

    run: RunSpec
    seed: int
    key: str  # content hash of ``spec``; the cache entry's name
    spec: dict[str, Any]  # the fully resolved, JSON-able spec

    @property
    def title(self) -> str:
        return f"{self.run.label} (seed {self.seed})"


@dataclass(frozen=True)
class Plan:
    manifest: Manifest
    sections: tuple[SectionSpec, ...]  # the sections to (re)build, in manifest order
    runs: tuple[PlannedRun, ...]  # unique by key, in first-needed order
    by_name: dict[str, tuple[PlannedRun, ...]]  # manifest run name -> one planned run per seed

    def runs_for(self, section: SectionSpec) -> dict[str, tuple[PlannedRun, ...]]:
        """``{run name: (planned run per seed)}`` for one section, in the section's order."""
        return {name: self.by_name[name] for name in section.all_runs}


def make_plan(manifest: Manifest, only: list[str] | None = None) -> Plan:
    """The sections to build (all, or those named in ``only``) and the unique runs they need."""
    if only:
        for sid in only:
            if sid not in manifest.sections:
                hint = did_you_mean(sid, manifest.sections) or f" (sections: {', '.join(manifest.sections)})"
                raise ManifestError(f'unknown section "{sid}"{hint}',
                                    location="--section", file=manifest.path.name)
        sections = tuple(s for s in manifest.sections.values() if s.id in only)
    else:
        sections = tuple(manifest.sections.values())
    names = list(dict.fromkeys(name for s in sections for name in s.all_runs))
    by_name = {
        name: tuple(plan_run(manifest, manifest.runs[name], seed) for seed in manifest.report.seeds)
        for name in names
    }
    unique: dict[str, PlannedRun] = {}
    for planned in (p for runs in by_name.values() for p in runs):
        unique.setdefault(planned.key, planned)
    return Plan(manifest, sections, tuple(unique.values()), by_name)


def plan_run(manifest: Manifest, run: RunSpec, seed: int) -> PlannedRun:
    spec = resolve_run(manifest, run, seed)
    return PlannedRun(run, seed, run_key(spec), spec)


def resolve_run(manifest: Manifest, run: RunSpec, seed: int) -> dict[str, Any]:
    """The fully resolved spec of ``run`` at ``seed`` (what its key hashes)."""
    from reportgen.config.params import resolved_params
    from reportgen.data import DATASETS
    from reportgen.models import MODELS, SUPPLIED

    kind, options = dataset_of(manifest, run)
    data = load_run_data(manifest, run)
    return {
        "model": {"arch": run.arch, **resolved_params(MODELS.get(run.arch), run.model_options, skip=SUPPLIED)},
        "dataset": {
            "kind": kind,
            **resolved_params(DATASETS.get(kind), options, skip=("base_dir",)),
            "fingerprint": data.fingerprint,
        },
        "train": _train_key(run),
        "seed": seed,
        "code_version": TRAIN_CODE_VERSION,
    }


def _train_key(run: RunSpec) -> dict[str, Any]:
    train = asdict(run.train)
    if train.get("precision") == "float32":
        del train["precision"]  # the default, and the key every run had before precision was a choice
    return train


def run_key(spec: dict[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def dataset_of(manifest: Manifest, run: RunSpec) -> tuple[str, dict[str, Any]]:
    """``(kind, options)`` of the dataset a run names (a ``[datasets]`` entry, or a bare kind)."""
    if run.dataset in manifest.datasets:
        spec = manifest.datasets[run.dataset]
        return spec.kind, {**spec.options, **run.dataset_overrides}
    return run.dataset, dict(run.dataset_overrides)


def load_run_data(manifest: Manifest, run: RunSpec):
    """The :class:`~reportgen.data.DatasetSplits` a run trains on (memoised per process)."""
    from reportgen.data import load_dataset

    kind, options = dataset_of(manifest, run)
    try:
        return load_dataset(kind, options, manifest.base_dir)
    except DataError as err:
        where = f"datasets.{run.dataset}" if run.dataset in manifest.datasets else f"runs.{run.name}.dataset"
        raise DataError(f"{manifest.path.name}: {where}: {err}") from None

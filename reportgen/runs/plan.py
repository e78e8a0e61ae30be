"""From a manifest (and an optional ``--section`` filter) to the sections to build and the unique runs.

A run's identity is a hash of its fully resolved spec — model with every default filled in (or, for a user's
model, the content hash of its file or its package's version), dataset kind, options (less those that only say where
the data is, such as ``root``) and content fingerprint, training configuration, seed, the key of the run it starts
from (``init_from``), the content fingerprints of the datasets it is also evaluated on, and the hash of reportgen's
own training and model code — so two sections (or two differently named runs) asking for the same configuration share
one training, any change that could change the numbers changes the key (editing ``models.py`` retrains exactly the
runs that use it), and moving a data folder changes none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.config.errors import DataError, ManifestError
from reportgen.config.params import resolved_params
from reportgen.config.registry import did_you_mean
from reportgen.config.specs import Manifest, RunSpec, SectionSpec

if TYPE_CHECKING:
    from reportgen.data.loading import FingerprintStore

#: The folders of reportgen's code whose source decides what a training produces (hashed into every key).
TRAINING_CODE = ("training", "models")


@dataclass(frozen=True)
class PlannedRun:
    """One training: a manifest run at one seed."""

    run: RunSpec
    seed: int
    key: str  # content hash of ``spec``; the cache entry's name
    spec: dict[str, Any]  # the fully resolved, JSON-able spec
    init_from: str | None = None  # key of the planned run whose trained weights this one starts from

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


def make_plan(manifest: Manifest, only: list[str] | None = None, *, stored: FingerprintStore | None = None) -> Plan:
    """The sections to build (all, or those named in ``only``) and the unique runs they need (a run that another
    starts from, ``init_from``, is planned before it even when no section shows it).

    ``stored`` is for ``reportgen cache prune`` only: keys are computed from the data fingerprints recorded there,
    loading only the data none is recorded for. A build passes none: it loads and fingerprints the data itself."""
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
    by_name: dict[str, tuple[PlannedRun, ...]] = {}

    def planned(name: str) -> tuple[PlannedRun, ...]:
        if name not in by_name:
            run = manifest.runs[name]
            sources = planned(run.init_from) if run.init_from else (None,) * len(manifest.report.seeds)
            by_name[name] = tuple(plan_run(manifest, run, seed, source, stored=stored)
                                  for seed, source in zip(manifest.report.seeds, sources, strict=True))
        return by_name[name]

    for name in names:
        planned(name)
    unique: dict[str, PlannedRun] = {}
    for p in sorted((p for runs in by_name.values() for p in runs), key=_depth(by_name)):
        unique.setdefault(p.key, p)
    return Plan(manifest, sections, tuple(unique.values()), {n: by_name[n] for n in names})


def _depth(by_name: dict[str, tuple[PlannedRun, ...]]):
    """Sort key: how many ``init_from`` steps lead to a run (sources first; a stable sort keeps first-needed order)."""
    keys = {p.key: p for runs in by_name.values() for p in runs}

    def depth(p: PlannedRun) -> int:
        return 0 if p.init_from is None else 1 + depth(keys[p.init_from])

    return depth


def plan_run(manifest: Manifest, run: RunSpec, seed: int, source: PlannedRun | None = None, *,
             stored: FingerprintStore | None = None) -> PlannedRun:
    spec = resolve_run(manifest, run, seed, stored=stored)
    if source is not None:
        spec["init_from"] = {"run": source.run.name, "key": source.key, "freeze": list(run.train.freeze)}
    return PlannedRun(run, seed, run_key(spec), spec, source.key if source is not None else None)


def resolve_run(manifest: Manifest, run: RunSpec, seed: int, *, stored: FingerprintStore | None = None
                ) -> dict[str, Any]:
    """The fully resolved spec of ``run`` at ``seed`` (what its key hashes). ``stored``: see :func:`make_plan`."""
    kind, options = dataset_of(manifest, run)
    spec = {
        "model": model_key(run),
        "dataset": {"kind": kind, **dataset_key(kind, options), "fingerprint": _run_fingerprint(manifest, run, stored)},
        "train": _train_key(run),
        "seed": seed,
        "code": training_code_hash(),
    }
    if run.evaluate_on:
        spec["evaluate_on"] = {name: _evaluation_fingerprint(manifest, run, name, stored) for name in run.evaluate_on}
    return spec


def dataset_key(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """A dataset's options as a run's key holds them: every default filled in, less the options its kind declares
    location-only (``root``, ``download``, a CSV's path). The key holds the data's content fingerprint too, so data
    moved elsewhere keys the same and data changed in place keys differently."""
    from reportgen.data import DATASETS
    from reportgen.data.base import location_options_of

    fn = DATASETS.get(kind)
    where = location_options_of(fn)
    return {k: v for k, v in resolved_params(fn, options, skip=("base_dir", *where)).items() if k not in where}


def _run_fingerprint(manifest: Manifest, run: RunSpec, stored: FingerprintStore | None) -> str:
    """The content fingerprint of the data ``run`` trains on: loaded, or (pruning) as recorded in ``stored``."""
    if stored is not None:
        kind, options = dataset_of(manifest, run)
        return _stored_fingerprint(manifest, kind, options, stored, lambda: load_run_data(manifest, run))
    return load_run_data(manifest, run).fingerprint


def _evaluation_fingerprint(manifest: Manifest, run: RunSpec, name: str, stored: FingerprintStore | None) -> str:
    """The content fingerprint of the dataset ``name`` that ``run`` is also evaluated on (``evaluate_on``)."""
    if stored is not None:
        kind, options = evaluation_dataset(manifest, name)
        # Only the fingerprint is needed, not the checks against the run's own data (a build makes them).
        return _stored_fingerprint(manifest, kind, options, stored, lambda: _load_evaluation_data(manifest, run, name))
    return extra_test_data(manifest, run, name)[1].fingerprint


def _stored_fingerprint(manifest: Manifest, kind: str, options: dict[str, Any], stored: FingerprintStore, load) -> str:
    """The fingerprint ``stored`` holds for this data; else the data's own, loaded by ``load()`` (whose DataError
    names the manifest and the dataset); else a DataError saying why neither was possible."""
    found = stored.lookup(kind, options, manifest.base_dir)
    if found is not None:
        return found
    try:
        return load().fingerprint
    except DataError as err:
        raise DataError(f"{err}; and {stored.path} records no fingerprint of this data (no build into this cache "
                        f"loaded it)") from None


def remember_fingerprints(plan: Plan, cache_root: Path) -> None:
    """Record, in the fingerprint store of the run cache at ``cache_root``, the content fingerprint of every dataset
    this process loaded to key ``plan``'s runs, so that ``reportgen cache prune`` can key them after the data is gone.
    Data fingerprinted from the store itself (a prune) is not loaded, so not recorded again."""
    from reportgen.data.loading import FingerprintStore, data_identity, loaded_fingerprint

    manifest = plan.manifest
    found: dict[str, str] = {}
    # by_name, not runs: two runs with one key may read one content from two places, and both places are asked for.
    for planned in plan.by_name.values():
        run = planned[0].run
        for kind, options in (dataset_of(manifest, run), *(evaluation_dataset(manifest, n) for n in run.evaluate_on)):
            fingerprint = loaded_fingerprint(kind, options, manifest.base_dir)
            if fingerprint is not None:
                found[data_identity(kind, options, manifest.base_dir)] = fingerprint
    if found:
        FingerprintStore(cache_root).record(found)


def model_key(run: RunSpec) -> dict[str, Any]:
    """The model part of a run's key: a built-in with every default filled in, or a reference to a user's code with
    its options and the code's fingerprint (its file's content hash, or its package's version)."""
    from reportgen.config.plugins import fingerprint, is_reference, parse_reference
    from reportgen.models import MODELS, SUPPLIED

    if not is_reference(run.arch):
        return {"arch": run.arch, **resolved_params(MODELS.get(run.arch), run.model_options, skip=SUPPLIED)}
    ref = parse_reference(run.arch, f"runs.{run.name}.model.arch")
    code = fingerprint(ref, Path(run.base_dir))
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(run.model_options.items())}
    if "weights_file" in options:
        options["weights_file"] = hashlib.sha256((Path(run.base_dir) / options["weights_file"]).read_bytes()
                                                 ).hexdigest()[:16]
    return {"arch": run.arch, "code": code, **options}


_CODE_HASH: list[str] = []


def training_code_hash() -> str:
    """SHA-256 (16 hex digits) of the source of reportgen's training and model code: a change to the trainer retrains
    every run, with no version number to forget to bump."""
    if not _CODE_HASH:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for folder in TRAINING_CODE:
            for path in sorted((root / folder).rglob("*.py")):
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())
        _CODE_HASH.append(h.hexdigest()[:16])
    return _CODE_HASH[0]


def extra_test_data(manifest: Manifest, run: RunSpec, name: str):
    """``(test split, its DatasetSplits)`` of the dataset ``name`` a run is also evaluated on; its classes and image
    shape must be the run's own (an error naming both datasets otherwise)."""
    own = load_run_data(manifest, run)
    other = _load_evaluation_data(manifest, run, name)
    where = f"{manifest.path.name}: runs.{run.name}.evaluate_on"
    if tuple(other.classes) != tuple(own.classes):
        raise DataError(f'{where}: dataset "{name}" has classes {_classes(other.classes)} but the run trains on '
                        f'"{run.dataset}" with {_classes(own.classes)}; evaluation needs the same classes')
    if other.input_shape != own.input_shape:
        raise DataError(f'{where}: dataset "{name}" has images of shape {other.input_shape} but "{run.dataset}" has '
                        f"{own.input_shape}")
    return other.test, other


def _load_evaluation_data(manifest: Manifest, run: RunSpec, name: str):
    from reportgen.data import load_dataset

    kind, options = evaluation_dataset(manifest, name)
    try:
        return load_dataset(kind, options, manifest.base_dir)
    except DataError as err:
        raise DataError(f"{manifest.path.name}: runs.{run.name}.evaluate_on: {name}: {err}") from None


def _classes(names) -> str:
    shown = ", ".join(str(c) for c in list(names)[:5])
    return f"[{shown}{', …' if len(names) > 5 else ''}] ({len(names)})"


def _train_key(run: RunSpec) -> dict[str, Any]:
    from reportgen.config.specs import Augment

    train = asdict(run.train)
    if train.get("precision") == "float32":
        del train["precision"]  # the default, and the key every run had before precision was a choice
    if not train.get("resample_split"):
        train.pop("resample_split", None)  # off (the dataset's own split): the key every run had before
    # Augmentation options at their defaults change nothing: {} , { crop = 0 } and no table share one key.
    defaults = asdict(Augment())
    augment = {k: v for k, v in (train.get("augment") or {}).items() if defaults.get(k, object()) != v}
    train["augment"] = augment or None
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


def evaluation_dataset(manifest: Manifest, name: str) -> tuple[str, dict[str, Any]]:
    """``(kind, options)`` of a dataset named in ``evaluate_on`` (a ``[datasets]`` entry, or a bare kind)."""
    spec = manifest.datasets.get(name)
    return (spec.kind, dict(spec.options)) if spec is not None else (name, {})


def load_run_data(manifest: Manifest, run: RunSpec):
    """The :class:`~reportgen.data.DatasetSplits` a run trains on (memoised per process)."""
    from reportgen.data import load_dataset

    kind, options = dataset_of(manifest, run)
    try:
        return load_dataset(kind, options, manifest.base_dir)
    except DataError as err:
        where = f"datasets.{run.dataset}" if run.dataset in manifest.datasets else f"runs.{run.name}.dataset"
        raise DataError(f"{manifest.path.name}: {where}: {err}") from None

"""Which of a manifest's trainings a run cache holds, from the manifest and the cache alone (``reportgen sections``).

A run's key hashes its data's content fingerprint, which normally means reading the data (and importing torch to
hold it). Here every fingerprint comes from the cache's :class:`~reportgen.data.loading.FingerprintStore`, which
builds fill; a run whose data was never loaded into this cache (nor the data of a run it starts from) has a key that
is not yet known, and is reported as such rather than loaded. So the listing takes a fraction of a second, and works
with the data gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.config.errors import CacheError
from reportgen.config.specs import Manifest, SectionSpec


@dataclass(frozen=True)
class SectionStatus:
    section: SectionSpec
    trainings: int  # the section's runs × the report's seeds
    cached: int | None  # how many of them the cache holds; None when some key is not yet known


@dataclass(frozen=True)
class CacheStatus:
    sections: list[SectionStatus]
    unknown_data: list[str]  # the runs whose data no build recorded a fingerprint of (in manifest order)
    store_problem: str | None = None  # why the fingerprint store could not be read (then every key is unknown)


def cache_status(manifest: Manifest, cache) -> CacheStatus:
    """For each section of ``manifest``: how many of its trainings ``cache`` (a RunCache) holds, reading no data."""
    from reportgen.data.loading import FingerprintStore, data_identity
    from reportgen.runs.plan import dataset_of, evaluation_dataset, make_plan

    store = FingerprintStore(cache.root)
    problem = None
    try:
        recorded = store.read()
    except CacheError as err:
        recorded, problem = {}, str(err)
    known: dict[str, bool] = {}

    def keyable(name: str) -> bool:
        """Whether every fingerprint the key of run ``name`` hashes is recorded (through ``init_from`` too)."""
        if name not in known:
            run = manifest.runs[name]
            data = (dataset_of(manifest, run), *(evaluation_dataset(manifest, n) for n in run.evaluate_on))
            known[name] = all(data_identity(kind, options, manifest.base_dir) in recorded for kind, options in data) \
                and (run.init_from is None or keyable(run.init_from))
        return known[name]

    ready = [s.id for s in manifest.sections.values() if all(keyable(r) for r in s.all_runs)]
    plan = make_plan(manifest, ready, stored=store) if ready else None
    seeds = len(manifest.report.seeds)
    rows = []
    for section in manifest.sections.values():
        cached = None
        if plan is not None and section.id in ready:
            cached = sum(cache.has(p.key) for runs in plan.runs_for(section).values() for p in runs)
        rows.append(SectionStatus(section, len(section.all_runs) * seeds, cached))
    unknown = [name for name in dict.fromkeys(r for s in manifest.sections.values() for r in s.all_runs)
               if not keyable(name)]
    return CacheStatus(rows, unknown, problem)

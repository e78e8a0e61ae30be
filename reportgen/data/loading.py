"""Load a dataset kind by name, once per process, and check that its splits are usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reportgen.config.errors import DataError
from reportgen.config.params import resolved_params
from reportgen.data.base import DATASETS, DatasetSplits

# (kind, canonical options JSON, resolved base_dir) -> fingerprinted splits. A build that trains many runs
# on one dataset decodes and hashes it once; the tensors are shared, so callers must not modify them.
_CACHE: dict[tuple[str, str, str], DatasetSplits] = {}


def load_dataset(kind: str, options: dict[str, Any], base_dir: Path) -> DatasetSplits:
    """The dataset built by kind ``kind`` from ``options`` (already checked with ``check_params``).

    Relative paths in ``options`` are resolved against ``base_dir`` (the manifest's folder). The result
    carries its content fingerprint. Raises :class:`~reportgen.config.errors.DataError` if loading fails, if a split
    is empty, or if some class has no training sample.
    """
    fn = DATASETS.get(kind)
    base = Path(base_dir).resolve()
    # Defaults are filled in so that `{}` and `{seed = 0}` share one cache entry.
    canonical = json.dumps(resolved_params(fn, options, skip=("base_dir",)), sort_keys=True, default=str)
    key = (kind, canonical, str(base))
    if key not in _CACHE:
        data = fn(base_dir=base, **options)
        _check(kind, data)
        _CACHE[key] = data.with_fingerprint()
    return _CACHE[key]


def clear_cache() -> None:
    """Forget every loaded dataset (tests; a long-lived process whose files changed)."""
    _CACHE.clear()


def _check(kind: str, data: DatasetSplits) -> None:
    for name in ("train", "val", "test"):
        if len(getattr(data, name)) == 0:
            raise DataError(f'dataset kind "{kind}": the {name} split is empty (too few samples to split)')
    counts = data.train.class_counts(data.num_classes)
    missing = [c for c, n in zip(data.classes, counts, strict=True) if n < 1]
    if missing:
        shown = ", ".join(f'"{c}"' for c in missing)
        raise DataError(f'dataset kind "{kind}": no training sample of class {shown}')

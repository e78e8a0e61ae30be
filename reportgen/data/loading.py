"""Load a dataset kind by name, once per process, and check that its splits are usable; remember the content
fingerprint of what was loaded (:class:`FingerprintStore`), so that a run's key can be computed after the data is gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reportgen.config.errors import CacheError, DataError
from reportgen.config.params import resolved_params
from reportgen.data.base import DATASETS, DatasetSplits

# data_identity(...) -> fingerprinted splits. A build that trains many runs on one dataset decodes and hashes it
# once; the tensors are shared, so callers must not modify them.
_CACHE: dict[str, DatasetSplits] = {}


def data_identity(kind: str, options: dict[str, Any], base_dir: Path) -> str:
    """Which data ``kind`` with ``options`` loads from ``base_dir``: the kind, every option with its default filled in
    (so that ``{}`` and ``{seed = 0}`` are one dataset; location options included: data elsewhere is other data until
    it is fingerprinted) and the resolved folder relative paths start from. A canonical JSON string."""
    canonical = resolved_params(DATASETS.get(kind), options, skip=("base_dir",))
    return json.dumps([kind, canonical, str(Path(base_dir).resolve())], sort_keys=True, default=str)


def load_dataset(kind: str, options: dict[str, Any], base_dir: Path) -> DatasetSplits:
    """The dataset built by kind ``kind`` from ``options`` (already checked with ``check_params``).

    Relative paths in ``options`` are resolved against ``base_dir`` (the manifest's folder). The result
    carries its content fingerprint. Raises :class:`~reportgen.config.errors.DataError` if loading fails, if a split
    is empty, or if some class has no training sample.
    """
    fn = DATASETS.get(kind)
    key = data_identity(kind, options, base_dir)
    if key not in _CACHE:
        data = fn(base_dir=Path(base_dir).resolve(), **options)
        _check(kind, data)
        _CACHE[key] = data.with_fingerprint()
    return _CACHE[key]


def share_memory(data: DatasetSplits) -> DatasetSplits:
    """``data`` with its tensors moved to shared memory, in place (the memoised copy stays the one this process
    uses), so that worker processes receive them as file descriptors to the same pages instead of copies each.
    Moving a tensor that is already shared does nothing."""
    for split in (data.train, data.val, data.test):
        split.x.share_memory_()
        split.y.share_memory_()
    return data


def loaded_fingerprint(kind: str, options: dict[str, Any], base_dir: Path) -> str | None:
    """The content fingerprint of the dataset if this process loaded it, else ``None`` (nothing is loaded)."""
    data = _CACHE.get(data_identity(kind, options, base_dir))
    return data.fingerprint if data is not None else None


class FingerprintStore:
    """``.fingerprints.json`` in a run cache folder: ``{data_identity: content fingerprint}`` of the datasets whose
    fingerprints went into the keys of the runs a build planned into that cache.

    Only ``reportgen cache prune`` reads it, to compute a manifest's keys without loading its data (or after the data
    is gone); a build always loads the data and fingerprints what it loaded, so a stale entry here can never feed a
    training. A build records each dataset it planned with, overwriting an older fingerprint of the same data.
    """

    FILE = ".fingerprints.json"  # hidden: the cache folder's visible names are its entries

    def __init__(self, cache_root: Path) -> None:
        self.path = Path(cache_root) / self.FILE
        self._known: dict[str, str] | None = None  # read once by lookup(): a prune asks for every run at every seed

    def read(self) -> dict[str, str]:
        """Every recorded fingerprint; ``{}`` when none was recorded. Raises :class:`CacheError` if the file is
        damaged."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise CacheError(f"{self.path}: unreadable ({err})") from None
        if not isinstance(stored, dict) or not all(isinstance(v, str) for v in stored.values()):
            raise CacheError(f"{self.path}: not a table of dataset fingerprints")
        return stored

    def lookup(self, kind: str, options: dict[str, Any], base_dir: Path) -> str | None:
        """The fingerprint recorded for this dataset, or ``None``."""
        if self._known is None:
            self._known = self.read()
        return self._known.get(data_identity(kind, options, base_dir))

    def record(self, fingerprints: dict[str, str]) -> None:
        """Add ``{data_identity: fingerprint}`` (replacing older fingerprints of the same data), atomically."""
        from reportgen.io import write_json_atomic

        try:
            stored = self.read()
        except CacheError:
            stored = {}  # damaged: rewritten from what is known now (only pruning reads it, and it reloads data)
        if all(stored.get(k) == v for k, v in fingerprints.items()):
            return
        try:
            write_json_atomic(self.path, {**stored, **fingerprints})
        except OSError as err:
            raise CacheError(f"cannot write {self.path}: {err.strerror or err}") from None
        self._known = None


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

"""Content-addressed store of finished runs: ``out/cache/<key>/``.

An entry holds the resolved spec and provenance (``meta.json``), the per-epoch history, the test-set
arrays (``arrays.npz``) and the weights (``weights.pt``). ``meta.json`` also records each file's SHA-256,
checked on load: a truncated or altered entry is reported and treated as missing, never trusted.
Entries are written into a temporary folder and renamed into place, so an interrupted build never leaves
a half-written entry under its final name (the DVC habit).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from reportgen.config.errors import CacheError
from reportgen.faults import checkpoint
from reportgen.training.result import RunResult

FORMAT_VERSION = 1
_FILES = ("history.json", "arrays.npz", "weights.pt")


class RunCache:
    """The run cache under ``root`` (normally ``out/cache``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        return (self.path(key) / "meta.json").is_file()

    def keys(self) -> list[str]:
        """The keys of the entries present (temporary folders of unfinished writes excluded)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def leftovers(self) -> list[Path]:
        """Temporary folders of writes that never finished (a killed build); safe to delete."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith(".tmp-"))

    def problem(self, key: str) -> str | None:
        """Why the entry ``key`` cannot be trusted, or None when every file matches its checksum."""
        entry = self.path(key)
        try:
            meta = json.loads((entry / "meta.json").read_text())
            if not isinstance(meta, dict) or "sha256" not in meta:
                return "meta.json is not a cache entry's metadata"
            if meta.get("format") != FORMAT_VERSION:
                return f"written by another cache format ({meta.get('format')}, this is {FORMAT_VERSION})"
            if meta.get("key") not in (None, key):
                return f"meta.json names another key ({meta.get('key')})"
            for name in _FILES:
                if name not in meta["sha256"]:
                    return f"no checksum for {name}"
                if _sha256(entry / name) != meta["sha256"][name]:
                    return f"{name} does not match its checksum"
        except FileNotFoundError as err:
            return f"{Path(err.filename).name} is missing"
        except (OSError, ValueError) as err:
            return f"unreadable ({err})"
        return None

    def remove(self, key_or_path: str | Path) -> None:
        shutil.rmtree(self.path(key_or_path) if isinstance(key_or_path, str) else key_or_path, ignore_errors=True)

    def load(self, key: str, *, weights: bool = False) -> RunResult | None:
        """The cached result for ``key``, or ``None`` if absent or damaged (a damaged entry is warned about)."""
        entry = self.path(key)
        if not (entry / "meta.json").is_file():
            return None
        try:
            meta = json.loads((entry / "meta.json").read_text())
            if not isinstance(meta, dict):
                raise ValueError("meta.json is not a JSON object")
            if meta.get("format") != FORMAT_VERSION:
                # Said, not silent: a user who upgraded should know why a cached run trains again.
                warnings.warn(f"cache entry {entry} was written by another cache format ({meta.get('format')}, this "
                              f"is {FORMAT_VERSION}); it will be retrained", stacklevel=2)
                return None
            for name, digest in meta["sha256"].items():
                if _sha256(entry / name) != digest:
                    raise ValueError(f"{name} does not match its checksum")
            history = json.loads((entry / "history.json").read_text())
            with np.load(entry / "arrays.npz") as arrays:
                test_true, test_prob, test_features = (arrays[k] for k in ("test_true", "test_prob", "test_features"))
                snapshots = {int(k.split("_")[1]): arrays[k] for k in arrays.files if k.startswith("snapshot_")}
                extra: dict[str, dict] = {}
                for k in arrays.files:  # "extra__<dataset>__true" / "extra__<dataset>__prob"
                    if k.startswith("extra__"):
                        name, part = k[len("extra__"):].rsplit("__", 1)
                        extra.setdefault(name, {})[part] = arrays[k]
            state_dict = None
            if weights:
                import torch

                state_dict = torch.load(entry / "weights.pt", map_location="cpu", weights_only=True)
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"cache entry {entry} is damaged ({err}); it will be retrained", stacklevel=2)
            return None
        return RunResult(
            key=key,
            spec=meta["spec"],
            history=history,
            test_true=test_true,
            test_prob=test_prob,
            test_features=test_features,
            classes=tuple(meta["classes"]),
            params=meta["params"],
            macs=meta["macs"],
            train_seconds=meta["train_seconds"],
            status=meta["status"],
            reason=meta["reason"],
            provenance=meta["provenance"],
            events=meta.get("events", []),
            feature_snapshots=snapshots,
            state_dict=state_dict,
            extra_tests=extra,
            notes=meta.get("notes", []),
        )

    def save(self, result: RunResult) -> Path:
        """Write ``result`` atomically under its key; returns the entry's folder."""
        import torch

        final = self.path(result.key)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{result.key}-", dir=self.root))
        except OSError as err:
            raise CacheError(f"cannot write the run cache under {self.root}: {err.strerror or err}") from None
        try:
            (tmp / "history.json").write_text(json.dumps(result.history))
            snapshots = {f"snapshot_{epoch}": f for epoch, f in result.feature_snapshots.items()}
            snapshots.update({f"extra__{name}__{part}": a for name, parts in result.extra_tests.items()
                              for part, a in parts.items()})
            np.savez(tmp / "arrays.npz", test_true=result.test_true, test_prob=result.test_prob,
                     test_features=result.test_features, **snapshots)
            checkpoint("cache-write")  # half an entry on disk, under its temporary name
            torch.save(result.state_dict or {}, tmp / "weights.pt")
            meta = {
                "format": FORMAT_VERSION,
                "key": result.key,
                "spec": result.spec,
                "classes": list(result.classes),
                "params": result.params,
                "macs": result.macs,
                "train_seconds": result.train_seconds,
                "status": result.status,
                "reason": result.reason,
                "provenance": result.provenance,
                "events": result.events,
                "notes": result.notes,
                "sha256": {name: _sha256(tmp / name) for name in _FILES},
            }
            # meta.json last: an entry counts as present only once it exists.
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            _fsync_dir(tmp)
            if final.exists():
                shutil.rmtree(final)  # a damaged entry being replaced, or --force
            os.replace(tmp, final)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CacheError(f"cannot write cache entry {final}: {err.strerror or err}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    for name in os.listdir(folder):
        with open(folder / name, "rb") as f:
            os.fsync(f.fileno())

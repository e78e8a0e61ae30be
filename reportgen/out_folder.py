"""Where a manifest's report goes, and whose report an output folder holds.

Default folders: a folder's ``experiments.toml`` writes ``<folder>/out/`` (the README's ``out/report.html``); any other
manifest ``<folder>/out/<stem>/`` (``examples/itu-a2.toml`` → ``examples/out/itu-a2/``), so the examples beside each
other never overwrite each other's ``sections/<id>.json``, ``report.html`` or ``results.json``. The run cache stays
one per folder (``<folder>/out/cache``): it is content-addressed, so manifests that ask for the same training share
it and none can serve another a wrong run. An explicit ``--out DIR`` keeps its cache in ``DIR/cache``.

Ownership: an output folder records the manifest it belongs to (``OUT/manifest.json``), and so does every section
result (its ``"manifest"`` field). Like DVC, which refuses two stages declaring one output, a build of manifest B into
a folder that holds manifest A's report is refused with one error naming both; reusing the folder would replace A's
results under the same section ids. A section result that names another manifest, or none (written before reportgen
recorded it), is never reused or shown: it counts as missing and is recomputed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reportgen.config.errors import CacheError
from reportgen.io import write_json_atomic

DEFAULT_MANIFEST = "experiments.toml"
OWNER_FILE = "manifest.json"
# What ``out/`` of the folder's experiments.toml holds: a manifest stem among these would write into one of them.
RESERVED = frozenset({"cache", "sections", "figures"})


def default_out(manifest_path: str | Path) -> Path:
    """``<folder>/out`` for ``<folder>/experiments.toml``; ``<folder>/out/<stem>`` for any other manifest."""
    path = Path(manifest_path).resolve()
    if path.name == DEFAULT_MANIFEST:
        return path.parent / "out"
    if path.stem in RESERVED:
        raise CacheError(f"{path.name}: its default output folder out/{path.stem}/ would mix with the run cache or "
                         f"the section results of {DEFAULT_MANIFEST}; rename the manifest or pass --out DIR")
    return path.parent / "out" / path.stem


def default_cache(manifest_path: str | Path) -> Path:
    """The run cache a build without ``--out`` uses: one per manifest folder, shared by its manifests."""
    return Path(manifest_path).resolve().parent / "out" / "cache"


def manifest_record(manifest_path: str | Path, out_dir: Path) -> dict[str, str]:
    """Who owns ``out_dir``: the manifest's absolute path, and its path relative to the folder (which still matches
    after the project, output folder included, is moved or copied elsewhere)."""
    path = Path(manifest_path).resolve()
    try:
        relative = Path(os.path.relpath(path, Path(out_dir).resolve())).as_posix()
    except ValueError:  # another drive (Windows): only the absolute path can match
        relative = path.as_posix()
    return {"path": str(path), "relative": relative}


def same_manifest(recorded: Any, current: dict[str, str]) -> bool:
    """Whether a recorded owner (``manifest_record``'s dict, as stored) is the manifest ``current`` describes."""
    if not isinstance(recorded, dict):
        return False
    return recorded.get("path") == current["path"] or recorded.get("relative") == current["relative"]


def claim(manifest_path: str | Path, out_dir: Path) -> dict[str, str]:
    """Record that ``out_dir`` holds this manifest's report, or raise :class:`CacheError` when it holds another's.

    A folder without a readable record (new, or written before reportgen kept one) is claimed; its section results
    carry no owner and are recomputed. Returns the record, which every section result written there carries."""
    current = manifest_record(manifest_path, out_dir)
    record_path = out_dir / OWNER_FILE
    try:
        stored = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    owner = stored.get("manifest") if isinstance(stored, dict) else None
    if isinstance(owner, dict) and not same_manifest(owner, current):
        raise CacheError(
            f"output folder {out_dir} holds the report of {owner.get('path', '?')} ({record_path}); building "
            f"{current['path']} there would replace that manifest's section results, report and results.json. "
            f"Pass another --out DIR, or delete {record_path} to let this manifest take the folder over")
    write_json_atomic(record_path, {"manifest": current, "written_by": "reportgen build"})
    return current

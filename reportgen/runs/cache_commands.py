"""``reportgen cache verify`` and ``reportgen cache prune``: check every entry's checksums, and drop the entries no
manifest uses (DVC's ``gc``). Both report what they found and change nothing without being asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reportgen.config.errors import ReportgenError
from reportgen.runs.cache import RunCache


@dataclass
class Verification:
    ok: list[str] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)  # key -> why
    leftovers: list[Path] = field(default_factory=list)


def verify(cache: RunCache, *, fix: bool = False) -> Verification:
    """Check every entry; with ``fix``, delete the damaged ones (they retrain on the next build) and the
    temporary folders of interrupted writes."""
    found = Verification(leftovers=cache.leftovers())
    for key in cache.keys():
        why = cache.problem(key)
        if why is None:
            found.ok.append(key)
        else:
            found.damaged[key] = why
    if fix:
        for key in found.damaged:
            cache.remove(key)
        for path in found.leftovers:
            cache.remove(path)
    return found


@dataclass
class Pruning:
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    skipped: dict[Path, str] = field(default_factory=dict)  # TOML files that are not valid manifests, and why


def used_keys(manifests: list[Path], skipped: dict[Path, str]) -> set[str]:
    """Every run key the manifests' plans need (each run at each seed)."""
    from reportgen.config.manifest import load_manifest
    from reportgen.runs.plan import make_plan

    keys: set[str] = set()
    for path in manifests:
        try:
            keys.update(p.key for p in make_plan(load_manifest(path)).runs)
        except ReportgenError as err:  # not a manifest, or its data is not on this machine
            skipped[path] = str(err)
    return keys


def prune(cache: RunCache, manifests: list[Path], *, dry_run: bool = False) -> Pruning:
    """Drop the entries none of ``manifests`` uses (and leftover temporary folders). A TOML file that is not a
    valid manifest is skipped and reported; if none is valid, nothing is dropped (that would empty the cache)."""
    result = Pruning(manifests=list(manifests), leftovers=cache.leftovers())
    keep = used_keys(manifests, result.skipped)
    if len(result.skipped) == len(manifests):
        raise ReportgenError("no valid manifest to prune against: " + "; ".join(result.skipped.values()))
    for key in cache.keys():
        (result.kept if key in keep else result.dropped).append(key)
    if not dry_run:
        for key in result.dropped:
            cache.remove(key)
        for path in result.leftovers:
            cache.remove(path)
    return result

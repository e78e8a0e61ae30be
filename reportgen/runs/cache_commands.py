"""``reportgen cache verify`` and ``reportgen cache prune``: check every entry's checksums, and drop the entries no
manifest uses (DVC's ``gc``). Both report what they found and change nothing without being asked.

Pruning keeps what it cannot account for: an entry is deleted only when every manifest's keys are known and none
needs it. A manifest that cannot be read or planned makes prune refuse (``force`` prunes against the others); keys are
computed from the data fingerprints builds recorded (:class:`~reportgen.data.loading.FingerprintStore`), so a manifest
whose data was built from once still counts after its data folder is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reportgen.config.errors import CacheError, ReportgenError
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
    manifests: list[Path] = field(default_factory=list)  # the manifests pruned against (their keys are kept)
    not_manifests: dict[Path, str] = field(default_factory=dict)  # TOML files that are no manifest (pyproject.toml)
    skipped: dict[Path, str] = field(default_factory=dict)  # manifests whose keys are unknown -> why, naming each


class PruneRefusedError(CacheError):
    """Some manifest's keys could not be computed, so its entries cannot be told from unused ones: nothing deleted."""

    def __init__(self, unknown: dict[Path, str]) -> None:  # manifest -> why (a message naming it)
        self.unknown = unknown
        reasons = "; ".join(unknown.values())
        super().__init__(
            f"cache prune deleted nothing: cannot compute the run keys of {len(unknown)} manifest(s), so their cache "
            f"entries cannot be told from unused ones ({reasons}). Fix or remove the manifest, or pass --force to "
            "prune against the other manifests (deleting the entries only the skipped ones use)")


def not_a_manifest(path: Path) -> str | None:
    """Why the TOML file at ``path`` is plainly not a manifest, or ``None`` when it is one or may be one.

    The rule: a file that parses as TOML and none of whose top-level keys is a manifest table (``report``,
    ``datasets``, ``runs``, ``sections``, ``grading``) or a near miss of one (``run``, ``section``: a manifest with a
    typo) is not a manifest; pyproject.toml's ``[project]``, ``[build-system]`` and ``[tool]`` are none. A file that
    cannot be read or parsed may be a manifest with a syntax error, so it is never ruled out here.
    """
    import tomllib

    from reportgen.config.manifest import TOP_LEVEL
    from reportgen.config.registry import did_you_mean

    try:
        data = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if any(key in TOP_LEVEL or did_you_mean(key, TOP_LEVEL) for key in data):
        return None
    shown = ", ".join(f"[{key}]" for key in list(data)[:4]) or "nothing"
    return f"none of a manifest's tables {', '.join(f'[{t}]' for t in TOP_LEVEL)}; it holds {shown}"


def prune(cache: RunCache, manifests: list[Path], *, dry_run: bool = False, force: bool = False) -> Pruning:
    """Drop the entries none of ``manifests`` uses, and leftover temporary folders.

    TOML files that are not manifests (:func:`not_a_manifest`) are listed and ignored. A manifest that cannot be
    read or planned raises :class:`PruneRefusedError` before anything is deleted; with ``force`` it is skipped and
    reported, and the entries only it uses are deleted. Without any manifest to prune against, nothing is deleted
    (that would empty the cache). Keys come from the fingerprints builds recorded in the cache, loading only data
    with none recorded (and recording it, unless ``dry_run``). The record is preferred even when the data is here:
    each build overwrites it with the fingerprint its entries were keyed with, so at worst entries trained on data
    since edited in place (and not rebuilt) are kept; and pruning never decodes or downloads a dataset twice.
    """
    from reportgen.config.manifest import load_manifest
    from reportgen.data.loading import FingerprintStore
    from reportgen.runs.plan import make_plan, remember_fingerprints

    result = Pruning(leftovers=cache.leftovers())
    stored = FingerprintStore(cache.root)
    keep: set[str] = set()
    for path in manifests:
        why = not_a_manifest(path)
        if why is not None:
            result.not_manifests[path] = why
            continue
        try:
            plan = make_plan(load_manifest(path), stored=stored)
        except ReportgenError as err:  # unreadable, invalid, or its data neither here nor recorded
            why = str(err)  # it names the manifest (by name, or as given); the path is added where it does not
            result.skipped[path] = why if why.startswith((str(path), path.name)) else f"{path}: {why}"
            continue
        if not dry_run:
            remember_fingerprints(plan, cache.root)
        keep.update(p.key for p in plan.runs)
        result.manifests.append(path)
    if result.skipped and not force:
        raise PruneRefusedError(result.skipped)
    if not result.manifests:
        ignored = ", ".join(str(p) for p in [*result.not_manifests, *result.skipped]) or "none given or found"
        raise CacheError(f"cache prune deleted nothing: no manifest to prune against (TOML files: {ignored})")
    for key in cache.keys():
        (result.kept if key in keep else result.dropped).append(key)
    if not dry_run:
        for key in result.dropped:
            cache.remove(key)
        for path in result.leftovers:
            cache.remove(path)
    return result

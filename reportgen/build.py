"""``reportgen build``: manifest → plan → runs → sections → figures → HTML, PDF and results.json.

Layered like ydata-profiling's caches: runs are cached by content hash (``out/cache``), each section's
computed result is kept as ``out/sections/<id>.json`` with its figures, and the report is re-rendered from
those. ``--section ID`` recomputes that section only and re-renders the report with the others as they were.
Which folder a manifest writes, and why two manifests never share one, is :mod:`reportgen.out_folder`'s to say.

A section that raises fails alone (its error is shown in its place) when the failure is the user's: a plugin section
type, a user's model or data file on the stack, memory running out. An exception raised by reportgen's own code is a
bug: it stops the build as a :class:`ReportgenBug` (the sections written before it stay on disk).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reportgen.config.errors import CacheError, ReportgenBug, ReportgenError
from reportgen.config.manifest import load_manifest
from reportgen.config.specs import Manifest, SectionSpec
from reportgen.io import write_json_atomic
from reportgen.out_folder import claim, default_cache, default_out, manifest_record, same_manifest
from reportgen.results import now as _now
from reportgen.results import provenance, read_previous, results_document, run_data
from reportgen.runs.plan import Plan, make_plan, remember_fingerprints

#: The device a build records when it trained nothing and so never asked torch which one it would use.
NO_DEVICE = "none needed (every run was cached)"

__all__ = ["BuildSummary", "build", "build_section", "build_sections", "load_section_outputs", "provenance",
           "results_document", "run_data"]


@dataclass
class BuildSummary:
    out: Path
    html: Path
    pdf: Path | None
    results: Path
    sections_built: list[str]
    trained: int
    cached: int
    failed: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    unfinished: int = 0  # runs (fresh or cached) that failed or diverged: what --strict turns into an exit status


def build(
    manifest_path: str | Path,
    *,
    out: str | Path | None = None,
    sections: list[str] | None = None,
    device: str = "auto",
    force: bool = False,
    quiet: bool = False,
    pdf: bool = True,
    jobs: int | str = 1,
    threads: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> BuildSummary:
    """Build the report of the manifest at ``manifest_path`` into ``out`` (default: :func:`default_out`; the run
    cache is ``out/cache`` beside the manifest, or ``OUT/cache`` with an explicit ``out``).

    Raises :class:`CacheError` when ``out`` holds another manifest's report, and :class:`ReportgenBug` when
    reportgen's own code fails while computing a section."""
    from reportgen.data.loading import FingerprintStore
    from reportgen.grade.rubric import grading_of
    from reportgen.render import render_report
    from reportgen.runs.cache import RunCache
    from reportgen.runs.runner import run_plan
    from reportgen.training.device import resolve_device

    started = time.perf_counter()
    timings: dict[str, float] = {}
    # Everything that can be wrong with the input is checked before the first file is written.
    manifest = load_manifest(manifest_path)
    grading_of(manifest)  # a bad [grading] table fails the build before it trains, as any manifest error does
    out_dir = Path(out) if out is not None else default_out(manifest_path)
    cache = RunCache(out_dir / "cache" if out is not None else default_cache(manifest_path))
    # --section with its runs cached reads neither the data nor torch (see cached_section_runs); anything else plans
    # from the data itself, on the device it would train on.
    plan, runner = cached_section_runs(manifest, sections, cache) if sections and not force else (None, None)
    torch_device = None
    if runner is None:
        torch_device = resolve_device(device)
        plan = make_plan(manifest, sections)
    ensure_writable(out_dir)
    claim(manifest.path, out_dir)  # before any section is written: refuses a folder holding another manifest's report
    timings["plan"] = time.perf_counter() - started

    t = time.perf_counter()
    remember_fingerprints(plan, cache.root)  # so that `cache prune` can key these runs after their data is gone
    if runner is None:
        if jobs == "auto":
            from reportgen.runs.machine import auto_jobs

            # The CPUs this process may use (affinity, cgroup quota) and the memory available; up to 4 on a CUDA GPU.
            jobs = auto_jobs(torch_device.type)
        runner = run_plan(plan, cache, torch_device, force=force, quiet=quiet, jobs=jobs, threads=threads,
                          executor=executor, ray_address=ray_address)
    timings["runs"] = time.perf_counter() - t

    t = time.perf_counter()
    # An explicit --section (or --force) recomputes; otherwise a section whose inputs are unchanged is reused.
    built = build_sections(plan, runner.outcomes, out_dir, cache, recompute=bool(sections) or force)
    timings["sections"] = time.perf_counter() - t

    t = time.perf_counter()
    outputs = load_section_outputs(manifest, out_dir)
    device_used = str(torch_device) if torch_device is not None else NO_DEVICE
    build_info = provenance(manifest, runner.outcomes.values(), device_used)
    data = run_data(manifest) if torch_device is not None else run_data(
        manifest, previous=read_previous(out_dir / "results.json"), stored=FingerprintStore(cache.root))
    results_path = write_json_atomic(out_dir / "results.json", results_document(manifest, outputs, build_info, data))
    html_path, pdf_path = render_report(manifest, outputs, build_info, out_dir, pdf=pdf, timings=timings)
    timings["render"] = time.perf_counter() - t
    return BuildSummary(
        out=out_dir,
        html=html_path,
        pdf=pdf_path,
        results=results_path,
        sections_built=built,
        trained=len(runner.trained),
        cached=len(runner.cached),
        failed=len(runner.failed),
        unfinished=sum(1 for o in runner.outcomes.values() if not o.ok),
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def cached_section_runs(manifest: Manifest, sections: list[str], cache) -> tuple[Plan | None, Any]:
    """``--section``'s fast path: the plan of ``sections`` keyed from the data fingerprints that earlier builds
    recorded in the cache's FingerprintStore (data without one is loaded), and its runs loaded from the cache; or
    ``(None, None)`` when some run is not in the cache (or the store is unreadable): then the build plans from the data
    itself, since a training is never keyed from a stored fingerprint.

    Why: reading and fingerprinting the data needs torch (seconds to import) for sections that read only the cached
    test-set arrays. The cost: data changed in place since the last full build is noticed by the next full build."""
    from reportgen.data.loading import FingerprintStore
    from reportgen.runs.runner import RunnerReport

    try:
        plan = make_plan(manifest, sections, stored=FingerprintStore(cache.root))
    except CacheError:
        return None, None
    report = RunnerReport()
    for planned in plan.runs:
        hit = cache.load(planned.key) if cache.has(planned.key) else None
        if hit is None:
            return None, None
        report.outcomes[planned.key] = hit
        report.cached.append(planned.key)
    return plan, report


def section_inputs(plan: Plan, section: SectionSpec, outcomes: dict, outputs: dict | None = None) -> str:
    """Hash of everything a section's result depends on: its definition, the keys and statuses of its runs,
    and the versions of reportgen and of the section type's code; for a section that summarises the others, also
    the stored outputs it reads (``outputs``, by id: every ordinary section's, less when each was built)."""
    from reportgen import __version__
    from reportgen.sections import SECTIONS

    runs = [(p.key, outcomes[p.key].status) for planned in plan.runs_for(section).values() for p in planned]
    kind = SECTIONS.get(section.type)
    text = repr((section_fingerprint(plan.manifest, section), runs, __version__, kind.version, _plugin_code(kind)))
    if kind.summarises:
        read = [{k: v for k, v in o.items() if k != "built_at"} for sid, o in (outputs or {}).items()
                if o.get("type") not in SECTIONS or not SECTIONS.get(o["type"]).summarises]
        text += json.dumps(read, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plugin_code(kind) -> str:
    """The content hash of a plugin section type's file (an edited plugin recomputes its sections); "" for built-ins,
    whose changes are tracked by reportgen's version and the type's ``version``."""
    source = _source_file(kind)
    if source is None or Path(__file__).resolve().parent in source.resolve().parents or not source.is_file():
        return ""
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def _up_to_date(plan: Plan, section: SectionSpec, outcomes: dict, out_dir: Path, outputs: dict | None = None
                ) -> bool:
    stored = _stored_output(plan.manifest, section, out_dir)
    return (
        stored is not None
        and stored.get("inputs") == section_inputs(plan, section, outcomes, outputs)
        and all((out_dir / f["file"]).is_file() for f in stored.get("figures", []))
    )


def section_fingerprint(manifest: Manifest, section: SectionSpec) -> str:
    """Changes when the section's definition, its runs' definitions or the seeds change."""
    parts = [repr(section), repr(manifest.report.seeds), *(repr(manifest.runs[r]) for r in section.all_runs)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def build_sections(plan: Plan, outcomes: dict, out_dir: Path, cache, *, recompute: bool = True) -> list[str]:
    """Build the plan's sections, then every section that summarises the others (conclusions) whose input changed.
    Without ``recompute``, a section whose stored output was computed from the same inputs (definition, runs, code
    versions) is kept as it is; a summary is kept when the outputs it reads are unchanged too, unless ``recompute``
    and the plan names it. Returns the ids built."""
    from reportgen.sections import SECTIONS

    manifest = plan.manifest
    ordinary = [s for s in plan.sections if not SECTIONS.get(s.type).summarises]
    computed = []
    for section in ordinary:
        if recompute or not _up_to_date(plan, section, outcomes, out_dir):
            build_section(plan, section, outcomes, out_dir, cache)
            computed.append(section)
    summaries = [s for s in manifest.sections.values() if SECTIONS.get(s.type).summarises]
    if summaries:
        # All of them: a summary reads only the usable ones and says which it left out (stale, failed, missing).
        stored = {o["id"]: o for o in load_section_outputs(manifest, out_dir)}
        named = {s.id for s in plan.sections}
        # Kept when nothing it reads changed: a --section build that reproduced its section's numbers (or changed a
        # section no summary reads) does not pay a summary's statistics imports again.
        summaries = [s for s in summaries if (recompute and s.id in named)
                     or not _up_to_date(plan, s, outcomes, out_dir, stored)]
        for section in summaries:
            build_section(plan, section, outcomes, out_dir, cache, outputs=stored)
    built = {s.id for s in (*computed, *summaries)}
    return [sid for sid in manifest.sections if sid in built]


def build_section(
    plan: Plan, section: SectionSpec, outcomes: dict, out_dir: Path, cache=None, outputs: dict | None = None
) -> dict[str, Any]:
    """Compute one section from its runs, draw its figures (or keep those drawn from the same result, see
    :mod:`reportgen.render.section_figures`), and store both under ``out_dir``."""
    from reportgen.render.section_figures import draw_figures, figures_key, reusable_figures
    from reportgen.runs.plan import load_run_data
    from reportgen.sections import SECTIONS, RunGroup, SectionContext

    def load_weights(key: str):
        hit = cache.load(key, weights=True) if cache is not None else None
        return hit.state_dict if hit is not None else None

    groups = [
        RunGroup(
            name,
            plan.manifest.runs[name],
            [p.seed for p in planned],
            [outcomes[p.key] for p in planned],
            # On first use only: most sections read the cached arrays, and loading the data imports torch.
            load_data=lambda spec=plan.manifest.runs[name]: load_run_data(plan.manifest, spec),
            load_weights=load_weights,
        )
        for name, planned in plan.runs_for(section).items()
    ]
    impl = SECTIONS.get(section.type)(section)
    figures, error, drawn_from = [], None, None
    try:
        result = impl.compute(SectionContext(section, groups, outputs or {}))
        drawn_from = figures_key(section, type(impl), result)
        figures = reusable_figures(_stored_output(plan.manifest, section, out_dir), drawn_from, out_dir)
        if figures is None:
            figures = draw_figures(section, impl, result, out_dir)
    except ReportgenError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's failure fails this section alone; reportgen's is a bug
        if not _users_fault(err, type(impl)):
            raise ReportgenBug(err) from err
        from reportgen.config.plugins import user_frame

        where = user_frame(err, _source_file(type(impl)) if _is_plugin(type(impl)) else None)
        error = f"{where}: {type(err).__name__}: {err}"
        result, figures, drawn_from = {}, [], None
    runs = {
        p.key: {"run": p.run.name, "label": p.run.label, "seed": p.seed, "status": outcomes[p.key].status,
                "reason": getattr(outcomes[p.key], "reason", "")}
        for planned in plan.runs_for(section).values()
        for p in planned
    }
    output = {
        "id": section.id,
        "type": section.type,
        "manifest": manifest_record(plan.manifest.path, out_dir),  # whose result this is: never shown for another
        "fingerprint": section_fingerprint(plan.manifest, section),
        "inputs": section_inputs(plan, section, outcomes, outputs),
        "built_at": _now(),
        "runs": runs,
        "result": result,
        "figures": figures,
        "figures_key": drawn_from,
    }
    if section.target is not None:
        from reportgen.sections.target import evaluate_target

        output["target"] = evaluate_target(section.target, groups)
    if error is not None:
        output["error"] = error
    write_json_atomic(out_dir / "sections" / f"{section.id}.json", output)
    return output


def _stored_output(manifest: Manifest, section: SectionSpec, out_dir: Path) -> dict[str, Any] | None:
    """The section's stored output if this manifest's build wrote it, else None."""
    try:
        stored = json.loads((out_dir / "sections" / f"{section.id}.json").read_text())
    except (OSError, ValueError):
        return None
    owner = manifest_record(manifest.path, out_dir)
    return stored if isinstance(stored, dict) and same_manifest(stored.get("manifest"), owner) else None


def _users_fault(err: Exception, section_type: type) -> bool:
    """Whether a section's exception is the user's to fix (the section fails alone) rather than a bug in reportgen:
    the section type is a plugin's, a frame of the user's own files (their model, their data loader) is on the
    stack, or memory ran out (the machine's limit, not a bug)."""
    import traceback

    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError
        return True
    if _is_plugin(section_type):
        return True
    return any(_is_user_file(frame.filename) for frame in traceback.extract_tb(err.__traceback__))


def _is_plugin(section_type: type) -> bool:
    source = _source_file(section_type)
    return source is not None and not _in_package(source)


def _in_package(path: Path) -> bool:
    package = Path(__file__).resolve().parent
    path = path.resolve()
    return path == package or package in path.parents


def _is_user_file(filename: str) -> bool:
    """A file that is neither reportgen's, nor the standard library's, nor an installed package's (torch, numpy)."""
    import sysconfig

    if filename.startswith("<"):  # <frozen …>, <string>: no file of the user's
        return False
    path = Path(filename).resolve()
    if _in_package(path) or {"site-packages", "dist-packages"} & set(path.parts):
        return False
    libraries = {Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return not any(lib == path or lib in path.parents for lib in libraries)


def _source_file(cls) -> Path | None:
    """The file defining a section type (a plugin's file), so that a failure names its line there."""
    import inspect

    try:
        return Path(inspect.getfile(cls))
    except (TypeError, OSError):
        return None


def load_section_outputs(manifest: Manifest, out_dir: Path) -> list[dict[str, Any]]:
    """Every manifest section's stored output, in manifest order; missing or stale ones are flagged. A stored result
    of another manifest (or of none recorded: written before reportgen recorded it) counts as missing."""
    owner = manifest_record(manifest.path, out_dir)
    outputs = []
    for section in manifest.sections.values():
        path = out_dir / "sections" / f"{section.id}.json"
        try:
            output = json.loads(path.read_text())
        except (OSError, ValueError):
            output = None
        if isinstance(output, dict) and same_manifest(output.get("manifest"), owner):
            output["stale"] = output.get("fingerprint") != section_fingerprint(manifest, section)
        else:
            output = {"id": section.id, "type": section.type, "missing": True, "result": {}, "figures": [],
                      "runs": {}}
        output["spec"] = asdict(section)
        outputs.append(output)
    return outputs


def ensure_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as err:
        raise CacheError(f"--out {out_dir}: cannot write there ({err.strerror or err})") from None

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
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reportgen.config.errors import CacheError, ReportgenBug, ReportgenError
from reportgen.config.manifest import load_manifest
from reportgen.config.specs import Manifest, SectionSpec
from reportgen.io import save_atomic, write_json_atomic
from reportgen.out_folder import claim, default_cache, default_out, manifest_record, same_manifest
from reportgen.runs.plan import Plan, make_plan, remember_fingerprints


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
    torch_device = resolve_device(device)
    plan = make_plan(manifest, sections)
    out_dir = Path(out) if out is not None else default_out(manifest_path)
    ensure_writable(out_dir)
    claim(manifest.path, out_dir)  # before any section is written: refuses a folder holding another manifest's report
    timings["plan"] = time.perf_counter() - started

    t = time.perf_counter()
    cache = RunCache(out_dir / "cache" if out is not None else default_cache(manifest_path))
    remember_fingerprints(plan, cache.root)  # so that `cache prune` can key these runs after their data is gone
    if jobs == "auto":
        # Small nets use two cores a little better as two one-thread trainings than as one two-thread training
        # (benchmarks/run.py --only jobs: 1.07-1.31x on a 6-run report); a GPU takes one training at a time.
        jobs = (os.cpu_count() or 1) if torch_device.type == "cpu" else 1
    runner = run_plan(plan, cache, torch_device, force=force, quiet=quiet, jobs=jobs, threads=threads,
                      executor=executor, ray_address=ray_address)
    timings["runs"] = time.perf_counter() - t

    t = time.perf_counter()
    # An explicit --section (or --force) recomputes; otherwise a section whose inputs are unchanged is reused.
    built = build_sections(plan, runner.outcomes, out_dir, cache, recompute=bool(sections) or force)
    timings["sections"] = time.perf_counter() - t

    t = time.perf_counter()
    outputs = load_section_outputs(manifest, out_dir)
    build_info = provenance(manifest, runner.outcomes.values(), str(torch_device))
    results_path = write_json_atomic(out_dir / "results.json",
                                     results_document(manifest, outputs, build_info, run_data(manifest)))
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


def section_inputs(plan: Plan, section: SectionSpec, outcomes: dict) -> str:
    """Hash of everything a section's result depends on: its definition, the keys and statuses of its runs,
    and the versions of reportgen and of the section type's code."""
    from reportgen import __version__
    from reportgen.sections import SECTIONS

    runs = [(p.key, outcomes[p.key].status) for planned in plan.runs_for(section).values() for p in planned]
    kind = SECTIONS.get(section.type)
    text = repr((section_fingerprint(plan.manifest, section), runs, __version__, kind.version, _plugin_code(kind)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plugin_code(kind) -> str:
    """The content hash of a plugin section type's file (an edited plugin recomputes its sections); "" for built-ins,
    whose changes are tracked by reportgen's version and the type's ``version``."""
    source = _source_file(kind)
    if source is None or Path(__file__).resolve().parent in source.resolve().parents or not source.is_file():
        return ""
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def _up_to_date(plan: Plan, section: SectionSpec, outcomes: dict, out_dir: Path) -> bool:
    try:
        stored = json.loads((out_dir / "sections" / f"{section.id}.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        same_manifest(stored.get("manifest"), manifest_record(plan.manifest.path, out_dir))
        and stored.get("inputs") == section_inputs(plan, section, outcomes)
        and all((out_dir / f["file"]).is_file() for f in stored.get("figures", []))
    )


def section_fingerprint(manifest: Manifest, section: SectionSpec) -> str:
    """Changes when the section's definition, its runs' definitions or the seeds change."""
    parts = [repr(section), repr(manifest.report.seeds), *(repr(manifest.runs[r]) for r in section.all_runs)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def build_sections(plan: Plan, outcomes: dict, out_dir: Path, cache, *, recompute: bool = True) -> list[str]:
    """Build the plan's sections, then every section that summarises the others (conclusions), since
    their input may have changed. Without ``recompute``, a section whose stored output was computed from
    the same inputs (definition, runs, code versions) is kept as it is. Returns the ids built."""
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
        for section in summaries:
            build_section(plan, section, outcomes, out_dir, cache, outputs=stored)
    built = {s.id for s in (*computed, *summaries)}
    return [sid for sid in manifest.sections if sid in built]


def build_section(
    plan: Plan, section: SectionSpec, outcomes: dict, out_dir: Path, cache=None, outputs: dict | None = None
) -> dict[str, Any]:
    """Compute one section from its runs, draw its figures, and store both under ``out_dir``."""
    import matplotlib.pyplot as plt

    from reportgen.figures import house_style
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
            data=load_run_data(plan.manifest, plan.manifest.runs[name]),
            load_weights=load_weights,
        )
        for name, planned in plan.runs_for(section).items()
    ]
    impl = SECTIONS.get(section.type)(section)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    figures, error = [], None
    try:
        result = impl.compute(SectionContext(section, groups, outputs or {}))
        for figure in impl.figures(result):
            relative = f"figures/{section.id}-{figure.name}.png"
            fig = figure.draw()
            try:
                with house_style():  # its savefig settings (dpi, tight box) apply only inside the context
                    save_atomic(out_dir / relative, lambda path, fig=fig: fig.savefig(path, format="png"))
            finally:
                plt.close(fig)
            figures.append({"name": figure.name, "caption": figure.caption, "alt": figure.alt,
                            "file": relative, "wide": figure.wide})
    except ReportgenError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's failure fails this section alone; reportgen's is a bug
        if not _users_fault(err, type(impl)):
            raise ReportgenBug(err) from err
        from reportgen.config.plugins import user_frame

        where = user_frame(err, _source_file(type(impl)) if _is_plugin(type(impl)) else None)
        error = f"{where}: {type(err).__name__}: {err}"
        result, figures = {}, []
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
        "inputs": section_inputs(plan, section, outcomes),
        "built_at": _now(),
        "runs": runs,
        "result": result,
        "figures": figures,
    }
    if section.target is not None:
        from reportgen.sections.target import evaluate_target

        output["target"] = evaluate_target(section.target, groups)
    if error is not None:
        output["error"] = error
    write_json_atomic(out_dir / "sections" / f"{section.id}.json", output)
    return output


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


def results_document(manifest: Manifest, outputs: list[dict], build_info: dict,
                     data: dict[str, dict] | None = None) -> dict[str, Any]:
    """What ``results.json`` holds: the report's settings, provenance, the data of every run (``data``, from
    :func:`run_data`: top-level ``"runs"`` and ``"datasets"``) and every section's numbers."""
    return {
        "report": asdict(manifest.report),
        "provenance": build_info,
        **(data or {}),
        "sections": {
            o["id"]: {
                "type": o["type"],
                "title": o["spec"]["title"],
                "question": o["spec"]["question"],
                "marks": o["spec"]["marks"],
                "status": ("missing" if o.get("missing") else "failed" if o.get("error")
                           else "stale" if o.get("stale") else "ok"),
                "runs": o["runs"],
                "result": o["result"],
                **({"target": o["target"]} if o.get("target") else {}),
                "figures": [f["file"] for f in o["figures"]],
            }
            for o in outputs
        },
    }


def run_data(manifest: Manifest) -> dict[str, dict]:
    """The data of every run the manifest's sections use, so that a grader can tell whether this reproduction was
    tested on the course's test set (``reportgen grade --reference``)::

        "runs": {"c4": {"label": "C4", "dataset": "digits", "fingerprint": "ef73f112550c0ba5", "test_size": 10000,
                        "classes": 10, "variation": false}, ...}
        "datasets": {"ef73f112550c0ba5": {"name": "digits", "kind": "torchvision", "fingerprint": "ef73f112550c0ba5",
                     "classes": 10, "class_names": ["0", ...], "sizes": {"train": ..., "val": ..., "test": 10000},
                     "test_size": 10000, "runs": ["c4", ...]}}

    ``variation`` marks a run a section derived (a sweep's variation, which may use another split). A run whose data
    cannot be loaded (possible for sections a ``--section`` build skips) is recorded with ``"error"`` and no sizes.
    Datasets are memoised per process: the plan loaded those of the runs it trains already."""
    from reportgen.config.errors import ReportgenError
    from reportgen.runs.plan import dataset_of, load_run_data

    derived = {name for section in manifest.sections.values() for name in section.derived}
    names = dict.fromkeys(name for section in manifest.sections.values() for name in section.all_runs)
    runs: dict[str, dict] = {}
    datasets: dict[str, dict] = {}
    for name in names:
        spec = manifest.runs[name]
        kind, _ = dataset_of(manifest, spec)
        overrides = ", ".join(f"{k} = {json.dumps(v, default=str)}" for k, v in sorted(spec.dataset_overrides.items()))
        label = f"{spec.dataset} ({overrides})" if overrides else spec.dataset
        entry: dict[str, Any] = {"label": spec.label, "dataset": label, "fingerprint": None, "test_size": None,
                                 "classes": None, "variation": name in derived}
        try:
            data = load_run_data(manifest, spec)
        except ReportgenError as err:
            runs[name] = {**entry, "error": str(err)}
            continue
        entry.update(fingerprint=data.fingerprint, test_size=len(data.test), classes=data.num_classes)
        runs[name] = entry
        record = datasets.setdefault(data.fingerprint, {
            "name": label, "kind": kind, "fingerprint": data.fingerprint, "classes": data.num_classes,
            "class_names": list(data.classes), "sizes": {s: len(getattr(data, s)) for s in ("train", "val", "test")},
            "test_size": len(data.test), "runs": []})
        record["runs"].append(name)
    return {"runs": runs, "datasets": datasets}


def provenance(manifest: Manifest, outcomes, device: str) -> dict[str, Any]:
    import torch

    from reportgen import __version__

    trained_on = sorted({o.provenance.get("device", "?") for o in outcomes if getattr(o, "provenance", None)})
    return {
        "reportgen": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "device": device,
        "runs_trained_on": trained_on,
        "seeds": list(manifest.report.seeds),
        "manifest": manifest.path.name,
        "manifest_sha256": manifest.sha256,
        "built_at": _now(),
    }


def ensure_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as err:
        raise CacheError(f"--out {out_dir}: cannot write there ({err.strerror or err})") from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

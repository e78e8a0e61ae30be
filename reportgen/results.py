"""What ``results.json`` holds besides the sections' numbers: the build's provenance and the data of every run.

A ``--section`` build rewrites ``results.json`` too. It keys its runs from the data fingerprints that earlier builds
recorded (:class:`~reportgen.data.loading.FingerprintStore`) instead of reading the data, so it takes each run's data
description from the ``results.json`` it replaces when that one describes the same data (same fingerprint, label and
dataset); only a run it cannot match has its data loaded (which imports torch).
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reportgen.config.specs import Manifest


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


def run_data(manifest: Manifest, *, previous: dict | None = None, stored=None) -> dict[str, dict]:
    """The data of every run the manifest's sections use, so that a grader can tell whether this reproduction was
    tested on the course's test set (``reportgen grade --reference``)::

        "runs": {"c4": {"label": "C4", "dataset": "digits", "fingerprint": "ef73f112550c0ba5", "test_size": 10000,
                        "classes": 10, "variation": false}, ...}
        "datasets": {"ef73f112550c0ba5": {"name": "digits", "kind": "torchvision", "fingerprint": "ef73f112550c0ba5",
                     "classes": 10, "class_names": ["0", ...], "sizes": {"train": ..., "val": ..., "test": 10000},
                     "test_size": 10000, "runs": ["c4", ...]}}

    ``variation`` marks a run a section derived (a sweep's variation, which may use another split). A run whose data
    cannot be loaded (possible for sections a ``--section`` build skips) is recorded with ``"error"`` and no sizes.
    Datasets are memoised per process: the plan loaded those of the runs it trains already.

    ``previous`` (the ``results.json`` being replaced) and ``stored`` (a FingerprintStore): a run whose data has a
    recorded fingerprint that ``previous`` describes, under the same label and dataset, is taken from ``previous``
    without loading its data."""
    from reportgen.config.errors import ReportgenError
    from reportgen.runs.plan import dataset_of, load_run_data

    derived = {name for section in manifest.sections.values() for name in section.derived}
    names = dict.fromkeys(name for section in manifest.sections.values() for name in section.all_runs)
    runs: dict[str, dict] = {}
    datasets: dict[str, dict] = {}
    for name in names:
        spec = manifest.runs[name]
        kind, options = dataset_of(manifest, spec)
        overrides = ", ".join(f"{k} = {json.dumps(v, default=str)}" for k, v in sorted(spec.dataset_overrides.items()))
        label = f"{spec.dataset} ({overrides})" if overrides else spec.dataset
        entry: dict[str, Any] = {"label": spec.label, "dataset": label, "fingerprint": None, "test_size": None,
                                 "classes": None, "variation": name in derived}
        known = _known(previous, stored, name, entry, kind, options, manifest.base_dir)
        if known is not None:
            runs[name], record = known
        else:
            try:
                data = load_run_data(manifest, spec)
            except ReportgenError as err:
                runs[name] = {**entry, "error": str(err)}
                continue
            entry.update(fingerprint=data.fingerprint, test_size=len(data.test), classes=data.num_classes)
            runs[name] = entry
            record = {"classes": data.num_classes, "class_names": list(data.classes),
                      "sizes": {s: len(getattr(data, s)) for s in ("train", "val", "test")},
                      "test_size": len(data.test)}
        fingerprint = runs[name]["fingerprint"]
        datasets.setdefault(fingerprint, {"name": label, "kind": kind, "fingerprint": fingerprint, **record,
                                          "runs": []})["runs"].append(name)
    return {"runs": runs, "datasets": datasets}


_DATASET_FACTS = ("classes", "class_names", "sizes", "test_size")


def _known(previous: dict | None, stored, name: str, entry: dict, kind: str, options: dict, base_dir: Path
           ) -> tuple[dict, dict] | None:
    """``(run entry, dataset facts)`` of run ``name`` as ``previous`` recorded them, when the fingerprint ``stored``
    holds for its data is the one recorded there (and its label and dataset are unchanged); else None."""
    if not previous or stored is None:
        return None
    from reportgen.config.errors import CacheError

    try:
        fingerprint = stored.lookup(kind, options, base_dir)
    except CacheError:
        return None
    before = (previous.get("runs") or {}).get(name)
    dataset = (previous.get("datasets") or {}).get(fingerprint) if fingerprint else None
    if not (isinstance(before, dict) and isinstance(dataset, dict)) or before.get("error"):
        return None
    if before.get("fingerprint") != fingerprint or any(before.get(k) != entry[k] for k in ("label", "dataset",
                                                                                         "variation")):
        return None
    if not all(k in dataset for k in _DATASET_FACTS):
        return None
    return ({**entry, "fingerprint": fingerprint, "test_size": before.get("test_size"),
             "classes": before.get("classes")}, {k: dataset[k] for k in _DATASET_FACTS})


def read_previous(path: Path) -> dict | None:
    """The ``results.json`` at ``path`` as a dict, or None when it is absent or unreadable."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def provenance(manifest: Manifest, outcomes, device: str) -> dict[str, Any]:
    from reportgen import __version__

    trained_on = sorted({o.provenance.get("device", "?") for o in outcomes if getattr(o, "provenance", None)})
    return {
        "reportgen": __version__,
        "torch": torch_version(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "device": device,
        "runs_trained_on": trained_on,
        "seeds": list(manifest.report.seeds),
        "manifest": manifest.path.name,
        "manifest_sha256": manifest.sha256,
        "built_at": now(),
    }


def torch_version() -> str:
    """``torch.__version__`` (``2.4.1+cu121``: the build's local part included), read from torch's generated
    ``version.py`` when torch is not imported: importing it only to print its version costs seconds."""
    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    import importlib.util
    import re

    spec = importlib.util.find_spec("torch")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        if found:
            return found.group(1)
    import torch  # an unusual install: ask torch itself

    return torch.__version__


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

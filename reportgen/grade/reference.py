"""A reproduction to grade against: the ``results.json`` of a built report (``--reference out/``).

Every section row that names a run and carries a seed summary (``{"mean", "std", "n", "values"}``) of a metric
contributes; a run's accuracy is the same in every section that shows it, so the first one seen is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.errors import ReportgenError

METRIC_KEYS = {"accuracy": "accuracy", "recall_macro": "recall", "precision_macro": "precision", "f1_macro": "f1"}


class ReferenceError_(ReportgenError):
    """The reference folder holds no readable results.json."""


@dataclass
class ReferenceRun:
    run: str
    label: str
    metrics: dict[str, dict] = field(default_factory=dict)  # "accuracy" -> {"mean", "std", "n", "values"}


@dataclass
class Reference:
    path: Path
    runs: dict[str, ReferenceRun]


def load_reference(path: Path) -> Reference:
    """The reproduction at ``path``: an output folder holding results.json, or the file itself."""
    path = Path(path)
    target = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReferenceError_(f"{target}: cannot read the reference ({err.strerror or err}); build the report "
                              "first with `reportgen build`") from None
    except json.JSONDecodeError as err:
        raise ReferenceError_(f"{target}: not a results.json ({err})") from None
    runs: dict[str, ReferenceRun] = {}
    for section in (data.get("sections") or {}).values():
        _collect((section or {}).get("result"), runs)
    if not runs:
        raise ReferenceError_(f"{target}: holds no run with metrics to compare against")
    return Reference(target, runs)


def _collect(node, runs: dict[str, ReferenceRun]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, runs)
        return
    if not isinstance(node, dict):
        return
    run = node.get("run")
    if isinstance(run, str):
        entry = runs.setdefault(run, ReferenceRun(run, str(node.get("label", run))))
        for key, metric in METRIC_KEYS.items():
            summary = node.get(key)
            if isinstance(summary, dict) and "mean" in summary and metric not in entry.metrics:
                entry.metrics[metric] = summary
    for value in node.values():
        if isinstance(value, dict | list):
            _collect(value, runs)

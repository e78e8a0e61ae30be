"""What one section hands another: a typed, versioned record per run, keyed by run name (never by display label).

A summarising section (``conclusions``) reads the report's other sections through these records, so two runs that
share a label ("C4" in two sections of different manifests' runs) stay two runs, and a stored section result that
is stale (its manifest definition changed since it was computed), failed or missing is never read: it is listed
as left out instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Bump when a field's meaning changes; readers check it.
RECORD_VERSION = 1


@dataclass(frozen=True)
class RunRecord:
    """One run's headline numbers as a section computed them."""

    run: str  # the manifest's run name: the identity
    label: str  # for display only; made unique by :func:`collect_records` when two runs share one
    dataset: str  # the data it was tested on (with any override, as the section shows it)
    accuracy: dict[str, Any]  # summarize() over seeds: mean, std, n, values
    params: int | None = None
    macs: int | None = None
    section: str = ""  # the section it came from (the first one that has it)
    version: int = RECORD_VERSION


@dataclass
class Records:
    runs: dict[str, RunRecord] = field(default_factory=dict)  # by run name, in order of first appearance
    left_out: dict[str, str] = field(default_factory=dict)  # section id -> why its stored result was not read


def usable(output: dict[str, Any]) -> str | None:
    """Why a stored section output must not be read (``"stale"``, ``"failed"``, ``"missing"``), or None."""
    if output.get("missing"):
        return "missing"
    if output.get("error"):
        return "failed"
    if output.get("stale"):
        return "stale"
    return None


def collect_records(outputs: dict[str, dict[str, Any]]) -> Records:
    """Every run with an accuracy summary in any usable section's ``rows``, by run name (first section wins)."""
    from reportgen.sections.base import SECTIONS

    records = Records()
    for sid, output in outputs.items():
        why = usable(output)
        if why is not None:
            records.left_out[sid] = why
            continue
        kind = output.get("type", "")
        if kind not in SECTIONS or not SECTIONS.get(kind).records:
            continue  # its rows (if any) are not per-run test accuracies: a plugin's "accuracy" may mean anything
        for row in output.get("result", {}).get("rows", []) or []:
            acc = row.get("accuracy")
            name = row.get("run") or row.get("label")
            if not (isinstance(acc, dict) and acc.get("n") and name) or name in records.runs:
                continue
            records.runs[name] = RunRecord(run=name, label=str(row.get("label", name)),
                                           dataset=str(row.get("dataset", "")), accuracy=acc,
                                           params=row.get("params"), macs=row.get("macs"), section=sid)
    counts: dict[str, int] = {}
    for r in records.runs.values():
        counts[r.label] = counts.get(r.label, 0) + 1
    for name, r in list(records.runs.items()):
        if counts[r.label] > 1:  # two runs, one label: say which run each is
            records.runs[name] = RunRecord(**{**r.__dict__, "label": f"{r.label} (run {r.run})"})
    return records

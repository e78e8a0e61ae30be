"""A reproduction to grade against: the ``results.json`` of a built report (``--reference out/``).

Every section row that names a run and carries a seed summary (``{"mean", "std", "n", "values"}``) of a metric
contributes; a run's accuracy is the same in every section that shows it, so the first one seen is kept.

``results.json`` also records, per run, the dataset it trained and was tested on (``"runs"``: dataset name, content
fingerprint, test-set size, class count; ``"datasets"``: each distinct dataset by fingerprint). Students' numbers are
only comparable with a reproduction tested on the course's test set, so :func:`check_reference` matches those
records against the manifest's ``[grading]`` test sets (``test_size``/``classes``, or ``[grading.test_sets.*]``,
told apart by keywords and class count as TEST_SIZE_MISMATCH does) and refuses a reference that differs, or that
predates the records, unless asked to go on anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.config.errors import ReportgenError
from reportgen.grade.rubric import GradingSpec, TestSet

METRIC_KEYS = {"accuracy": "accuracy", "recall_macro": "recall", "precision_macro": "precision", "f1_macro": "f1"}
ANYWAY = "--reference-anyway"


class ReferenceError_(ReportgenError):
    """The reference folder holds no readable results.json."""


class ReferenceMismatchError(ReferenceError_):
    """The reference was tested on another test set than the course's (or does not say which)."""


@dataclass
class ReferenceRun:
    run: str
    label: str
    metrics: dict[str, dict] = field(default_factory=dict)  # "accuracy" -> {"mean", "std", "n", "values"}


@dataclass(frozen=True)
class RunData:
    """What ``results.json`` records about the data of one run (its top-level ``"runs"`` block)."""

    run: str
    label: str = ""
    dataset: str = ""  # the manifest's dataset name, with the run's overrides ("digits (split = [0.8, 0.1, 0.1])")
    fingerprint: str = ""  # the dataset's content fingerprint (every image, label and class name)
    test_size: int | None = None  # images in its test split
    classes: int | None = None
    variation: bool = False  # a run a section derived (a sweep's variation), possibly on another split


@dataclass
class Reference:
    path: Path
    runs: dict[str, ReferenceRun]
    data: dict[str, RunData] | None = None  # run -> its data; None: a results.json from before reportgen recorded it
    differs: str = ""  # set by check_reference(anyway=True): why its test set is not known to be the course's


def load_reference(path: Path) -> Reference:
    """The reproduction at ``path``: an output folder holding results.json, or the file itself."""
    path = Path(path)
    target = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReferenceError_(f"{target}: cannot read the reference ({err.strerror or err}); build the report "
                              "first with `reportgen build`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReferenceError_(f"{target}: not a results.json ({err})") from None
    if not isinstance(data, dict):
        raise ReferenceError_(f"{target}: not a results.json (expected a JSON object)")
    runs: dict[str, ReferenceRun] = {}
    for section in (data.get("sections") or {}).values():
        # A stale or failed section's numbers may belong to another definition of its runs: never compare with them.
        if isinstance(section, dict) and section.get("status", "ok") in ("stale", "failed", "missing"):
            continue
        _collect((section or {}).get("result"), runs)
    if not any(r.metrics for r in runs.values()):
        raise ReferenceError_(f"{target}: holds no run with metrics to compare against")
    return Reference(target, runs, _run_data(data.get("runs")))


def _run_data(block) -> dict[str, RunData] | None:
    if not isinstance(block, dict):
        return None
    out = {}
    for run, entry in block.items():
        if not isinstance(entry, dict):
            continue
        size, classes = entry.get("test_size"), entry.get("classes")
        out[run] = RunData(run, str(entry.get("label") or run), str(entry.get("dataset") or ""),
                           str(entry.get("fingerprint") or ""), size if isinstance(size, int) else None,
                           classes if isinstance(classes, int) else None, bool(entry.get("variation")))
    return out


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
            if (isinstance(summary, dict) and isinstance(summary.get("mean"), int | float)
                    and metric not in entry.metrics):
                entry.metrics[metric] = summary
    for value in node.values():
        if isinstance(value, dict | list):
            _collect(value, runs)


# --- does the reference test on the course's test set? ---------------------------------------------------------


def check_reference(reference: Reference, grading: GradingSpec, manifest: str | Path, *,
                    known_runs: set[str] | frozenset[str] = frozenset(), anyway: bool = False) -> Reference:
    """Refuse (:class:`ReferenceMismatchError`, one line naming both files and sizes) a reference whose test set is
    not the course's, or that does not record it; with ``anyway``, note why on ``reference.differs`` instead.

    ``known_runs`` are the grading manifest's runs: only they are compared, so only their data must match (when the
    reference records none of them, every run it records counts). Nothing to compare when ``[grading]`` states no
    test size."""
    sets = grading.all_test_sets()
    stated = [t for t in sets if t.size is not None]
    if not stated:
        return reference
    if reference.data is None:
        course = "; ".join(_course_set(t, grading) for t in stated)
        why = (f"{reference.path} does not record which dataset and test set its runs used (an older reportgen wrote "
               f"it), so it cannot be matched to {manifest}'s {course}")
        if not anyway:
            raise ReferenceMismatchError(f"{why}; rebuild it with `reportgen build`, or pass {ANYWAY} to compare "
                                         "against it all the same")
        reference.differs = (f"the reproduction ({reference.path}) does not record its test set (an older "
                             f"results.json); compared all the same ({ANYWAY})")
        return reference
    problems = []
    for records in _relevant(reference, known_runs).values():
        problem = _mismatch(records, sets, grading, manifest)
        if problem:
            problems.append(problem)
    if not problems:
        return reference
    if not anyway:
        raise ReferenceMismatchError(
            f"{reference.path}: the reproduction's test set is not the course's: {'; '.join(problems)}; its "
            f"accuracies are not comparable with the students'. Build the reference from {manifest}, or pass "
            f"{ANYWAY} to compare against it all the same")
    reference.differs = (f"the reproduction's test set differs from the course's: {'; '.join(problems)}; "
                         f"compared all the same ({ANYWAY})")
    return reference


def _relevant(reference: Reference, known_runs) -> dict[str, list[RunData]]:
    """The recorded runs whose numbers VS_REFERENCE may compare, grouped by dataset (fingerprint and test size)."""
    records = [r for r in (reference.data or {}).values() if r.test_size is not None]
    for keep in (lambda r: not r.variation and r.run in reference.runs and r.run in known_runs,
                 lambda r: not r.variation and r.run in reference.runs,
                 lambda r: not r.variation):
        chosen = [r for r in records if keep(r)]
        if chosen:
            break
    else:
        chosen = records
    groups: dict[str, list[RunData]] = {}
    for r in chosen:
        groups.setdefault(f"{r.fingerprint}/{r.test_size}/{r.classes}", []).append(r)
    return groups


def course_test_set(records: list[RunData], sets: list[TestSet]) -> TestSet | None:
    """The course's test set a reference dataset stands for: the only one, the one its name's words (or its runs'
    names) name, or the only one with its class count."""
    if len(sets) == 1:
        return sets[0]
    text = " ".join(w for r in records for w in (r.dataset, r.run, r.label)).lower()
    by_keyword = [t for t in sets if any(k.lower() in text for k in t.keywords)]
    if len(by_keyword) == 1:
        return by_keyword[0]
    by_classes = [t for t in sets if t.classes is not None and t.classes == records[0].classes]
    return by_classes[0] if len(by_classes) == 1 else None


def _fits(t: TestSet, size: int, classes: int | None) -> bool:
    return (t.size is None or t.size == size) and (t.classes is None or classes is None or t.classes == classes)


def _mismatch(records: list[RunData], sets: list[TestSet], grading: GradingSpec, manifest: str | Path) -> str:
    """Why this reference dataset's test set is not the course's, or "" when it is."""
    first = records[0]
    target = course_test_set(records, sets)
    if target is None:
        if any(_fits(t, first.test_size, first.classes) for t in sets):
            return ""
    elif _fits(target, first.test_size, first.classes):
        return ""
    shown = ", ".join(dict.fromkeys(r.dataset for r in records if r.dataset)) or "its dataset"
    runs = ", ".join(r.run for r in records[:3]) + (f" and {len(records) - 3} more" if len(records) > 3 else "")
    classes = f", {first.classes} classes" if first.classes is not None else ""
    fingerprint = f", fingerprint {first.fingerprint}" if first.fingerprint else ""
    theirs = f"{first.test_size:,} test images{classes} ({shown}{fingerprint}; runs {runs})"
    if target is None:
        return f"{theirs} match none of {manifest}'s test sets"
    return f"{theirs} against {manifest}'s {_course_set(target, grading)}"


def _course_set(t: TestSet, grading: GradingSpec) -> str:
    where = f"[grading.test_sets.{t.name}] size" if grading.test_sets else "[grading] test_size"
    size = f"{t.size:,}" if t.size is not None else "unstated"
    classes = f" ({t.classes} classes)" if t.classes is not None else ""
    return f"{where} {size}{classes}"

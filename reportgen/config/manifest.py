"""Read ``experiments.toml`` into a validated :class:`~reportgen.config.specs.Manifest`.

Every problem raises one :class:`~reportgen.config.errors.ManifestError` naming the file and the TOML key path,
with a "did you mean" where a name is close to a valid one::

    experiments.toml: sections.compare.runs[1]: unknown run "mobilnet"; did you mean "mobilenet"?
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from reportgen.config.errors import ManifestError
from reportgen.config.params import check_params, check_value
from reportgen.config.registry import did_you_mean
from reportgen.config.specs import (
    Augment,
    DatasetSpec,
    Manifest,
    ReportSpec,
    RunSpec,
    SectionSpec,
    Target,
    TrainConfig,
)

TOP_LEVEL = ("report", "datasets", "runs", "sections", "grading")
RUN_KEYS = ("extends", "dataset", "model", "label", "init_from", "evaluate_on", *(f.name for f in fields(TrainConfig)))
SECTION_KEYS = ("type", "title", "question", "marks", "runs", "notes", "number", "target")
# Training keys that [report] and a [datasets.NAME] table may also set, as the default of the runs (on that dataset):
# never dataset options, so they reach neither the loader nor the dataset's fingerprint.
RUN_DEFAULT_KEYS = ("resample_split",)
# Ids become file names and HTML anchors: keep them to a safe alphabet.
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def load_manifest(path: str | Path) -> Manifest:
    """Parse and validate the manifest at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ManifestError(f"cannot read manifest: {err.strerror or err}", file=str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ManifestError("not UTF-8 text", file=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(f"invalid TOML: {err}", file=str(path)) from None
    try:
        return parse_manifest(data, path=path.resolve(), sha256=hashlib.sha256(raw).hexdigest())
    except ManifestError as err:
        raise err.in_file(path.name if path.parent == Path() else str(path)) from None


def parse_manifest(data: dict[str, Any], *, path: Path, sha256: str = "") -> Manifest:
    """Validate an already-parsed TOML document (errors carry key paths but no file name)."""
    from reportgen.sections import SECTIONS

    for key in data:
        if key not in TOP_LEVEL:
            raise ManifestError(f'unknown table "{key}"{_hint(key, TOP_LEVEL)}', location=key)
    if "report" not in data:
        raise ManifestError('missing the [report] table (it needs at least a "title")')
    report = ReportSpec(**check_params(ReportSpec, _table(data, "report"), "report"))
    if not report.seeds:
        raise ManifestError("needs at least one seed", location="report.seeds")
    if len(set(report.seeds)) != len(report.seeds):
        raise ManifestError("seeds repeat", location="report.seeds")
    if report.plugins:
        from reportgen.config.plugins import load_plugins

        load_plugins(report.plugins, path.parent)  # before the sections: a plugin may register their types
    datasets = {name: _dataset(name, table) for name, table in _named_tables(data, "datasets")}
    defaults = _run_defaults(report, data)
    runs = _runs(dict(_named_tables(data, "runs")), datasets, path.parent, defaults)
    sections = {sid: _section(sid, table, runs) for sid, table in _named_tables(data, "sections")}
    for sid, section in sections.items():
        # Section types such as sweeps make runs of their own (variations of a baseline run).
        derived = SECTIONS.get(section.type).derive_runs(section, runs, datasets, seeds=report.seeds)
        if derived:
            runs = {**runs, **derived}
            sections[sid] = replace(section, derived=tuple(derived))
    if not sections:
        raise ManifestError("the manifest has no [sections.ID] table: nothing to report", location="sections")
    grading = data.get("grading", {})
    if not isinstance(grading, dict):
        raise ManifestError(f"expected a table, got {type(grading).__name__}", location="grading")
    return Manifest(path, sha256, report, datasets, runs, sections, grading)


def _table(data: dict, key: str, where: str | None = None) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"expected a table, got {type(value).__name__}", location=where or key)
    return value


def _named_tables(data: dict, key: str):
    """``(name, table)`` pairs of ``[key.NAME]`` tables, names checked."""
    for name, table in _table(data, key).items():
        where = f"{key}.{name}"
        if not ID_PATTERN.match(name):
            raise ManifestError(
                "a name must start with a letter and hold only letters, digits, '_' and '-' (at most 64)",
                location=where,
            )
        if not isinstance(table, dict):
            raise ManifestError(f"expected a table, got {type(table).__name__}", location=where)
        yield name, table


def _hint(name: str, choices) -> str:
    return did_you_mean(name, choices) or f" (allowed: {', '.join(choices)})"


def _dataset(name: str, table: dict) -> DatasetSpec:
    from reportgen.data import DATASETS

    where = f"datasets.{name}"
    options = {k: v for k, v in table.items() if k not in RUN_DEFAULT_KEYS}
    kind = options.pop("kind", None)
    if kind is None:
        raise ManifestError(f'missing required key "kind" (one of: {", ".join(DATASETS.names())})', location=where)
    kind = check_value(kind, str, f"{where}.kind")
    if kind not in DATASETS:
        raise ManifestError(DATASETS.unknown_message(kind), location=f"{where}.kind")
    checked = check_params(DATASETS.get(kind), options, where, skip=("base_dir",))
    return DatasetSpec(name, kind, checked)


def _run_defaults(report: ReportSpec, data: dict) -> dict[str | None, dict[str, Any]]:
    """``{dataset name: {training key: default}}`` from ``RUN_DEFAULT_KEYS`` in ``[report]`` (under ``None``, for
    every run) and in each ``[datasets.NAME]`` table (for the runs on that dataset, over the report's)."""
    base = {key: getattr(report, key) for key in RUN_DEFAULT_KEYS}
    defaults: dict[str | None, dict[str, Any]] = {None: base}
    for name, table in _named_tables(data, "datasets"):
        own = {key: table[key] for key in RUN_DEFAULT_KEYS if key in table}
        defaults[name] = {**base, **check_params(TrainConfig, own, f"datasets.{name}")}
    return defaults


def _runs(tables: dict[str, dict], datasets: dict[str, DatasetSpec], base_dir: Path,
          defaults: dict[str | None, dict[str, Any]]) -> dict[str, RunSpec]:
    """Resolve ``extends`` (a run copies its parent and overrides keys; a ``model`` table merges into the
    parent's unless it names another ``arch``), then check. ``defaults`` (see ``_run_defaults``) fill the training
    keys a run leaves out, after ``extends``: a run's own key, or its parent's, wins."""
    resolved: dict[str, dict] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict:
        if name in resolved:
            return resolved[name]
        table = _model_as_table(tables[name])
        parent = table.get("extends")
        if parent is None:
            merged = copy.deepcopy(table)
        else:
            where = f"runs.{name}.extends"
            if not isinstance(parent, str):
                raise ManifestError("expected the name of another run", location=where)
            if parent not in tables:
                raise ManifestError(f'unknown run "{parent}"{did_you_mean(parent, tables)}', location=where)
            if parent in chain:
                raise ManifestError("extends forms a cycle: " + " -> ".join((*chain, parent)), location=where)
            merged = copy.deepcopy(resolve(parent, (*chain, parent)))
            merged.pop("label", None)  # a label names one run; it is not inherited
            for key, value in table.items():
                merged[key] = _merge_model(merged.get(key), value) if key == "model" else copy.deepcopy(value)
        resolved[name] = merged
        return merged

    runs = {}
    for name in tables:
        table = resolve(name, (name,))
        dataset = table.get("dataset")
        fill = defaults.get(dataset if isinstance(dataset, str) and dataset in datasets else None, {})
        runs[name] = _run(name, {**fill, **table}, datasets, base_dir)
    for name, run in runs.items():
        if run.init_from is not None:
            _check_init_from(name, runs)
    return runs


def _check_init_from(name: str, runs: dict[str, RunSpec]) -> None:
    where, chain = f"runs.{name}.init_from", [name]
    source = runs[name].init_from
    if source not in runs:
        raise ManifestError(f'unknown run "{source}"{did_you_mean(source, runs)}', location=where)
    while source is not None:
        if source in chain:
            raise ManifestError("init_from forms a cycle: " + " -> ".join((*chain, source)), location=where)
        chain.append(source)
        source = runs[source].init_from


def _merge_model(parent, child):
    """A child's ``model`` table overrides only the options it gives when it keeps the parent's ``arch``; a
    new ``arch`` replaces the whole table, since the parent's options belong to the parent's architecture."""
    if isinstance(parent, dict) and isinstance(child, dict):
        if child.get("arch", parent.get("arch")) == parent.get("arch"):
            return {**parent, **copy.deepcopy(child)}
    return copy.deepcopy(child)


def _model_as_table(table: dict) -> dict:
    """``model = "mlp"`` is shorthand for ``model = { arch = "mlp" }``; ``extends`` merges the table form."""
    if isinstance(table.get("model"), str):
        return {**table, "model": {"arch": table["model"]}}
    return table


def _run(name: str, table: dict, datasets: dict[str, DatasetSpec], base_dir: Path) -> RunSpec:

    where = f"runs.{name}"
    for key in table:
        if key not in RUN_KEYS:
            raise ManifestError(f'unknown key "{key}"{_hint(key, RUN_KEYS)}', location=f"{where}.{key}")
    for key in ("dataset", "model"):
        if key not in table:
            raise ManifestError(f'missing required key "{key}"', location=where)
    dataset = _dataset_name(table["dataset"], datasets, f"{where}.dataset")
    evaluate_on = check_value(table.get("evaluate_on", ()), list[str], f"{where}.evaluate_on")
    for i, other in enumerate(evaluate_on):
        _dataset_name(other, datasets, f"{where}.evaluate_on[{i}]")
    arch, model_options = _model(table["model"], f"{where}.model", base_dir)
    train_table = {k: v for k, v in table.items() if k not in ("extends", "dataset", "model", "label", "init_from",
                                                                "evaluate_on")}
    train = TrainConfig(**check_params(TrainConfig, train_table, where))
    check_recipe(train, where)
    label = check_value(table.get("label", name), str, f"{where}.label")
    init_from = check_value(table["init_from"], str, f"{where}.init_from") if "init_from" in table else None
    return RunSpec(name, label, dataset, arch, model_options, train, base_dir=str(base_dir), init_from=init_from,
                   evaluate_on=evaluate_on)


def _dataset_name(value: Any, datasets: dict[str, DatasetSpec], where: str) -> str:
    from reportgen.data import DATASETS

    name = check_value(value, str, where)
    if name not in datasets and name not in DATASETS:
        raise ManifestError(f'unknown dataset "{name}"{did_you_mean(name, [*datasets, *DATASETS.names()])}',
                            location=where)
    return name


def _model(model: Any, where: str, base_dir: Path) -> tuple[str, dict[str, Any]]:
    """``(arch, checked options)`` of a run's ``model`` table: a registered name or a reference to code
    (``"models.py:Net"``, ``"torchvision.models:resnet18"``, ``"timm:NAME"``), options checked against its signature."""
    from reportgen.config.plugins import is_reference
    from reportgen.models import MODELS, model_callable, supplied_for

    if not isinstance(model, dict):
        raise ManifestError("expected a model name or a table with an \"arch\" key", location=where)
    options = dict(model)
    arch = options.pop("arch", None)
    if arch is None:
        raise ManifestError('missing required key "arch"', location=where)
    arch = check_value(arch, str, f"{where}.arch")
    if not is_reference(arch):
        if arch not in MODELS:
            raise ManifestError(MODELS.unknown_message(str(arch)), location=f"{where}.arch")
        return arch, check_params(MODELS.get(arch), options, where, skip=supplied_for(arch))
    fn = model_callable(arch, base_dir, f"{where}.arch")
    if arch.startswith("timm:") and options.get("pretrained"):
        raise ManifestError('would download weights, which reportgen never does; use weights_file = "file.pt" (a '
                            "local state dict) instead", location=f"{where}.pretrained")
    weights_file = options.pop("weights_file", None)
    checked = check_params(fn, options, where, skip=supplied_for(arch), lenient=True)
    if weights_file is not None:
        checked["weights_file"] = check_value(weights_file, str, f"{where}.weights_file")
    return arch, checked


def check_recipe(train: TrainConfig, where: str) -> None:
    """Combinations of training keys that cannot work together, located at the key that has to change."""
    if train.label_smoothing and train.loss != "cross_entropy":
        raise ManifestError(f'applies to loss "cross_entropy" only, not "{train.loss}"',
                            location=f"{where}.label_smoothing")
    if train.lr_schedule == "plateau" and train.early_stopping is not None:
        if train.plateau_patience >= train.early_stopping - 1:
            # The LR decays after patience + 1 flat epochs; early stopping fires after early_stopping of them.
            raise ManifestError(
                f"must be below early_stopping - 1 (= {train.early_stopping - 1}), or training stops before the "
                "learning rate can ever decay",
                location=f"{where}.plateau_patience",
            )
    if train.momentum is not None and train.optimizer not in ("sgd", "rmsprop"):
        raise ManifestError(f'applies to optimizer "sgd" or "rmsprop" only, not "{train.optimizer}"',
                            location=f"{where}.momentum")
    if train.nesterov and (train.optimizer != "sgd" or train.momentum == 0):
        raise ManifestError('needs optimizer "sgd" with momentum > 0', location=f"{where}.nesterov")
    if train.warmup_epochs:
        if train.lr_schedule in ("plateau", "onecycle"):
            raise ManifestError(f'cannot be combined with lr_schedule "{train.lr_schedule}"'
                                + (" (it warms up by itself)" if train.lr_schedule == "onecycle" else ""),
                                location=f"{where}.warmup_epochs")
        if train.warmup_epochs >= train.epochs:
            raise ManifestError(f"must be below epochs (= {train.epochs})", location=f"{where}.warmup_epochs")
    if train.augment is not None:
        check_params(Augment, train.augment, f"{where}.augment")


def _section(sid: str, table: dict, runs: dict[str, RunSpec]) -> SectionSpec:
    from reportgen.sections import SECTIONS

    where = f"sections.{sid}"
    kind = table.get("type", sid if sid in SECTIONS else None)
    if kind is None:
        raise ManifestError(f'missing required key "type" (one of: {", ".join(SECTIONS.names())})', location=where)
    kind = check_value(kind, str, f"{where}.type")
    if kind not in SECTIONS:
        raise ManifestError(SECTIONS.unknown_message(str(kind)), location=f"{where}.type")
    kind = SECTIONS.canonical(kind)  # an old name ("with_without_mobilenet") means its new one ("ablation")
    section_type = SECTIONS.get(kind)
    allowed = (*SECTION_KEYS, *(f.name for f in fields(section_type.Options)))
    for key in table:
        if key not in allowed:
            raise ManifestError(f'unknown key "{key}"{_hint(key, allowed)}', location=f"{where}.{key}")
    run_names = check_value(table.get("runs", ()), list[str], f"{where}.runs")
    for i, run in enumerate(run_names):
        if run not in runs:
            raise ManifestError(f'unknown run "{run}"{did_you_mean(run, runs)}', location=f"{where}.runs[{i}]")
    if len(set(run_names)) != len(run_names):
        raise ManifestError("a run is listed twice", location=f"{where}.runs")
    labels: dict[str, str] = {}
    for i, run in enumerate(run_names):
        other = labels.setdefault(runs[run].label, run)
        if other != run:
            raise ManifestError(
                f'run "{run}" has the same label "{runs[run].label}" as run "{other}"; give one of them its own label',
                location=f"{where}.runs[{i}]",
            )
    low, high = section_type.run_count
    if not low <= len(run_names) <= (len(run_names) if high is None else high):
        need = f"at least {low}" if high is None else (f"{low}" if low == high else f"{low} to {high}")
        raise ManifestError(f"needs {need} run(s), got {len(run_names)}", location=f"{where}.runs")
    type_options = {k: v for k, v in table.items() if k not in SECTION_KEYS}
    options = check_params(section_type.Options, type_options, where)
    title = check_value(table.get("title", sid.replace("_", " ").capitalize()), str, f"{where}.title")
    marks = check_value(table.get("marks", 0.0), float, f"{where}.marks")
    if marks < 0:
        raise ManifestError(f"must be >= 0, got {marks:g}", location=f"{where}.marks")
    return SectionSpec(
        id=sid,
        type=kind,
        title=title,
        question=check_value(table.get("question", ""), str, f"{where}.question"),
        marks=marks,
        runs=run_names,
        notes=check_value(table.get("notes", ""), str, f"{where}.notes"),
        number=check_value(table["number"], str, f"{where}.number") if "number" in table else None,
        options=options,
        target=_target(table["target"], f"{where}.target") if "target" in table else None,
    )


def _target(value: Any, where: str) -> Target:
    table = check_value(value, dict[str, Any], where)
    target = Target(**check_params(Target, table, where))
    bounds = [k for k in ("at_least", "at_most", "about") if getattr(target, k) is not None]
    if len(bounds) != 1:
        raise ManifestError('needs exactly one of "at_least", "at_most" or "about"', location=where)
    return target

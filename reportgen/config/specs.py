"""The manifest as frozen dataclasses: what ``experiments.toml`` says, validated.

Each field documents its meaning (nanoGPT's ``GPTConfig`` habit); the annotations are also what
:mod:`reportgen.config.params` checks the TOML values against, so a field's type and bounds live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from reportgen.config.params import Range

PositiveInt = Annotated[int, Range(1)]


@dataclass(frozen=True)
class ReportSpec:
    """The ``[report]`` table."""

    title: str  # the report's title, on the title page and in the HTML <title>
    course: str = ""  # e.g. "ITU Deep Learning, Spring 2022"
    author: str = ""  # who the report is by
    date: str = ""  # shown on the title page; empty means the build date
    intro: str = ""  # a paragraph under the title (Markdown-free plain text)
    seeds: list[Annotated[int, Range(0)]] = (0,)  # every run is trained once per seed
    templates: str | None = None  # a folder of templates overriding the built-in ones, relative to the manifest
    # Files (relative to the manifest) or module names that register section types and grading checks.
    plugins: list[str] = ()
    # Every run's default for TrainConfig.resample_split (a [datasets.NAME] table or the run itself overrides it).
    resample_split: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """How a run is trained (the keys of a ``[runs.NAME]`` table besides ``dataset``, ``model``, ``label``)."""

    epochs: PositiveInt = 5
    batch_size: PositiveInt = 64
    lr: Annotated[float, Range(0, 10.0, open_low=True)] = 1e-3  # learning rate
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    # cosine: anneal to 0 over the run; onecycle: Smith's one-cycle (warm up to lr over 30 % of the steps, then anneal)
    lr_schedule: Literal["constant", "cosine", "plateau", "onecycle"] = "constant"
    warmup_epochs: Annotated[int, Range(0)] = 0  # the rate rises linearly from lr/steps to lr over these epochs
    plateau_patience: PositiveInt = 2  # plateau: epochs without a better validation loss before decaying
    plateau_factor: Annotated[float, Range(0, 0.99, open_low=True)] = 0.5  # plateau: lr *= factor
    early_stopping: PositiveInt | None = None  # stop after this many epochs without a better validation loss
    feature_snapshots: list[PositiveInt] = ()  # epochs after which test-set features are kept (for t-SNE)
    momentum: Annotated[float, Range(0, 1)] | None = None  # sgd and rmsprop; unset: 0.9 for sgd, 0 for rmsprop
    nesterov: bool = False  # sgd with momentum only
    grad_clip: Annotated[float, Range(0, open_low=True)] | None = None  # clip the gradients' global L2 norm to this
    weight_decay: Annotated[float, Range(0, 1)] = 0.0
    loss: Literal["cross_entropy", "focal", "nll", "mse"] = "cross_entropy"
    label_smoothing: Annotated[float, Range(0, 0.99)] = 0.0  # cross_entropy only
    focal_gamma: Annotated[float, Range(0, 10)] = 2.0  # focal only
    # bfloat16: forward and loss under autocast (1.4-1.5x faster on CPUs with AVX-512 bf16, more on GPUs); the
    # numbers then differ from float32 ones, so float32 stays the reproducible default.
    precision: Literal["float32", "bfloat16"] = "float32"
    # On-device augmentation of training batches only (reportgen.training.augment.Augment's keys), seeded per run.
    augment: dict[str, Any] | None = None
    freeze: list[str] = ()  # parameters whose names start with one of these are not trained (transfer learning)
    # Each seed re-draws the train/validation partition of the pooled train+val images (stratified, same per-class
    # sizes; the test set stays fixed), so the spread over seeds includes data-split noise. Off: the dataset's split.
    resample_split: bool = False


@dataclass(frozen=True)
class Augment:
    """The ``augment`` table of a run: which random transformations each training batch gets. All off by default."""

    crop: Annotated[int, Range(0)] = 0  # random crop after this much zero padding on each side, in pixels (<= H/2)
    hflip: bool = False  # mirror left-right with probability 0.5
    rotate: Annotated[float, Range(0, 180)] = 0.0  # rotate uniformly in [-rotate, +rotate] degrees; bilinear
    erase: Annotated[float, Range(0, 1)] = 0.0  # probability of erasing a random rectangle (to the mean colour)
    jitter: Annotated[float, Range(0, 1)] = 0.0  # brightness, contrast (and saturation) factors in [1-j, 1+j]


@dataclass(frozen=True)
class DatasetSpec:
    """A named ``[datasets.NAME]`` table: a registered kind and its checked options."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    """A named ``[runs.NAME]`` table after ``extends`` is resolved: model + dataset + training."""

    name: str
    label: str  # display name in tables and legends ("C1+M3"); defaults to the run's name
    dataset: str  # a name in [datasets], or a dataset kind used with its defaults
    arch: str  # a registered model
    model_options: dict[str, Any]
    train: TrainConfig
    dataset_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. a sweep's other split
    base_dir: str = ""  # the manifest's folder: a model reference's file ("models.py:Net") is relative to it
    init_from: str | None = None  # start from this run's trained weights (same seed); a new head if classes differ
    evaluate_on: tuple[str, ...] = ()  # other datasets (same classes) whose test sets this run is also evaluated on


@dataclass(frozen=True)
class Target:
    """A section's ``target`` table: what the handout asks a run to reach ("92 % for full credit", "about 0.46")."""

    metric: Literal["accuracy", "f1_macro", "loss"] = "accuracy"  # test-set metric; loss is the cross-entropy
    at_least: float | None = None  # the run meets the target when its mean over seeds is >= this
    at_most: float | None = None  # ... <= this (for a loss)
    about: float | None = None  # ... within ``tolerance`` of this
    tolerance: Annotated[float, Range(0)] = 0.01  # for ``about``


@dataclass(frozen=True)
class SectionSpec:
    """A ``[sections.ID]`` table: one question of the assignment."""

    id: str
    type: str  # a registered section type
    title: str
    question: str  # the handout's question text
    marks: float
    runs: tuple[str, ...]
    notes: str = ""  # the author's own words, printed under the generated analysis
    options: dict[str, Any] = field(default_factory=dict)  # type-specific, checked by the section type
    number: str | None = None  # shown before the title ("1", "Q3a"); "" for none; None: the position in the report
    derived: tuple[str, ...] = ()  # runs the section type made itself (a sweep's variations), in manifest.runs
    target: Target | None = None  # what the handout asks each run to reach; the report says who meets it

    @property
    def all_runs(self) -> tuple[str, ...]:
        """The runs listed in the manifest, then the derived ones."""
        return (*self.runs, *self.derived)


@dataclass(frozen=True)
class Manifest:
    """A whole, validated manifest."""

    path: Path
    sha256: str  # of the manifest file's bytes, for provenance
    report: ReportSpec
    datasets: dict[str, DatasetSpec]
    runs: dict[str, RunSpec]
    sections: dict[str, SectionSpec]  # in manifest order
    # The [grading] table as written: opaque here, checked and parsed by reportgen.grade.rubric.grading_of.
    grading: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """The manifest's folder: relative paths in the manifest are relative to it."""
        return self.path.parent

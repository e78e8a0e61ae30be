"""The ``[grading]`` table: what grading must know about the course's own setting.

Students' data need not be the data the manifest trains on (the course may use the full MNIST test set while the
default report uses 5,000 digits), so the expected test-set sizes, thresholds and the names students give the runs
live here, beside the questions they grade::

    [grading]
    test_size = 10000           # images in the course's test set (confusion-matrix totals, supports)
    classes = 10
    val_test_gap = 0.05         # VAL_TEST_GAP: validation above test accuracy by more than this
    [grading.aliases]           # run name -> how students name it
    c1m3 = ["mobilenet block architecture", "1 convolution block and 3 mobilenet blocks"]
    [grading.questions.with_without_mobilenet]
    expects = ["ROC", "loss", "confusion matrix", "t-SNE"]   # each item seen earns an equal share of the marks
    [grading.test_sets.lines]   # a second test set, told apart by class count or keywords
    size = 19200
    classes = 96
    balanced = true
    keywords = ["line"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range, check_params, check_value
from reportgen.config.registry import did_you_mean

Fraction = Annotated[float, Range(0, 1)]


@dataclass(frozen=True)
class TestSet:
    """One test set a report may evaluate on (``[grading.test_sets.NAME]``, or the top-level keys)."""

    name: str = "test"
    size: Annotated[int, Range(1)] | None = None  # images in it: confusion matrices and supports must sum to this
    classes: Annotated[int, Range(2)] | None = None  # matrices of this many classes are about this test set
    balanced: bool = False  # every class equally large: macro recall then equals accuracy by construction
    keywords: list[str] = ()  # words that name it in a report ("mnist", "line"); case-insensitive


@dataclass(frozen=True)
class ExpectedItem:
    """One item of ``expects`` written as a table: a sub-question with marks of its own, e.g.
    ``{ item = "reasoning", marks = 2, explain = true }``."""

    item: str  # its words, matched like a plain item ("|" separates synonyms)
    marks: Annotated[float, Range(0)] | None = None  # its own marks; items without share what the others leave
    explain: bool | None = None  # it asks for reasons (prose that explains); None: decided from its words

    @property
    def text(self) -> str:
        return self.item


@dataclass(frozen=True)
class QuestionRubric:
    """``[grading.questions.ID]``: how one section is graded beyond "answered with substance"."""

    # Items the answer must show; matched case-insensitively, "|" separates synonyms. An item may be a table
    # (ExpectedItem) with marks of its own; an item asking for reasons ("reasoning", "explain why ...") is shown by
    # prose that gives reasons, not by a table or figure alone.
    expects: list[str | ExpectedItem] = ()
    required: bool = True  # MISSING_QUESTION fires for a required question with marks that is not answered
    keywords: list[str] = ()  # extra words that identify the question in a report (besides its title and text)


@dataclass(frozen=True)
class GradingSpec:
    """The whole ``[grading]`` table, with defaults that suit a 10-class image-classification course."""

    test_size: Annotated[int, Range(1)] | None = None
    classes: Annotated[int, Range(2)] | None = None
    balanced_test: bool = False
    val_test_gap: Fraction = 0.05  # VAL_TEST_GAP fires above this gap (fraction, 0.05 = 5 points)
    duplicate_min_digits: Annotated[int, Range(2)] = 5  # DUPLICATE_RESULTS: numbers with this many significant digits
    # VS_REFERENCE: the coverage of the prediction interval over the reproduction's seeds (a new seed's accuracy
    # falls inside it with this probability), and the floor on the seeds' SD (three seeds can agree by chance).
    reference_level: Annotated[float, Range(0.5, 0.999)] = 0.95
    reference_min_sd: Fraction = 0.002
    min_words: Annotated[int, Range(0)] = 25  # prose alone counts as an answer from this many words
    error_deduction: Fraction = 0.25  # share of a question's marks an error flag in its answer costs
    warning_deduction: Fraction = 0.1  # the same for a warning
    aliases: dict[str, list[str]] = field(default_factory=dict)
    test_sets: dict[str, TestSet] = field(default_factory=dict)
    questions: dict[str, QuestionRubric] = field(default_factory=dict)

    def all_test_sets(self) -> list[TestSet]:
        """The named test sets, or the one the top-level keys describe."""
        if self.test_sets:
            return list(self.test_sets.values())
        return [TestSet("test", self.test_size, self.classes, self.balanced_test)]

    def rubric(self, section_id: str) -> QuestionRubric:
        return self.questions.get(section_id, QuestionRubric())


def grading_of(manifest) -> GradingSpec:
    """The manifest's ``[grading]`` table, checked against its runs and sections (errors name the file and key)."""
    try:
        return parse_grading(manifest.grading, runs=manifest.runs, sections=manifest.sections)
    except ManifestError as err:
        raise err.in_file(manifest.path.name) from None


def parse_grading(table: Any, *, runs: dict, sections: dict) -> GradingSpec:
    """Check a ``[grading]`` table against the manifest's runs and sections (errors name the key path)."""
    if not isinstance(table, dict):
        raise ManifestError(f"expected a table, got {type(table).__name__}", location="grading")
    table = dict(table)
    if "reference_sds" in table:
        raise ManifestError("replaced by reference_level, the coverage of VS_REFERENCE's prediction interval over "
                            "the reproduction's seeds (e.g. reference_level = 0.95); remove reference_sds",
                            location="grading.reference_sds")
    named = {key: table.pop(key, {}) for key in ("test_sets", "questions")}
    options = check_params(GradingSpec, table, "grading")
    for run, phrases in options.get("aliases", {}).items():
        if run not in runs:
            raise ManifestError(f'unknown run "{run}"{did_you_mean(run, runs)}', location=f"grading.aliases.{run}")
        options["aliases"][run] = tuple(p for p in phrases if p.strip())
    test_sets = {}
    for name, sub in check_value(named["test_sets"], dict[str, Any], "grading.test_sets").items():
        where = f"grading.test_sets.{name}"
        sub = check_value(sub, dict[str, Any], where)
        test_sets[name] = TestSet(name=name, **check_params(TestSet, sub, where, skip=("name",)))
    questions = {}
    for sid, sub in check_value(named["questions"], dict[str, Any], "grading.questions").items():
        where = f"grading.questions.{sid}"
        if sid not in sections:
            raise ManifestError(f'unknown section "{sid}"{did_you_mean(sid, sections)}', location=where)
        sub = dict(check_value(sub, dict[str, Any], where))
        items = _expected_items(sub.pop("expects", []), f"{where}.expects")
        rubric = QuestionRubric(**check_params(QuestionRubric, sub, where), expects=items)
        marked = sum(item.marks or 0 for item in items if isinstance(item, ExpectedItem))
        if marked > sections[sid].marks + 1e-9:
            raise ManifestError(f"the expected items' marks add up to {marked:g}, more than the section's "
                                f"{sections[sid].marks:g}", location=f"{where}.expects")
        questions[sid] = rubric
    return GradingSpec(**options, test_sets=test_sets, questions=questions)


def _expected_items(value: Any, where: str) -> tuple:
    """``expects``: strings, or tables ``{ item = "...", marks = 2, explain = true }``."""
    if not isinstance(value, list | tuple):
        raise ManifestError(f"expected a list of items, got {type(value).__name__}", location=where)
    items: list = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            if not item.strip():
                raise ManifestError("an empty item", location=at)
            items.append(item)
        elif isinstance(item, dict):
            items.append(ExpectedItem(**check_params(ExpectedItem, item, at)))
        else:
            raise ManifestError(f"expected a string or a table, got {type(item).__name__}", location=at)
    return tuple(items)

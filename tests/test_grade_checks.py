"""Every registered check, on small hand-made reports: where it fires (code, severity, the numbers in its message,
the evidence and the line it points at) and where it stays quiet although the report is close to firing. Then
how flags and the rubric's expected items turn into marks.

A new check without a firing case here fails ``test_every_registered_check_has_a_firing_case``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reportgen.grade.checks import CHECKS
from reportgen.grade.checks.identity import identity, run_named
from reportgen.grade.grader import aliases_of
from reportgen.grade.rubric import grading_of
from reportgen.grade.tables import find_class_reports
from tests.grade_support import (
    ALIASES,
    CONCLUSIONS,
    GRADING,
    TWO_TEST_SETS,
    course,
    flags_of,
    grade,
    question,
    reference,
)

CONFUSION = "# 2 Confusion matrices, recall and accuracy\n\n"
COMPARE = "# 1 Conv blocks vs MobileNet blocks\n\n"
MATRIX_89 = " 30   2   1\n  3  28   2\n  1   2  31"  # 89 of 100 on the diagonal
MATRIX_9873 = "9000   30   20\n  40  500   10\n  17   10  373"  # 9,873 of 10,000
COPIED = "0.9477546579444083"


@dataclass
class Case:
    """A report and the course it is graded in. ``line``: where the flag points (None: the whole report);
    ``words``: what its message must say; ``evidence``: what its quoted evidence must hold."""

    id: str
    text: str
    line: int | None = None
    words: tuple[str, ...] = ()
    evidence: str = ""
    grading: str = GRADING + ALIASES
    sections: str = ""
    reference: bool = False


SEVERITY = {
    "ACCURACY_MISMATCH": "error",
    "RECALL_EQUALS_ACCURACY": "warning",
    "TEST_SIZE_MISMATCH": "warning",
    "ZERO_RECALL_CLASS": "warning",
    "VAL_TEST_GAP": "warning",
    "DUPLICATE_RESULTS": "warning",
    "IMPOSSIBLE_VALUE": "error",
    "VS_REFERENCE": "warning",
    "MISSING_QUESTION": "error",
    "INCONSISTENT_REPEAT": "warning",
    "MISSING_EXPLANATION": "warning",
    "CONFLICT_MARKERS": "info",
    "BELOW_TARGET": "warning",
}
# The handout's target for question 1 (more cases in tests/test_targets.py).
TARGET_92 = '\n[sections.compare.target]\nmetric = "accuracy"\nat_least = 0.92\n'
CONFLICT = "<<<<<<< HEAD\nTest accuracy: 0.95\n=======\nTest accuracy: 0.91\n>>>>>>> teammate\n"

FIRES: dict[str, list[Case]] = {
    "ACCURACY_MISMATCH": [
        Case("claim-vs-trace", f"{CONFUSION}Test accuracy: 0.95\n\n{MATRIX_89}\n", 3,
             ("0.95", "89", "100", "0.8900", "line 5"), "Test accuracy: 0.95"),
        Case("one-decimal-beyond-rounding", f"{CONFUSION}The model reached an accuracy of 98.6% on the test set.\n\n"
             f"{MATRIX_9873}\n", 3, ("98.6%", "9,873", "10,000", "0.9873"), "accuracy of 98.6%"),
        # a mean over seeds with its SD: one seed's matrix may differ, but not by many SDs
        Case("mean-over-seeds-far-off", f"{CONFUSION}Test accuracy: 0.9950 (± 0.0005)\n\n{MATRIX_9873}\n", 3,
             ("0.9950", "0.9873"), "Test accuracy: 0.9950"),
    ],
    "RECALL_EQUALS_ACCURACY": [
        Case("equal-everywhere", f"{CONFUSION}## C4\nTest accuracy: 0.9312\nTest recall: 0.9312\n\n## C1+M3\n"
             "Test accuracy: 0.9100\nTest recall: 0.9100\n", 5, ("all 2 places", "0.9312"),
             "Test accuracy: 0.9312 / Test recall: 0.9312"),
    ],
    "TEST_SIZE_MISMATCH": [
        Case("matrix-total", f"{CONFUSION}Test accuracy: 0.8889\n\n 30   2   1\n  3  28   2\n  1   2  21\n", 5,
             ("3×3", "90", "100"), "30 2 1 / 3 28 2 / 1 2 21"),
        Case("class-report-supports", f"{CONFUSION}              precision    recall  f1-score   support\n\n"
             "         cat       0.90      0.95      0.92        40\n"
             "         dog       0.85      0.80      0.82        20\n"
             "         fox       0.80      0.90      0.85        30\n", 3, ("90", "100"), "40, 20, 30"),
    ],
    "ZERO_RECALL_CLASS": [
        Case("matrix-row", f"{CONFUSION} 40   0   0\n 10   0  10\n  0   0  40\n", 3, ("class 1", "line 3"),
             "40 0 0 / 10 0 10 / 0 0 40"),
        Case("matrix-with-labels", f"{CONFUSION}     0   1   2\n 0  40   0   0\n 1  10   0  10\n 2   0   0  40\n",
             4, ("class 1",), "10 0 10"),
        Case("class-report", f"{CONFUSION}              precision    recall  f1-score   support\n\n"
             "         cat       0.90      0.95      0.92        40\n"
             "         dog       0.00      0.00      0.00        30\n"
             "         fox       0.80      0.90      0.85        30\n", 3, ("class dog", "line 3"), "dog: recall 0"),
    ],
    "VAL_TEST_GAP": [
        Case("nine-points", f"{COMPARE}Validation accuracy: 0.99\nTest accuracy: 0.90\n", 4, ("0.99", "0.90", "9.0"),
             "Validation accuracy: 0.99 / Test accuracy: 0.90"),
        Case("one-line", f"{COMPARE}C4 reached 99.2% validation accuracy but 91.0% test accuracy.\n", 3,
             ("99.2%", "91.0%", "8.2"), "99.2% validation accuracy"),
    ],
    "DUPLICATE_RESULTS": [
        Case("epochs-differ", f"{COMPARE}## Epoch = 1\nF1 score: {COPIED}\n\n## Epoch = 10\nF1 score: {COPIED}\n", 7,
             (COPIED, "line 4", "line 7", "epochs 1 vs 10"), "Epoch = 1"),
        Case("runs-named-by-aliases", f"{COMPARE}## Convolution block architecture\nTest accuracy: {COPIED}\n\n"
             f"## MobileNet block architecture\nTest accuracy: {COPIED}\n", 7, (COPIED, "run c4 vs c1m3"),
             "MobileNet block architecture"),
        Case("one-block-one-finding", f"{COMPARE}## Epoch = 1\nTest accuracy: 0.9512345678\nF1 score: {COPIED}\n\n"
             f"## Epoch = 10\nTest accuracy: 0.9512345678\nF1 score: {COPIED}\n", 8,
             ("0.9512345678", COPIED, "epochs 1 vs 10")),
        Case("same-matrix", f"{COMPARE}## C4\n{MATRIX_89}\n\n## C1+M3\n{MATRIX_89}\n", 9,
             ("3×3", "line 4", "line 9", "run c4 vs c1m3")),
    ],
    "IMPOSSIBLE_VALUE": [
        Case("accuracy-above-100", f"{COMPARE}Test accuracy: 104.5%\n", 3, ("104.5%",), "Test accuracy: 104.5%"),
        Case("negative-loss", f"{COMPARE}Training loss: -0.25\n", 3, ("-0.25", "loss"), "Training loss: -0.25"),
        Case("f1-above-mean", f"{CONFUSION}Precision: 0.80\nRecall: 0.70\nF1 score: 0.90\n", 5,
             ("0.90", "0.80", "0.70", "0.7500"), "Precision: 0.80 / Recall: 0.70 / F1 score: 0.90"),
    ],
    "VS_REFERENCE": [
        Case("thirty-sds-below", f"{COMPARE}## Convolution block architecture\nTest accuracy: 0.80\n\n"
             "## MobileNet block architecture\nTest accuracy: 0.935\n", 4,
             ("C4: 80.0 % here", "95 % prediction interval over 3 seeds is 94.0–96.0 %", "SD 0.2 %"),
             "Test accuracy: 0.80", reference=True),
        Case("same-epochs-as-trained", f"{COMPARE}## C4, Epoch = 8\nTest accuracy: 0.99\n", 4,
             ("C4", "99.0 %", "prediction interval"), "Test accuracy: 0.99", reference=True),
    ],
    "MISSING_QUESTION": [
        Case("bare-heading", f"{COMPARE}Test accuracy: 0.93\n\n# 3 Correct and wrong predictions\n\nNot done yet.\n",
             5, ("3 Correct and wrong predictions", "2 marks", "3 words"), "# 3 Correct and wrong predictions"),
        Case("not-answered", f"{COMPARE}Test accuracy: 0.93\n\n{CONFUSION}Test accuracy: 0.89\n\n{MATRIX_89}\n", None,
             ("3 Correct and wrong predictions", "2 marks"),
             "Show figures along with labels"),
    ],
    "CONFLICT_MARKERS": [
        Case("one-block", f"{CONFUSION}{CONFLICT}", 3, ("1 merge-conflict block", "line 3", "first side"),
             "Test accuracy: 0.95"),
    ],
    "INCONSISTENT_REPEAT": [
        Case("baseline-twice", f"{COMPARE}C4 reaches a test accuracy of 97.2 %.\n\n{CONFUSION}"
             "The test accuracy of C4 is 95.1 %.\n", 7, ("C4", "97.2", "95.1", "line 3", "line 7"), "95.1"),
        Case("alias-and-label", f"{COMPARE}| Metric | C4 | C1+M3 |\n|---|---|---|\n| Test accuracy | 0.951 | 0.93 |\n\n"
             f"{CONFUSION}## Convolution block architecture\nTest accuracy: 0.962\n", 10, ("0.951", "0.962")),
    ],
    "MISSING_EXPLANATION": [
        Case("table-only", f"{COMPARE}| Model | Test accuracy |\n|---|---|\n| C4 | 0.95 |\n| C1+M3 | 0.93 |\n", 1,
             ("reasoning", "no sentence explains"), "# 1 Conv blocks vs MobileNet blocks",
             grading=GRADING + ALIASES + '[grading.questions.compare]\nexpects = ["accuracy", "reasoning"]\n'),
    ],
    "BELOW_TARGET": [
        Case("one-run-below", f"{COMPARE}C4 reaches a test accuracy of 97.2 %, C1+M3 only 91.5 %.\n", 3,
             ("C1+M3", "91.5", "at least 92"), "C1+M3 only 91.5 %", sections=TARGET_92),
    ],
}

QUIET: dict[str, list[Case]] = {
    "ACCURACY_MISMATCH": [
        Case("four-decimals-exact", f"{CONFUSION}Test accuracy: 0.9873\n\n{MATRIX_9873}\n"),
        Case("one-decimal-within-rounding",
             f"{CONFUSION}The model reached an accuracy of 98.7% on the test set.\n\n{MATRIX_9873}\n"),
        Case("training-accuracy", f"{CONFUSION}Training accuracy: 0.99\n\n{MATRIX_89}\n"),
        Case("other-heading", f"{CONFUSION}## C4\nTest accuracy: 0.95\n\n## C1+M3\n{MATRIX_89}\n"),
        Case("mean-over-seeds-vs-one-seed", f"{CONFUSION}Test accuracy: 0.9877 (± 0.0005)\n\n{MATRIX_9873}\n"),
    ],
    "RECALL_EQUALS_ACCURACY": [
        Case("balanced-test-set", FIRES["RECALL_EQUALS_ACCURACY"][0].text,
             grading=GRADING.replace("classes = 3", "classes = 3\nbalanced_test = true")),
        Case("differs-once", f"{CONFUSION}## C4\nTest accuracy: 0.9312\nTest recall: 0.9312\n\n## C1+M3\n"
             "Test accuracy: 0.9100\nTest recall: 0.9050\n"),
        Case("macro-recall", f"{CONFUSION}Test accuracy: 0.9312\nMacro recall: 0.9312\n"),
    ],
    "TEST_SIZE_MISMATCH": [
        Case("adds-up", f"{CONFUSION}{MATRIX_89}\n"),
        Case("two-class-sub-problem", f"{CONFUSION}      0    1\n  0  50   10\n  1   5   45\n"),
        Case("other-test-set-by-keyword", f"{CONFUSION}## Line dataset\n 10   0   0   0\n  0  10   0   0\n"
             "  0   0  10   0\n  0   0   1   9\n", grading="""
[grading.test_sets.digits]
size = 100
classes = 3
keywords = ["digit"]
[grading.test_sets.lines]
size = 40
classes = 4
keywords = ["line"]
"""),
    ],
    "ZERO_RECALL_CLASS": [
        Case("every-class-hit", f"{CONFUSION}{MATRIX_89}\n"),
        Case("class-without-test-images", f"{CONFUSION} 40   0   0\n  0   0   0\n  0   0  40\n"),
        Case("class-report-recall-0-without-support", f"{CONFUSION}"
             "              precision    recall  f1-score   support\n\n"
             "         cat       0.90      0.95      0.92        40\n"
             "         dog       0.00      0.00      0.00         0\n"
             "         fox       0.80      0.90      0.85        60\n"),
    ],
    "VAL_TEST_GAP": [
        Case("four-points", f"{COMPARE}Validation accuracy: 0.94\nTest accuracy: 0.90\n"),
        Case("test-above-validation", f"{COMPARE}Validation accuracy: 0.90\nTest accuracy: 0.99\n"),
        Case("different-headings", f"{COMPARE}## C4\nValidation accuracy: 0.99\n## C1+M3\nTest accuracy: 0.90\n"),
        Case("far-apart", f"{COMPARE}Validation accuracy: 0.99\n" + "Some words.\n" * 7 + "Test accuracy: 0.90\n"),
        Case("course-allows-ten-points", f"{COMPARE}Validation accuracy: 0.99\nTest accuracy: 0.90\n",
             grading=GRADING + "val_test_gap = 0.10\n"),
    ],
    "DUPLICATE_RESULTS": [
        Case("same-configuration-twice",
             f"{COMPARE}## Epoch = 1\nF1 score: {COPIED}\n\n## Summary for Epoch = 1\nF1 score: {COPIED}\n"),
        Case("same-run-by-label-and-alias",
             f"{COMPARE}## C4\nTest accuracy: {COPIED}\n\n## Convolution block architecture\n"
             f"Test accuracy: {COPIED}\n"),
        Case("short-number", f"{COMPARE}## Epoch = 1\nTest accuracy: 0.95\n\n## Epoch = 10\nTest accuracy: 0.95\n"),
        Case("small-matrix", f"{COMPARE}## C4\n 2   0   0\n 0   2   0\n 0   0   2\n\n## C1+M3\n"
             " 2   0   0\n 0   2   0\n 0   0   2\n"),
    ],
    "IMPOSSIBLE_VALUE": [
        Case("exactly-100", f"{COMPARE}Test accuracy: 100%\nTest accuracy: 1.0\n"),
        Case("zero-loss", f"{COMPARE}Training loss: 0.0\n"),
        Case("f1-at-the-mean", f"{CONFUSION}Precision: 0.80\nRecall: 0.70\nF1 score: 0.75\n"),
        Case("f1-far-from-its-partners", f"{CONFUSION}Precision: 0.80\nRecall: 0.70\n" + "Some words.\n" * 6
             + "F1 score: 0.90\n"),
        # one row, two models: each F1 is checked against its own model's precision and recall
        Case("f1-of-two-models-in-one-row", f"{CONFUSION}|  | C4 | | | C1+M3 | | |\n|---|---|---|---|---|---|---|\n"
             "| **class** | **precision** | **recall** | **F1** | **precision** | **recall** | **F1** |\n"
             "| macro avg | 0.48 | 0.47 | 0.47 | 0.74 | 0.74 | 0.74 |\n"),
    ],
    "VS_REFERENCE": [
        Case("other-epochs", f"{COMPARE}## Convolution block architecture, Epoch = 1\nTest accuracy: 0.80\n",
             reference=True),
        Case("within-spread", f"{COMPARE}## C4\nTest accuracy: 0.953\n\n## C1+M3\nTest accuracy: 0.91\n",
             reference=True),
        Case("validation-accuracy", f"{COMPARE}## C4\nValidation accuracy: 0.80\n", reference=True),
        Case("no-run-named", f"{COMPARE}## My network\nTest accuracy: 0.80\n", reference=True),
        Case("no-reference", f"{COMPARE}## C4\nTest accuracy: 0.80\n"),
    ],
    "MISSING_QUESTION": [
        Case("marks-0-with-rubric", f"{COMPARE}Test accuracy: 0.93\n\n# 2 Confusion matrices, recall and accuracy\n"
             "Test accuracy: 0.93\n\n# 3 Correct and wrong predictions\n![correct](c.png)\n",
             sections=CONCLUSIONS, grading=GRADING + "[grading.questions.conclusions]\nexpects = [\"learned\"]\n"),
        Case("not-required", f"{COMPARE}Test accuracy: 0.93\n\n# 2 Confusion matrices, recall and accuracy\n"
             "Test accuracy: 0.93\n",
             grading=GRADING + "[grading.questions.predictions]\nrequired = false\n"),
        Case("prose-answer", f"{COMPARE}Test accuracy: 0.93\n\n# 2 Confusion matrices, recall and accuracy\n"
             "Test accuracy: 0.93\n\n# 3 Correct and wrong predictions\n"
             + "The network mistakes a slanted seven for a one and a closed four for a nine, while the digits it "
               "gets right are written upright and centred, much like most of the training images it has seen.\n"),
    ],
    "CONFLICT_MARKERS": [
        Case("setext-underline", "Confusion matrices, recall and accuracy\n=======\n\nTest accuracy: 0.95\n"),
    ],
    "INCONSISTENT_REPEAT": [
        Case("same-value-rounded", f"{COMPARE}C4 reaches a test accuracy of 97.2 %.\n\n{CONFUSION}"
             "The test accuracy of C4 is 0.9721.\n"),
        Case("other-epochs", f"{COMPARE}C4 reaches a test accuracy of 97.2 %.\n\n{CONFUSION}"
             "After 1 epoch, the test accuracy of C4 is 91.0 %.\n"),
        Case("other-split", f"{COMPARE}C4 reaches a test accuracy of 97.2 %.\n\n{CONFUSION}"
             "The training accuracy of C4 is 99.5 %.\n"),
        # a mean over seeds and one seed's result
        Case("one-seed", f"{COMPARE}The test accuracy of C4 is 97.2 %, the mean over three seeds.\n\n{CONFUSION}"
             "*Table 5 – Test confusion matrix of C4, seed 0 (accuracy 97.5 %).*\n"),
        Case("hedged", f"{COMPARE}C4 reaches a test accuracy of about 97 %.\n\n{CONFUSION}"
             "The test accuracy of C4 is 96.4 %.\n"),
        Case("one-answer", f"{COMPARE}C4 reaches a test accuracy of 97.2 % on the first run.\n"
             "A rerun of C4 gives a test accuracy of 96.9 %.\n"),
    ],
    "MISSING_EXPLANATION": [
        Case("reasons-given", f"{COMPARE}| Model | Test accuracy |\n|---|---|\n| C4 | 0.95 |\n| C1+M3 | 0.93 |\n\n"
             "C4 is more accurate because its full convolutions have four times more parameters than C1+M3.\n",
             grading=GRADING + ALIASES + '[grading.questions.compare]\nexpects = ["accuracy", "reasoning"]\n'),
        Case("no-reasons-asked", f"{COMPARE}| Model | Test accuracy |\n|---|---|\n| C4 | 0.95 |\n| C1+M3 | 0.93 |\n",
             grading=GRADING + ALIASES + '[grading.questions.compare]\nexpects = ["accuracy"]\n'),
        # a narrow column: the reason's sentence runs over short lines
        Case("reasons-over-short-lines", f"{COMPARE}| Model | Test accuracy |\n|---|---|\n| C4 | 0.95 |\n"
             "| C1+M3 | 0.93 |\n\nFull convolutions work better. The\nfour times more parameters fit more.\n",
             grading=GRADING + ALIASES + '[grading.questions.compare]\nexpects = ["accuracy", "reasoning"]\n'),
    ],
    "BELOW_TARGET": [
        Case("hedged-at-the-target", f"{COMPARE}C1+M3 reaches a test accuracy of ~92 %.\n", sections=TARGET_92),
    ],
}


def _graded(case: Case, tmp_path):
    manifest = course(tmp_path, case.grading, case.sections)
    return grade(case.text, manifest, reference(tmp_path) if case.reference else None)


def _cases(table: dict[str, list[Case]]):
    return [pytest.param(code, case, id=f"{code}-{case.id}") for code, cases in table.items() for case in cases]


@pytest.mark.parametrize("code", CHECKS.names())
def test_every_registered_check_has_a_firing_case(code: str) -> None:
    assert FIRES.get(code), f"check {code} has no report it fires on in FIRES"
    assert QUIET.get(code), f"check {code} has no near miss in QUIET"
    assert CHECKS.get(code).description.strip()


def test_every_case_names_a_registered_check() -> None:
    assert set(FIRES) | set(QUIET) <= set(CHECKS.names())


@pytest.mark.parametrize(("code", "case"), _cases(FIRES))
def test_check_fires(code: str, case: Case, tmp_path) -> None:
    g = _graded(case, tmp_path)
    found = [f for f in flags_of(g, code) if f.line == case.line]
    assert len(found) == 1, f"{code} flags: {flags_of(g, code)}"
    flag = found[0]
    assert flag.severity == SEVERITY[code]
    for word in case.words:
        assert word in flag.message, f"{word!r} not in {flag.message!r}"
    assert case.evidence in flag.evidence
    assert flag.location == (f"line {case.line}" if case.line is not None else "")
    assert flag.to_json()["code"] == code


@pytest.mark.parametrize(("code", "case"), _cases(QUIET))
def test_check_stays_quiet_near_firing(code: str, case: Case, tmp_path) -> None:
    g = _graded(case, tmp_path)
    if code != "MISSING_QUESTION":
        reports = find_class_reports(g.document, lambda line: "")
        assert g.claims or g.matrices or reports, "the near miss must hold what the check looks at"
    assert flags_of(g, code) == []


def test_flags_come_in_document_order(tmp_path) -> None:
    text = f"{COMPARE}Training loss: -0.25\nValidation accuracy: 0.99\nTest accuracy: 0.90\n"
    g = grade(text, course(tmp_path))
    located = [f.line for f in g.flags if f.line is not None]
    assert located == sorted(located)
    assert [f.code for f in g.flags if f.line is not None] == ["IMPOSSIBLE_VALUE", "VAL_TEST_GAP"]
    assert all(f.line is None for f in g.flags[len(located):])  # whole-report findings last


def test_vs_reference_reports_a_repeated_number_once(tmp_path) -> None:
    text = f"{COMPARE}## C4\nTest accuracy: 0.80\n\n{CONFUSION}## C4\nTest accuracy: 0.80\n"
    g = grade(text, course(tmp_path), reference(tmp_path))
    assert [f.line for f in flags_of(g, "VS_REFERENCE")] == [4]


def test_vs_reference_floors_a_tiny_seed_spread(tmp_path) -> None:
    """Three seeds that agree to 0.0 SD would make every other number "infinitely" far: reference_min_sd floors it."""
    rows = [{"run": "c4", "label": "C4", "accuracy": {"mean": 0.95, "std": 0.0, "n": 3, "values": [0.95] * 3}}]
    near = grade(f"{COMPARE}## C4\nTest accuracy: 0.96\n", course(tmp_path), reference(tmp_path, rows))
    far = grade(f"{COMPARE}## C4\nTest accuracy: 0.97\n", course(tmp_path), reference(tmp_path, rows))
    assert flags_of(near, "VS_REFERENCE") == []  # 95.5-96.5 % reaches the interval's 94.0-96.0 %
    assert "floored at reference_min_sd = 0.2 %" in flags_of(far, "VS_REFERENCE")[0].message


def test_val_test_gap_one_finding_per_heading(tmp_path) -> None:
    text = (f"{COMPARE}Validation accuracy: 0.99\nTest accuracy: 0.90\n\nValidation accuracy: 0.98\n"
            "Test accuracy: 0.80\n")
    g = grade(text, course(tmp_path))
    [flag] = flags_of(g, "VAL_TEST_GAP")
    assert "0.98" in flag.message and "0.80" in flag.message  # the widest gap of the block speaks for it
    assert "2 of 2 pairs" in flag.message
    assert flag.line == 7


def test_test_size_mismatch_picks_the_test_set_by_keyword(tmp_path) -> None:
    grading = TWO_TEST_SETS
    text = f"{CONFUSION}## Line dataset\n 10   0   0   0\n  0   9   1   0\n  0   0  10   0\n  0   0   1   8\n"
    [flag] = flags_of(grade(text, course(tmp_path, grading)), "TEST_SIZE_MISMATCH")
    assert "lines set has 40" in flag.message and "39" in flag.message


def test_sklearn_classification_report_is_not_impossible(tmp_path) -> None:
    text = (f"{CONFUSION}              precision    recall  f1-score   support\n\n"
            "           0       0.90      0.95      0.92        40\n"
            "           1       0.70      0.60      0.65        30\n"
            "           2       0.80      0.90      0.85        30\n\n"
            "    accuracy                           0.84       100\n")
    assert flags_of(grade(text, course(tmp_path)), "IMPOSSIBLE_VALUE") == []


# --- which configuration a claim is about -------------------------------------------------------------------------


def test_identity_joins_settings_run_and_labels(tmp_path) -> None:
    manifest = course(tmp_path)
    found = identity("Task 2 > Convolution block architecture, Epoch = 10, lr = 0.001", grading_of(manifest),
                     aliases_of(manifest))
    assert found == {"epochs": 10.0, "lr": 0.001, "label:task": "2", "run": "c4"}


@pytest.mark.parametrize(("about", "run"), [
    ("C4", "c4"),
    ("1 Results > Without MobileNet", "c4"),
    ("1 Results > with mobilenet", "c1m3"),
    ("MobileNet block architecture", "c1m3"),
    ("1 Results > c1m3", "c1m3"),
    ("My network", None),
    ("C4+M1", None),  # not C4: the "+" continues the name
])
def test_run_named(tmp_path, about: str, run: str | None) -> None:
    assert run_named(about, aliases_of(course(tmp_path))) == run


def test_run_named_is_none_when_two_runs_are_named(tmp_path) -> None:
    manifest = course(tmp_path)
    assert run_named("Summary: C4 beats C1+M3", aliases_of(manifest)) is None
    text = (f"{COMPARE}## C4\nTest accuracy: 0.9512345678\n\n## Summary: C4 beats C1+M3\n"
            "Test accuracy: 0.9512345678\n")
    assert flags_of(grade(text, manifest), "DUPLICATE_RESULTS") == []


# --- scoring ------------------------------------------------------------------------------------------------------

EXPECTS = GRADING + '[grading.questions.confusion]\nexpects = ["confusion matrix|confusion", "recall", "accuracy"]\n'


def test_all_expected_items_earn_full_marks(tmp_path) -> None:
    text = f"{CONFUSION}The confusion matrix below shows the test set; recall and accuracy follow.\n\n" \
           "Test accuracy: 0.89\n"
    q = question(grade(text, course(tmp_path, EXPECTS)), "confusion")
    assert (q.answered, q.score, q.found, q.missing, q.deductions) == (
        True, 4.0, ["confusion matrix", "recall", "accuracy"], [], [])


def test_a_missing_expected_item_costs_its_share(tmp_path) -> None:
    text = f"{CONFUSION}The confusion matrix below shows the test set.\n\nTest accuracy: 0.89\n"
    q = question(grade(text, course(tmp_path, EXPECTS)), "confusion")
    assert q.found == ["confusion matrix", "accuracy"] and q.missing == ["recall"]
    assert q.score == round(4 * 2 / 3, 2)
    assert any("2 of 3" in d and "recall" in d for d in q.deductions)


def test_a_heading_that_restates_the_question_shows_no_expected_item(tmp_path) -> None:
    """The heading "Confusion matrices, recall and accuracy" names all three items; only what is under it counts."""
    text = f"{CONFUSION}Test accuracy: 0.89\n"
    q = question(grade(text, course(tmp_path, EXPECTS)), "confusion")
    assert q.found == ["accuracy"] and q.missing == ["confusion matrix", "recall"]


def test_a_synonym_of_an_expected_item_counts_as_the_item(tmp_path) -> None:
    text = f"{CONFUSION}Confusion between classes is low; recall and accuracy below.\n\nTest accuracy: 0.89\n"
    q = question(grade(text, course(tmp_path, EXPECTS)), "confusion")
    assert q.found == ["confusion matrix", "recall", "accuracy"]  # reported under the item's first spelling


def test_flags_inside_an_answer_deduct_once_per_code(tmp_path) -> None:
    text = (f"{CONFUSION}Test accuracy: 0.95\n\n{MATRIX_89}\n\nTest accuracy: 0.95\n\n"
            " 31   1   1\n  3  28   2\n  1   2  31\n")
    g = grade(text, course(tmp_path))
    assert len(flags_of(g, "ACCURACY_MISMATCH")) == 2
    q = question(g, "confusion")
    assert q.score == 4 - 0.25 * 4
    assert q.deductions == ["ACCURACY_MISMATCH (error): −1"]


def test_an_error_and_a_warning_both_deduct(tmp_path) -> None:
    text = f"{CONFUSION}Test accuracy: 0.95\n\n 30   2   1\n  3  28   2\n  1   2  21\n"  # off by 4 points, 90 images
    q = question(grade(text, course(tmp_path)), "confusion")
    assert q.score == round(4 - 0.25 * 4 - 0.1 * 4, 2)
    assert [d.split(" ")[0] for d in q.deductions] == ["ACCURACY_MISMATCH", "TEST_SIZE_MISMATCH"]


def test_deductions_follow_the_course_rates_and_stop_at_zero(tmp_path) -> None:
    text = f"{CONFUSION}Test accuracy: 0.95\n\n 30   2   1\n  3  28   2\n  1   2  21\n"
    q = question(grade(text, course(tmp_path, GRADING + "error_deduction = 0.9\nwarning_deduction = 0.5\n")),
                 "confusion")
    assert q.score == 0.0 and len(q.deductions) == 2


def test_a_flag_in_another_answer_costs_this_one_nothing(tmp_path) -> None:
    text = (f"{COMPARE}Training loss: -0.25\n\n# 2 Confusion matrices, recall and accuracy\n\n"
            "Test accuracy: 0.89\n\n" + MATRIX_89 + "\n")
    g = grade(text, course(tmp_path))
    assert question(g, "compare").score == 5 - 0.25 * 5
    assert question(g, "confusion").score == 4.0


def test_an_unanswered_question_earns_0_and_missing_question_costs_nothing_more(tmp_path) -> None:
    g = grade(f"{COMPARE}Test accuracy: 0.93\n", course(tmp_path))
    q = question(g, "predictions")
    assert (q.answered, q.score, q.deductions, q.span) == (False, 0.0, ["not answered"], None)
    assert question(g, "compare").score == 5.0
    assert (g.score, g.max_score) == (5.0, 11.0)


def test_a_bare_heading_is_not_an_answer_but_spans_its_lines(tmp_path) -> None:
    g = grade(FIRES["MISSING_QUESTION"][0].text, course(tmp_path))
    q = question(g, "predictions")
    assert not q.answered and q.span == (5, 7)


def test_marks_0_without_a_rubric_entry_is_no_question(tmp_path) -> None:
    g = grade(f"{COMPARE}Test accuracy: 0.93\n", course(tmp_path, sections=CONCLUSIONS))
    assert [q.id for q in g.questions] == ["compare", "confusion", "predictions"]
    with_rubric = grade(f"{COMPARE}Test accuracy: 0.93\n", course(
        tmp_path, GRADING + "[grading.questions.conclusions]\nexpects = [\"learned\"]\n", CONCLUSIONS))
    assert question(with_rubric, "conclusions").marks == 0
    assert with_rubric.max_score == 11.0


def test_the_rule_names_the_course_rates(tmp_path) -> None:
    g = grade(f"{COMPARE}Test accuracy: 0.93\n", course(tmp_path, GRADING + "min_words = 40\n"))
    assert "40 words" in g.rule and "25 %" in g.rule and "10 %" in g.rule

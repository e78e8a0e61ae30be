"""What grading reads out of a report's text: claims from prose and from tables of every shape, confusion matrices
(plain, numpy, labelled, split by a page break) and what is not one, scikit-learn classification reports, and
headings however they are written."""

from __future__ import annotations

import pytest

from reportgen.grade.claims import extract_claims
from reportgen.grade.context import Context
from reportgen.grade.model import Claim, Line
from reportgen.grade.outline import blocks, headings, parse_heading
from reportgen.grade.tables import cells, find_class_reports, find_matrices
from tests.grade_support import doc


def claims(text: str, fmt: str = "markdown") -> list[Claim]:
    d = doc(text, fmt)
    return extract_claims(d, Context(d))


def matrices(text: str, fmt: str = "markdown"):
    return find_matrices(doc(text, fmt), lambda line, last=None: f"about line {line.number}")


def shown(found: list[Claim]) -> list[tuple]:
    return [(c.metric, round(c.value, 6), c.split, c.location.line) for c in found]


# --- claims in prose ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "metric", "value", "written", "split"), [
    ("Test accuracy: 0.93", "accuracy", 0.93, "0.93", "test"),
    ("The model reached an accuracy of 95% on the test set.", "accuracy", 0.95, "95%", "test"),
    ("We got 93.6 training accuracy.", "accuracy", 0.936, "93.6", "train"),
    ("Test Set Accuracy: 69.29693603515625", "accuracy", 0.6929693603515625, "69.29693603515625", "test"),
    ("test accuracy is 96.5 percent", "accuracy", 0.965, "96.5%", "test"),
    ("Val acc: 0.97", "accuracy", 0.97, "0.97", "val"),
    ("Fscore = 0.986", "f1", 0.986, "0.986", ""),
    ("loss was 0.2311", "loss", 0.2311, "0.2311", ""),
    ("auc = 0.99", "auc", 0.99, "0.99", ""),
    ("The test accuracy was 0.93.", "accuracy", 0.93, "0.93", "test"),
    ("accuracy: 104.5", "accuracy", 104.5, "104.5", ""),  # above 100 stays as written: IMPOSSIBLE_VALUE's to judge
])
def test_prose_claim(text: str, metric: str, value: float, written: str, split: str) -> None:
    [claim] = claims(text)
    assert (claim.metric, claim.as_written, claim.split) == (metric, written, split)
    assert claim.value == pytest.approx(value)
    assert claim.location.line == 1 and claim.context == text


def test_a_long_number_on_a_0_100_scale_is_a_fraction_with_its_rounding() -> None:
    [claim] = claims("Test Set Accuracy: 69.29693603515625")
    assert round(claim.value, 3) == 0.693 and claim.percent and claim.decimals == 14
    [pct] = claims("accuracy of 98.7% on the test set")
    assert pct.tolerance == pytest.approx(0.0005, abs=1e-8)
    [frac] = claims("Test accuracy: 0.9873")
    assert frac.tolerance == pytest.approx(0.00005, abs=1e-8) and not frac.percent


def test_macro_average_and_model_named_in_the_sentence() -> None:
    [f1] = claims("Macro F1: 0.91")
    assert (f1.metric, f1.average) == ("f1", "macro")
    [acc] = claims("accuracy of C2: 0.93")
    assert acc.subject == "C2" and acc.about.endswith("C2")


@pytest.mark.parametrize("text", [
    "accuracy at 3 epochs",
    "1 Loss and accuracy curves",
    "We trained for 10 epochs with a batch size of 64.",
    "loss after 10 iterations",
])
def test_not_a_claim(text: str) -> None:
    assert claims(text) == []


def test_abbreviated_acc_with_a_full_stop() -> None:
    assert shown(claims("Validation acc. 0.97")) == [("accuracy", 0.97, "val", 1)]


def test_a_claim_is_about_its_headings_and_caption() -> None:
    found = claims("# 3 Results\n## 3.1 Batch size\nTest accuracy: 0.91\nFigure 4: Curves with batch size = 32\n")
    assert found[0].about == "3 Results > 3.1 Batch size | Figure 4: Curves with batch size = 32"


# --- claims in tables ---------------------------------------------------------------------------------------------


def test_markdown_table_with_train_val_test_columns() -> None:
    text = """## Results
| Model | Train acc | Val acc | Test acc |
|-------|-----------|---------|----------|
| C4    | 0.99      | 0.97    | 0.96     |
| C1+M3 | 98.5      | 96.0    | 95.2     |
"""
    found = claims(text)
    assert shown(found) == [
        ("accuracy", 0.99, "train", 4), ("accuracy", 0.97, "val", 4), ("accuracy", 0.96, "test", 4),
        ("accuracy", 0.985, "train", 5), ("accuracy", 0.96, "val", 5), ("accuracy", 0.952, "test", 5),
    ]
    assert found[0].about == "Results | C4" and found[-1].about == "Results | C1+M3"
    assert found[3].percent and found[3].as_written == "98.5"


def test_tab_separated_table() -> None:
    found = claims("Model\tTraining Accuracy\tTest Accuracy\tTest Loss\nC4\t0.991\t0.962\t0.1234\n"
                   "C1+M3\t0.985\t0.951\t0.2345")
    assert shown(found) == [
        ("accuracy", 0.991, "train", 2), ("accuracy", 0.962, "test", 2), ("loss", 0.1234, "test", 2),
        ("accuracy", 0.985, "train", 3), ("accuracy", 0.951, "test", 3), ("loss", 0.2345, "test", 3),
    ]
    assert [c.about for c in found[::3]] == ["C4", "C1+M3"]


def test_space_aligned_table_reads_columns_by_position() -> None:
    text = """Model     Testing Accuracy    Training
                              Accuracy
C4        0.962               0.991
C1+M3     0.951               0.985
"""
    found = claims(text, "pdf")
    assert shown(found) == [("accuracy", 0.962, "test", 3), ("accuracy", 0.991, "train", 3),
                            ("accuracy", 0.951, "test", 4), ("accuracy", 0.985, "train", 4)]


def test_space_aligned_table_with_header_cells_wrapped_onto_a_second_line() -> None:
    text = """Model         Training     Testing
              Accuracy     Accuracy
C4            0.991        0.962
C1+M3         0.985        0.951
"""
    assert shown(claims(text, "pdf")) == [("accuracy", 0.991, "train", 3), ("accuracy", 0.962, "test", 3),
                                          ("accuracy", 0.985, "train", 4), ("accuracy", 0.951, "test", 4)]


def test_wrapped_header_word_joins_the_cell_above_it() -> None:
    text = """Model         Validation Accuracy  Testing
                                   Accuracy
C4            0.991                0.962
"""
    assert shown(claims(text, "pdf")) == [("accuracy", 0.991, "val", 3), ("accuracy", 0.962, "test", 3)]


def test_a_sentence_ends_a_table() -> None:
    text = "| Model | Test acc |\n|---|---|\n| C4 | 0.96 |\nThe validation accuracy was 0.97 overall.\n| C5 | 0.50 |"
    # The row after the sentence is no longer the table's: it is read as a line about accuracy (the block's only
    # metric), without the table column's "test".
    assert shown(claims(text)) == [("accuracy", 0.96, "test", 3), ("accuracy", 0.97, "val", 4),
                                   ("accuracy", 0.5, "", 5)]


@pytest.mark.parametrize(("text", "expected"), [
    ("| a | b |c|", ["a", "b", "c"]),
    ("Model\tTest acc\t0.9", ["Model", "Test acc", "0.9"]),
    ("C4      0.96   0.1", ["C4", "0.96", "0.1"]),
    ("30 2 1", ["30", "2", "1"]),
    ("Some words here", ["Some words here"]),
])
def test_cells(text: str, expected: list[str]) -> None:
    found = cells(text)
    assert [c.text for c in found] == expected
    assert all(text[c.start:c.end] == c.text for c in found)


# --- confusion matrices -------------------------------------------------------------------------------------------

CELLS = [[30, 2, 1], [3, 28, 2], [1, 2, 31]]


@pytest.mark.parametrize(("text", "labels", "first", "last"), [
    ("30 2 1\n3 28 2\n1 2 31", [], 1, 3),
    ("[[30  2  1]\n [ 3 28  2]\n [ 1  2 31]]", [], 1, 3),
    ("[[30, 2, 1],\n [3, 28, 2],\n [1, 2, 31]]", [], 1, 3),
    ("   0  1  2\n  30  2  1\n   3 28  2\n   1  2 31", ["0", "1", "2"], 2, 4),
    ("0 30 2 1\n1 3 28 2\n2 1 2 31", ["0", "1", "2"], 1, 3),
    ("   0  1  2\n0 30  2  1\n1  3 28  2\n2  1  2 31", ["0", "1", "2"], 2, 4),
    ("   1  2  3\n1 30  2  1\n2  3 28  2\n3  1  2 31", ["1", "2", "3"], 2, 4),
    ("0: 30 2 1\n1: 3 28 2\n2: 1 2 31", [], 1, 3),
    ("cat 30 2 1\ndog 3 28 2\nfox 1 2 31", [], 1, 3),
    ("| | 0 | 1 | 2 |\n|---|---|---|---|\n| 0 | 30 | 2 | 1 |\n| 1 | 3 | 28 | 2 |\n| 2 | 1 | 2 | 31 |",
     ["0", "1", "2"], 3, 5),
])
def test_matrix_shapes(text: str, labels: list[str], first: int, last: int) -> None:
    [m] = matrices(text)
    assert m.cells == CELLS and m.labels == labels
    assert (m.location.line, m.end.line) == (first, last)
    assert m.about == f"about line {first}"
    assert (m.total, m.trace, m.zero_recall_classes) == (100, 89, [])


def test_matrix_split_by_a_page_break() -> None:
    [m] = matrices("Confusion matrix\n30 2 1\n3 28 2\n\n12\n\n1 2 31\nNext paragraph.", "pdf")
    assert m.cells == CELLS and (m.location.line, m.end.line) == (2, 7)


def test_two_by_two_matrix_needs_its_labels() -> None:
    assert matrices("30 2\n3 28") == []
    [m] = matrices("   0  1\n0 30  2\n1  3 28")
    assert m.cells == [[30, 2], [3, 28]] and m.labels == ["0", "1"]


@pytest.mark.parametrize("text", [
    "1 32 5 2\n32 16 3 1\n16 8 3 1",  # layer sizes: in, out, kernel, stride
    "1 32 5 2\n2 16 3 1\n3 8 3 1\n4 4 3 1",  # numbered layers
    "30 2 1\n3 28 2",  # two rows of three
    "Epochs 10 20\nBatch 32 64",  # a 2-row table
    "1 0 0\n0 1 0\n0 0 1",  # too few counts to be a test set's predictions
])
def test_not_a_matrix(text: str) -> None:
    assert matrices(text) == []


@pytest.mark.parametrize("gap", ["\n\n", "\n"])
def test_two_matrices_one_after_the_other(gap: str) -> None:
    first = "[[30  2  1]\n [ 3 28  2]\n [ 1  2 31]]"
    second = "[[40  0  0]\n [ 0 40  0]\n [ 0  0 40]]"
    assert [m.cells for m in matrices(first + gap + second)] == [CELLS, [[40, 0, 0], [0, 40, 0], [0, 0, 40]]]


def test_matrix_class_names_come_from_its_labels() -> None:
    [m] = matrices("   1  2  3\n1 40  0  0\n2 10  0 10\n3  0  0 40")
    assert m.zero_recall_classes == [1] and m.class_name(1) == "2"


# --- classification reports ---------------------------------------------------------------------------------------

SKLEARN = """## 2.1 Per-class results
              precision    recall  f1-score   support

           0       0.90      0.95      0.92        40
           1       0.00      0.00      0.00        20
           2       0.80      0.90      0.85        30

    accuracy                           0.85        90
   macro avg       0.57      0.62      0.59        90
weighted avg       0.66      0.72      0.69        90
"""


def test_sklearn_classification_report() -> None:
    d = doc(SKLEARN)
    [report] = find_class_reports(d, lambda line: f"about line {line.number}")
    assert report.rows == {
        "0": {"precision": 0.90, "recall": 0.95, "f1": 0.92, "support": 40},
        "1": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 20},
        "2": {"precision": 0.80, "recall": 0.90, "f1": 0.85, "support": 30},
    }
    assert report.support_total == 90 and report.location.line == 2 and report.about == "about line 2"


def test_classification_report_in_a_tab_separated_table() -> None:
    text = "\tprecision\trecall\tf1-score\tsupport\ncat\t0.90\t0.95\t0.92\t40\ndog\t0.85\t0.80\t0.82\t60\n"
    [report] = find_class_reports(doc(text), lambda line: "")
    assert list(report.rows) == ["cat", "dog"] and report.support_total == 100


def test_classification_report_in_a_markdown_table() -> None:
    text = ("| | precision | recall | f1-score | support |\n|---|---|---|---|---|\n"
            "| cat | 0.90 | 0.95 | 0.92 | 40 |\n| dog | 0.85 | 0.80 | 0.82 | 60 |\n")
    [report] = find_class_reports(doc(text), lambda line: "")
    assert list(report.rows) == ["cat", "dog"] and report.support_total == 100


def test_classification_report_accuracy_row_is_an_accuracy_claim() -> None:
    accuracy = [c for c in claims(SKLEARN) if c.metric == "accuracy"]
    assert shown(accuracy) == [("accuracy", 0.85, "", 8)]


def test_classification_report_labels_are_not_claims() -> None:
    # Per-class rows are read into the ClassReport (ZERO_RECALL_CLASS, supports), not as report-wide claims; the
    # averages are claims with their averaging.
    precisions = [(c.as_written, c.average) for c in claims(SKLEARN) if c.metric == "precision"]
    assert precisions == [("0.57", "macro"), ("0.66", "weighted")]


# --- headings -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "number", "words"), [
    ("# 2 Title here", "num", "2", "Title here"),
    ("## 2.1 Task1", "num", "2.1", "Task1"),
    ("## Plain heading", "md", "", "Plain heading"),
    ("3.1 Results on MNIST", "num", "3.1", "Results on MNIST"),
    ("Task 2", "label", "2", "Task 2"),
    ("Question 4: Filters", "label", "4", "Question 4 Filters"),
    ("2. Learning Rate", "list", "2", "Learning Rate"),
    ("4. 4 correct and 4 wrong predictions", "list", "4", "4 correct and 4 wrong predictions"),
])
def test_heading(text: str, kind: str, number: str, words: str) -> None:
    h = parse_heading(Line(text, 1))
    assert h is not None and (h.kind, h.number, h.text) == (kind, number, words)


@pytest.mark.parametrize("text", [
    "1. Accuracy = 0.98",
    "2 32 5 1",
    "Figure 3: Accuracy curves",
    "Table 1. Results",
    "",
    "Task 2: lr = 0.01",
])
def test_not_a_heading(text: str) -> None:
    assert parse_heading(Line(text, 1)) is None


def test_image_size_is_not_a_heading() -> None:
    assert parse_heading(Line("28 x 28 images", 1)) is None


def test_hash_is_a_heading_only_where_markdown_marks_headings() -> None:
    assert parse_heading(Line("# Imports", 1), markdown=True) is not None
    assert parse_heading(Line("# Imports", 1), markdown=False) is None


def test_a_bare_number_is_a_heading_only_where_it_fits_the_numbering() -> None:
    text = "1 Introduction\nSome text\n2 Method\n3 Results\n10 epochs were used here.\n3.1 Results on MNIST\n"
    found = headings(doc(text, "pdf"))
    assert [(h.number, h.line.number) for h in found] == [("1", 1), ("2", 3), ("3", 4), ("3.1", 6)]
    assert found[-1].path == "3 Results > 3.1 Results on MNIST"


def test_label_headings_do_not_repeat_their_number() -> None:
    found = headings(doc("Task 2\n2. Learning Rate\n"))
    assert found[1].path == "Task 2 > 2 Learning Rate"


def test_blocks_cut_at_every_heading() -> None:
    d = doc("Preface\n# 1 Intro\ntext a\n## 1.1 Setup\ntext b\n# 2 Results\ntext c\n")
    cut = blocks(d)
    assert [(b.heading.title if b.heading else None, [line.text for line in b.lines]) for b in cut] == [
        (None, ["Preface"]), ("1 Intro", ["text a"]), ("1.1 Setup", ["text b"]), ("2 Results", ["text c"])]
    assert cut[2].context == "1 Intro > 1.1 Setup"

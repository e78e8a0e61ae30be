"""Every layout of numbers that grading reads, one test per form: tables in either orientation, matrices and their
models, pages set in two columns, and reportgen's own reports (which must grade clean). The sentence and marker
forms are in ``tests/test_grade_forms.py``, whose course and helpers these share."""

from __future__ import annotations

import pytest

from reportgen.grade.claims import extract_claims
from reportgen.grade.context import Context
from reportgen.grade.model import Line
from reportgen.grade.subjects import Subjects
from tests.grade_support import course, doc, flags_of, grade
from tests.test_grade_forms import MATRIX_C1M3, MATRIX_C4, claims, shown

# --- tables -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fmt"), [
    ("| Metric | C4 | C1+M3 |\n|---|---|---|\n| Test accuracy | 0.97 | 0.95 |\n", "markdown"),
    ("|  | C4 | C1+M3 |\n|---|---|---|\n| Test accuracy | 0.97 | 0.95 |\n", "markdown"),
    ("\tC4\tC1+M3\nTest accuracy\t0.97\t0.95\n", "html"),
    ("                 C4         C1+M3\n  Test accuracy  0.97       0.95\n", "text"),
])
def test_models_as_columns(text: str, fmt: str) -> None:
    assert shown(text, fmt) == [("accuracy", 0.97, "c4", "test"), ("accuracy", 0.95, "c1m3", "test")]


def test_metrics_as_columns_with_the_split_in_the_row_label() -> None:
    text = "| split | accuracy | loss |\n|---|---|---|\n| train | 0.60 | 1.14 |\n| test | 0.44 | 1.55 |\n"
    assert shown(text) == [("accuracy", 0.6, None, "train"), ("loss", 1.14, None, "train"),
                           ("accuracy", 0.44, None, "test"), ("loss", 1.55, None, "test")]


def test_a_table_laid_out_with_slashes_and_abbreviated_metrics() -> None:
    text = ("                  train  /  val   /  test\n  accuracy        0.5418 / 0.4862 / 0.4790\n"
            "  loss            1.3012 / 1.4735 / 1.4911\n\nTest set, macro averages:\n"
            "                  acc    / prec   / rec    / F1\n  MLP             0.4790 / 0.4772 / 0.4790 / 0.4761\n")
    assert shown(text, "text") == [
        ("accuracy", 0.5418, None, "train"), ("accuracy", 0.4862, None, "val"), ("accuracy", 0.479, None, "test"),
        ("loss", 1.3012, None, "train"), ("loss", 1.4735, None, "val"), ("loss", 1.4911, None, "test"),
        ("accuracy", 0.479, "mlp", ""), ("precision", 0.4772, "mlp", ""), ("recall", 0.479, "mlp", ""),
        ("f1", 0.4761, "mlp", "")]


def test_a_row_label_may_leave_out_the_head_noun_of_a_runs_name() -> None:
    runs = {"twolayer": ["two-layer network"], "cnn": ["small CNN"]}
    d = doc("| model | test accuracy |\n|---|---|\n| two-layer | 0.479 |\n| small CNN | 0.7214 |\n")
    found = extract_claims(d, Context(d), Subjects(runs, []))
    assert [(c.run, c.value) for c in found] == [("twolayer", 0.479), ("cnn", 0.7214)]


@pytest.mark.parametrize(("text", "fmt"), [
    ("|  | MLP |  | CNN |  |\n|---|---|---|---|---|\n|  | train | test | train | test |\n"
     "| accuracy | 0.99 | 0.97 | 0.995 | 0.98 |\n", "markdown"),
    ("Model\tAccuracy\t\nModel\ttrain\ttest\nMLP\t0.99\t0.97\nCNN\t0.995\t0.98\n", "html"),
])
def test_a_header_over_two_rows(text: str, fmt: str) -> None:
    assert sorted(shown(text, fmt)) == sorted([("accuracy", 0.99, "mlp", "train"), ("accuracy", 0.97, "mlp", "test"),
                                               ("accuracy", 0.995, "cnn", "train"), ("accuracy", 0.98, "cnn", "test")])


def test_html_colspan_and_rowspan_keep_cells_in_their_columns() -> None:
    from reportgen.grade.markup import html_lines

    lines, _ = html_lines("<table><tr><th rowspan=2>Model</th><th colspan=2>Accuracy</th></tr><tr><th>train</th>"
                          "<th>test</th></tr><tr><td>MLP</td><td>0.99</td><td>0.97</td></tr></table>",
                          max_depth=50, max_lines=100)
    assert lines[:3] == ["Model\tAccuracy\t", "Model\ttrain\ttest", "MLP\t0.99\t0.97"]


def test_a_grid_of_one_metric_takes_it_from_the_line_above() -> None:
    text = ("Validation accuracy after 20 epochs:\n\n| hidden \\ lr | 0.01 | 0.1 |\n|---|---|---|\n"
            "| 50 | 0.39 | 0.47 |\n| 100 | 0.41 | 0.50 |\n")
    assert [(m, v, s) for m, v, _, s in shown(text)] == [("accuracy", 0.39, "val"), ("accuracy", 0.47, "val"),
                                                        ("accuracy", 0.41, "val"), ("accuracy", 0.5, "val")]


def test_dot_leaders_and_labelled_lines_under_a_metric() -> None:
    assert shown("Test accuracy:\nC4 ........ 0.9846\nC1+M3 ..... 0.9790\n") == [
        ("accuracy", 0.9846, "c4", ""), ("accuracy", 0.979, "c1m3", "")]


def test_a_table_row_labelled_with_a_loss_function_is_a_setting() -> None:
    text = "| Change | Test accuracy (%) |\n|---|---|\n| baseline | 97.91 |\n| loss = focal | 97.80 |\n"
    assert shown(text) == [("accuracy", 0.9791, "baseline", "test"), ("accuracy", 0.978, "loss = focal", "test")]


# --- matrices -----------------------------------------------------------------------------------------------------



def test_two_matrices_under_one_heading_pair_with_their_models_accuracies(tmp_path) -> None:
    text = (f"# 2 Confusion matrices, recall and accuracy\n\nTable 1: Confusion matrix of C4.\n\n{MATRIX_C4}\n\n"
            f"Table 2: Confusion matrix of C1+M3.\n\n{MATRIX_C1M3}\n\n"
            "The test accuracy of C4 is 0.89 and that of C1+M3 is 0.81.\n")
    g = grade(text, course(tmp_path))
    assert [m.run for m in g.matrices] == ["c4", "c1m3"]
    assert flags_of(g, "ACCURACY_MISMATCH") == []
    swapped = text.replace("C4 is 0.89 and that of C1+M3 is 0.81", "C4 is 0.81 and that of C1+M3 is 0.89")
    assert len(flags_of(grade(swapped, course(tmp_path)), "ACCURACY_MISMATCH")) == 2


def test_a_caption_below_a_matrix_that_heads_the_next_table_is_not_its_caption(tmp_path) -> None:
    text = (f"# 2 Confusion matrices, recall and accuracy\n\nFigure 4: Confusion matrix of C4\n{MATRIX_C4}\n"
            f"Figure 5: Confusion matrix of C1+M3\n{MATRIX_C1M3}\n")
    g = grade(text, course(tmp_path))
    assert [m.run for m in g.matrices] == ["c4", "c1m3"]


def test_an_approximate_accuracy_is_checked_against_its_bounds(tmp_path) -> None:
    near = grade(f"# 2 Confusion matrices, recall and accuracy\n\nC4's accuracy is about 89 %.\n\n{MATRIX_C4}\n",
                 course(tmp_path))
    far = grade(f"# 2 Confusion matrices, recall and accuracy\n\nC4's accuracy is about 95 %.\n\n{MATRIX_C4}\n",
                course(tmp_path))
    assert flags_of(near, "ACCURACY_MISMATCH") == [] and len(flags_of(far, "ACCURACY_MISMATCH")) == 1


def test_a_row_normalised_matrix() -> None:
    from reportgen.grade.tables import find_matrices

    text = "      0     1     2\n0  0.95  0.03  0.02\n1  0.10  0.85  0.05\n2  0.00  0.04  0.96\n"
    [m] = find_matrices(doc(text), lambda first, last=None: "")
    assert m.normalized and m.cells[1][1] == pytest.approx(0.85) and m.to_json()["accuracy"] is None
    [pct] = find_matrices(doc("95.0 3.0 2.0\n10.0 85.0 5.0\n0.0 4.0 96.0\n"), lambda first, last=None: "")
    assert pct.normalized and pct.cells[0] == pytest.approx([0.95, 0.03, 0.02])


# --- pages --------------------------------------------------------------------------------------------------------


def test_a_two_column_page_is_read_column_by_column() -> None:
    from reportgen.grade.columns import split_columns

    left = [f"left column words line {k} here" for k in range(14)]
    right = [f"Right column words line {k} there" for k in range(14)]
    page = [f"{a:<40}    {b}" for a, b in zip(left, right, strict=True)]
    assert split_columns(page) == [*left, "", *right]
    single = ["one long line of prose that runs across the whole width of the page and does not stop " * 1] * 14
    assert split_columns(single) == single


def test_a_paper_page_with_a_title_block_justified_text_and_tables_in_its_columns() -> None:
    from reportgen.grade.columns import split_columns

    title = ["          What Fashion-MNIST Teaches About Small Image", " " * 50 + "Classifiers",
             "   Abstract. We compare a perceptron with a small convolutional network on clothes and digits,",
             "   study dropout, three optimisers and the placement of batch normalisation, and transfer the best",
             "   network to handwritten digits, where it reads them at 98.8 % after a little fine-tuning.", ""]
    left = ["The  MLP  has  two  hidden  layers  of  256  and  128", "ReLU   units.   The   CNN   has   two   conv",
            "layers with 32 and 64 filters, each followed by 2x2", "     Model   Train acc.   Test acc.",
            "     MLP         0.93512     0.88917", "     CNN         0.95874     0.91364",
            "       Table 1: The two base models.", *[f"more words of the left column {k}" for k in range(8)]]
    right = ["3.3 Optimisers", "  Optimiser        Test acc.", "  SGD              0.88012",
             "  Adam             0.88917",
             "     Table 3: Optimisers for the MLP.", *[f"the right column goes on here, line {k}" for k in range(10)]]
    page = title + [f"{a:<60}    {b}" for a, b in zip(left, right, strict=True)]
    out = split_columns(page)
    assert out[:len(title)] == title and out.index("3.3 Optimisers") > out.index(left[-1].rstrip())
    assert [line.rstrip() for line in out[len(title):len(title) + len(left)]] == left


def test_numbers_read_from_an_image_weigh_less(tmp_path) -> None:
    from reportgen.grade.grader import grade_document

    d = doc(f"# 2 Confusion matrices, recall and accuracy\n\n{MATRIX_C4}\n\nx\ny\n")
    d.lines[-2] = Line("Test accuracy: 0.95", d.lines[-2].number, source="image")
    d.lines[-1] = Line("Test loss: -0.3", d.lines[-1].number, source="image")
    g = grade_document(d, course(tmp_path))
    assert [c.source for c in g.claims] == ["image", "image"] and g.claims[0].to_json()["source"] == "image"
    [mismatch] = flags_of(g, "ACCURACY_MISMATCH")
    [impossible] = flags_of(g, "IMPOSSIBLE_VALUE")
    assert mismatch.severity == impossible.severity == "warning" and "read from an image" in mismatch.message


def test_val_test_gap_gives_hedges_the_benefit_of_the_doubt(tmp_path) -> None:
    quiet = grade("# 1 Conv blocks vs MobileNet blocks\n\nValidation accuracy: about 96 %\nTest accuracy: 90 %\n",
                  course(tmp_path))
    loud = grade("# 1 Conv blocks vs MobileNet blocks\n\nValidation accuracy: 97 %\nTest accuracy: 90 %\n",
                  course(tmp_path))
    assert flags_of(quiet, "VAL_TEST_GAP") == [] and len(flags_of(loud, "VAL_TEST_GAP")) == 1


# --- sentences and tables of reportgen's own reports (they must grade clean) --------------------------------------


@pytest.mark.parametrize("text", [
    "Accuracy per 10k parameters (test accuracy in % divided by the parameter count in units of 10k) is highest for "
    "C1+M3 (184.5) and lowest for C4 (33.3).",
    "Every network is trained on the 5,000 MNIST digits (60 % train, 20 % validation, 20 % test, stratified).",
    "A difference is real only when it is larger than the spread (Welch's t-test at the 5 % level).",
    "The best split, [0.8, 0.1, 0.1], beats the baseline's [0.6, 0.2, 0.2] by 2.5 points.",
])
def test_our_own_sentences_that_are_not_claims(text: str) -> None:
    assert shown(text) == []


def test_our_own_comparisons_bind_each_number_to_its_run() -> None:
    assert shown("Replacing a conv block (C4 → C1+M3, 1.4× fewer parameters) moved accuracy from 95.0 % to 94.8 % "
                 "(0.2 points).") == [("accuracy", 0.95, "c4", ""), ("accuracy", 0.948, "c1m3", "")]
    assert shown("The optimizer moves test accuracy the most: from 36.2 % (optimizer = sgd) to 92.3 % "
                 "(optimizer = adam).") == [("accuracy", 0.362, "optimizer = sgd", "test"),
                                            ("accuracy", 0.923, "optimizer = adam", "test")]


def test_a_laid_out_table_whose_rows_are_shifted_from_its_header() -> None:
    text = ("                Conv +                                      Accuracy (%)\n"
            " Run            MobileNet   Accuracy        Parameters    per 10k params\n"
            "\n"
            " C4                         4 + 0    95.0 ± 0.1 %           28.5 k          33.3\n")
    assert shown(text, "pdf") == [("accuracy", 0.95, "c4", "")]


def test_more_of_our_own_sentences() -> None:
    assert shown("In the t-SNE plane the silhouette is 0.512 vs 0.677 and 5-\nNN accuracy 90.3 % vs 95.3 %.") == []
    assert shown("loss: the best value, mse (93.0 %), is 0.8 points above the baseline's cross_entropy (92.3 %).",
                 ) == []  # no metric is named
    assert shown("The test accuracy of the best loss, mse (93.0 %), is above the baseline's cross_entropy (92.3 %).") \
        == [("accuracy", 0.93, "mse", "test"), ("accuracy", 0.923, "cross_entropy", "test")]


def test_a_table_row_of_a_setting_is_its_own_configuration() -> None:
    text = ("# Sweeps on C1+M3\n\n optimizer       Test accuracy    F1 (macro)\n\n adam (baseline)  92.3 ± 1.1 %   "
            " 92.3 ± 1.1 %\n\n sgd              36.2 ± 0.8 %    31.8 ± 1.9 %\n")
    found = claims(text, "text")
    assert [(c.metric, round(c.value, 3), c.run, c.subject) for c in found if c.metric == "accuracy"] == [
        ("accuracy", 0.923, "", "optimizer adam (baseline)"), ("accuracy", 0.362, "", "optimizer sgd")]

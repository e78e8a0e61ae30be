"""Every way of writing a report that grading reads, one test per form: question markers, maps of questions to
sections, substance, sentences with several numbers, hedged numbers (tables, matrices and pages are in
``tests/test_grade_layouts.py``).

Each case is a short report in the course of ``tests/grade_support.py`` (questions 1 compare, 2 confusion,
3 predictions; runs C4 and C1+M3, also called "convolution block architecture" and "mobilenet block architecture").
"""

from __future__ import annotations

import pytest

from reportgen.grade.claims import extract_claims
from reportgen.grade.context import Context
from reportgen.grade.model import Line
from reportgen.grade.outline import headings, parse_heading
from reportgen.grade.subjects import Subjects
from tests.grade_support import course, doc, flags_of, grade, question

RUNS = {"c4": ["C4", "convolution block architecture", "without mobilenet"],
        "c1m3": ["C1+M3", "mobilenet block architecture", "with mobilenet"],
        "mlp": ["MLP"], "cnn": ["CNN"]}


MATRIX_C4 = "| | 0 | 1 | 2 |\n|---|---|---|---|\n| 0 | 30 | 2 | 1 |\n| 1 | 3 | 28 | 2 |\n| 2 | 1 | 2 | 31 |"  # 0.89
MATRIX_C1M3 = "| | 0 | 1 | 2 |\n|---|---|---|---|\n| 0 | 25 | 7 | 1 |\n| 1 | 3 | 27 | 3 |\n| 2 | 1 | 4 | 29 |"  # 0.81


def claims(text: str, fmt: str = "markdown"):
    d = doc(text, fmt)
    return extract_claims(d, Context(d), Subjects(RUNS, ["mnist", "line"]))


def shown(text: str, fmt: str = "markdown") -> list[tuple]:
    return [(c.metric, round(c.value, 4), c.run or c.subject or None, c.split) for c in claims(text, fmt)]


# --- question markers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "label"), [
    ("### Question 3", "3", "question"),
    ("Q3.", "3", "q"),
    ("3)", "3", "number"),
    ("(3)", "3", "number"),
    ("## 4", "4", "number"),
    ("Problem 2", "2", "problem"),
    ("Exercise 4: gradients", "4", "exercise"),
    ("Answer 3:", "3", "answer"),
    ("Task 2", "2", "task"),
    ("Part 1.2", "1.2", "part"),
    ("Question 1.1 a)", "1.1.a", "question"),
    ("Q3(b) What is the accuracy", "3.b", "q"),
    ("**Q4**", "4", "q"),
    ("**Answer 2:**", "2", "answer"),
    ("Question IV", "4", "question"),
    ("II.", "2", "number"),
    ("2(b).", "2.b", "number"),
])
def test_question_marker(text: str, number: str, label: str) -> None:
    h = parse_heading(Line(text, 1))
    assert h is not None and (h.number, h.label) == (number, label)


@pytest.mark.parametrize(("text", "number"), [
    ("Ans. 3  H = 100, lr 0.1, batch 200, 20 epochs, plain SGD.", "3"),  # an answer in a hanging indent
    ("Answer 2: eps = 1e-5; the relative errors are below 1e-7.", "2"),
])
def test_an_answer_marker_followed_by_an_equation(text: str, number: str) -> None:
    h = parse_heading(Line(text, 1))
    assert h is not None and h.number == number and h.inline
    assert parse_heading(Line("Task 1 accuracy = 0.97", 1)) is None  # a value, not a marker


def test_roman_numbered_heading_and_faq_question() -> None:
    h = parse_heading(Line("III. Confusion matrices", 1))
    assert (h.number, h.text) == ("3", "Confusion matrices")
    h = parse_heading(Line("VII. t-SNE after the first epoch", 1))  # a title may start with "t-SNE", "k-NN"
    assert (h.number, h.text) == ("7", "t-SNE after the first epoch")
    assert parse_heading(Line("I. the end", 1)) is None
    faq = parse_heading(Line("**Q:** How does dropout change the accuracy?", 1))
    assert faq.label == "q" and faq.text == "How does dropout change the accuracy?"


@pytest.mark.parametrize("text", ["3.1 Learning curves . . . . . . . . 2", "2 Setup                        1",
                                  "I think so.", "(a) The model reaches 97 % after three epochs of training on "
                                  "the augmented images, which is a little more than we expected it would"])
def test_not_a_marker(text: str) -> None:
    h = parse_heading(Line(text, 1))
    assert h is None or h.kind == "sub" and len(text.split()) <= 25


def test_a_sub_part_belongs_to_the_numbered_marker_above_it() -> None:
    found = headings(doc("Question 2\nSome text.\n(b)\nMore text.\n"))
    assert [h.number for h in found] == ["2", "2.b"]
    assert headings(doc("(b)\nA list item without a question above.\n")) == []


def test_a_table_of_contents_does_not_hide_the_headings() -> None:
    text = "Contents\n1 Introduction      1\n2 Results      2\n\n1 Introduction\nText.\n2 Results\nText.\n"
    assert [(h.number, h.line.number) for h in headings(doc(text, "text"))] == [("1", 5), ("2", 7)]


def test_each_file_of_a_bundle_starts_its_own_outline() -> None:
    d = doc("3)\nSee the notebook.\n# Optimizers\nText.\n")
    d.lines[2] = Line("# Optimizers", 3, file="nb.ipynb")
    d.lines[3] = Line("Text.", 4, file="nb.ipynb")
    found = headings(d)
    assert found[1].parents == []


def _statuses(text: str, tmp_path, grading: str | None = None) -> dict[str, str]:
    manifest = course(tmp_path) if grading is None else course(tmp_path, grading)
    g = grade(text, manifest)
    return {q.id: q.status for q in g.questions}


ANSWERS = ("C4 reaches 95.1 % test accuracy and C1+M3 93.2 %: the full convolutions have more parameters.",
           "| | 0 | 1 | 2 |\n|---|---|---|---|\n| 0 | 30 | 2 | 1 |\n| 1 | 3 | 28 | 2 |\n| 2 | 1 | 2 | 31 |\n\n"
           "Accuracy 0.89 and macro recall 0.89 on the test set.",
           "![correct](correct.png)\n![wrong](wrong.png)")


@pytest.mark.parametrize("markers", [
    ("### Question 1", "### Question 2", "### Question 3"),
    ("Q1.", "Q2.", "Q3."),
    ("1)", "2)", "3)"),
    ("**Answer 1:**", "**Answer 2:**", "**Answer 3:**"),
    ("Task 1", "Task 2", "Task 3"),  # a grouping label used for every question numbers them
    ("Problem I", "Problem II", "Problem III"),
])
def test_numbered_questions_without_their_text(markers, tmp_path) -> None:
    text = "\n\n".join(f"{m}\n\n{a}" for m, a in zip(markers, ANSWERS, strict=True))
    assert _statuses(text, tmp_path) == {"compare": "answered", "confusion": "answered", "predictions": "answered"}


def test_pasted_question_text_marks_the_answer_below_it(tmp_path) -> None:
    text = ("Compare results of simple convolution block based architecture vs MobileNet block based architecture.\n\n"
            f"{ANSWERS[0]}\n\nReport confusion matrices, recall, and accuracy for the testing set.\n\n{ANSWERS[1]}\n\n"
            f"Show figures along with labels for correct predictions and wrong ones.\n\n{ANSWERS[2]}\n")
    g = grade(text, course(tmp_path))
    assert {q.id: q.status for q in g.questions} == {q: "answered" for q in ("compare", "confusion", "predictions")}
    assert question(g, "compare").confidence >= 0.9 and not flags_of(g, "MISSING_QUESTION")


def test_a_question_found_only_loosely_is_unclear_and_costs_nothing(tmp_path) -> None:
    # The "Results" block shows a confusion matrix, but its words are about predictions: it answers question 3 and
    # may answer question 2, which nothing else answers.
    text = (f"# 1 Conv blocks vs MobileNet blocks\n\n{ANSWERS[0]}\n\n# Results\n\nThe confusion matrix below shows "
            f"which predictions are correct and which are wrong for each label.\n\n{MATRIX_C4}\n")
    g = grade(text, course(tmp_path))
    confusion = question(g, "confusion")
    assert confusion.status == "unclear" and confusion.confidence < 0.6
    assert confusion.score == confusion.marks and confusion.candidates and "Results" in confusion.candidates[0]
    assert not flags_of(g, "MISSING_QUESTION")
    assert g.to_json()["questions"][1]["status"] == "unclear"


def test_a_question_with_no_candidate_passage_is_missing(tmp_path) -> None:
    text = f"# 1 Conv blocks vs MobileNet blocks\n\n{ANSWERS[0]}\n"
    statuses = _statuses(text, tmp_path)
    assert statuses["confusion"] == statuses["predictions"] == "missing"


@pytest.mark.parametrize("answer", [
    "$$\\frac{\\partial L}{\\partial w} = (p - y) h^T$$",
    "dL/dW2 = (p - y) h^T",
    "(b) mnist-1.2.2",
    "[image: output of cell 4]",
])
def test_substance_of_an_answer(answer: str, tmp_path) -> None:
    text = f"# 1 Conv blocks vs MobileNet blocks\n\n{ANSWERS[0]}\n\n# 3 Correct and wrong predictions\n\n{answer}\n"
    assert _statuses(text, tmp_path)["predictions"] == "answered"


def test_printed_output_is_substance(tmp_path) -> None:
    d = doc(f"# 1 Conv blocks vs MobileNet blocks\n\n{ANSWERS[0]}\n\n# 3 Correct and wrong predictions\n\nx\n")
    d.lines[-1] = Line("predicted: [7 2 1 0 4]", d.lines[-1].number, source="output")
    from reportgen.grade.grader import grade_document

    g = grade_document(d, course(tmp_path))
    assert question(g, "predictions").status == "answered"


# --- sentences ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("The accuracy of C4 is 0.9848 whereas for C1+M3 it is 0.9877.",
     [("accuracy", 0.9848, "c4", ""), ("accuracy", 0.9877, "c1m3", "")]),
    ("The scores of A, B, C and D are 0.91, 0.92, 0.93 and 0.94 respectively.", []),  # no metric is named
    ("The test accuracies of A, B and C are 0.91, 0.92 and 0.93 respectively.",
     [("accuracy", 0.91, "A", "test"), ("accuracy", 0.92, "B", "test"), ("accuracy", 0.93, "C", "test")]),
    ("C4 reaches 97.27 % test accuracy whereas the other reaches only 82.07 %.\n",
     [("accuracy", 0.9727, "c4", "test"), ("accuracy", 0.8207, None, "test")]),
    ("We compare C4 and C1+M3. C4 reaches 97.27 % test accuracy whereas the other reaches only 82.07 %.",
     [("accuracy", 0.9727, "c4", "test"), ("accuracy", 0.8207, "c1m3", "test")]),
    ("The final training accuracy of the MLP is 99.42 % and its validation accuracy 98.01 %.",
     [("accuracy", 0.9942, "mlp", "train"), ("accuracy", 0.9801, "mlp", "val")]),
    ("Their macro F1 scores are 0.9850 and 0.9786 respectively.",  # "their": no models named before
     [("f1", 0.985, None, ""), ("f1", 0.9786, None, "")]),
    ("We compare C4 with C1+M3. Their F1 scores are 0.9850 and 0.9786 respectively.",
     [("f1", 0.985, "c4", ""), ("f1", 0.9786, "c1m3", "")]),
    ("On the test set the MLP gets 0.97 and the CNN gets 0.99 accuracy.",
     [("accuracy", 0.97, "mlp", "test"), ("accuracy", 0.99, "cnn", "test")]),
    ("The accuracy (train, val, test) = (0.99, 0.95, 0.94) for the CNN.",
     [("accuracy", 0.99, "cnn", "train"), ("accuracy", 0.95, "cnn", "val"), ("accuracy", 0.94, "cnn", "test")]),
    ("The CNN's test/val accuracy is 0.9188/0.9231.",
     [("accuracy", 0.9188, "cnn", "test"), ("accuracy", 0.9231, "cnn", "val")]),
    ("Precision/recall/F1 of the MLP: 0.90/0.88/0.89.",
     [("precision", 0.9, "mlp", ""), ("recall", 0.88, "mlp", ""), ("f1", 0.89, "mlp", "")]),
    ("C1+M3 trails C4 by 1.21 points (97.31 vs 98.52 %).",
     [("accuracy", 0.9731, "c1m3", ""), ("accuracy", 0.9852, "c4", "")]),
    ("C4 98.12% vs C1+M3 97.45% (test).", [("accuracy", 0.9812, "c4", "test"), ("accuracy", 0.9745, "c1m3", "test")]),
    ("F1 was 0.918 for the CNN; the plain MLP managed 0.886.", [("f1", 0.918, "cnn", ""), ("f1", 0.886, "mlp", "")]),
    ("C4: 91.63 %, no BatchNorm: 91.05 %.",
     [("accuracy", 0.9163, "c4", ""), ("accuracy", 0.9105, "no BatchNorm", "")]),
    ("On the testing set C4 has an accuracy of 98.51 % and a macro recall of 98.49 %.",
     [("accuracy", 0.9851, "c4", "test"), ("recall", 0.9849, "c4", "test")]),
    ("GELU changed nothing (97.80 ± 0.09 % accuracy).", [("accuracy", 0.978, None, "")]),
    # "model 97.2 %" and "blocks 0.9991" are no names: nothing is numbered with a percentage or "0.99..."
    ("The MLP model reaches 98.1 % test accuracy, the CNN model 97.2 %.",
     [("accuracy", 0.981, "mlp", "test"), ("accuracy", 0.972, "cnn", "test")]),
    ("Without MobileNet blocks the macro AUC is 0.9996, with MobileNet blocks 0.9991.",
     [("auc", 0.9996, "c4", ""), ("auc", 0.9991, "c1m3", "")]),
    ("Model 2 reaches 98.1 % test accuracy.", [("accuracy", 0.981, "Model 2", "test")]),
    # two lists compared for the same two models; the loss named after the first list is not its metric
    ("The conv network (C4) beats the other (C1+M3) on the test set, 98.62 % against 98.07 %, and its test loss is "
     "lower too (4.3e-2 vs 6.1e-2).", [("accuracy", 0.9862, "c4", "test"), ("accuracy", 0.9807, "c1m3", "test"),
                                       ("loss", 0.043, "c4", "test"), ("loss", 0.061, "c1m3", "test")]),
    ("C1+M3 classifies 92.3 % of the 1000 test images correctly; its lowest recall is class 2 (88.3 %).",
     [("accuracy", 0.923, "c1m3", "test")]),
    # metrics listed in one sentence, the values of each model in the next (a caption wrapped over two lines)
    ("*Figure 1 – Test accuracy and test loss of the two networks. C4: 98.71 % and 0.0418. C1+M3: 98.02 % and\n"
     "0.0596.*", [("accuracy", 0.9871, "c4", "test"), ("loss", 0.0418, "c4", "test"),
                  ("accuracy", 0.9802, "c1m3", "test"), ("loss", 0.0596, "c1m3", "test")]),
    # a sweep: each value is its configuration's, not the model the sentence before named
    ("Test accuracy of C1+M3 when one factor changes. Loss: cross-entropy 98.02 %, focal 97.85 %. Batch size 32: "
     "98.11 %, 128: 97.80 %.", [("accuracy", 0.9802, "cross-entropy", "test"), ("accuracy", 0.9785, "focal", "test"),
                                ("accuracy", 0.9811, "Batch size 32", "test"), ("accuracy", 0.978, "128", "test")]),
    # "the best CNN" is the best of its variants, not the run called CNN
    ("The best CNN reaches 92.1 % test accuracy; the MLP 88.9 %.",
     [("accuracy", 0.921, "best CNN", "test"), ("accuracy", 0.889, "mlp", "test")]),
    # a spread after the number does not hide the model named after it
    ("The final validation loss is 0.08 for the MLP and 0.0321 (±0.0012) for the CNN.",
     [("loss", 0.08, "mlp", "val"), ("loss", 0.0321, "cnn", "val")]),
    ("The macro AUC is 0.9991 without mobilenet and 0.9998 with mobilenet.",
     [("auc", 0.9991, "c4", ""), ("auc", 0.9998, "c1m3", "")]),
    # a list of the curves' metrics is not the metric of the numbers when another is named in between
    ("The accuracy/loss curves end at a validation loss of 0.0391 for C4 and 0.0577 for C1+M3.",
     [("loss", 0.0391, "c4", "val"), ("loss", 0.0577, "c1m3", "val")]),
    # a count between the models and the numbers ("4 conv") does not stop the pairing
    ("C1+M3 (1 conv, 3 MobileNet blocks) against C4 (4 conv blocks): test accuracy 92.3 % vs 95.0 %.",
     [("accuracy", 0.923, "c1m3", "test"), ("accuracy", 0.95, "c4", "test")]),
])
def test_every_number_of_a_sentence_with_its_own_subject(text: str, expected: list[tuple]) -> None:
    assert shown(text) == expected


@pytest.mark.parametrize("text", [
    "With a learning rate of 0.01 and batch size 64 we trained for 10 epochs.",
    "Accuracy improved by 2.3 % when adding dropout 0.5.",
    "We used 20 % of the data for validation and an 80/20 split.",
    "The gap between train and test accuracy shrinks from 5.5 to 1.2 points.",
    "Its lowest recall is class 0 (0.0 %), most often mistaken for 3 (18 of 20).",
    "C4 has 2.2× more parameters than C1+M3 at a similar accuracy.",
    "The accuracy varies between 0.91 and 0.95 over seeds.",
    "MSE loss 97.41 % and focal loss 97.02 % were tried.",
    "Everything above 95 % is easy on MNIST; the last 2 % are hard.",
    "Figure 3 shows the accuracy after epoch 5 in 2022.",
    "A learning rate of 0.03 makes training unstable, while 0.0003 is too slow; accuracy falls.",
])
def test_numbers_that_are_not_claims(text: str) -> None:
    assert shown(text) == []


@pytest.mark.parametrize(("text", "low", "high"), [
    ("The MLP gets ~87 % accuracy.", 0.86, 0.88),
    ("Test accuracy is about 0.9.", 0.89, 0.91),
    ("The accuracy was roughly 93 %.", 0.92, 0.94),
    ("The accuracy was c. 97 %.", 0.96, 0.98),
    ("Its accuracy stayed just under 50 %.", 0.48, 0.50),
    ("The accuracy is nearly 99 %.", 0.97, 0.99),
    ("The MLP plateaus near 97.6 % validation accuracy.", 0.966, 0.986),
    ("Validation accuracy is > 92 %.", 0.92, 1.0),
    ("It reaches an accuracy of over 95 %.", 0.95, 1.0),
    ("It gets an accuracy of up to 92.4 %.", 0.0, 0.924),
    ("The accuracy of C4 is at least 0.9.", 0.9, 1.0),
])
def test_hedged_numbers_are_approximate_with_bounds(text: str, low: float, high: float) -> None:
    [claim] = claims(text)
    assert claim.approximate and claim.low == pytest.approx(low) and claim.high == pytest.approx(high)
    assert claim.to_json()["approximate"] and claim.to_json()["bounds"] == [claim.low, claim.high]


def test_a_hedge_covers_a_list() -> None:
    found = claims("C4 and C1+M3 reach around 0.93 and 0.95 accuracy.")
    assert [(c.value, c.approximate) for c in found] == [(0.93, True), (0.95, True)]


# --- more markers, numbers written otherwise, placeholders -----------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "numbers", "inline"), [
    ("## Questions 1 & 2: backprop and gradient check", "1", ["1", "2"], False),
    ("### Questions 9, 10, 12 and 13", "9", ["9", "10", "12", "13"], False),
    ("Aufgabe 1 – Conv-Blöcke vs. MobileNet-Blöcke", "1", ["1"], False),
    ("### Ex 2.1", "2.1", ["2.1"], False),
    ("**1.** The conv-block network (C4) beats the MobileNet one", "1", [], True),
    ("Q3. The confusion matrix below shows the test set results for both", "3", ["3"], True),
    ("## [3] Confusion matrices", "3", [], False),
])
def test_more_question_markers(text, number, numbers, inline) -> None:
    h = parse_heading(Line(text, 1))
    assert (h.number, h.numbers, h.inline) == (number, numbers, inline)


def test_a_lettered_section_answers_what_the_map_says(tmp_path) -> None:
    text = (f"# Report\n\nWhere the answers are: Question 1 → A, B; Question 2 → A, B; Question 3: not done.\n\n"
            f"## A. C4\n\nC4 reaches 95.1 % test accuracy.\n\n{MATRIX_C4}\n\n## B. C1+M3\n\n"
            "C1+M3 reaches 93.2 % test accuracy, lower than C4 because of fewer parameters in its blocks.\n")
    assert _statuses(text, tmp_path) == {"compare": "answered", "confusion": "answered", "predictions": "missing"}


def test_a_map_written_as_a_table_sends_questions_to_numbered_sub_sections(tmp_path) -> None:
    text = ("# Report\n\n| Question | Section |\n|---|---|\n| 1 – Conv vs MobileNet | A.1, B.1 |\n"
            "| 2 – Confusion matrices | A.2 |\n| 3 – Predictions | not done |\n\n"
            "## A. C4\n\n### A.1 Results\n\nC4 reaches 95.1 % test accuracy.\n\n"
            f"### A.2 Test confusion matrix\n\n{MATRIX_C4}\n\n## B. C1+M3\n\n### B.1 Results\n\n"
            "C1+M3 reaches 93.2 % test accuracy, lower than C4 because of fewer parameters in its blocks.\n")
    assert _statuses(text, tmp_path) == {"compare": "answered", "confusion": "answered", "predictions": "missing"}


def test_an_faq_question_in_its_own_words_between_two_found_ones_answers_the_question_between(tmp_path) -> None:
    text = ("**Q:** Do MobileNet blocks beat convolution blocks?\n**A:** No: " + ANSWERS[0] + "\n\n"
            "**Q:** Where does the accuracy get lost?\n**A:** Mostly between 0 and 2 (0.89 in all).\n\n"
            "**Q:** Show correct and wrong predictions?\n**A:** " + ANSWERS[2] + "\n")
    assert _statuses(text, tmp_path) == {"compare": "answered", "confusion": "answered", "predictions": "answered"}


def test_a_per_class_table_gives_only_its_average_rows_each_model_from_its_column_group() -> None:
    text = ("|  | MLP | | | CNN | | |\n|---|---|---|---|---|---|---|\n"
            "| **class** | **precision** | **recall** | **F1** | **precision** | **recall** | **F1** |\n"
            "| cat | 0.17 | 0.21 | 0.19 | 0.52 | 0.55 | 0.54 |\n| dog | 0.37 | 0.34 | 0.36 | 0.69 | 0.67 | 0.68 |\n"
            "| **macro avg** | 0.48 | 0.47 | 0.47 | 0.74 | 0.74 | 0.74 |\n")
    assert [(m, v, run) for m, v, run, _ in shown(text)] == [
        ("precision", 0.48, "mlp"), ("recall", 0.47, "mlp"), ("f1", 0.47, "mlp"),
        ("precision", 0.74, "cnn"), ("recall", 0.74, "cnn"), ("f1", 0.74, "cnn")]


def test_a_mean_and_its_spread_in_a_table_cell_or_a_sentence() -> None:
    text = ("Test accuracy: MLP 0.9781 (±0.0009), CNN 0.9903 (±0.0005).\n\n"
            "| model | test accuracy |\n|---|---|\n| MLP | 97.81 % (± 0.09) |\n")
    assert [(c.run, c.value, c.spread) for c in claims(text)] == [
        ("mlp", 0.9781, 0.0009), ("cnn", 0.9903, 0.0005), ("mlp", 0.9781, 0.0009)]


def test_a_bullet_map_and_bold_sub_section_markers_whose_answers_run_on(tmp_path) -> None:
    text = ("# Report\n\n- Q1 (the two networks): A.1 and B.1\n- Q2 (confusion matrices): A.2\n"
            "- Q3 (predictions): not done, no time\n\n## A. C4\n\n**A.1** C4 reaches a test accuracy of\n"
            f"95.1 % after 8 epochs.\n\n**A.2** Test confusion matrix:\n\n{MATRIX_C4}\n\n## B. C1+M3\n\n"
            "**B.1** C1+M3 reaches 93.2 % test accuracy, lower than C4 because of fewer parameters in its blocks.\n")
    assert _statuses(text, tmp_path) == {"compare": "answered", "confusion": "answered", "predictions": "missing"}
    d = doc(text)
    found = extract_claims(d, Context(d, headings(d)), Subjects(RUNS, []))
    assert ("accuracy", 0.951, "c4", "test") in [(c.metric, round(c.value, 4), c.run, c.split) for c in found]


def test_arrow_bullets_of_a_sweep_under_a_heading_that_names_the_model() -> None:
    d = doc("### Q9 – MLP hyperparameters\n- hidden [64] → 97.02 %\n- focal loss → 97.49 %\n- dropout → 20 %\n"
            "- MLP as handed in → 97.5 %\n")
    found = extract_claims(d, Context(d, headings(d)), Subjects(RUNS, []))
    assert [(c.metric, c.value, c.run, c.subject) for c in found] == [
        ("accuracy", 0.9702, "", "hidden [64]"), ("accuracy", 0.9749, "", "focal loss"),
        ("accuracy", 0.975, "mlp", "MLP")]  # (a dropout of 20 % is a setting)


def test_a_shared_part_of_run_names_is_no_model_of_its_own() -> None:
    # "MobileNet" is in the names of several runs: under "B. C1+M3" it is a part of C1+M3, not another model
    runs = {"c4": ["C4", "4 conv blocks"], "c1m3": ["C1+M3", "1 conv block and 3 mobilenet blocks"],
            "c3m1": ["C3+M1", "3 conv blocks and 1 mobilenet block"]}
    d = doc("## B. C1+M3\n\nOne conv block followed by three MobileNet blocks. Test accuracy 97.88 %.\n")
    found = extract_claims(d, Context(d, headings(d)), Subjects(runs, []))
    assert [(c.metric, round(c.value, 4), c.run) for c in found] == [("accuracy", 0.9788, "c1m3")]


def test_one_section_for_several_questions(tmp_path) -> None:
    text = f"## Questions 1 and 2\n\n{ANSWERS[0]}\n\n{ANSWERS[1]}\n\n## Question 3\n\n{ANSWERS[2]}\n"
    assert _statuses(text, tmp_path) == {q: "answered" for q in ("compare", "confusion", "predictions")}


@pytest.mark.parametrize("placeholder", ["TODO", "TODO - need to download MNIST on the cluster first",
                                         "Not done yet, ran out of time."])
def test_a_placeholder_is_no_answer(placeholder: str, tmp_path) -> None:
    text = f"### Question 1\n\n{ANSWERS[0]}\n\n### Question 2\n\n{ANSWERS[1]}\n\n### Question 3\n\n{placeholder}\n"
    assert _statuses(text, tmp_path)["predictions"] == "missing"


def test_a_combined_section_that_says_one_question_was_not_done(tmp_path) -> None:
    text = (f"### Question 1\n\n{ANSWERS[0]}\n\n### Questions 2 and 3\n\n{ANSWERS[1]}\n\n"
            "We did not get the prediction plots to work, so there is nothing for Question 3.\n")
    statuses = _statuses(text, tmp_path)
    assert (statuses["confusion"], statuses["predictions"]) == ("answered", "missing")


def test_decimal_commas_and_thousands_dots(tmp_path) -> None:
    text = ("### Question 1\n\nC4 reaches a test accuracy of 98,74 %, C1+M3 reaches 98,12 %, on 10.000 test "
            "images.\n")
    g = grade(text, course(tmp_path))
    assert [(c.run, round(c.value, 4)) for c in g.claims] == [("c4", 0.9874), ("c1m3", 0.9812)]


def test_scientific_notation_and_pronouns() -> None:
    assert shown("We trained C4 and C1+M3. The first model stops early. Its test accuracy ends at 98.9 %.") == [
        ("accuracy", 0.989, "c4", "test")]
    assert shown("The test loss of C4 is 4.3e-2.") == [("loss", 0.043, "c4", "test")]


@pytest.mark.parametrize(("a", "b"), [
    ("Insert Batch Normalization in your CNN", "BN before ReLU"),
    ("batch norm after the activation", "BatchNorm placement"),
    ("Summarise what you learned", "If you had to sum it up?"),
    ("Conclusions", "Takeaways"),
])
def test_words_that_name_the_same_thing_meet(a: str, b: str) -> None:
    from reportgen.grade.words import tokens
    assert set(tokens(a)) & set(tokens(b))

"""Grade sheets (JSON, HTML, PDF), Gradescope results and the comparison of several graded reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reportgen.grade.compare import compare_grades, significant_digits, write_comparison
from reportgen.grade.model import Claim, Document, Flag, Grade, Line, Location, Matrix, QuestionGrade
from reportgen.grade.sheet import (
    gradescope_result,
    gradescope_results,
    render_sheet,
    report_stems,
    safe_stem,
    split_evidence,
    write_grade,
    write_gradescope,
)

HOSTILE = "<script>alert(1)</script>{{ 7*7 }}"
HANDOUT = ("Train the network for twenty epochs and plot the training and validation loss curves, then report the "
           "confusion matrix, the recall and the accuracy on the test set for both architectures you built.")
PASSAGE = ("The depthwise separable blocks trade a little representational power for a large saving in multiply "
           "adds, which is why the smaller network converged faster yet plateaued slightly below the plain "
           "convolutional baseline once the learning rate schedule reached its final and smallest step value.")
COPIED = "0.9477546579444083"
MATRIX = [[50, 2, 0], [3, 45, 1], [0, 4, 47]]


def doc(name: str, texts: list[str], page: int | None = None) -> Document:
    return Document(name, "markdown", [Line(t, i + 1, page) for i, t in enumerate(texts)])


def question(qid: str, number: str, title: str, marks: float, score: float, answered: bool = True,
             **extra) -> QuestionGrade:
    return QuestionGrade(id=qid, title=title, number=number, question=HANDOUT if qid == "curves" else "",
                         marks=marks, answered=answered, score=score,
                         evidence=['line 3: "Test Set Accuracy: 0.907"'] if answered else [], **extra)


def grade(report: str, texts: list[str], claims: list[tuple[str, str, float]] = (), matrices=(), flags=(),
          scores=(4.0, 2.5)) -> Grade:
    questions = [question("curves", "1", "Loss and accuracy curves", 5, scores[0]),
                 question("confusion", "2", "Confusion matrices", 3, scores[1], answered=scores[1] > 0,
                          found=["confusion matrix"], missing=["recall"], deductions=["recall is not reported"])]
    return Grade(
        report=report, manifest="experiments.toml", score=sum(scores), max_score=8, questions=questions,
        claims=[Claim(metric, value, written, "Task 1", Location(3 + k), split="test")
                for k, (metric, written, value) in enumerate(claims)],
        matrices=[Matrix(m, Location(10), "Task 1") for m in matrices],
        flags=list(flags), document=doc(report, texts), rule="full marks for an answer with its evidence",
    )


@pytest.fixture
def trio() -> list[Grade]:
    """Alice and Bob share an unusual number, a matrix and a 40-word passage; Carol shares only set text with them."""
    alice = grade("alice.md", ["Report of Alice", HANDOUT, f"Test Set Accuracy: {COPIED}", PASSAGE, "Accuracy 0.95"],
                  claims=[("accuracy", COPIED, 0.9477546579444083), ("accuracy", "0.95", 0.95)], matrices=[MATRIX],
                  flags=[Flag("VAL_TEST_GAP", "error", "validation 8 points above test", "val 0.99", "line 4")])
    bob = grade("bob.pdf", ["Bob's report", "Some words of my own first.", PASSAGE, "More text.", HANDOUT,
                            f"accuracy = {COPIED}", "Accuracy 0.95"],
                claims=[("accuracy", COPIED, 0.9477546579444083), ("accuracy", "0.95", 0.95)], matrices=[MATRIX])
    carol = grade("carol.md", ["Carol", HANDOUT, "My network reached an accuracy of 0.95 on the held out test set.",
                               "12 13 14", "0.95"],
                  claims=[("accuracy", "0.95", 0.95), ("accuracy", "95.0", 0.95)], matrices=[[[5, 0], [0, 5]]],
                  scores=(5.0, 0.0))
    return [alice, bob, carol]


def hostile_grade() -> Grade:
    g = grade("x<b>bold</b>.md", ["text"], claims=[("accuracy", HOSTILE, 0.5)],
              flags=[Flag("CODE_X", "warning", HOSTILE, HOSTILE, "line 2")])
    g.questions[0].evidence = [f"line 2: {HOSTILE}"]
    g.questions[0].title = HOSTILE
    g.claims[0].about = HOSTILE
    return g


def test_json_has_the_documented_keys(tmp_path: Path, trio):
    paths = write_grade(trio[0], tmp_path, pdf=False)
    assert [p.name for p in paths] == ["alice.json", "alice.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.html", "alice.json"]  # no temp files left
    data = json.loads((tmp_path / "alice.json").read_text(encoding="utf-8"))
    schema = {"report", "manifest", "score", "max_score", "questions", "claims", "matrices", "flags"}
    assert set(data) == schema | {"settings", "rule", "files"}
    assert (data["report"], data["score"], data["max_score"]) == ("alice.md", 6.5, 8)
    question_keys = {"id", "title", "number", "marks", "answered", "status", "confidence", "candidates", "score",
                     "evidence", "found", "missing", "deductions"}
    assert all(set(q) == question_keys for q in data["questions"])
    assert all(set(c) == {"metric", "value", "as_written", "about", "location", "split", "average", "subject", "run",
                          "approximate"} for c in data["claims"])
    assert all(set(m) == {"rows", "cols", "total", "accuracy", "zero_recall_classes", "location", "about", "cells",
                          "normalized", "subject", "run"} for m in data["matrices"])
    assert data["flags"] == [{"code": "VAL_TEST_GAP", "severity": "error", "message": "validation 8 points above test",
                              "evidence": "val 0.99", "location": "line 4"}]


def test_sheet_html_shows_the_grade(trio):
    html = render_sheet(trio[0])
    assert "Grade sheet — alice.md" in html and "experiments.toml" in html
    assert "6.5" in html and "suggested grade" in html.lower() and "a human decides" in html
    assert "Loss and accuracy curves" in html and "Confusion matrices" in html
    assert "Test Set Accuracy: 0.907" in html and "line 3" in html  # the evidence and its location
    assert "recall is not reported" in html and "VAL_TEST_GAP" in html and "Errors (1)" in html
    assert "94.78" in html and COPIED in html  # a claim: value as % and as written
    assert "3\u00a0×\u00a03" in html and "93.42\u00a0%" in html  # the matrix: size and trace accuracy


def test_student_text_is_escaped_not_executed():
    html = render_sheet(hostile_grade())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "{{ 7*7 }}" in html and "49" not in html


def test_pdf_opens_and_reads_grade_sheet(tmp_path: Path, trio):
    pypdf = pytest.importorskip("pypdf")
    paths = write_grade(hostile_grade(), tmp_path, stem="hostile")
    assert [p.name for p in paths] == ["hostile.json", "hostile.html", "hostile.pdf"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / "hostile.pdf").pages)
    assert "Grade sheet" in text and "<script>" in text  # shown as text, never run


def test_gradescope_result_shape(trio):
    result = gradescope_result(trio[0])
    assert set(result) == {"score", "output", "tests", "visibility", "stdout_visibility", "extra_data"}
    assert result["extra_data"]["max_score"] == trio[0].max_score
    assert result["score"] == 6.5 and result["stdout_visibility"] == "hidden"
    assert result["visibility"] == "after_published"
    assert "VAL_TEST_GAP" in result["output"] and "a human decides" in result["output"]
    assert [t["name"] for t in result["tests"]] == ["1 Loss and accuracy curves", "2 Confusion matrices"]
    for t in result["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
    assert [t["status"] for t in result["tests"]] == ["failed", "failed"]
    assert "recall is not reported" in result["tests"][1]["output"]
    full = gradescope_result(trio[2])["tests"][0]
    assert (full["score"], full["max_score"], full["status"]) == (5.0, 5, "passed")


def test_gradescope_files_for_one_and_several_reports(tmp_path: Path, trio):
    one = write_gradescope(trio[:1], tmp_path / "one")
    assert json.loads(one.read_text()) == gradescope_results(trio[:1]) == gradescope_result(trio[0])
    several = write_gradescope(trio, tmp_path / "all")
    data = json.loads(several.read_text())
    assert list(data) == ["reports"] and list(data["reports"]) == ["alice", "bob", "carol"]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "alice.results.json", "bob.results.json", "carol.results.json", "results.json"]
    assert json.loads((tmp_path / "all" / "bob.results.json").read_text()) == data["reports"]["bob"]


@pytest.mark.parametrize(("report", "stem"), [
    ("itu-a2-bscs19057.pdf", "itu-a2-bscs19057"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\evil.docx", "evil"),
    ("my report (final).md", "my_report__final_"),
    ("...", "report"),
    ("", "report"),
    (".hidden.md", "hidden"),
    ("results.pdf", "results-report"),
    ("Compare.md", "Compare-report"),
    ("a.results.md", "a.results-report"),
])
def test_safe_stem(report: str, stem: str):
    assert safe_stem(report) == stem
    assert "/" not in stem and "\\" not in stem


def test_report_stems_are_unique():
    grades = [grade(name, ["x"]) for name in ("a.pdf", "a.md", "A.html", "results.md", "results-report.md")]
    stems = report_stems(grades)
    assert stems == ["a", "a-2", "A-3", "results-report", "results-report-2"]


@pytest.mark.parametrize(("written", "digits"), [
    (COPIED, 16), ("0.95484375", 8), ("0.9", 1), ("95.0", 2), ("10", 1), ("94.775", 5), ("1.2345e-05", 5)])
def test_significant_digits(written: str, digits: int):
    assert significant_digits(written) == digits


def test_compare_pairs_copied_reports_only(trio):
    comparison = compare_grades(trio)
    assert [(p.a, p.b) for p in comparison.pairs] == [("alice.md", "bob.pdf")]
    pair = comparison.pairs[0]
    assert [s.what for s in pair.numbers] == [COPIED]  # not "0.95", which all three write
    assert (pair.numbers[0].location_a, pair.numbers[0].location_b) == ("line 3", "line 3")
    assert [s.what for s in pair.matrices] == ["3 × 3"]
    assert pair.shingles == len(PASSAGE.split()) - 12 + 1
    assert pair.passage.what == PASSAGE.replace(",", "").replace(".", "")  # quoted word by word, under 300 chars
    assert (pair.passage.location_a, pair.passage.location_b) == ("line 4", "line 3")


def test_handout_words_and_common_numbers_do_not_pair(trio):
    carol, dave = trio[2], grade("dave.md", ["Dave", HANDOUT, "Accuracy 0.95", "Nothing else in common."],
                                 claims=[("accuracy", "0.95", 0.95), ("accuracy", "95.0", 0.95)],
                                 matrices=[[[5, 0], [0, 5]]])
    assert compare_grades([carol, dave]).pairs == []
    # The same texts without the handout in the questions: now the shared question text pairs them.
    for g in (carol, dave):
        g.questions[0].question = ""
    pairs = compare_grades([carol, dave]).pairs
    assert len(pairs) == 1 and pairs[0].numbers == [] and pairs[0].shingles >= 3


def test_compare_rows(trio):
    rows = compare_grades(trio).rows
    alice = rows[0]
    assert (alice.report, alice.score, alice.max_score, alice.answered) == ("alice.md", 6.5, 8, 2)
    assert alice.headline_accuracy == 0.95 and alice.mean_accuracy == pytest.approx((0.9477546579444083 + 0.95) / 2)
    assert alice.severities == {"error": 1, "warning": 0, "info": 0} and alice.codes == {"VAL_TEST_GAP": 1}
    assert rows[2].questions["confusion"].state == "unanswered" and rows[2].questions["curves"].state == "full"


def test_write_comparison(tmp_path: Path, trio):
    trio[2].report = "=HYPERLINK(evil).md"
    paths = write_comparison(compare_grades(trio), tmp_path)
    assert [p.name for p in paths] == ["compare.csv", "compare.html"]
    with (tmp_path / "compare.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert [r["report"] for r in rows] == ["alice.md", "bob.pdf", "'=HYPERLINK(evil).md"]
    assert rows[0]["curves"] == "4.0" and rows[0]["VAL_TEST_GAP"] == "1" and rows[1]["VAL_TEST_GAP"] == "0"
    assert rows[0]["errors"] == "1" and rows[0]["headline_accuracy"] == "0.95" and rows[2]["answered"] == "1"
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    for name in ("alice.md", "bob.pdf", "=HYPERLINK(evil).md"):
        assert name in html
    assert COPIED in html and "unanswered" in html and "depthwise separable" in html


def test_compare_escapes_student_text(tmp_path: Path):
    a = grade(HOSTILE + ".md", [PASSAGE], claims=[("accuracy", COPIED, 0.9)])
    b = grade("b.md", ["<img src=x onerror=alert(1)> " + PASSAGE], claims=[("accuracy", COPIED, 0.9)])
    write_comparison(compare_grades([a, b]), tmp_path)
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html and "49" not in html


@pytest.mark.parametrize(("evidence", "quote", "location"), [
    ("p. 9, line 87: \u201cTraining Accuracy: 93.3\u201d", "Training Accuracy: 93.3", "p. 9, line 87"),
    ('line 3: "Test Set Accuracy: 0.907"', "Test Set Accuracy: 0.907", "line 3"),
    ('"Recall 0.9" (p. 2, line 12)', "Recall 0.9", "p. 2, line 12"),
    ("p. 10: 1 figure(s) on the page of the answer", "p. 10: 1 figure(s) on the page of the answer", ""),
])
def test_split_evidence(evidence: str, quote: str, location: str):
    assert split_evidence(evidence) == (quote, location)


def test_an_empty_grade_still_makes_a_sheet_and_a_comparison(tmp_path: Path):
    empty = Grade("empty.txt", "experiments.toml", 0.0, 0.0, [], [], [], [])
    html = render_sheet(empty)
    assert "Grade sheet — empty.txt" in html and "No flags" in html and "no questions" in html
    comparison = compare_grades([empty, empty])
    assert comparison.pairs == [] and len(comparison.rows) == 2 and comparison.rows[0].headline_accuracy is None
    write_comparison(comparison, tmp_path)
    assert (tmp_path / "compare.csv").read_text().splitlines()[1].startswith("empty.txt,0.0,0.0,0,,,0,0,0")

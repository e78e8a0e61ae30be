"""Jupyter notebooks as reports: Markdown cells are text, code is skipped, outputs arrive verbatim as "output" lines,
image outputs are figures, tracebacks are skipped, malformed notebooks are a ReportReadError naming the file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from reportgen.config.errors import ReportReadError
from reportgen.grade.grader import grade_report
from reportgen.grade.reading import ReadLimits, read_document
from tests.grade_support import CLASSIFICATION_REPORT, course

MATRIX = "[[ 973    2    5]\n [   3 1120   12]\n [   8   15 1009]]\n"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not decoded without --ocr").decode()


def _notebook(tmp_path: Path, cells, name: str = "alice.ipynb") -> Path:
    notebook = new_notebook()
    notebook.cells = cells
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def _cells():
    return [
        new_markdown_cell("# 2 Confusion matrices, recall and accuracy\n\nThe C4 model on the test set:"),
        new_code_cell("lr = 0.001\nmodel.fit(x, y, epochs=8)\nprint(acc)", outputs=[
            new_output("stream", name="stdout", text="Epoch 1/8\r 50%\rEpoch 1/8 done\nTest accu"),
            new_output("stream", name="stdout", text="racy: 0.9472\n"),
            new_output("stream", name="stderr", text="\x1b[31mwarning: slow\x1b[0m\n"),
        ]),
        new_code_cell("print(classification_report(y, p))\nprint(cm)", outputs=[
            new_output("stream", name="stdout", text=CLASSIFICATION_REPORT + "\n" + MATRIX),
        ]),
        new_code_cell("cm", execution_count=3, outputs=[
            new_output("execute_result", execution_count=3,
                       data={"text/plain": "array([[973,   2],\n       [  3, 1120]])"}),
        ]),
        new_code_cell("plt.plot(losses)", outputs=[
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"}),
        ]),
        new_code_cell("df", outputs=[
            new_output("execute_result", execution_count=5, data={
                "text/plain": "  model  accuracy\n0    C4      0.95",
                "text/html": "<div><table><tr><th>model</th><th>accuracy</th></tr>"
                             "<tr><td>C4</td><td>0.95</td></tr></table></div>"}),
        ]),
        new_code_cell("1 / 0", outputs=[
            new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                       traceback=["Traceback: accuracy 0.1234", "ZeroDivisionError"]),
        ]),
        new_markdown_cell("## Discussion\nC4 reached 94.72 % test accuracy. ![roc](attachment:roc.png)"),
    ]


@pytest.fixture()
def doc(tmp_path: Path):
    return read_document(_notebook(tmp_path, _cells()))


def _texts(doc, source: str | None = None) -> list[str]:
    return [line.text for line in doc.lines if source is None or line.source == source]


def test_markdown_cells_are_text_with_their_headings(doc):
    assert doc.format == "notebook" and doc.name == "alice.ipynb"
    text = _texts(doc, "")
    assert text[0] == "# 2 Confusion matrices, recall and accuracy"
    assert "The C4 model on the test set:" in text and "## Discussion" in text


def test_code_is_skipped_but_printed_text_arrives_as_output_lines(doc):
    assert not any("lr = 0.001" in t or "model.fit" in t for t in _texts(doc))
    output = _texts(doc, "output")
    assert "Epoch 1/8 done" in output  # a carriage return writes over its line, as a terminal shows it
    assert "Test accuracy: 0.9472" in output  # a print split over two stream chunks is one line
    assert "warning: slow" in output  # stderr too, colour codes gone


def test_printed_reports_and_matrices_keep_their_spacing(doc):
    output = _texts(doc, "output")
    for line in [*CLASSIFICATION_REPORT.splitlines(), *MATRIX.splitlines()]:
        if line:
            assert line in output
    first = output.index("              precision    recall  f1-score   support")
    assert output[first + 1] == "" and output[first + 2].startswith("           0       0.98")
    assert "array([[973,   2]," in output and "       [  3, 1120]])" in output  # an execute_result's text/plain


def test_html_tables_become_tab_separated_rows_instead_of_their_plain_text(doc):
    output = _texts(doc, "output")
    assert "model\taccuracy" in output and "C4\t0.95" in output
    assert "0    C4      0.95" not in output  # the same table is not read twice


def test_image_outputs_are_figures_and_tracebacks_are_skipped(doc):
    assert "[image: output of cell 5]" in _texts(doc, "output")
    assert not any("<Figure size" in t for t in _texts(doc))  # a figure's text/plain is only its repr
    assert doc.images == 2  # the plot, and the image pasted into the last Markdown cell
    assert not any("0.1234" in t or "ZeroDivisionError" in t for t in _texts(doc))


def test_cells_are_paragraphs_and_lines_are_numbered(doc):
    assert [line.number for line in doc.lines] == list(range(1, len(doc.lines) + 1))
    heading = _texts(doc).index("## Discussion")
    assert doc.lines[heading - 1].text == ""
    assert all(line.file == "" and line.page is None for line in doc.lines)


def test_grading_a_notebook_reads_its_printed_results(tmp_path: Path):
    grade = grade_report(_notebook(tmp_path, _cells()), course(tmp_path))
    printed = [c for c in grade.claims if c.value == pytest.approx(0.9472) and c.source == "output"]
    assert printed and printed[0].to_json()["source"] == "output"
    assert any(c.value == pytest.approx(0.9472) and c.source == "" for c in grade.claims)  # the Markdown's "94.72 %"
    matrices = [m for m in grade.matrices if m.cells == [[973, 2, 5], [3, 1120, 12], [8, 15, 1009]]]
    assert matrices and matrices[0].source == "output"


def test_lists_of_strings_and_old_formats_are_read(tmp_path: Path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Results\n", "Test accuracy: 0.93"]},
        {"cell_type": "code", "metadata": {}, "input": "print(1)", "language": "python", "collapsed": False,
         "outputs": [{"output_type": "stream", "stream": "stdout", "text": ["Val accuracy: 0.91\n"]}]},
    ]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3), encoding="utf-8")
    doc = read_document(path)
    assert _texts(doc) == ["# Results", "Test accuracy: 0.93", "", "Val accuracy: 0.91"]
    assert [line.source for line in doc.lines] == ["", "", "", "output"]


@pytest.mark.parametrize(("content", "why"), [
    (b"{ not json", "malformed notebook"),
    (b"[1, 2, 3]", "malformed notebook"),
    (b'{"nbformat": 99, "cells": []}', "malformed notebook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "malformed notebook"),
])
def test_malformed_notebooks_are_errors_naming_the_file(tmp_path: Path, content: bytes, why: str):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    with pytest.raises(ReportReadError, match=why) as caught:
        read_document(path)
    assert caught.value.file == "broken.ipynb" and str(caught.value).startswith("broken.ipynb: ")


def test_a_notebook_over_the_line_limit_is_refused(tmp_path: Path):
    cells = [new_code_cell("for i in range(50): print(i)",
                           outputs=[new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(50)))])]
    with pytest.raises(ReportReadError, match="lines of text"):
        read_document(_notebook(tmp_path, cells), ReadLimits(max_lines=20))

"""--ocr: the text in a report's images, read by Tesseract, arrives as lines with source "image" where the image is
(after its PDF page's text, its notebook cell's outputs, or the bundle's text). Off by default; without Tesseract it
is one clear error before anything is graded.

The images are rendered here with matplotlib at screenshot sizes: (a) a printed accuracy, (b) a
``classification_report`` in a monospace font, (c) a confusion matrix drawn as a table with ruled cells.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.grade import ocr
from reportgen.grade.grader import grade_report
from reportgen.grade.reading import ReadLimits, read_document
from tests.grade_support import CLASSIFICATION_REPORT, course

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="the tesseract program is not installed")

ACCURACY = "Test accuracy: 0.9731"
MATRIX = [[973, 2, 5], [3, 1120, 12], [8, 15, 1009]]
OCR = ReadLimits(ocr=True)


def _png(draw, width: float, height: float, dpi: int = 100) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width, height), dpi=dpi)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def _table(fig) -> None:
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    table = ax.table(cellText=[[str(v) for v in row] for row in MATRIX], loc="center", cellLoc="center")
    table.scale(1, 1.6)
    table.set_fontsize(12)


@pytest.fixture(scope="module")
def images() -> dict[str, bytes]:
    return {
        "accuracy": _png(lambda fig: fig.text(0.02, 0.5, ACCURACY, fontsize=14, va="center"), 4, 0.6),
        "report": _png(lambda fig: fig.text(0.02, 0.5, CLASSIFICATION_REPORT, family="DejaVu Sans Mono",
                                            fontsize=10, va="center"), 7, 2.5),
        "matrix": _png(_table, 4, 1.5, dpi=150),
    }


@pytest.fixture(scope="module")
def pdf(images, tmp_path_factory) -> Path:
    """A two-page PDF: a heading and a sentence as text, then the accuracy as a picture; a second page of text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages
    from PIL import Image

    picture = np.asarray(Image.open(io.BytesIO(images["accuracy"])).convert("RGB"))
    path = tmp_path_factory.mktemp("ocr") / "alice.pdf"
    with PdfPages(path) as pages:
        fig = plt.figure(figsize=(8.27, 11.69), dpi=72)
        fig.text(0.1, 0.9, "2 Confusion matrices, recall and accuracy", fontsize=14)
        fig.text(0.1, 0.86, "The C4 model on the test set:", fontsize=11)
        fig.figimage(picture, xo=72, yo=560)
        pages.savefig(fig)
        plt.close(fig)
        fig = plt.figure(figsize=(8.27, 11.69), dpi=72)
        fig.text(0.1, 0.9, "3 Correct and wrong predictions", fontsize=14)
        pages.savefig(fig)
        plt.close(fig)
    return path


def _image_lines(doc) -> list:
    return [line for line in doc.lines if line.source == "image"]


@needs_tesseract
def test_pdf_images_are_read_after_their_pages_text(pdf: Path):
    doc = read_document(pdf, OCR)
    (line,) = _image_lines(doc)
    assert line.text == ACCURACY and line.page == 1
    texts = [x.text for x in doc.lines]
    assert texts.index("The C4 model on the test set:") < texts.index(ACCURACY) < texts.index(
        "3 Correct and wrong predictions")
    assert str(line.location) == f"p. 1, line {line.number}"


@needs_tesseract
def test_grading_with_ocr_claims_the_pictured_accuracy_as_read_from_an_image(pdf: Path, tmp_path: Path):
    grade = grade_report(pdf, course(tmp_path), limits=OCR)
    pictured = [c for c in grade.claims if c.metric == "accuracy" and c.value == pytest.approx(0.9731)]
    assert pictured and pictured[0].to_json()["source"] == "image"
    assert pictured[0].location.page == 1


def test_without_ocr_no_image_text_appears(pdf: Path, tmp_path: Path):
    doc = read_document(pdf)
    assert doc.images == 1 and _image_lines(doc) == []
    assert not any("0.9731" in line.text for line in doc.lines)
    assert not any(c.value == pytest.approx(0.9731) for c in grade_report(pdf, course(tmp_path)).claims)


@needs_tesseract
def test_a_bundles_image_files_and_notebook_outputs_are_read(images, tmp_path: Path):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1, "source": "plt.show()",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/png": base64.b64encode(images["accuracy"]).decode(),
                               "text/plain": "<Figure size 400x60 with 0 Axes>"}}]},
        {"cell_type": "markdown", "id": "b", "metadata": {}, "source": "## After the plot"},
    ]}
    path = tmp_path / "bob.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("report.md", "# Results\n\n![report](figures/report.png)\n\nDiscussion.\n")
        archive.writestr("figures/report.png", images["report"])
        archive.writestr("figures/matrix.png", images["matrix"])
        archive.writestr("work.ipynb", json.dumps(notebook))
    doc = read_document(path, OCR)
    texts = [line.text for line in doc.lines]
    # The classification report, right after the Markdown line that shows it; its rows stay rows.
    shown = texts.index("![report](figures/report.png)")
    report = [line for line in _image_lines(doc) if line.file == "figures/report.png"]
    assert report[0].number > shown + 1 and report[-1].number < texts.index("Discussion.") + 1
    report_texts = [line.text for line in report]
    assert "accuracy 0.9731 3147" in report_texts and "macro avg 0.97 0.96 0.97 3147" in report_texts
    # The notebook's plot: after the cell's output, before the next cell.
    (pictured,) = [line for line in _image_lines(doc) if line.file == "work.ipynb"]
    assert pictured.text == ACCURACY
    assert texts.index("[image: output of cell 1]") < pictured.number - 1 < texts.index("## After the plot")
    # The table of counts, at the end: one line per row, ruling lines gone.
    matrix = [line.text for line in _image_lines(doc) if line.file == "figures/matrix.png"]
    assert matrix == ["973 2 5", "3 1120 12", "8 15 1009"]
    assert doc.files == ["report.md", "work.ipynb", "figures/matrix.png", "figures/report.png"]
    assert doc.images == 3


def test_tiny_images_and_images_over_the_budget_are_not_read(monkeypatch):
    from PIL import Image

    calls = []
    monkeypatch.setattr(ocr, "_tesseract", lambda image: calls.append(image.size) or ["text"])
    budget = ocr.OcrBudget(max_images=1, max_pixels=10_000_000)
    assert budget.read(Image.new("L", (16, 16), 255)) == []  # an icon
    assert budget.read(Image.new("L", (400, 100), 255)) == ["text"]
    assert budget.read(Image.new("L", (400, 100), 255)) == []  # over the image budget
    assert budget.read(b"not an image") == []
    assert len(calls) == 1 and budget.skipped == 1
    pixels = ocr.OcrBudget(max_images=5, max_pixels=1_000)
    assert pixels.read(Image.new("L", (400, 100), 255)) == [] and pixels.skipped == 1


def test_small_text_is_enlarged_and_grids_are_erased():
    import numpy as np
    from PIL import Image

    ruled = np.full((60, 200), 255, dtype=np.uint8)
    ruled[10, :] = ruled[50, :] = 0  # a table's horizontal rules
    ruled[:, 100] = 0  # and a vertical one
    ruled[25:37, 20:30] = 0  # a glyph-sized blot: 12 rows of "text"
    out = ocr._prepare(Image.fromarray(ruled))
    assert out.size == (round(200 * 40 / 12), round(60 * 40 / 12))  # a 12-pixel line brought to 40 pixels
    pixels = np.asarray(out)
    assert pixels[round(10 * 40 / 12)].min() > 128  # the rule is gone
    assert pixels[round(30 * 40 / 12), round(25 * 40 / 12)] < 128  # the text is not


def test_tidy_drops_stray_marks_and_extra_blank_lines():
    assert ocr.tidy("Test accuracy: 0.97  \n\n\n|\n—\nmacro avg 0.9\n\x0c") == [
        "Test accuracy: 0.97", "", "macro avg 0.9"]


def test_ocr_without_tesseract_is_one_error_before_anything_is_graded(pdf: Path, tmp_path: Path, monkeypatch,
                                                                      capsys):
    course(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(ocr.OcrUnavailableError):
        read_document(pdf, OCR)
    out = tmp_path / "grades"
    code = main(["grade", str(pdf), str(pdf), "--manifest", str(tmp_path / "course.toml"), "--out", str(out),
                 "--ocr", "--no-pdf"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip().splitlines() == [
        "Error: --ocr needs Tesseract: apt-get install tesseract-ocr and pip install 'reportgen[ocr]'"]
    assert captured.out == "" and not out.exists()


def test_ocr_without_pytesseract_is_the_same_error(pdf: Path, tmp_path: Path, monkeypatch, capsys):
    course(tmp_path)
    monkeypatch.setitem(sys.modules, "pytesseract", None)  # import pytesseract raises ImportError
    assert main(["compare", str(pdf), "--manifest", str(tmp_path / "course.toml"), "--out", str(tmp_path / "g"),
                 "--ocr"]) == 1
    assert capsys.readouterr().err.strip() == (
        "Error: --ocr needs Tesseract: apt-get install tesseract-ocr and pip install 'reportgen[ocr]'")

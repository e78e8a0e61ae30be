"""Git merge-conflict markers in reports: the first side is read once, the block is located, CONFLICT_MARKERS says so;
a setext underline or a rule of "=" is no conflict."""

from __future__ import annotations

import json
import zipfile
from html import escape
from pathlib import Path

import pytest

from reportgen.grade.conflicts import resolve
from reportgen.grade.grader import grade_document
from reportgen.grade.reading import read_document
from tests.grade_support import course, flags_of

CONFLICTED = """\
<<<<<<< HEAD
Test accuracy: 0.95
=======
Test accuracy: 0.91
>>>>>>> teammate
"""

REPORT = """\
# 2 Confusion matrices, recall and accuracy

The C4 model on the test set:

<<<<<<< HEAD
Test accuracy of C4: 0.95
=======
Test accuracy of C4: 0.91
>>>>>>> alice-branch

# 3 Correct and wrong predictions

Figure 1: four correct and four wrong predictions.
"""


def _texts(doc) -> list[str]:
    return [line.text for line in doc.lines]


# --- the rule ---------------------------------------------------------------------------------------------------------


def test_a_block_keeps_its_first_side_in_place():
    lines = ["before", *CONFLICTED.splitlines(), "after"]
    kept, starts = resolve(lines)
    assert kept == ["before", "", "Test accuracy: 0.95", "", "", "", "after"]
    assert starts == [1]
    assert len(kept) == len(lines)  # line numbers stay where they were


def test_diff3_base_section_is_dropped_too():
    lines = ["<<<<<<< ours", "a = 1", "||||||| merged common ancestors", "a = 0", "=======", "a = 2", ">>>>>>> theirs"]
    assert resolve(lines) == (["", "a = 1", "", "", "", "", ""], [0])


def test_several_blocks_and_a_bare_opening_marker():
    lines = ["<<<<<<< HEAD", "one", "=======", "two", ">>>>>>> b", "text",
             "<<<<<<< HEAD", "stray",  # never finished: the next opening marker starts afresh
             "<<<<<<< HEAD", "three", "=======", "four", ">>>>>>> b"]
    kept, starts = resolve(lines)
    assert starts == [0, 8]
    assert [t for t in kept if t] == ["one", "text", "<<<<<<< HEAD", "stray", "three"]


@pytest.mark.parametrize("lines", [
    ["Results", "=======", "", "Test accuracy: 0.95"],  # a setext heading's underline
    ["Model   Accuracy", "=======", "CNN     0.95", "=======", "MLP     0.91"],  # rules in a text table
    ["<<<<<<< HEAD", "one", "=======", "two"],  # a block never closed is no block
    ["=======", "one", ">>>>>>> b"],  # nor one never opened
    ["<<<<<<<< eight", "one", "=======", "two", ">>>>>>> b"],  # git writes exactly seven
])
def test_what_is_not_a_conflict(lines):
    assert resolve(lines) == (lines, [])


# --- every text format ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_markdown_and_text(tmp_path: Path, suffix: str):
    path = tmp_path / f"r{suffix}"
    path.write_text("intro\n" + CONFLICTED + "end\n", encoding="utf-8")
    doc = read_document(path)
    assert _texts(doc) == ["intro", "", "Test accuracy: 0.95", "", "", "", "end"]
    assert [str(c) for c in doc.conflicts] == ["line 2"]


def test_html(tmp_path: Path):
    path = tmp_path / "r.html"
    path.write_text("<html><body><h1>Results</h1>\n<<<<<<< HEAD\n<p>Test accuracy: 0.95</p>\n=======\n"
                    "<p>Test accuracy: 0.91</p>\n>>>>>>> teammate\n<p>end</p></body></html>", encoding="utf-8")
    doc = read_document(path)
    texts = [t for t in _texts(doc) if t]
    assert texts == ["# Results", "Test accuracy: 0.95", "end"]
    (conflict,) = doc.conflicts
    assert doc.lines[conflict.line].text == "Test accuracy: 0.95"  # the line after the marker's is the kept side


def test_docx(tmp_path: Path):
    paragraphs = ["Results", *CONFLICTED.splitlines(), "end"]
    body = "".join(f"<w:p><w:r><w:t>{escape(t)}</w:t></w:r></w:p>" for t in paragraphs)
    xml = (f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}'
           "</w:body></w:document>")
    path = tmp_path / "r.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", xml)
    doc = read_document(path)
    assert [t for t in _texts(doc) if t] == ["Results", "Test accuracy: 0.95", "end"]
    assert [c.line for c in doc.conflicts] == [2]


def _notebook(cells: list[dict]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def _markdown(source: str, id_: str) -> dict:
    return {"cell_type": "markdown", "id": id_, "metadata": {}, "source": source}


def test_notebook_markdown_cells(tmp_path: Path):
    path = tmp_path / "r.ipynb"
    path.write_text(json.dumps(_notebook([_markdown("# Results", "a"), _markdown(CONFLICTED, "b")])), encoding="utf-8")
    doc = read_document(path)
    assert [t for t in _texts(doc) if t] == ["# Results", "Test accuracy: 0.95"]
    (conflict,) = doc.conflicts
    assert doc.lines[conflict.line - 1].text == "" and doc.lines[conflict.line].text == "Test accuracy: 0.95"


def test_a_notebook_whose_json_git_left_conflicted_is_read_with_the_first_side(tmp_path: Path):
    ours = json.dumps(_notebook([_markdown("Test accuracy: 0.95", "a")]), indent=1).splitlines()
    theirs = json.dumps(_notebook([_markdown("Test accuracy: 0.91", "a")]), indent=1).splitlines()
    differ = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
    raw = [*ours[:differ], "<<<<<<< HEAD", ours[differ], "=======", theirs[differ], ">>>>>>> teammate",
           *ours[differ + 1:]]
    path = tmp_path / "r.ipynb"
    path.write_text("\n".join(raw), encoding="utf-8")
    doc = read_document(path)
    assert _texts(doc) == ["Test accuracy: 0.95"]
    assert [c.line for c in doc.conflicts] == [1]


# --- the check --------------------------------------------------------------------------------------------------------


def test_conflict_markers_fires_and_only_the_first_side_is_claimed(tmp_path: Path):
    path = tmp_path / "alice.md"
    path.write_text(REPORT, encoding="utf-8")
    grade = grade_document(read_document(path), course(tmp_path))
    (found,) = flags_of(grade, "CONFLICT_MARKERS")
    assert found.severity == "info"
    assert "1 merge-conflict block" in found.message and "line 5" in found.message
    assert "first side" in found.message
    assert found.location == "line 5" and "0.95" in found.evidence
    accuracies = sorted(c.value for c in grade.claims if c.metric == "accuracy")
    assert accuracies == [0.95]
    assert not any("CONFLICT_MARKERS" in d for q in grade.questions for d in q.deductions)  # info costs nothing


def test_conflict_markers_counts_blocks(tmp_path: Path):
    path = tmp_path / "bob.md"
    path.write_text("# 1 Results\n" + CONFLICTED + "text\n" + CONFLICTED, encoding="utf-8")
    grade = grade_document(read_document(path), course(tmp_path))
    (found,) = flags_of(grade, "CONFLICT_MARKERS")
    assert "2 merge-conflict blocks" in found.message and "line 2, line 8" in found.message


def test_conflict_markers_is_quiet_on_setext_headings_and_rules(tmp_path: Path):
    path = tmp_path / "carol.md"
    path.write_text("Confusion matrices, recall and accuracy\n=======\n\nTest accuracy of C4: 0.95\n\n"
                    "Model    Accuracy\n=======  ========\nC4       0.95\n", encoding="utf-8")
    doc = read_document(path)
    assert doc.conflicts == []
    assert flags_of(grade_document(doc, course(tmp_path)), "CONFLICT_MARKERS") == []

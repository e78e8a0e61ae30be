"""Bundles: a .zip or a folder graded as one submission. The main document rule, what is appended and how it is
marked, the zip's guards (paths, encryption, bombs, counts, nested zips) and what the command line takes as one
submission."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.config.errors import ReportReadError
from reportgen.grade.batch import _expand, grade_files
from reportgen.grade.bundle import Member, choose_main, is_submission_folder
from reportgen.grade.reading import ReadLimits, read_document
from tests.grade_support import course

REPORT = "# 2 Confusion matrices, recall and accuracy\n\n![matrix](figures/cm.png)\n\nTest accuracy of C4: 0.95\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00"
       b"\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")


def _notebook(text: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "## Notebook"},
        {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1, "source": "print(acc)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]},
    ]})


def _zip(path: Path, files: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def _folder(path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


BUNDLE = {
    "alice/report.md": REPORT,
    "alice/figures/cm.png": PNG,
    "alice/figures/loss.png": PNG,
    "alice/notebooks/b.ipynb": _notebook("Val accuracy: 0.96\n"),
    "alice/notebooks/a.ipynb": _notebook("Test accuracy: 0.9472\n"),
    "alice/requirements.txt": "torch\n",
    "__MACOSX/alice/._report.md": "resource fork",
}


# --- the main document ------------------------------------------------------------------------------------------------


def _members(*paths: str, sizes: dict[str, int] | None = None) -> list[Member]:
    return [Member(p, (sizes or {}).get(p, 10), lambda n: b"") for p in paths]


@pytest.mark.parametrize(("paths", "main"), [
    (["notes.txt"], "notes.txt"),  # the only document
    (["a/report.md", "a/figures/x.png"], "a/report.md"),  # one folder that wraps everything
    (["analysis.ipynb", "writeup.pdf", "readme.md"], "writeup.pdf"),  # PDF before Markdown before notebooks
    (["results.md", "sub/final_report.pdf"], "sub/final_report.pdf"),  # a name saying "report" comes first
    (["summary.pdf", "classification_report.txt"], "summary.pdf"),  # ... not scikit-learn's output
    (["a3.ipynb", "requirements.txt", "LICENSE.md"], "a3.ipynb"),  # requirements and licences are never the report
    (["deep/er/report.docx", "top.html"], "deep/er/report.docx"),
    (["nested/a.pdf", "top.md"], "top.md"),  # nearest the top before format
    ([".hidden.pdf", "__MACOSX/report.pdf", "x.md"], "x.md"),
])
def test_the_main_document_rule(paths, main):
    assert choose_main(_members(*paths)).path == main


def test_the_largest_of_one_format_wins():
    members = _members("a.pdf", "b.pdf", sizes={"a.pdf": 10, "b.pdf": 5000})
    assert choose_main(members).path == "b.pdf"
    assert choose_main(_members("x.png", "data.csv")) is None


# --- reading a bundle -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["zip", "folder"])
def test_a_bundle_is_its_main_document_then_its_notebooks(tmp_path: Path, kind: str):
    path = _zip(tmp_path / "alice.zip", BUNDLE) if kind == "zip" else _folder(tmp_path / "alice", BUNDLE)
    doc = read_document(path)
    assert doc.name == path.name and doc.format == "markdown"
    assert doc.files == ["alice/report.md", "alice/notebooks/a.ipynb", "alice/notebooks/b.ipynb"]
    texts = [line.text for line in doc.lines]
    assert texts[:5] == REPORT.splitlines()
    assert all(line.file == "" for line in doc.lines[:5])
    printed = next(line for line in doc.lines if line.text == "Test accuracy: 0.9472")
    assert printed.file == "alice/notebooks/a.ipynb" and printed.source == "output"
    assert str(printed.location) == f"line {printed.number} of alice/notebooks/a.ipynb"
    assert texts.index("Test accuracy: 0.9472") < texts.index("Val accuracy: 0.96")  # notebooks in path order
    assert doc.images == 2  # cm.png shown by the report (counted once), loss.png; no text read from them
    assert not any(line.source == "image" for line in doc.lines)


def test_a_folder_of_data_images_is_not_figures(tmp_path: Path):
    files = {"report.md": "Test accuracy: 0.9\n", **{f"data/{i}.png": PNG for i in range(101)}, "fig.png": PNG}
    assert read_document(_folder(tmp_path / "bob", files)).images == 1


def test_symbolic_links_in_a_folder_are_not_followed(tmp_path: Path):
    outside = _folder(tmp_path / "outside", {"secret.ipynb": _notebook("Test accuracy: 0.123\n")})
    bundle = _folder(tmp_path / "carol", {"report.md": "Test accuracy: 0.9\n"})
    os.symlink(outside / "secret.ipynb", bundle / "linked.ipynb")
    os.symlink(outside, bundle / "linked")
    doc = read_document(bundle)
    assert doc.files == ["report.md"] and not any("0.123" in line.text for line in doc.lines)


def test_an_unreadable_notebook_is_left_out_but_an_unreadable_main_document_is_an_error(tmp_path: Path):
    doc = read_document(_zip(tmp_path / "a.zip", {"report.md": "text\n", "scratch.ipynb": "{ broken"}))
    assert doc.files == ["report.md"]
    with pytest.raises(ReportReadError, match=r"^b\.zip: report\.pdf: not a PDF"):
        read_document(_zip(tmp_path / "b.zip", {"report.pdf": "not a pdf", "x.ipynb": _notebook("1\n")}))


def test_conflicts_in_appended_notebooks_are_located_in_them(tmp_path: Path):
    cell = "<<<<<<< HEAD\nTest accuracy: 0.95\n=======\nTest accuracy: 0.91\n>>>>>>> b\n"
    notebook = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": cell}]})
    doc = read_document(_zip(tmp_path / "a.zip", {"report.md": "one\ntwo\n", "nb.ipynb": notebook}))
    (conflict,) = doc.conflicts
    assert conflict.file == "nb.ipynb" and doc.lines[conflict.line].text == "Test accuracy: 0.95"
    assert str(conflict) == f"line {conflict.line} of nb.ipynb"


# --- the zip's guards -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.md", "/etc/report.md", "a/../../evil.md", "C:/report.md"])
def test_member_paths_that_climb_out_are_refused(tmp_path: Path, name: str):
    path = _zip(tmp_path / "a.zip", {"report.md": "text\n", name: "x"})
    with pytest.raises(ReportReadError, match="unsafe path"):
        read_document(path)


def test_encrypted_members_are_refused(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.md", "text\n")
        info = zipfile.ZipInfo("secret.md")
        archive.writestr(info, "hidden\n")
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")  # the last central-directory entry: secret.md's
    data[central + 8] |= 0x1  # its general-purpose flag: encrypted
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ReportReadError, match="secret.md: encrypted"):
        read_document(path)


def test_zip_bombs_are_refused(tmp_path: Path):
    bomb = _zip(tmp_path / "bomb.zip", {"report.md": "Test accuracy: 0.9\n" + " " * 5_000_000})
    with pytest.raises(ReportReadError, match="zip bomb"):
        read_document(bomb)
    many = _zip(tmp_path / "many.zip", {f"{i}.md": "x" for i in range(6)})
    with pytest.raises(ReportReadError, match="6 files in the archive, over the 5-file limit"):
        read_document(many, ReadLimits(max_members=5))
    big = _zip(tmp_path / "big.zip", {"report.md": "x" * 3000}, zipfile.ZIP_STORED)
    with pytest.raises(ReportReadError, match="over the 0.002 MB limit"):
        read_document(big, ReadLimits(max_bytes=2000, max_bundle_bytes=10_000))
    with pytest.raises(ReportReadError, match=r"^big.zip: the .zip is 0.003\d* MB, over the bundle limit of 0.003 MB"):
        read_document(big, ReadLimits(max_bytes=2000, max_bundle_bytes=3000))
    notebook = _notebook("Test accuracy: 0.9\n")
    together = _zip(tmp_path / "sum.zip", {"report.md": "x" * 1500, "nb.ipynb": notebook + " " * 1500})
    assert read_document(together, ReadLimits(max_bytes=2000, max_bundle_bytes=2500)).files == ["report.md"]


def test_nested_zips_are_not_opened(tmp_path: Path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("report.md", "Test accuracy: 0.9\n")
    with pytest.raises(ReportReadError, match="no report in the bundle"):
        read_document(_zip(tmp_path / "outer.zip", {"inner.zip": inner.getvalue()}))


def test_a_file_that_is_not_a_zip(tmp_path: Path):
    path = tmp_path / "a.zip"
    path.write_bytes(b"%PDF-1.4 not a zip")
    with pytest.raises(ReportReadError, match="^a.zip: not a readable zip archive"):
        read_document(path)


# --- what the command line takes as one submission -------------------------------------------------------------


def test_one_students_folder_is_one_submission(tmp_path: Path):
    assert is_submission_folder(_folder(tmp_path / "a", {"report.md": "x", "fig.png": PNG, "nb/n.ipynb": "{}"}))
    assert is_submission_folder(_folder(tmp_path / "b", {"report.pdf": "x", "report.docx": "x"}))  # one name
    assert is_submission_folder(_folder(tmp_path / "c", {"a3.ipynb": "{}", "data/x.csv": "1"}))  # a notebook only
    assert is_submission_folder(_folder(tmp_path / "d", {"report.pdf": "x"}))
    assert not is_submission_folder(_folder(tmp_path / "e", {"alice.md": "x", "bob.md": "x"}))
    assert not is_submission_folder(_folder(tmp_path / "f", {"alice.md": "x", "bob.zip": "x"}))
    assert not is_submission_folder(_folder(tmp_path / "g", {"notes.md": "x", "bob/report.pdf": "x"}))
    assert not is_submission_folder(_folder(tmp_path / "h", {"a.ipynb": "{}", "b.ipynb": "{}"}))
    assert not is_submission_folder(_folder(tmp_path / "i", {"fig.png": PNG}))


def test_a_class_folder_holds_files_zips_and_bundle_folders(tmp_path: Path):
    class_ = _folder(tmp_path / "class", {"alice.md": "x", "bob.md": "x", "carol/report.md": "x",
                                          "carol/fig.png": PNG, ".DS_Store": "x", "__MACOSX/x.md": "x"})
    _zip(class_ / "dave.zip", {"report.md": "x"})
    names = [p.name for p in _expand([class_])]
    assert names == ["alice.md", "bob.md", "carol", "dave.zip"]
    assert [p.name for p in _expand([class_ / "carol", class_ / "alice.md"])] == ["carol", "alice.md"]


def test_grading_a_class_folder_names_each_bundle_after_its_zip_or_folder(tmp_path: Path):
    course(tmp_path)
    class_ = _folder(tmp_path / "class", {"alice.md": REPORT, "carol/report.md": REPORT, "carol/figures/cm.png": PNG})
    _zip(class_ / "dave.zip", BUNDLE)
    batch = grade_files([class_], tmp_path / "course.toml")
    assert batch.failures == []
    assert [g.report for g in batch.grades] == ["alice.md", "carol", "dave.zip"]
    dave = batch.grades[2]
    assert any(c.value == pytest.approx(0.9472) and c.source == "output" for c in dave.claims)


def test_the_cli_grades_a_zip(tmp_path: Path, capsys):
    course(tmp_path)
    path = _zip(tmp_path / "dave.zip", BUNDLE)
    assert main(["grade", str(path), "--manifest", str(tmp_path / "course.toml"), "--out", str(tmp_path / "g"),
                 "--no-pdf", "--quiet"]) == 0
    written = json.loads((tmp_path / "g" / "dave.json").read_text(encoding="utf-8"))
    assert written["report"] == "dave.zip"
    help_text = capsys.readouterr().out
    assert "1 grade sheet" in help_text

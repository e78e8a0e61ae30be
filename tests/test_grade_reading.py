"""reportgen.grade.reading: every report format into numbered lines, and hostile files into ReportReadError."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from reportgen.config.errors import ReportReadError
from reportgen.grade.reading import ReadLimits, read_document

REPORTS = Path("/work/shared/reports")

REPORT_HTML = """<!doctype html><html><head><style>p { margin: 1em; }</style></head><body>
<h1>Results</h1>
<p>Test accuracy: 0.93</p>
<table>
  <tr><th>Model</th><th>Accuracy</th><th>Loss</th></tr>
  <tr><td>CNN</td><td>0.93</td><td>0.21</td></tr>
  <tr><td>MLP</td><td>0.88</td><td>0.35</td></tr>
</table>
<p><img src="data:image/png;base64,{png}" alt="loss curve" style="width: 2cm"></p>
<p style="page-break-before: always">Second page: validation loss 0.42</p>
</body></html>
"""


def _png() -> bytes:
    """A 2x2 grey PNG, written by hand so that the test needs no imaging library."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    import base64

    import weasyprint

    html = REPORT_HTML.replace("{png}", base64.b64encode(_png()).decode())
    return weasyprint.HTML(string=html).write_pdf()


@pytest.fixture()
def pdf_path(tmp_path: Path, pdf_bytes: bytes) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    return path


def _encrypted(pdf: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _texts(doc) -> list[str]:
    return [line.text for line in doc.lines]


def _line_with(doc, needle: str):
    found = [line for line in doc.lines if needle in line.text]
    assert found, f"{needle!r} not in {_texts(doc)}"
    return found[0]


# --- PDF ---------------------------------------------------------------------------------------------------------


def test_pdf_text_pages_and_images(pdf_path: Path) -> None:
    doc = read_document(pdf_path)
    assert (doc.name, doc.format, doc.pages) == ("report.pdf", "pdf", 2)
    assert _line_with(doc, "Results").page == 1
    assert _line_with(doc, "Test accuracy: 0.93").page == 1
    assert _line_with(doc, "Second page: validation loss 0.42").page == 2
    assert [line.number for line in doc.lines] == list(range(1, len(doc.lines) + 1))
    assert doc.images_per_page == {1: 1, 2: 0} and doc.images == 1


def test_pdf_table_row_is_one_line_in_column_order(pdf_path: Path) -> None:
    doc = read_document(pdf_path)
    for row in (["Model", "Accuracy", "Loss"], ["CNN", "0.93", "0.21"], ["MLP", "0.88", "0.35"]):
        text = _line_with(doc, row[0]).text
        positions = [text.index(cell) for cell in row]
        assert positions == sorted(positions), text


def test_pdf_lines_are_tidy(pdf_path: Path) -> None:
    texts = _texts(read_document(pdf_path))
    assert all(t == t.rstrip() for t in texts)
    blank_runs = "".join("b" if not t else "x" for t in texts)
    assert "bbb" not in blank_runs


def test_pdf_falls_back_to_plain_text_when_layout_fails(pdf_path: Path, monkeypatch) -> None:
    from pypdf import PageObject

    original = PageObject.extract_text

    def plain_only(self, *args, **kwargs):
        if kwargs.get("extraction_mode") == "layout":
            raise ValueError("layout failed")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", plain_only)
    assert _line_with(read_document(pdf_path), "Test accuracy: 0.93").page == 1


def test_pdf_page_that_cannot_be_read_is_skipped(pdf_path: Path, monkeypatch) -> None:
    from pypdf import PageObject

    original = PageObject.extract_text

    def first_page_broken(self, *args, **kwargs):
        if self.page_number == 0:
            raise KeyError("/Font")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", first_page_broken)
    doc = read_document(pdf_path)
    assert doc.pages == 2
    assert {line.page for line in doc.lines} == {2}
    assert _line_with(doc, "validation loss 0.42").number == 1


def test_pdf_with_no_readable_page_is_an_error(pdf_path: Path, monkeypatch) -> None:
    from pypdf import PageObject

    def broken(self, *args, **kwargs):
        raise KeyError("/Font")

    monkeypatch.setattr(PageObject, "extract_text", broken)
    with pytest.raises(ReportReadError, match="no text could be read"):
        read_document(pdf_path)


def test_pdf_encrypted_with_empty_user_password_reads(tmp_path: Path, pdf_bytes: bytes) -> None:
    path = tmp_path / "protected.pdf"
    path.write_bytes(_encrypted(pdf_bytes, ""))
    assert _line_with(read_document(path), "Test accuracy: 0.93").page == 1


def test_pdf_encrypted_with_a_password_is_refused(tmp_path: Path, pdf_bytes: bytes) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted(pdf_bytes, "secret"))
    with pytest.raises(ReportReadError, match="encrypted PDF") as caught:
        read_document(path)
    assert str(caught.value).startswith("locked.pdf: ")


def test_pdf_binary_junk_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "junk.pdf"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ReportReadError, match="not a PDF"):
        read_document(path)


def test_pdf_truncated_is_refused(tmp_path: Path, pdf_bytes: bytes) -> None:
    path = tmp_path / "truncated.pdf"
    path.write_bytes(pdf_bytes[: len(pdf_bytes) // 2])
    with pytest.raises(ReportReadError, match="truncated.pdf: .*(malformed|truncated|no text)"):
        read_document(path)


def test_pdf_over_the_page_limit(pdf_path: Path) -> None:
    with pytest.raises(ReportReadError, match=r"2 pages, over the 1-page limit \(--max-pages\)"):
        read_document(pdf_path, ReadLimits(max_pages=1))


# --- HTML --------------------------------------------------------------------------------------------------------


HTML = """<!DOCTYPE html><html><head><title>A2</title><script>var accuracy = 0.99;</script>
<style>.x { color: red }</style></head><body>
<h2>Results &amp; discussion</h2>
<p>Test   accuracy:
   <b>0.93</b>&nbsp;&lt;best&gt;</p>
<table><caption>Table 1: runs</caption>
  <thead><tr><th>Model</th><th>Accuracy</th></tr></thead>
  <tr><td>CNN</td><td><p>0.93</p></td></tr>
</table>
<pre>              precision    recall
           0       0.91      0.88

    accuracy                   0.90</pre>
<figure><img src="a.png" alt="loss curve"><figcaption>Figure 1. Loss</figcaption></figure>
<img src="b.png"><noscript>enable JavaScript</noscript>
</body></html>
"""


@pytest.fixture()
def html_doc(tmp_path: Path):
    path = tmp_path / "report.html"
    path.write_text(HTML, encoding="utf-8")
    return read_document(path)


def test_html_headings_become_markdown(html_doc) -> None:
    assert html_doc.format == "html"
    assert "## Results & discussion" in _texts(html_doc)


def test_html_entities_decoded_and_whitespace_collapsed(html_doc) -> None:
    assert "Test accuracy: 0.93 <best>" in _texts(html_doc)


def test_html_table_row_is_tab_joined(html_doc) -> None:
    texts = _texts(html_doc)
    assert "Model\tAccuracy" in texts and "CNN\t0.93" in texts
    assert "Table 1: runs" in texts


def test_html_script_style_and_noscript_dropped(html_doc) -> None:
    text = "\n".join(_texts(html_doc))
    assert "0.99" not in text and "color" not in text and "JavaScript" not in text


def test_html_pre_keeps_its_lines(html_doc) -> None:
    texts = _texts(html_doc)
    start = texts.index("              precision    recall")
    assert texts[start + 1: start + 4] == ["           0       0.91      0.88", "",
                                           "    accuracy                   0.90"]


def test_html_images_and_captions(html_doc) -> None:
    texts = _texts(html_doc)
    assert html_doc.images == 2
    assert "[image: loss curve]" in texts and "[image: ]" in texts and "Figure 1. Loss" in texts
    assert all(line.page is None for line in html_doc.lines)


def test_html_nested_100000_deep_reads_fast(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<p>before</p>" + "<div>" * 100_000 + "deep 0.93" + "</div>" * 100_000 + "<p>after</p>")
    started = time.perf_counter()
    doc = read_document(path)
    assert time.perf_counter() - started < 3
    assert _texts(doc) == ["before", "deep 0.93", "after"]


def test_html_stray_angle_brackets_and_quoted_attributes(tmp_path: Path) -> None:
    path = tmp_path / "loose.html"
    path.write_text("""<p title="a b">if a < b and c<d then</p><img alt='it"s' src=x.png><p>a<b</p>"""
                    """<p title="a > b">kept, tag and all</p>""")
    texts = _texts(read_document(path))
    assert texts[:3] == ["if a < b and c<d then", "[image: it\"s]", "a<b"]
    assert "kept, tag and all" in texts[3]  # a '>' inside a quoted value makes the tag read as text


@pytest.mark.parametrize("unit", ["x <a ", '<a b="', "<!--", "</", "<![CDATA[ x>", "<script/><a "])
def test_html_unfinished_markup_reads_in_linear_time(tmp_path: Path, unit: str) -> None:
    # Python 3.11's HTMLParser alone takes minutes on these (it rescans to the end from every '<').
    path = tmp_path / "hostile.html"
    path.write_text("<p>kept 0.93</p>" + unit * 50_000 + "<p>end</p>")
    started = time.perf_counter()
    doc = read_document(path)
    assert time.perf_counter() - started < 3
    assert doc.lines[0].text == "kept 0.93"


# --- Markdown, text, sniffing ------------------------------------------------------------------------------------


def test_markdown_lines_and_image_count(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text("# Results\n\n![loss](loss.png)\n| a | b |\nModel\t0.93  \n![c][ref] and ![d](d.png)\n"
                    "<img src='e.png'>\n", encoding="utf-8")
    doc = read_document(path)
    assert doc.format == "markdown" and doc.images == 4 and doc.pages is None
    assert _texts(doc)[:5] == ["# Results", "", "![loss](loss.png)", "| a | b |", "Model\t0.93  "]
    assert [line.number for line in doc.lines] == list(range(1, 8))


def test_text_decoding_is_forgiving(tmp_path: Path) -> None:
    path = tmp_path / "report.TXT"
    path.write_bytes(b"\xef\xbb\xbfacc\x00uracy: 0.9\r\nbad \xff byte\rlast")
    doc = read_document(path)
    assert doc.format == "text"
    assert _texts(doc) == ["accuracy: 0.9", "bad \ufffd byte", "last"]


def test_no_suffix_is_sniffed(tmp_path: Path, pdf_bytes: bytes) -> None:
    for name, data, expected in [("a", pdf_bytes, "pdf"), ("b", b"\n<!DOCTYPE html><h1>T</h1>", "html"),
                                 ("c", b"<HTML><p>x</p>", "html"), ("d", b"accuracy 0.9\n", "text"),
                                 ("e.txt", pdf_bytes, "pdf")]:
        (tmp_path / name).write_bytes(data)
        assert read_document(tmp_path / name).format == expected, name
    assert _texts(read_document(tmp_path / "b")) == ["# T"]


def test_unknown_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "report.odt"
    path.write_text("x")
    with pytest.raises(ReportReadError, match=r"report.odt: unsupported format '.odt' \(supported: .pdf, .html"):
        read_document(path)


def test_old_word_format_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "report.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReportReadError, match="save it as .docx or PDF"):
        read_document(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportReadError, match="nothing.md: no such file"):
        read_document(tmp_path / "nothing.md")


def test_file_over_max_bytes_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("x" * 3000)
    with pytest.raises(ReportReadError, match=r"0.003 MB, over the 0.001 MB limit \(--max-mb\)"):
        read_document(path, ReadLimits(max_bytes=1000))


def test_text_over_max_lines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("line\n" * 50)
    with pytest.raises(ReportReadError, match="more than 10 lines.*cut off"):
        read_document(path, ReadLimits(max_lines=10))
    html = tmp_path / "long.html"
    html.write_text("<p>line</p>" * 50)
    with pytest.raises(ReportReadError, match="more than 10 lines"):
        read_document(html, ReadLimits(max_lines=10))


# --- DOCX --------------------------------------------------------------------------------------------------------

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _paragraph(text: str, style: str = "") -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _row(*cells: str) -> str:
    return "<w:tr>" + "".join(f"<w:tc>{_paragraph(c)}</w:tc>" for c in cells) + "</w:tr>"


DOCUMENT_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>'
    + _paragraph("Results", "Heading1")
    + '<w:p><w:r><w:t xml:space="preserve">Test accuracy: </w:t></w:r><w:r><w:t>0.93</w:t></w:r>'
    + "<w:r><w:delText>0.99</w:delText></w:r></w:p>"
    + _paragraph("Details", "Heading2")
    + "<w:tbl>" + _row("Model", "Accuracy") + _row("CNN", "0.93") + "</w:tbl>"
    + "<w:sectPr/></w:body></w:document>"
)


def _docx(path: Path, document_xml: str | bytes, media: int = 1) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document_xml)
        for i in range(media):
            archive.writestr(f"word/media/image{i + 1}.png", _png())
    return path


def test_docx_paragraphs_headings_tables_and_images(tmp_path: Path) -> None:
    doc = read_document(_docx(tmp_path / "report.docx", DOCUMENT_XML, media=2))
    assert doc.format == "docx" and doc.images == 2
    assert _texts(doc) == ["# Results", "Test accuracy: 0.93", "## Details", "Model\tAccuracy", "CNN\t0.93"]


def test_docx_bad_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ReportReadError, match="broken.docx: damaged DOCX"):
        read_document(path)
    path.write_bytes(b"just text")
    with pytest.raises(ReportReadError, match="not a DOCX"):
        read_document(path)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(ReportReadError, match="password-protected or old-format Word"):
        read_document(path)


def test_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    huge = DOCUMENT_XML.replace("<w:sectPr/>", _paragraph(" " * 200_000))
    path = _docx(tmp_path / "bomb.docx", huge)
    assert path.stat().st_size < 10_000
    with pytest.raises(ReportReadError, match="zip bomb"):
        read_document(path, ReadLimits(max_bytes=10_000))


def test_docx_with_a_dtd_is_refused(tmp_path: Path) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">]>'
              f"<w:document {W}><w:body>{_paragraph('&a;')}</w:body></w:document>")
    with pytest.raises(ReportReadError, match="DTD"):
        read_document(_docx(tmp_path / "laughs.docx", laughs))


# --- the real reports --------------------------------------------------------------------------------------------


@pytest.mark.skipif(not REPORTS.is_dir(), reason="no shared student reports here")
def test_real_student_reports() -> None:
    cs671 = read_document(REPORTS / "cs671-a2-task1-team5.pdf")
    assert cs671.pages == 16 and cs671.images > 0
    assert _line_with(cs671, "Accuracy = 0.9861").page is not None
    assert "classification" in " ".join(_texts(cs671))  # the PDF's "ﬁ" ligature spelled out
    itu = read_document(REPORTS / "itu-a2-bscs19057.pdf")
    assert itu.pages == 25
    assert _line_with(itu, "Max testing accuracy: 67.8").page == 2
    for name in ("itu-a2-msds21001.md", "itu-a3-msds21001.md"):
        doc = read_document(REPORTS / name)
        assert doc.format == "markdown" and len(doc.lines) > 100
        assert any("accuracy" in t.lower() for t in _texts(doc))


def test_a_50_mb_text_file_is_refused_by_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(50_000_000)  # sparse: 50 MB on paper, instant to make
    with pytest.raises(ReportReadError, match="20 MB limit"):
        read_document(path)

"""Turn a DOCX report into text lines shaped like the Markdown ones: paragraphs as lines, Word's headings as ``#``
lines, table rows as tab-separated cells.

Only the standard library: zipfile and ElementTree on word/document.xml, walked without recursion, with the
archive's inflated size bounded (zip bombs) and DTDs refused (entity expansion).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

from reportgen.config.errors import ReportReadError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DOCUMENT_PART = "word/document.xml"
_HEADING_STYLE = re.compile(r"heading\s*([1-6])", re.IGNORECASE)
_MAX_WRAPPING = 64  # content controls and custom XML wrapping body paragraphs; deeper is ignored


def docx_lines(data: bytes, *, max_xml_bytes: int, max_lines: int) -> tuple[list[str], int]:
    """A DOCX report's text lines (paragraphs; table rows as tab-separated cells) and its number of images."""
    xml, images = _document_part(data, max_xml_bytes)
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:  # Word never writes a DTD; entity expansion is an attack
        raise ReportReadError("DOCX document.xml declares a DTD, which Word documents never do; refusing it")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as err:
        raise ReportReadError(f"damaged DOCX: word/document.xml is not well-formed XML ({err})") from None
    body = root.find(f"{_W}body")
    if body is None:
        raise ReportReadError("damaged DOCX: word/document.xml has no body")
    lines: list[str] = []
    pending = [iter(body)]
    while pending:
        element = next(pending[-1], None)
        if element is None:
            pending.pop()
        elif element.tag == f"{_W}p":
            lines.extend(_paragraph_lines(element))
        elif element.tag == f"{_W}tbl":
            lines.extend(_table_rows(element))
        elif len(pending) < _MAX_WRAPPING and element.tag != _FALLBACK:
            pending.append(iter(element))
        if len(lines) > max_lines:
            break  # the caller reports the lines over the limit
    return lines, images


def _document_part(data: bytes, max_xml_bytes: int) -> tuple[bytes, int]:
    """document.xml's bytes, refusing one that would inflate past *max_xml_bytes* (a zip bomb), and the number
    of images in word/media/."""
    bomb = (f"DOCX text part inflates past the {max_xml_bytes:,}-byte limit (5 x --max-mb); "
            "refusing a possible zip bomb")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _DOCUMENT_PART not in archive.namelist():
                raise ReportReadError(f"not a Word document: the archive has no {_DOCUMENT_PART}")
            info = archive.getinfo(_DOCUMENT_PART)
            if info.file_size > max_xml_bytes:
                raise ReportReadError(bomb)
            with archive.open(info) as part:
                xml = part.read(max_xml_bytes + 1)  # the size in the header can lie
            images = sum(1 for name in archive.namelist() if name.startswith("word/media/") and not name.endswith("/"))
    except ReportReadError:
        raise
    except Exception as err:  # BadZipFile, an unsupported compression, a damaged deflate stream, ...
        raise ReportReadError(f"damaged DOCX (not a readable zip archive): {err}") from None
    if len(xml) > max_xml_bytes:
        raise ReportReadError(bomb)
    return xml, images


def _run_text(element: ElementTree.Element) -> str:
    """The text under *element* in document order: w:t text, tabs, line breaks. Deleted text (w:delText) and
    the fallback copies of text boxes are left out."""
    pieces: list[str] = []
    pending = [element]
    while pending:
        node = pending.pop()
        tag = node.tag
        if tag == f"{_W}t":
            pieces.append(node.text or "")
        elif tag == f"{_W}tab":
            pieces.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            pieces.append("\n")
        elif tag != _FALLBACK:
            pending.extend(reversed(node))
    return "".join(pieces)


def _heading_level(paragraph: ElementTree.Element) -> int:
    """1-6 for Word's heading styles (and its title, and paragraphs given an outline level), else 0."""
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    name = style.get(f"{_W}val", "") if style is not None else ""
    if match := _HEADING_STYLE.fullmatch(name):
        return int(match.group(1))
    outline = paragraph.find(f"{_W}pPr/{_W}outlineLvl")
    level = outline.get(f"{_W}val", "") if outline is not None else ""
    return 1 if name.lower() == "title" else int(level) + 1 if level.isdigit() and int(level) < 6 else 0


def _paragraph_lines(paragraph: ElementTree.Element) -> list[str]:
    texts = [t.rstrip() for t in _run_text(paragraph).replace("\x00", "").split("\n")]
    texts = [t for t in texts if t.strip()]
    level = _heading_level(paragraph)
    if level and texts:
        texts[0] = "#" * level + " " + texts[0].strip()
    return texts


def _table_rows(table: ElementTree.Element) -> list[str]:
    """One line per row, cells joined by tabs; a cell's paragraphs (and any table nested in it) become one text."""
    rows = []
    for row in table.findall(f"{_W}tr"):
        cells = [" ".join(" ".join(_run_text(p).split()) for p in cell.iter(f"{_W}p")).strip()
                 for cell in row.findall(f"{_W}tc")]
        if any(cells):
            rows.append("\t".join(cells))
    return rows

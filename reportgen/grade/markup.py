"""Turn HTML and DOCX reports into text lines shaped like the Markdown ones: headings as ``#`` lines, table rows as
tab-separated cells, one line per paragraph. Both readers are iterative (no recursion on the document's nesting)
and stop once the text passes ``max_lines``."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from xml.etree import ElementTree

from reportgen.errors import ReportReadError

# Content that is not the report's text. Inline SVG holds a figure's tick labels, which would read as numbers.
_SKIPPED = frozenset({"script", "style", "template", "noscript", "svg"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr"})
# Elements whose end tag HTML lets authors leave out: not counted in the nesting depth, which would otherwise drift.
_OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "colgroup"})
_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "main", "header", "footer",
                     "nav", "aside", "blockquote", "figure", "figcaption", "caption", "hr", "address", "details",
                     "summary", "form", "fieldset", "center", "title", "body", "html", "head"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


class _TooManyLines(Exception):
    pass


class _HtmlText(HTMLParser):
    """Collects an HTML document's text as lines, event by event: no element tree, so depth costs nothing."""

    def __init__(self, *, max_depth: int, max_lines: int) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.images = 0
        self._max_depth = max_depth
        self._max_lines = max_lines
        self._parts: list[str] = []  # text of the line being built
        self._depth = 0
        self._skip = 0  # open elements whose content is not text
        self._pre = 0
        self._heading = 0
        self._row: list[str] | None = None  # cells of the open table row
        self._cell: list[str] | None = None  # text of the open cell
        self._inner_tables = 0  # tables open inside the open cell

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            self._skip += tag in _SKIPPED
            return
        if tag in _SKIPPED:
            if tag == "svg":
                self._image("")
            self._skip = 1
            return
        if tag == "img":
            self._image(dict(attrs).get("alt") or "")
            return
        if tag not in _VOID and tag not in _OPTIONAL_END:
            self._depth += 1
        if self._depth > self._max_depth:
            self._add(" ")  # nesting this deep is read as inline text
            return
        if self._cell is not None:
            self._inner_tables += tag == "table"
            if self._inner_tables or tag not in ("td", "th", "tr"):
                self._add(" ")  # blocks and tables inside a table cell are read as inline text
                return
        if tag in _HEADINGS:
            self._break()
            self._heading = _HEADINGS[tag]
        elif tag in ("td", "th"):
            self._start_cell()
        elif tag in ("tr", "table"):
            self._end_row()
            self._break()
            self._row = [] if tag == "tr" else None
        elif tag == "pre":
            self._break()
            self._pre += 1
        elif tag in _BLOCKS or tag == "br":
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= tag in _SKIPPED
            return
        if tag in _VOID:
            return
        deep = self._depth > self._max_depth
        if tag not in _OPTIONAL_END and self._depth:
            self._depth -= 1
        if deep:
            self._add(" ")
        elif self._cell is not None and self._inner_tables:
            self._inner_tables -= tag == "table"
            self._add(" ")
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()
        elif self._cell is not None:
            self._add(" ")
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._break()
            self._heading = 0 if tag in _HEADINGS else self._heading
        elif tag == "pre":
            self._break(keep_blank=True)
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre and self._cell is None:
            first, *rest = data.split("\n")
            self._add(first)
            for piece in rest:
                self._break(keep_blank=True)
                self._add(piece)
        else:
            self._add(data)

    def finish(self) -> None:
        self.close()
        self._end_row()
        self._break()

    def _add(self, text: str) -> None:
        (self._cell if self._cell is not None else self._parts).append(text)

    def _image(self, alt: str) -> None:
        self.images += 1
        text = f"[image: {' '.join(alt.split())}]"
        if self._cell is not None:
            self._add(f" {text} ")
        else:
            self._break()
            self._emit(text)

    def _break(self, keep_blank: bool = False) -> None:
        """End the line being built."""
        text = "".join(self._parts)
        self._parts = []
        text = text.rstrip() if self._pre else " ".join(text.split())
        if not text and not (keep_blank and self._pre):
            return
        if self._heading and text:
            text = "#" * self._heading + " " + text
        self._emit(text)

    def _start_cell(self) -> None:
        if self._row is None:
            self._break()
            self._row = []
        self._end_cell()
        self._cell = []

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None
        self._inner_tables = 0

    def _end_row(self) -> None:
        self._end_cell()
        row, self._row = self._row, None
        if row and any(row):
            self._break()
            self._emit("\t".join(row))

    def _emit(self, text: str) -> None:
        self.lines.append(text)
        if len(self.lines) > self._max_lines:
            raise _TooManyLines


def html_lines(text: str, *, max_depth: int, max_lines: int) -> tuple[list[str], int]:
    """An HTML document's text lines and its number of images (``<img>`` and inline ``<svg>``)."""
    parser = _HtmlText(max_depth=max_depth, max_lines=max_lines)
    try:
        parser.feed(text)
        parser.finish()
    except _TooManyLines:
        return parser.lines, parser.images  # the caller reports the lines over the limit
    except Exception as err:  # HTMLParser is lenient; this guards against its rare internal failures
        raise ReportReadError(f"unreadable HTML: {err}") from None
    return parser.lines, parser.images


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
    bomb = (f"DOCX text part inflates past the {max_xml_bytes:,}-byte limit (5 x --max-bytes); "
            "refusing a possible zip bomb")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _DOCUMENT_PART not in archive.NameToInfo:
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

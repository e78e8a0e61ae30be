"""Read a student's report (PDF, HTML, Markdown, plain text or DOCX) into a :class:`Document` of numbered lines.

Reports are untrusted: the file's size is checked before anything is read, PDFs are capped in pages, the text in
lines, and every parser failure becomes a :class:`ReportReadError` that names the file, so grading goes on with the
other reports. HTML and DOCX are turned into lines by :mod:`reportgen.grade.markup` and :mod:`reportgen.grade.docx`.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ReportReadError
from reportgen.grade.docx import docx_lines
from reportgen.grade.markup import html_lines
from reportgen.grade.model import Document, Line

SUFFIX_FORMATS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".docx": "docx",
}

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Word's encrypted and pre-2007 files
_SNIFF_BYTES = 1024  # the PDF standard lets readers accept a header anywhere in the first 1024 bytes

# Images in Markdown: inline ![alt](src) and reference ![alt][ref]. The alt text excludes brackets so that a
# hostile line of "![![![..." is scanned once, not once per "![".
_MARKDOWN_IMAGE = re.compile(r"!\[[^\[\]\n]*\][(\[]")
_HTML_IMAGE = re.compile(r"<img\b", re.IGNORECASE)
_DRAW = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")  # a content stream drawing an XObject: "/Im1 Do"
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9a-fA-F]{2})")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# PDF text keeps typographic ligatures ("classiﬁcation"); spelled out, keywords match.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one report may cost to read."""

    max_bytes: int = 20_000_000  # the file's size
    max_pages: int = 200  # pages of a PDF
    max_lines: int = 200_000  # lines of extracted text
    max_depth: int = 200  # HTML nesting kept as structure; deeper elements are read as inline text


def read_document(path: Path, limits: ReadLimits = ReadLimits()) -> Document:
    """Read the report at *path*; its format comes from the suffix, checked against the content.

    Raises :class:`ReportReadError` (naming the file) for an unknown format, a file over a limit, or content
    that cannot be parsed.
    """
    path = Path(path)
    try:
        return _read(path, limits)
    except ReportReadError as err:
        if err.file:
            raise
        raise ReportReadError(err.message, file=path.name) from err


def _read(path: Path, limits: ReadLimits) -> Document:
    format_ = _format_from_suffix(path)
    data = _read_bounded(path, limits.max_bytes)
    format_ = _check_content(format_, data)
    images_per_page: dict[int, int] = {}
    pages = None
    if format_ == "pdf":
        texts, pages_of_lines, images_per_page = _pdf_lines(data, limits)
        pages = len(images_per_page)
        images = sum(images_per_page.values())
    else:
        pages_of_lines = None
        if format_ == "docx":
            texts, images = docx_lines(data, max_xml_bytes=limits.max_bytes * 5, max_lines=limits.max_lines)
        else:
            text = _decode(data)
            if format_ == "html":
                texts, images = html_lines(text, max_depth=limits.max_depth, max_lines=limits.max_lines)
            else:
                texts = _split_lines(text)
                images = _markdown_images(text) if format_ == "markdown" else 0
    if len(texts) > limits.max_lines:
        raise ReportReadError(_too_many_lines(limits.max_lines))
    lines = [Line(text.translate(_LIGATURES), number, pages_of_lines[number - 1] if pages_of_lines else None)
             for number, text in enumerate(texts, start=1)]
    return Document(name=path.name, format=format_, lines=lines, pages=pages, images_per_page=images_per_page,
                    images=images)


def _format_from_suffix(path: Path) -> str | None:
    """The format the suffix names; None for no suffix (the content decides)."""
    suffix = path.suffix.lower()
    if not suffix:
        return None
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    supported = ", ".join(SUFFIX_FORMATS)
    hint = "; save it as .docx or PDF" if suffix == ".doc" else ""
    raise ReportReadError(f"unsupported format {suffix!r} (supported: {supported}, or no suffix){hint}")


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing before reading a file over *max_bytes* (and one that grows past it meanwhile)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ReportReadError("not a regular file")
        if size > max_bytes:
            raise ReportReadError(_over_size(size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ReportReadError("no such file") from None
    except OSError as err:
        raise ReportReadError(f"cannot read: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise ReportReadError(_over_size(len(data), max_bytes))
    return data


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.3g}"


def _over_size(size: int, max_bytes: int) -> str:
    return f"{_megabytes(size)} MB, over the {_megabytes(max_bytes)} MB limit (--max-mb)"


def _too_many_lines(max_lines: int) -> str:
    return f"more than {max_lines:,} lines of text, over the limit; the text would be cut off, so it is not read"


def _check_content(format_: str | None, data: bytes) -> str:
    """The format to read *data* as: the suffix's, unless the content plainly says otherwise."""
    head = data[:_SNIFF_BYTES]
    is_pdf = PDF_MAGIC in head
    if format_ == "pdf":
        if not is_pdf:
            raise ReportReadError(f"not a PDF (no {PDF_MAGIC.decode()} header); the file may be damaged or mislabelled")
        return "pdf"
    if format_ == "docx":
        if data.startswith(OLE_MAGIC):
            raise ReportReadError("a password-protected or old-format Word file, not a DOCX; ask for a PDF")
        if not data.startswith(ZIP_MAGIC):
            raise ReportReadError("not a DOCX (not a zip archive); the file may be damaged or mislabelled")
        return "docx"
    if data.startswith(PDF_MAGIC):  # a PDF under a text suffix would read as binary noise
        return "pdf"
    if format_ is not None:
        return format_
    if data.startswith(ZIP_MAGIC):
        return "docx"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" if start.startswith((b"<html", b"<!doctype")) else "text"


def _decode(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").replace("\x00", "")
    return text.removeprefix("\ufeff")


def _split_lines(text: str) -> list[str]:
    """Lines as written (tabs and spaces kept); only line endings go. Unlike str.splitlines, form feeds and
    Unicode separators do not split."""
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _markdown_images(text: str) -> int:
    return len(_MARKDOWN_IMAGE.findall(text)) + len(_HTML_IMAGE.findall(text))


def _pdf_lines(data: bytes, limits: ReadLimits) -> tuple[list[str], list[int], dict[int, int]]:
    """The PDF's lines, the page of each line, and the images on each page."""
    import pypdf  # imported here: only PDF reports need it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed student PDFs make it chatty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            _decrypt(reader)
            page_count = len(reader.pages)
        except ReportReadError:
            raise
        except Exception as err:  # pypdf raises many kinds on malformed input, not only PdfReadError
            raise ReportReadError(f"malformed or truncated PDF: {_reason(err)}") from None
        if page_count > limits.max_pages:
            raise ReportReadError(f"{page_count} pages, over the {limits.max_pages}-page limit (--max-pages)")
        texts: list[str] = []
        pages_of_lines: list[int] = []
        images_per_page: dict[int, int] = {}
        failures: list[str] = []
        for number in range(1, page_count + 1):
            try:
                page = reader.pages[number - 1]
            except Exception as err:
                failures.append(f"page {number}: {_reason(err)}")
                images_per_page[number] = 0
                continue
            images_per_page[number] = _image_count(page)
            text = _page_text(page, number, failures)
            if text is None:
                continue
            page_lines = _tidy_page(text)
            texts.extend(page_lines)
            pages_of_lines.extend([number] * len(page_lines))
            if len(texts) > limits.max_lines:
                raise ReportReadError(_too_many_lines(limits.max_lines))
    if not any(t.strip() for t in texts):
        why = f" ({'; '.join(failures[:3])})" if failures else " (a scanned PDF, with images of text only?)"
        raise ReportReadError(f"no text could be read from the PDF{why}")
    return texts, pages_of_lines, images_per_page


def _decrypt(reader) -> None:
    """Open an encrypted PDF with the empty user password, which many PDFs use (they are only 'protected')."""
    if not reader.is_encrypted:
        return
    from pypdf import PasswordType

    try:
        result = reader.decrypt("")
    except Exception as err:  # e.g. an AES PDF without the cryptography package
        raise ReportReadError(f"encrypted PDF; cannot decrypt it: {_reason(err)}") from None
    if result == PasswordType.NOT_DECRYPTED:
        raise ReportReadError("encrypted PDF; it needs a password. Ask for an unencrypted copy")


def _page_text(page, number: int, failures: list[str]) -> str | None:
    """The page's text in layout mode (columns stay aligned, which tables need), else plain; None if neither."""
    try:
        return page.extract_text(extraction_mode="layout")
    except Exception:
        pass
    try:
        return page.extract_text()
    except Exception as err:
        failures.append(f"page {number}: {_reason(err)}")
        return None


def _tidy_page(text: str) -> list[str]:
    """Lines without trailing spaces, page-edge blank lines, or runs of more than two blank lines (layout mode
    pads with many)."""
    lines: list[str] = []
    blanks = 0
    for raw in _split_lines(text.replace("\x00", "")):
        line = raw.rstrip()
        if line:
            if lines:
                lines.extend([""] * min(blanks, 2))
            lines.append(line)
            blanks = 0
        else:
            blanks += 1
    return lines


def _image_count(page) -> int:
    """Images the page draws. pypdf lists the images in the page's resources, which some writers (WeasyPrint)
    share between all pages, so an image counts only if the page's content draws it (or it is inline)."""
    try:
        names = list(page.images.keys())
    except Exception:  # odd image dictionaries make pypdf raise; the page's text is still worth having
        return 0
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:
        return len(names)
    drawn = {_PDF_NAME_ESCAPE.sub(lambda esc: bytes.fromhex(esc.group(1).decode()), m.group(1)).decode("latin-1")
             for m in _DRAW.finditer(data)}
    tops = [name if isinstance(name, str) else name[0] for name in names]
    return sum(1 for top in tops if not top.startswith("/") or top[1:] in drawn)


def _reason(err: BaseException) -> str:
    message = str(err).strip() or type(err).__name__
    return message if len(message) <= 200 else message[:197] + "..."

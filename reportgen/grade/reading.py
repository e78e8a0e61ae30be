"""Read a student's report (PDF, HTML, Markdown, plain text, DOCX or a Jupyter notebook; or a bundle: a folder or
.zip graded as one submission) into a :class:`Document` of numbered lines.

Reports are untrusted: the file's size is checked before anything is read, PDFs are capped in pages, the text in
lines, and every parser failure becomes a :class:`ReportReadError` that names the file, so grading goes on with the
other reports. HTML and DOCX are turned into lines by :mod:`reportgen.grade.markup` and :mod:`reportgen.grade.docx`,
notebooks by :mod:`reportgen.grade.notebook`, bundles by :mod:`reportgen.grade.bundle`; with ``ReadLimits(ocr=True)``
the text in images is read by :mod:`reportgen.grade.ocr`. Git merge-conflict blocks keep their first side only
(:mod:`reportgen.grade.conflicts`).
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from reportgen.config.errors import ReportReadError
from reportgen.grade import conflicts
from reportgen.grade.columns import split_columns
from reportgen.grade.docx import docx_lines
from reportgen.grade.markup import html_lines
from reportgen.grade.model import Document, Line, Location

SUFFIX_FORMATS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".docx": "docx",
    ".ipynb": "notebook",
}
BUNDLE_SUFFIX = ".zip"  # a .zip is a bundle: one submission of several files (reportgen.grade.bundle)

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
    """Bounds on what one report may cost to read, and whether to read the text in its images."""

    max_bytes: int = 20_000_000  # the file's size (each file of a bundle)
    max_pages: int = 200  # pages of a PDF
    max_lines: int = 200_000  # lines of extracted text
    max_depth: int = 200  # HTML nesting kept as structure; deeper elements are read as inline text
    ocr: bool = False  # read the text in images with Tesseract (--ocr): PDF images, notebook outputs, bundle images
    max_ocr_images: int = 40  # images OCR'd per report (a bundle's files together); the rest are only counted
    max_ocr_pixels: int = 60_000_000  # pixels OCR'd per report, after small images are enlarged
    max_members: int = 5_000  # files in a bundle (a folder or .zip graded as one submission)
    max_bundle_bytes: int = 0  # a bundle's .zip, and the files read from it unpacked; 0: 5 x max_bytes
    max_zip_ratio: int = 100  # a zip member that inflates more than this many times its packed size is refused

    @property
    def bundle_bytes(self) -> int:
        return self.max_bundle_bytes or 5 * self.max_bytes


@dataclass
class Text:
    """One file's lines before they are numbered into a :class:`Document`: what a format's reader returns and a
    bundle joins. ``lines`` carry page, source and file; their numbers are set by :meth:`document`."""

    format: str
    lines: list[Line] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)  # indices into ``lines``: each conflict block's first line
    pages: int | None = None
    images_per_page: dict[int, int] = field(default_factory=dict)
    images: int = 0

    def document(self, name: str, files: list[str] | None = None) -> Document:
        """The lines numbered from 1 (PDF ligatures spelled out), the conflicts located."""
        lines = [Line(line.text.translate(_LIGATURES), number, line.page, line.source, line.file)
                 for number, line in enumerate(self.lines, start=1)]
        located = [Location(i + 1, lines[i].page, lines[i].file) for i in self.conflicts if 0 <= i < len(lines)]
        return Document(name=name, format=self.format, lines=lines, pages=self.pages,  # type: ignore[arg-type]
                        images_per_page=self.images_per_page, images=self.images, files=list(files or []),
                        conflicts=located)


def read_document(path: Path, limits: ReadLimits = ReadLimits()) -> Document:
    """Read the report at *path*; its format comes from the suffix, checked against the content. A folder or a
    .zip is a bundle: one submission of several files (:func:`reportgen.grade.bundle.read_bundle`).

    Raises :class:`ReportReadError` (naming the file) for an unknown format, a file over a limit, or content
    that cannot be parsed; :class:`reportgen.grade.ocr.OcrUnavailableError` for ``limits.ocr`` without Tesseract.
    """
    path = Path(path)
    budget = ocr_budget(limits)
    try:
        if path.is_dir() or path.suffix.lower() == BUNDLE_SUFFIX:
            from reportgen.grade.bundle import read_bundle

            return read_bundle(path, limits, budget)
        format_ = format_from_suffix(path)
        data = read_bounded(path, limits.max_bytes)
        return read_text(data, format_, limits, budget).document(path.name)
    except ReportReadError as err:
        if err.file:
            raise
        raise ReportReadError(err.message, file=path.name) from err


def ocr_budget(limits: ReadLimits):
    """What OCR may spend on one report: None when ``limits.ocr`` is off. Checks that Tesseract is there."""
    if not limits.ocr:
        return None
    from reportgen.grade.ocr import OcrBudget, require_ocr

    require_ocr()
    return OcrBudget(limits.max_ocr_images, limits.max_ocr_pixels)


def read_text(data: bytes, format_: str | None, limits: ReadLimits, budget=None, file: str = "") -> Text:
    """The lines of one file's *data* in *format_* (None: the content decides), each marked with *file* (a bundle's
    member; "" for the report itself). *budget*: an :class:`~reportgen.grade.ocr.OcrBudget` to read images with."""
    format_ = _check_content(format_, data)
    if format_ == "notebook":
        from reportgen.grade.notebook import notebook_text

        text = notebook_text(data, limits, budget, file=file)
    elif format_ == "pdf":
        text = _pdf_text(data, limits, budget, file)
    else:
        if format_ == "docx":
            texts, images = docx_lines(data, max_xml_bytes=limits.max_bytes * 5, max_lines=limits.max_lines)
            texts, starts = conflicts.resolve(texts)
        else:
            decoded = _decode(data)
            if format_ == "html":
                texts, images = html_lines(conflicts.with_placeholders(decoded), max_depth=limits.max_depth,
                                           max_lines=limits.max_lines)
                texts, starts = conflicts.take_placeholders(texts)
            else:
                texts, starts = conflicts.resolve(_split_lines(decoded))
                images = _markdown_images(decoded) if format_ == "markdown" else 0
        text = Text(format_, [Line(t, 0, file=file) for t in texts], starts, images=images)
    if len(text.lines) > limits.max_lines:
        raise ReportReadError(too_many_lines(limits.max_lines))
    return text


def resolve_conflicts(lines: list[Line]) -> tuple[list[Line], list[int]]:
    """*lines* with each git merge-conflict block reduced to its first side (:func:`conflicts.resolve`), and the
    index of each block's opening line."""
    texts, starts = conflicts.resolve([line.text for line in lines])
    if not starts:
        return lines, []
    return [line if line.text == t else replace(line, text=t) for line, t in zip(lines, texts, strict=True)], starts


def format_from_suffix(path: Path) -> str | None:
    """The format the suffix names; None for no suffix (the content decides)."""
    suffix = path.suffix.lower()
    if not suffix:
        return None
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    supported = ", ".join([*SUFFIX_FORMATS, BUNDLE_SUFFIX])
    hint = "; save it as .docx or PDF" if suffix == ".doc" else ""
    raise ReportReadError(f"unsupported format {suffix!r} (supported: {supported}, a folder, or no suffix){hint}")


def read_bounded(path: Path, max_bytes: int) -> bytes:
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


def too_many_lines(max_lines: int) -> str:
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


def _pdf_text(data: bytes, limits: ReadLimits, budget, file: str) -> Text:
    """The PDF's lines with their pages, and the images on each page; with OCR (*budget*), the text of each page's
    images right after that page's lines."""
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
        lines: list[Line] = []
        images_per_page: dict[int, int] = {}
        failures: list[str] = []
        for number in range(1, page_count + 1):
            try:
                page = reader.pages[number - 1]
            except Exception as err:
                failures.append(f"page {number}: {_reason(err)}")
                images_per_page[number] = 0
                continue
            drawn = _drawn_images(page)
            images_per_page[number] = len(drawn)
            text = _page_text(page, number, failures)
            if text is not None:
                lines.extend(Line(t, 0, number, file=file) for t in _tidy_page(text))
            if budget is not None and drawn:
                seen = [lines[-1].text] if lines and lines[-1].page == number else []
                for image_text in _page_ocr(page, drawn, budget):
                    lines.extend(Line(t, 0, number, file=file) for t in _gap(seen))
                    lines.extend(Line(t, 0, number, "image", file) for t in image_text)
                    seen = image_text
            if len(lines) > limits.max_lines:
                raise ReportReadError(too_many_lines(limits.max_lines))
    if not any(line.text.strip() for line in lines):
        if failures:
            why = f" ({'; '.join(failures[:3])})"
        elif budget is None:
            why = " (a scanned PDF, with images of text only? --ocr reads them)"
        else:
            why = " (nor from its images, by OCR)"
        raise ReportReadError(f"no text could be read from the PDF{why}")
    lines, starts = resolve_conflicts(lines)
    return Text("pdf", lines, starts, pages=len(images_per_page), images_per_page=images_per_page,
                images=sum(images_per_page.values()))


def _gap(before: list[str]) -> list[str]:
    """A blank line to set an image's text apart from the text before it, unless there is one already."""
    return [""] if before and before[-1].strip() else []


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
    pads with many); a page set in two columns is read column by column."""
    lines: list[str] = []
    blanks = 0
    for raw in split_columns(_split_lines(text.replace("\x00", ""))):
        line = raw.rstrip()
        if line:
            if lines:
                lines.extend([""] * min(blanks, 2))
            lines.append(line)
            blanks = 0
        else:
            blanks += 1
    return lines


def _drawn_images(page) -> list:
    """The keys (in ``page.images``) of the images the page draws. pypdf lists the images in the page's resources,
    which some writers (WeasyPrint) share between all pages, so an image counts only if the page's content draws it
    (or it is inline)."""
    try:
        names = list(page.images.keys())
    except Exception:  # odd image dictionaries make pypdf raise; the page's text is still worth having
        return []
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:
        return names
    drawn = {_PDF_NAME_ESCAPE.sub(lambda esc: bytes.fromhex(esc.group(1).decode()), m.group(1)).decode("latin-1")
             for m in _DRAW.finditer(data)}
    return [name for name in names if not _top(name).startswith("/") or _top(name)[1:] in drawn]


def _top(name) -> str:
    return name if isinstance(name, str) else name[0]


def _page_ocr(page, drawn: list, budget) -> list[list[str]]:
    """The text lines of each image the page draws, read while the budget lasts. An image's size is looked up in its
    dictionary first, so that tiny and huge images are skipped without being decoded."""
    from reportgen.grade.ocr import MAX_IMAGE_PIXELS, MIN_PIXELS, MIN_SIDE

    out = []
    for name in drawn:
        if budget.images_left <= 0:
            break
        try:
            size = _declared_size(page, name)
            if size is not None:
                width, height = size
                if min(width, height) < MIN_SIDE or width * height < MIN_PIXELS or width * height > MAX_IMAGE_PIXELS:
                    continue
            image = page.images[name].image
        except Exception:  # an image pypdf cannot decode: the others are still read
            continue
        if image is not None and (found := budget.read(image)):
            out.append(found)
    return out


def _declared_size(page, name) -> tuple[int, int] | None:
    """The /Width and /Height an image XObject of the page's resources declares; None for inline and nested ones."""
    if not isinstance(name, str) or not name.startswith("/"):
        return None
    xobject = page["/Resources"]["/XObject"][name]
    return int(xobject["/Width"]), int(xobject["/Height"])


def _reason(err: BaseException) -> str:
    message = str(err).strip() or type(err).__name__
    return message if len(message) <= 200 else message[:197] + "..."

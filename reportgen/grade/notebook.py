"""Turn a Jupyter notebook (.ipynb) into report lines: what its author wrote and what its code printed.

Markdown cells are the report's text, as Markdown (``#`` headings stay headings). Code is not: ``lr = 0.001`` in a
cell's source is a setting being typed, not a result, so code cells' sources are skipped. Their outputs are results,
and arrive verbatim with ``source="output"``: printed text (stdout and stderr, as a terminal would show it after
carriage returns and backspaces), ``text/plain`` results (a numpy-printed confusion matrix keeps its spacing), and
HTML tables (a pandas DataFrame) as tab-separated rows. An image output leaves the line
``[image: output of cell N]`` (N counts the notebook's cells from 1), which the grader takes for a figure; with OCR
its text follows the cell's outputs, with ``source="image"``. Tracebacks are skipped.

The notebook is parsed by ``nbformat``, the Jupyter project's own reader (old formats are upgraded to version 4).
A notebook whose JSON git left with merge-conflict markers is read with the first side of each block.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import warnings

from reportgen.config.errors import ReportReadError
from reportgen.grade import conflicts
from reportgen.grade.markup import html_lines
from reportgen.grade.model import Line
from reportgen.grade.reading import ReadLimits, Text, resolve_conflicts, too_many_lines

IMAGE_TYPES = ("image/png", "image/jpeg")  # what OCR reads
COUNTED_IMAGE_TYPES = (*IMAGE_TYPES, "image/gif", "image/svg+xml")  # what counts as a figure
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_MARKDOWN_IMAGE = re.compile(r"!\[[^\[\]\n]*\][(\[]|<img\b", re.IGNORECASE)
_HTML_TABLE = re.compile(r"<table\b", re.IGNORECASE)


def notebook_text(data: bytes, limits: ReadLimits, budget=None, file: str = "") -> Text:
    """A notebook's lines (see the module's docstring) and its images; *budget* (OCR) reads their text."""
    notebook, blocks = _parse(data.decode("utf-8", errors="replace"))
    lines: list[Line] = []
    starts: list[int] = [0] * blocks  # conflicts in the notebook's JSON: located at its first line
    images = 0
    for number, cell in enumerate(_cells(notebook), start=1):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        if kind in ("markdown", "raw"):
            source = _text(cell.get("source"))
            cell_lines, cell_starts = resolve_conflicts([Line(t, 0, file=file) for t in _split(source)])
            images += len(_MARKDOWN_IMAGE.findall(source))
            image_texts = [_ocr(image, budget) for image in _attachments(cell)] if budget is not None else []
        elif kind == "code":
            cell_lines, found, image_texts = _outputs(cell.get("outputs"), number, limits, budget, file)
            cell_starts = []
            images += found
        else:
            continue
        for image_text in image_texts:
            if image_text:
                cell_lines.extend(Line(t, 0, file=file) for t in _gap(cell_lines))
                cell_lines.extend(Line(t, 0, source="image", file=file) for t in image_text)
        if not cell_lines:
            continue
        if lines and lines[-1].text.strip():
            lines.append(Line("", 0, file=file))  # a cell is a paragraph of its own
        starts.extend(len(lines) + i for i in cell_starts)
        lines.extend(cell_lines)
        if len(lines) > limits.max_lines:
            raise ReportReadError(too_many_lines(limits.max_lines))
    if blocks and not lines:
        starts = []
    return Text("notebook", lines, starts, images=images)


def _parse(text: str):
    """The notebook (version 4) and the number of merge-conflict blocks that had to be resolved to read it."""
    try:
        return _reads(text), 0
    except ReportReadError as err:
        kept, starts = conflicts.resolve(text.split("\n"))
        if not starts:
            raise
        try:
            return _reads("\n".join(kept)), len(starts)
        except ReportReadError:
            raise err from None


def _reads(text: str):
    """The notebook in format 4. Not validated against the schema: that takes seconds on a large notebook, and the
    cells are read defensively anyway (a student's slightly odd notebook is still read)."""
    import nbformat  # imported here: only notebooks need it

    logging.getLogger("nbformat").setLevel(logging.CRITICAL)  # it logs each schema complaint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notebook = nbformat.convert(nbformat.reader.reads(text), 4)
        except Exception as err:  # NotJSONError, NBFormatError, and plain errors on odd JSON
            raise ReportReadError(f"malformed notebook: {_reason(err)}") from None
    if not isinstance(notebook, dict):
        raise ReportReadError("malformed notebook: not a JSON object")
    return notebook


def _cells(notebook) -> list:
    cells = notebook.get("cells")
    return cells if isinstance(cells, list) else []


def _outputs(outputs, number: int, limits: ReadLimits, budget, file: str) -> tuple[list[Line], int, list]:
    """A code cell's output lines, its number of images and (with OCR) the text lines of each image."""
    lines: list[Line] = []
    images = 0
    image_texts: list[list[str]] = []
    for output in _merged_streams(outputs if isinstance(outputs, list) else []):
        kind = output.get("output_type")
        if kind == "stream":
            texts = _terminal_lines(_text(output.get("text")))
        elif kind in ("execute_result", "display_data"):
            bundle = output.get("data")
            bundle = bundle if isinstance(bundle, dict) else {}
            shown = [t for t in COUNTED_IMAGE_TYPES if t in bundle]
            if shown:
                images += 1
                texts = [f"[image: output of cell {number}]"]
                readable = next((t for t in IMAGE_TYPES if t in bundle), None)
                if budget is not None and readable is not None:
                    image_texts.append(_ocr(_decoded(bundle[readable]), budget))
            elif _HTML_TABLE.search(html := _text(bundle.get("text/html"))):
                texts, _ = html_lines(html, max_depth=limits.max_depth, max_lines=limits.max_lines)
            else:
                texts = _split(_text(bundle.get("text/plain")))
        else:
            continue  # errors (tracebacks) and unknown kinds
        lines.extend(Line(t.rstrip(), 0, source="output", file=file) for t in texts)
        if len(lines) > limits.max_lines:
            raise ReportReadError(too_many_lines(limits.max_lines))
    return lines, images, image_texts


def _merged_streams(outputs: list) -> list[dict]:
    """The outputs with consecutive chunks of one stream joined, as Jupyter shows them (a print may arrive in
    pieces that split a line)."""
    merged: list[dict] = []
    for output in outputs:
        if not isinstance(output, dict):
            continue
        if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            merged[-1] = {**merged[-1], "text": _text(merged[-1].get("text")) + _text(output.get("text"))}
        else:
            merged.append(output)
    return merged


def _terminal_lines(text: str) -> list[str]:
    """Printed text as a terminal shows it: colour codes gone, a carriage return writing over the start of its line
    (progress bars), a backspace erasing the character before it."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    out = []
    for line in text.split("\n"):
        if "\b" in line:
            kept: list[str] = []
            for char in line:
                if char == "\b":
                    if kept:
                        kept.pop()
                else:
                    kept.append(char)
            line = "".join(kept)
        if "\r" in line:
            shown = ""
            for piece in line.split("\r"):
                shown = piece + shown[len(piece):]
            line = shown
        out.append(line)
    if out and out[-1] == "":
        out.pop()
    return out


def _attachments(cell: dict) -> list[bytes]:
    """The images pasted into a Markdown cell, decoded."""
    attachments = cell.get("attachments")
    out = []
    for bundle in attachments.values() if isinstance(attachments, dict) else ():
        if isinstance(bundle, dict):
            readable = next((t for t in IMAGE_TYPES if t in bundle), None)
            if readable is not None:
                out.append(_decoded(bundle[readable]))
    return out


def _decoded(value) -> bytes:
    try:
        return base64.b64decode(_text(value).replace("\n", ""))
    except (binascii.Error, ValueError):
        return b""


def _ocr(data: bytes, budget) -> list[str]:
    return budget.read(data) if data else []


def _gap(before: list[Line]) -> list[str]:
    return [""] if before and before[-1].text.strip() else []


def _text(value) -> str:
    """A notebook string field: a string, or a list of strings (the JSON form nbformat usually joins)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str)).replace("\x00", "")
    return ""


def _split(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _reason(err: BaseException) -> str:
    message = " ".join(str(err).split()) or type(err).__name__
    return message if len(message) <= 200 else message[:197] + "..."

"""Text in a report's pictures, read with Tesseract (``reportgen grade --ocr``; opt-in).

Students paste screenshots of their notebooks: a printed accuracy, a ``classification_report``, a confusion matrix
as a table. Tesseract (through ``pytesseract``) reads them into lines that the grader treats like the report's own
text, marked ``source="image"`` (weaker evidence: OCR misreads).

Settings, measured on matplotlib-rendered images like those of tests/test_grade_ocr.py (a printed accuracy, a
``classification_report`` in a monospace font, a confusion matrix as a ruled table, each at 60-200 dpi): page
segmentation mode 6 ("a single uniform block of text") keeps each table row on one line, where modes 4 and 11 split
columns apart; ruling lines (table grids) are erased first, since Tesseract reads a ruled table as no text at all;
small images are enlarged (bicubic, which read better than Lanczos or bilinear) so that a line of text is about 40
pixels high; one Tesseract thread per image (2-4x faster than its default threads on small images). With these, 47 of
49 expected lines were read exactly (the misses: 10-point text at 72-80 dpi), at about 0.2 s an image. Not read: light
text on dark cells (a heatmap's annotations). Tiny images (icons) are skipped, and a report's images and pixels are
capped (:class:`OcrBudget`).
"""

from __future__ import annotations

import io
import os
import re
import shutil
from contextlib import contextmanager

from reportgen.config.errors import ReportgenError

INSTALL_HINT = "--ocr needs Tesseract: apt-get install tesseract-ocr and pip install 'reportgen[ocr]'"
CONFIG = "--psm 6"  # one uniform block of text: a table row stays one line
TIMEOUT_S = 30  # per image; a hostile image cannot hold grading up for longer
MIN_SIDE = 12  # pixels: narrower or lower images hold no legible line of text
MIN_PIXELS = 2_500  # ... and smaller ones are icons and bullets
MAX_IMAGE_PIXELS = 60_000_000  # larger images are refused before decoding (decompression bombs)
TARGET_LINE_HEIGHT = 40  # pixels per text line that Tesseract reads best (capitals about 30 pixels high)
MAX_SCALE = 4
MAX_SCALED_PIXELS = 12_000_000  # an image is shrunk to this before Tesseract reads it (time grows with pixels)
_WORD = re.compile(r"[A-Za-z0-9]")


class OcrUnavailableError(ReportgenError):
    """``--ocr`` was asked for, but Tesseract or pytesseract is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


def require_ocr() -> None:
    """Raise :class:`OcrUnavailableError` unless pytesseract imports and the tesseract program is on the PATH."""
    try:
        import pytesseract
    except ImportError:
        raise OcrUnavailableError() from None
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise OcrUnavailableError()


class OcrBudget:
    """What OCR may still spend on one report (a bundle's files included): images and pixels (after enlarging)."""

    def __init__(self, max_images: int, max_pixels: int) -> None:
        self.images_left = max_images
        self.pixels_left = max_pixels
        self.skipped = 0  # images over the budget

    def read(self, image) -> list[str]:
        """The text lines of ``image`` (encoded bytes, or a PIL image); [] for an image too small to hold text, one
        that cannot be decoded, or one over the budget."""
        from PIL import Image

        try:
            if isinstance(image, bytes | bytearray):
                image = Image.open(io.BytesIO(image))  # reads the header only: the size is known before decoding
            width, height = image.size
            if min(width, height) < MIN_SIDE or width * height < MIN_PIXELS:
                return []
            if width * height > MAX_IMAGE_PIXELS:
                return []
            if self.images_left <= 0:
                self.skipped += 1
                return []
            grey = _flatten(image)
        except Exception:  # a damaged or unsupported image: the report's text is still worth having
            return []
        grey = _prepare(grey)
        pixels = grey.width * grey.height
        if pixels > self.pixels_left:
            self.skipped += 1
            return []
        self.images_left -= 1
        self.pixels_left -= pixels
        return _tesseract(grey)


def _flatten(image):
    """The image in 8-bit grey, transparency composited onto white (a transparent PNG's text is black on nothing)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


def _prepare(grey):
    """White-on-dark turned dark-on-white, ruling lines erased, and the image scaled so a text line is about
    :data:`TARGET_LINE_HEIGHT` pixels high (Tesseract misreads small text and slows on huge images)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(grey)
    if pixels.mean() < 110:  # a dark background (a terminal screenshot, a dark notebook theme)
        pixels = 255 - pixels
    dark = pixels < 128
    rules = _rules(dark)
    if rules.any():
        pixels = pixels.copy()
        pixels[rules] = 255
        dark &= ~rules
    scale = _scale(dark)
    out = Image.fromarray(pixels)
    if scale != 1.0:
        size = (max(1, round(out.width * scale)), max(1, round(out.height * scale)))
        out = out.resize(size, Image.BICUBIC)  # read better than LANCZOS or BILINEAR on small rendered text
    return out


def _rules(dark):
    """The pixels of long horizontal and vertical lines (a table's grid, a box around text), grown by one pixel."""
    height, width = dark.shape
    mask = _long_runs(dark, max(40, width // 8)) | _long_runs(dark.T, max(40, height // 6)).T
    if not mask.any():
        return mask
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _long_runs(dark, min_length: int):
    """The pixels of each row's runs of dark pixels at least ``min_length`` long."""
    import numpy as np

    out = np.zeros_like(dark)
    candidates = np.flatnonzero(dark.sum(axis=1) >= min_length)
    for i in candidates:
        edges = np.diff(np.concatenate(([0], dark[i].astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        for start, end in zip(starts, ends, strict=True):
            if end - start >= min_length:
                out[i, start:end] = True
    return out


def _scale(dark) -> float:
    """How much to enlarge the image: the median height of its bands of inked rows (text lines) brought to
    :data:`TARGET_LINE_HEIGHT`, at most :data:`MAX_SCALE` times; 1 when it shows no such band. Only an image over
    :data:`MAX_SCALED_PIXELS` is shrunk."""
    import numpy as np

    inked = np.concatenate(([0], dark.any(axis=1).astype(np.int8), [0]))
    edges = np.diff(inked)
    heights = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    heights = heights[heights >= 4]
    scale = min(MAX_SCALE, TARGET_LINE_HEIGHT / float(np.median(heights))) if len(heights) else 1.0
    if scale < 1.3:
        scale = 1.0  # large enough: text is never shrunk, only an image over MAX_SCALED_PIXELS
    pixels = dark.shape[0] * dark.shape[1] * scale * scale
    return scale if pixels <= MAX_SCALED_PIXELS else (MAX_SCALED_PIXELS / (dark.shape[0] * dark.shape[1])) ** 0.5


@contextmanager
def _one_thread():
    """Tesseract's OpenMP threads make it 2-4x slower on small images; one per image, unless the user said."""
    if "OMP_THREAD_LIMIT" in os.environ:
        yield
        return
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def _tesseract(image) -> list[str]:
    import pytesseract

    try:
        with _one_thread():
            text = pytesseract.image_to_string(image, config=CONFIG, timeout=TIMEOUT_S)
    except Exception:  # a timeout, or Tesseract failing on one image: the others are still read
        return []
    return tidy(text)


def tidy(text: str) -> list[str]:
    """OCR output as lines: trailing spaces and the closing form feed gone, lines without a letter or digit (stray
    marks read from rules and icons) dropped, runs of blank lines made one."""
    lines: list[str] = []
    for raw in text.replace("\x0c", "").replace("\r", "").split("\n"):
        line = raw.rstrip()
        if line and not _WORD.search(line):
            continue
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines

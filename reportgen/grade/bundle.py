"""Bundles: a folder or a .zip graded as one submission (a report with the notebooks and figures behind it).

The main document is chosen by one rule, in order:

1. a PDF, DOCX, HTML or Markdown file whose name says "report" (``final_report.pdf``; not ``classification_report``);
2. else the files nearest the bundle's top (a .zip of a folder has that folder as its top);
3. among those, by format: PDF, DOCX, HTML, Markdown, notebook, plain text; then the largest.

Files that are never the main document: hidden ones, ``__MACOSX/``, ``requirements*.txt``, licences and the like.
The main document is read first; then the bundle's other notebooks (path order), then, with OCR, the text of its image
files: right after the line of a Markdown main document that shows the image (``![](figures/cm.png)``), else at the
end. Each of these lines has ``Line.file`` set to its file's path in the bundle; ``Document.files`` lists the files
read (main first). An appended file that cannot be read is left out. Images count in ``Document.images`` (those a
Markdown main document shows are counted once), except in folders holding more than :data:`DATA_FOLDER_IMAGES` images,
which are data (a dataset), not figures.

Zips are read in memory, never extracted: member paths that are absolute or climb out with ``..`` and encrypted
members make the archive refused; the files read are bounded in size one by one and together, in count, and in
compression ratio (zip bombs); zips inside the zip are not opened. In a folder, symbolic links are not followed.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from reportgen.config.errors import ReportReadError
from reportgen.grade.model import Document, Line
from reportgen.grade.reading import (
    SUFFIX_FORMATS,
    ReadLimits,
    Text,
    format_from_suffix,
    read_bounded,
    read_text,
    too_many_lines,
)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})
FORMAT_RANK = {"pdf": 0, "docx": 1, "html": 2, "markdown": 3, "notebook": 4, "text": 5}
NAMED_FORMATS = ("pdf", "docx", "html", "markdown")  # formats in which a file named "report" is the report
DATA_FOLDER_IMAGES = 100  # a folder with more images than this holds data, not figures
MAX_DEPTH = 12  # folders deeper than this in a bundle are not looked into
SKIPPED_FOLDERS = frozenset({"__macosx", "__pycache__", "node_modules", "site-packages"})
_NOT_REPORTS = re.compile(r"^(requirements|constraints|licen[cs]e|copying|notice|changelog|authors|contributing)\b",
                          re.IGNORECASE)
_REPORT_NAME = re.compile(r"report", re.IGNORECASE)
_NOT_REPORT_NAME = re.compile(r"classification", re.IGNORECASE)
_BOMB_MIN_BYTES = 1_000_000  # smaller members may compress as well as they like (text does, 10-50x)
# What a Markdown line shows: ![alt](path "title") and <img src="path">.
_SHOWN = re.compile(r"!\[[^\[\]\n]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


@dataclass
class Member:
    """A file of a bundle: its path inside the bundle (with "/"), its size (as the zip declares it) and how to read
    it (at most ``n`` bytes, and one more to tell that there was more)."""

    path: str
    size: int
    read: Callable[[int], bytes]
    packed: int = 0  # its compressed size in a zip

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1].lower()

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.path)


def read_bundle(path: Path, limits: ReadLimits, budget=None) -> Document:
    """The bundle at *path* (a folder or a .zip) read as one report; see the module's docstring."""
    path = Path(path)
    if path.is_dir():
        members = folder_members(path, limits)
    else:
        members = _zip_members(path, limits)
    main = choose_main(members)
    if main is None:
        kinds = ", ".join(SUFFIX_FORMATS)
        raise ReportReadError(f"no report in the bundle (looked for {kinds} files)")
    reader = _Reader(limits)
    try:
        text = read_text(reader.read(main), format_from_suffix(Path(main.name)), limits, budget)
    except ReportReadError as err:
        raise ReportReadError(f"{main.path}: {err.message}") from None
    files = [main.path]
    parts: list[Text] = []
    for member in sorted((m for m in members if m.suffix == ".ipynb" and m is not main), key=lambda m: m.path):
        try:
            parts.append(read_text(reader.read(member), "notebook", limits, budget, file=member.path))
        except ReportReadError:
            continue  # a scratch notebook that cannot be read does not sink the report
        files.append(member.path)
    figures = _figures(members)
    shows = _shown(text, main) if text.format == "markdown" else {}
    images = text.images + sum(p.images for p in parts) + sum(1 for m in figures if m.path not in shows)
    placed: dict[int, list[Line]] = {}
    loose: list[Line] = []
    for member in figures if budget is not None else ():
        try:
            found = budget.read(reader.read(member))
        except ReportReadError:
            continue
        files.append(member.path)
        if found:
            image_lines = [Line(t, 0, source="image", file=member.path) for t in found]
            if member.path in shows:
                placed.setdefault(shows[member.path], []).extend([Line("", 0, file=member.path), *image_lines])
            else:
                loose.extend([Line("", 0, file=member.path), *image_lines])
    joined = _join(text, placed, parts, loose)
    if len(joined.lines) > limits.max_lines:
        raise ReportReadError(too_many_lines(limits.max_lines))
    joined.images = images
    return joined.document(path.name, files)


def _join(main: Text, placed: dict[int, list[Line]], parts: list[Text], loose: list[Line]) -> Text:
    """The main document's lines with image text placed after the lines that show them, then each part's lines and
    the other image text; conflict indices follow their lines."""
    lines: list[Line] = []
    moved: dict[int, int] = {}
    for i, line in enumerate(main.lines):
        moved[i] = len(lines)
        lines.append(line)
        lines.extend(placed.get(i, ()))
    starts = [moved[i] for i in main.conflicts]
    for part in parts:
        if not part.lines:
            continue
        lines.append(Line("", 0, file=part.lines[0].file))
        starts.extend(len(lines) + i for i in part.conflicts)
        lines.extend(part.lines)
    lines.extend(loose)
    return Text(main.format, lines, starts, pages=main.pages, images_per_page=main.images_per_page)


def choose_main(members: list[Member]) -> Member | None:
    """The bundle's main document (the rule is in the module's docstring); None when it holds none."""
    candidates = [m for m in members if is_document(m.path)]
    if not candidates:
        return None

    def key(m: Member):
        fmt = SUFFIX_FORMATS[m.suffix]
        named = fmt in NAMED_FORMATS and _REPORT_NAME.search(m.name) and not _NOT_REPORT_NAME.search(m.name)
        return (0 if named else 1, m.path.count("/"), FORMAT_RANK[fmt], -m.size, m.path)

    return min(candidates, key=key)


def is_document(path: str) -> bool:
    """Whether the file at *path* (in a bundle or a folder) may be a report: a report format, not hidden, not a
    requirements file or licence, not in a folder that is skipped."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    suffix = posixpath.splitext(name)[1].lower()
    return suffix in SUFFIX_FORMATS and not _NOT_REPORTS.match(name) and not _hidden(parts)


def _hidden(parts: list[str]) -> bool:
    return any(p.startswith(".") or p.lower() in SKIPPED_FOLDERS for p in parts)


def _figures(members: list[Member]) -> list[Member]:
    """The bundle's image files that are figures: not hidden, not in a folder of data."""
    images = [m for m in members if m.suffix in IMAGE_SUFFIXES and not _hidden(m.path.split("/"))]
    per_folder: dict[str, int] = {}
    for m in images:
        per_folder[m.folder] = per_folder.get(m.folder, 0) + 1
    return sorted((m for m in images if per_folder[m.folder] <= DATA_FOLDER_IMAGES), key=lambda m: m.path)


def _shown(text: Text, main: Member) -> dict[str, int]:
    """Bundle paths of the images a Markdown main document shows -> the index of the first line showing each."""
    out: dict[str, int] = {}
    for i, line in enumerate(text.lines):
        if "![" not in line.text and "<img" not in line.text.lower():
            continue
        for m in _SHOWN.finditer(line.text):
            target = unquote(m.group(1) or m.group(2)).split("#")[0].split("?")[0]
            if "://" in target or target.startswith(("data:", "/")):
                continue
            out.setdefault(posixpath.normpath(posixpath.join(main.folder, target)), i)
    return out


class _Reader:
    """Reads members, holding them to ``max_bytes`` each and the bundle's bytes together."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.left = limits.bundle_bytes

    def read(self, member: Member) -> bytes:
        limit = self.limits.max_bytes
        if member.size > limit:
            raise ReportReadError(f"{_mb(member.size)} MB, over the {_mb(limit)} MB limit (--max-mb)")
        if member.size > self.left:
            raise ReportReadError(f"the bundle's files add up to over {_mb(self.limits.bundle_bytes)} MB "
                                  "(5 x --max-mb)")
        data = member.read(min(limit, self.left))
        if len(data) > min(limit, self.left) or len(data) > member.size:
            raise ReportReadError("inflates past its declared size; refusing a possible zip bomb")
        self.left -= len(data)
        return data


def _mb(size: int) -> str:
    return f"{size / 1e6:.3g}"


def _zip_members(path: Path, limits: ReadLimits) -> list[Member]:
    size = path.stat().st_size if path.is_file() else 0
    if size > limits.bundle_bytes:
        raise ReportReadError(f"the .zip is {_mb(size)} MB, over the bundle limit of {_mb(limits.bundle_bytes)} MB "
                              "(5 x --max-mb)")
    data = read_bounded(path, limits.bundle_bytes)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as err:  # BadZipFile, a damaged central directory, ...
        raise ReportReadError(f"not a readable zip archive: {err}") from None
    if len(infos) > limits.max_members:
        raise ReportReadError(f"{len(infos):,} files in the archive, over the {limits.max_members:,}-file limit")
    members = []
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise ReportReadError(f"unsafe path {name!r} in the archive (absolute, or climbing out with '..'); "
                                  "refusing it")
        if info.flag_bits & 0x1:
            raise ReportReadError(f"{name}: encrypted in the archive; ask for an archive without a password")
        if info.is_dir():
            continue
        members.append(Member("/".join(p for p in parts if p not in ("", ".")), info.file_size,
                              _zip_reader(archive, info, limits.max_zip_ratio), info.compress_size))
    return members


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_ratio: int) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        if info.file_size > _BOMB_MIN_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ReportReadError(f"inflates {info.file_size / max(info.compress_size, 1):,.0f} times in the archive "
                                  f"(over {max_ratio}x); refusing a possible zip bomb")
        try:
            with archive.open(info) as member:
                data = member.read(limit + 1)  # the size in the header can lie
        except Exception as err:  # an unsupported compression, a damaged deflate stream, a bad CRC, ...
            raise ReportReadError(f"unreadable in the archive: {err}") from None
        if len(data) > _BOMB_MIN_BYTES and len(data) > max_ratio * max(info.compress_size, 1):
            raise ReportReadError(f"inflates over {max_ratio}x in the archive; refusing a possible zip bomb")
        return data

    return read


def folder_members(folder: Path, limits: ReadLimits) -> list[Member]:
    """The files under *folder*, hidden ones and symbolic links left out, at most ``max_members``."""
    members: list[Member] = []
    pending = [(folder, "", 0)]
    while pending:
        current, prefix, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as err:
            raise ReportReadError(f"cannot read the folder {prefix or '.'}: {err.strerror or err}") from None
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            relative = f"{prefix}{entry.name}"
            if entry.is_dir():
                if depth < MAX_DEPTH and entry.name.lower() not in SKIPPED_FOLDERS:
                    pending.append((Path(entry.path), relative + "/", depth + 1))
            elif entry.is_file():
                if len(members) >= limits.max_members:
                    raise ReportReadError(f"more than {limits.max_members:,} files in the folder, over the limit")
                members.append(Member(relative, entry.stat().st_size, _file_reader(Path(entry.path))))
    return members


def _file_reader(path: Path) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        return read_bounded(path, limit)

    return read


def is_submission_folder(folder: Path, limits: ReadLimits | None = None) -> bool:
    """Whether a folder named on the command line is one student's submission (a bundle) rather than a class
    folder: it holds exactly one report document directly (or several that share a name: ``report.pdf`` and
    ``report.docx``; notebooks count only when it holds no other document), no .zip files, and none of its
    sub-folders holds a report document (notebooks included, when they are what it holds)."""
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".") and not e.is_symlink()]
    except OSError:
        return False
    files = [e.name for e in entries if e.is_file()]
    if any(name.lower().endswith(".zip") for name in files):
        return False
    documents = [name for name in files if is_document(name)]
    written = [name for name in documents if not name.lower().endswith(".ipynb")]
    chosen = written or documents
    if len({posixpath.splitext(name)[0].lower() for name in chosen}) != 1:
        return False
    notebooks_count = not written
    for entry in entries:
        if entry.is_dir() and entry.name.lower() not in SKIPPED_FOLDERS:
            try:
                inside = folder_members(Path(entry.path), limits or ReadLimits())
            except ReportReadError:
                return False
            if any(is_document(m.path) and (notebooks_count or m.suffix != ".ipynb") for m in inside):
                return False
    return True

"""Pages set in two columns (LaTeX's ``twocolumn``, conference templates): read the left column, then the right.

A PDF's layout text puts both columns on each line, separated by the gutter, so a sentence of the left column
would run into the right one and a heading in the right column would not start a line. A page is taken as two
columns when most of its lines have running words on both sides of one band of blank columns (the gutter) and
almost none cross it; a single-column page fails that test on its first paragraph, whose lines cross every band,
and a table is no column of prose (its cells are separated by wide gaps).
"""

from __future__ import annotations

import re

MIN_TWO_SIDED = 0.5  # share of a page's lines with text on both sides of the gutter
MIN_STRADDLING = 0.15  # share of a page's lines with running words on both sides of it
MAX_CROSSING = 0.1  # share of a page's lines whose text crosses it (a title across both columns)
MIN_LINES = 12  # a page with fewer text lines is not split
GUTTER = 2  # blank columns the gutter needs at least


def split_columns(lines: list[str]) -> list[str]:
    """``lines`` (one page's layout text), the left column's lines first when the page is set in two columns."""
    text_lines = [line for line in lines if line.strip()]
    if len(text_lines) < MIN_LINES:
        return lines
    gutter = _gutter(text_lines)
    if gutter is None:
        return lines
    left, right = [], []
    # The title block across the page (its lines cross the gutter, or stand between lines that do) stays whole.
    first_column_line = next(k for k, line in enumerate(lines) if line[:gutter].strip() and line[gutter:].strip()
                             and not _crosses(line, gutter))
    header = max((k for k in range(first_column_line) if _crosses(lines[k], gutter)), default=-1)
    left.extend(lines[:header + 1])
    for line in lines[header + 1:]:
        if _crosses(line, gutter):
            left.append(line)  # a title or a wide table over both columns: where it stands, with the left column
            continue
        left.append(line[:gutter].rstrip())
        right.append(line[gutter:].rstrip())
    indent = min((len(r) - len(r.lstrip()) for r in right if r.strip()), default=0)
    right = [r[indent:] for r in right]
    return _trim(left) + [""] + _trim(right)


def _gutter(text_lines: list[str]) -> int | None:
    """The column where the gutter starts, or None."""
    width = max(len(line) for line in text_lines)
    best, best_count = None, 0
    for x in range(width // 4, 3 * width // 4):
        crossing, two_sided, prose = [], [], 0
        for k, line in enumerate(text_lines):
            if _crosses(line, x):
                crossing.append(k)
            elif line[:x].strip() and line[x + GUTTER:].strip():
                two_sided.append(k)
                prose += _prose(line[:x]) and _prose(line[x + GUTTER:])
        if not two_sided:
            continue
        # A title and abstract across the page above the columns, and a page number below them, cross any gutter.
        inside = [k for k in crossing if two_sided[0] < k < two_sided[-1]]
        # Both columns hold tables and captions as well as prose, but some lines must be prose on both sides:
        # a single-column table with a blank band between its cells has none.
        if len(inside) <= MAX_CROSSING * len(text_lines) and len(two_sided) >= MIN_TWO_SIDED * len(text_lines) \
                and prose >= MIN_STRADDLING * len(text_lines) and len(two_sided) > best_count:
            best, best_count = x, len(two_sided)
    return best


def _prose(part: str) -> bool:
    """A column's piece of a line: running words, not the cells of a table (no wide gaps inside)."""
    text = part.strip()
    words = len(re.findall(r"[A-Za-z]{2,}", text))
    if words < 2 or re.search(r"\S\s{6,}\S", text):
        return False
    # Justified text spreads its words ("Unless   stated   otherwise   we   train"); a table row has few words
    # between its wide gaps, and numbers.
    wide = len(re.findall(r"\S\s{3,}\S", text))
    return not wide or words >= 2 * wide and words >= 4


def _crosses(line: str, x: int) -> bool:
    """Whether text runs through columns ``x`` .. ``x + GUTTER`` of the line."""
    band = line[x:x + GUTTER]
    return bool(band.strip()) and len(line) > x


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines

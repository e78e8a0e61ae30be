"""Turn an HTML report into text lines shaped like the Markdown ones: headings as ``#`` lines, table rows as
tab-separated cells, one line per paragraph.

The parser is event-based (no recursion on the document's nesting), the text is defused first so that the parser
works in linear time, and reading stops once the text passes ``max_lines``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from reportgen.config.errors import ReportReadError

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
_WHOLE_BOLD = re.compile(r"(?:\d+\.\s|-\s)?\*\*(?:(?!\*\*).)+\*\*:?")


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
        self._lists: list[list] = []  # open lists: ["ol", last number] or ["ul", 0], innermost last
        self._rowspans: dict[int, tuple[str, int]] = {}  # column -> (text, rows still to fill) of cells spanning rows
        self._span = (1, 1)  # the open cell's colspan and rowspan
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
            values = dict(attrs)
            self._span = (min(_int(values.get("colspan"), 1), 50), min(_int(values.get("rowspan"), 1), 500))
        elif tag in ("tr", "table"):
            self._end_row()
            self._break()
            self._row = [] if tag == "tr" else None
            if tag == "table":
                self._rowspans = {}
        elif tag == "pre":
            self._break()
            self._pre += 1
        elif tag in ("ol", "ul"):
            self._break()
            start = _int(dict(attrs).get("start"), 1) if tag == "ol" else 1
            self._lists.append([tag, start - 1])
        elif tag == "li":
            self._break()
            # The item's number or bullet, as a reader sees it: "3. Compare ..." is question 3's marker.
            if self._lists and self._lists[-1][0] == "ol":
                self._lists[-1][1] = _int(dict(attrs).get("value"), self._lists[-1][1] + 1)
                self._parts.append(f"{self._lists[-1][1]}. ")
            elif self._lists:
                self._parts.append("- ")
        elif tag in ("b", "strong") and self._cell is None and not self._heading:
            self._parts.append("**")
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
            if tag == "table" and self.lines and self.lines[-1]:
                self._emit("")  # a table ends: the next one's rows are not its rows
        elif self._cell is not None:
            self._add(" ")
        elif tag in ("b", "strong") and not self._heading:
            self._parts.append("**")
        elif tag in ("ol", "ul"):
            self._break()
            if self._lists:
                self._lists.pop()
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
        if "**" in text and not _WHOLE_BOLD.fullmatch(text):
            text = " ".join(text.replace("**", "").split())  # bold inside a line is emphasis; a bold line a heading
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
        self._fill_spanned()
        self._cell = []
        self._span = (1, 1)

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).split())
            columns, rows = getattr(self, "_span", (1, 1))
            for k in range(max(columns, 1)):
                column = len(self._row)
                # A cell spanning columns leaves the ones it covers empty (the header's group fills them in); a
                # cell spanning rows stands in the rows below too, where their cells would be.
                self._row.append(text if k == 0 else "")
                if rows > 1:
                    self._rowspans[column] = (text if k == 0 else "", rows - 1)
        self._cell = None

    def _fill_spanned(self) -> None:
        """The cells of rows above that span down into this row, at their columns."""
        while self._row is not None and len(self._row) in self._rowspans:
            column = len(self._row)
            text, left = self._rowspans.pop(column)
            self._row.append(text)
            if left > 1:
                self._rowspans[column] = (text, left - 1)
        self._inner_tables = 0

    def _end_row(self) -> None:
        self._end_cell()
        if self._row:
            self._fill_spanned()
        row, self._row = self._row, None
        if row and any(row):
            self._break()
            self._emit("\t".join(row))

    def _emit(self, text: str) -> None:
        self.lines.append(text)
        if len(self.lines) > self._max_lines:
            raise _TooManyLines


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def html_lines(text: str, *, max_depth: int, max_lines: int) -> tuple[list[str], int]:
    """An HTML document's text lines and its number of images (``<img>`` and inline ``<svg>``)."""
    parser = _HtmlText(max_depth=max_depth, max_lines=max_lines)
    try:
        parser.feed(_defuse(text))
        parser.finish()
    except _TooManyLines:
        return parser.lines, parser.images  # the caller reports the lines over the limit
    except Exception as err:  # HTMLParser is lenient; this guards against its rare internal failures
        raise ReportReadError(f"unreadable HTML: {err}") from None
    return parser.lines, parser.images


_MARKUP_START = re.compile(r"<[A-Za-z/!?]")
_COMMENT_END = re.compile(r"--\s*>")  # as HTMLParser ends a comment
_RAW_TEXT_END = {name: re.compile(rf"</\s*{name}\s*>", re.IGNORECASE) for name in ("script", "style")}
# A start or end tag whose quoted values all close before its '>' (possessive: no backtracking).
_QUOTED_TAG = re.compile(r"""</?[A-Za-z][^\s/>]*+(?:[\s/]++(?:[^\s/>="']++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'"""
                         r"""|[^\s>"']*+))?+)?+)*+>""")


def _defuse(html: str) -> str:
    """The HTML with each '<' that HTMLParser would scan far from made text ('&lt;'), in one pass.

    Python 3.11's HTMLParser rescans from every unfinished construct ("<a <a <a ...", an unclosed quote or
    comment) to the end of the text: quadratic, minutes for a hostile file of a few hundred KB. Here every
    markup '<' kept has its '>' (or its comment's end) before the next markup '<'; "<![...]>" sections, which
    HTML ignores, are dropped.
    """
    out: list[str] = []
    i, n = 0, len(html)
    next_gt = next_start = -1  # where the next '>' / markup '<' is: n when there is none; found once each
    comment_ends = True  # False once a search for a comment's end has failed: later ones would too
    while (start := _MARKUP_START.search(html, i)) is not None:
        j = start.start()
        out.append(html[i:j])
        if html.startswith("<!--", j) and comment_ends:
            end = _COMMENT_END.search(html, j + 4)
            if end is not None:
                out.append(html[j:end.end()])
                i = end.end()
                continue
            comment_ends = False
        if next_gt < j:
            next_gt = html.find(">", j)
            next_gt = n if next_gt < 0 else next_gt
        if next_start <= j:
            found = _MARKUP_START.search(html, j + 1)
            next_start = found.start() if found else n
        tag = html[j:next_gt + 1]
        if next_gt == n or next_start < next_gt or html.startswith("<!--", j) or (
                tag[1] not in "!?" and ('"' in tag or "'" in tag) and not _QUOTED_TAG.fullmatch(tag)):
            out.append("&lt;")
            i = j + 1
            continue
        i = next_gt + 1
        if not html.startswith("<![", j):
            out.append(tag)
        name = re.match(r"<([A-Za-z]+)", tag)
        raw_end = _RAW_TEXT_END.get(name.group(1).lower()) if name and not tag.endswith("/>") else None
        if raw_end is not None:  # script and style text runs to its end tag: none of its '<' is markup
            end = raw_end.search(html, i)
            stop = end.start() if end else n
            out.append(html[i:stop].replace("<", "&lt;"))
            i = stop
    out.append(html[i:])
    return "".join(out)

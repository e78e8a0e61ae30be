"""Git merge-conflict markers left in a report: keep one side, once.

A student who merges a teammate's branch and commits the result unresolved hands in both versions of a passage::

    <<<<<<< HEAD
    Test accuracy: 0.95          <- "ours": kept
    ||||||| base                 <- diff3's common ancestor (optional): dropped
    Test accuracy: 0.90
    =======
    Test accuracy: 0.91          <- "theirs": dropped
    >>>>>>> teammate

Only a complete block counts: an opening ``<<<<<<<`` line, then a ``=======`` line, then a ``>>>>>>>`` line, in that
order (git writes exactly seven marker characters). A ``=======`` under a setext heading or in a text table, with no
opening marker before it, is left alone. The marker lines and the dropped sides become empty lines, so line numbers
stay where they were and nothing is read twice.
"""

from __future__ import annotations

import re

# Leading spaces are allowed: PDF layout text indents whatever it reads. Exactly seven marker characters, then the
# end of the line or a space and a label ("HEAD", a branch, a commit).
OURS = re.compile(r"^[ \t]*<{7}(?:[ \t].*)?$")
BASE = re.compile(r"^[ \t]*\|{7}(?:[ \t].*)?$")
SEPARATOR = re.compile(r"^[ \t]*={7}[ \t]*$")
THEIRS = re.compile(r"^[ \t]*>{7}(?:[ \t].*)?$")

# What stands in for an opening marker in formats whose text is parsed before it becomes lines (HTML): the parser
# keeps it as text, and ``take_placeholders`` finds it among the lines afterwards. Private-use characters, which
# no report writes.
PLACEHOLDER = "\ue000reportgen-conflict\ue000"


def resolve(lines: list[str]) -> tuple[list[str], list[int]]:
    """``lines`` with each complete conflict block reduced to its first side, and the index of each block's opening
    line. One pass: an opening marker inside an unfinished block starts the block afresh (the earlier one was not
    a block), and a block left open at the end is no block."""
    out = list(lines)
    starts: list[int] = []
    start = base = separator = -1
    for i, line in enumerate(lines):
        if line.lstrip(" \t")[:1] not in ("<", "|", "=", ">"):
            continue  # most lines: no marker
        if OURS.match(line):
            start, base, separator = i, -1, -1
        elif start < 0:
            continue
        elif BASE.match(line) and base < 0 and separator < 0:
            base = i
        elif SEPARATOR.match(line) and separator < 0:
            separator = i
        elif THEIRS.match(line) and separator >= 0:
            out[start] = ""
            for j in range(base if base >= 0 else separator, i + 1):
                out[j] = ""
            starts.append(start)
            start = base = separator = -1
    return out, starts


def with_placeholders(text: str) -> str:
    """``text`` (HTML source) with each conflict block reduced to its first side and its opening line replaced by a
    block of its own holding :data:`PLACEHOLDER`, for :func:`take_placeholders` to find in the parsed lines."""
    lines = text.split("\n")
    kept, starts = resolve(lines)
    if not starts:
        return text
    for i in starts:
        kept[i] = f"<div>{PLACEHOLDER}</div>"
    return "\n".join(kept)


def take_placeholders(lines: list[str]) -> tuple[list[str], list[int]]:
    """The parsed lines without the placeholders, and the index of the line where each one was. A line that was
    only a placeholder becomes empty (it stands for the opening marker); one that held text as well keeps it."""
    out = list(lines)
    starts: list[int] = []
    for i, line in enumerate(lines):
        if PLACEHOLDER in line:
            starts.extend([i] * line.count(PLACEHOLDER))
            rest = line.replace(PLACEHOLDER, "")
            out[i] = rest if rest.strip() else ""
    return out, starts

"""CONFLICT_MARKERS: the report holds git merge-conflict blocks (``<<<<<<<`` / ``=======`` / ``>>>>>>>``).

Reading kept the first side of each block ("ours") and dropped the others (:mod:`reportgen.grade.conflicts`), so no
number is read twice; the flag tells the grader that the hand-in was never resolved, and where.
"""

from __future__ import annotations

from reportgen.grade.checks import Findings, check, flag
from reportgen.grade.model import Flag

MAX_LISTED = 5  # locations named in the message


@check("CONFLICT_MARKERS", "The report holds unresolved git merge-conflict blocks (<<<<<<< / ======= / >>>>>>>); "
                           "the first side of each was read, the other ignored.")
def conflict_markers(f: Findings) -> list[Flag]:
    found = f.doc.conflicts
    if not found:
        return []
    where = ", ".join(str(location) for location in found[:MAX_LISTED])
    more = f" and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    blocks = f"{len(found)} merge-conflict block{'s' if len(found) > 1 else ''}"
    message = (f"{blocks} (git's <<<<<<< / ======= / >>>>>>> markers) at {where}{more}: the first side "
               "(\"ours\") of each was read and the other side ignored")
    return [flag("CONFLICT_MARKERS", "info", message, _first_kept(f, found[0].line), found[0].line, str(found[0]))]


def _first_kept(f: Findings, line: int) -> str:
    """The first line of text kept after a block's opening marker: what was read."""
    for following in f.doc.lines[line:line + 50]:
        if following.text.strip():
            return f"first side kept: {following.text.strip()}"
    return ""

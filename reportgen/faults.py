"""Fault injection for the reliability tests.

``REPORTGEN_KILL_AT=point[@detail][:n]`` makes the process SIGKILL itself the n-th time (default the 1st) it
reaches ``checkpoint(point, detail)``; ``REPORTGEN_RAISE_AT`` (same form) raises a RuntimeError there instead.
A real SIGKILL at a chosen moment, not a simulated exception: nothing after it runs (no ``finally``, no atexit),
exactly what a killed job or a pulled plug leaves behind. Unset (always, outside tests), a checkpoint costs two
dictionary lookups.
"""

from __future__ import annotations

import os
import signal

_SEEN: dict[tuple[str, str], int] = {}


def checkpoint(point: str, detail: str = "") -> None:
    for variable in ("REPORTGEN_KILL_AT", "REPORTGEN_RAISE_AT"):
        target = os.environ.get(variable)
        if not target or not _reached(target, point, detail, variable):
            continue
        if variable == "REPORTGEN_KILL_AT":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError(f"fault injected at {point}" + (f"@{detail}" if detail else ""))


def _reached(target: str, point: str, detail: str, variable: str) -> bool:
    where, _, nth = target.partition(":")
    name, _, wanted = where.partition("@")
    if name != point or (wanted and wanted != detail):
        return False
    _SEEN[variable, where] = _SEEN.get((variable, where), 0) + 1
    return _SEEN[variable, where] == int(nth or 1)

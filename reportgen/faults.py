"""Fault injection for the kill-and-resume tests: ``REPORTGEN_KILL_AT=point[:n]`` makes the process SIGKILL itself
the n-th time (default 1st) it reaches ``checkpoint(point)``.

A real SIGKILL at a chosen moment, not a simulated exception: nothing after it runs (no ``finally``, no atexit),
exactly what a killed job or a pulled plug leaves behind. Unset (always, outside tests), a checkpoint costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_SEEN: dict[str, int] = {}


def checkpoint(point: str) -> None:
    target = os.environ.get("REPORTGEN_KILL_AT")
    if not target:
        return
    name, _, nth = target.partition(":")
    if name != point:
        return
    _SEEN[point] = _SEEN.get(point, 0) + 1
    if _SEEN[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)

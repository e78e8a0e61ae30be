"""Atomic file writing, shared by every stage that writes (build, render, grade): readers never see half a file.

Each write goes to a temporary file in the target's folder and is renamed onto the target (``os.replace`` is atomic
on POSIX and Windows), so an interrupted build or grade leaves the previous file or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def save_atomic(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and rename the result onto ``path``: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a report is as readable as any file the user writes
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_json_atomic(path: Path, data: Any) -> Path:
    """JSON with NaN and infinities written as ``null`` (strict JSON readers reject them)."""
    # Compact: section results hold pixel and weight arrays, which one-value-per-line would bloat several-fold.
    text = json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, default=_json_default)
    return save_atomic(path, lambda tmp: Path(tmp).write_text(text))


def _finite(value):
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"not JSON-able: {type(value).__name__}")

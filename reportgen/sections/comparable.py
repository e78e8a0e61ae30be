"""Which numbers may be ranked against each other: like with like.

Two accuracies compare only when they are measured on the same test images; two training times only when they were
measured on the same setup (device, CPU threads, trainings at once). And a one-factor sweep that changes what another
setting means — the optimizer at the baseline's learning rate — measures the pair, not the factor: the text names
that confound instead of ranking the factor.
"""

from __future__ import annotations

import hashlib
from typing import Any

#: factor -> (the setting it is confounded with in a one-factor sweep, why)
CONFOUNDED: dict[str, tuple[str, str]] = {
    "optimizer": ("lr", "each optimizer has its own good learning rate (SGD typically needs one several times "
                        "larger than Adam's), so one shared rate favours whichever optimizer it suits"),
}


def test_set_id(group) -> str | None:
    """A short content hash of the test images and labels a run group is scored on (``None`` if unknown)."""
    data = getattr(group, "data", None)
    if data is None:
        results = getattr(group, "results", [])
        return f"n={len(results[0].test_true)}" if results else None
    h = hashlib.sha1(usedforsecurity=False)
    h.update(data.test.y.numpy().tobytes())
    h.update(data.test.x.numpy().tobytes())
    return h.hexdigest()[:12]


def shared_test_set(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    """``(comparable, why not)``: whether the finished rows were all scored on one test set."""
    ids = {r.get("test_set") for r in rows}
    if len(ids) <= 1:
        return True, ""
    sizes = " / ".join(dict.fromkeys(f"{r['test_size']:,}" for r in rows if r.get("test_size")))
    return False, f"each value is scored on its own test set ({sizes} images), so their accuracies do not compare"


def confound(factor: str, baseline_value: Any) -> str:
    """Why a one-factor sweep of ``factor`` does not measure the factor alone ("" when it does)."""
    if factor not in CONFOUNDED:
        return ""
    other, why = CONFOUNDED[factor]
    return (f"every {factor} runs at the baseline's {other} ({baseline_value}); {why}. The sweep compares "
            f"{factor}s at that one {other}, not {factor}s as such")

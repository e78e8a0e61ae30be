"""Manifest option types shared by dataset kinds (torch-free: the manifest loader checks options against them).

The kinds annotate their parameters with these aliases; :mod:`reportgen.config.params` reads the bounds from the
``Annotated`` extras.
"""

from __future__ import annotations

from typing import Annotated, Literal

from reportgen.config.errors import DataError
from reportgen.config.params import Length, Range, SumsTo

#: ``split = [train, val, test]`` fractions: each in (0, 1], adding up to 1.
Fractions = Annotated[list[float], Length(3, "[train, val, test]"), Range(0, 1, open_low=True), SumsTo(1.0)]
#: ``class_caps = {"3" = 50}``: keep at most 50 samples of class "3" (per split it is applied to).
Caps = dict[str, Annotated[int, Range(1)]] | None
#: Which splits ``class_caps`` applies to: the training split only, or each of train, val and test.
CapsApplyTo = Literal["train", "all"]


def check_fractions(split: tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """``split`` as a ``(train, val, test)`` triple; the manifest check cannot count list items, so we do."""
    if len(split) != 3:
        raise DataError(f"split: expected 3 fractions [train, val, test], got {len(split)}: {list(split)}")
    train, val, test = (float(f) for f in split)
    return train, val, test

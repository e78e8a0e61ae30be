"""Small number-to-words helpers for generated text: reports, analysis and grade sheets (one convention)."""

from __future__ import annotations


def pct(x: float | None, digits: int = 1) -> str:
    """``0.9712 -> "97.1 %"``."""
    return "n/a" if x is None else f"{100 * x:.{digits}f} %"


def points(diff: float) -> str:
    """A difference of two fractions in percentage points: ``0.009 -> "0.9 points"``."""
    value = abs(100 * diff)
    return f"{value:.1f} point{'s' if round(value, 1) != 1 else ''}"


def ratio(a: float | None, b: float | None, what: str) -> str:
    """``"7.6× more parameters"`` / ``"2.0× fewer multiply-adds"`` / ``"the same number of parameters"``."""
    if not a or not b:
        return f"unknown {what}"
    if abs(a / b - 1) < 0.005:
        return f"the same number of {what}"
    if 1 / 1.1 < a / b < 1.1:  # "1.0× fewer" says nothing: give the percentage
        return f"{abs(a / b - 1) * 100:.0f} % {'more' if a > b else 'fewer'} {what}"
    if a > b:
        return f"{a / b:.1f}× more {what}"
    return f"{b / a:.1f}× fewer {what}"


def count(n: float | None) -> str:
    """``28522 -> "28.5 k"``, ``2935616 -> "2.94 M"``."""
    if n is None:
        return "n/a"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            value = n / size
            return f"{value:.3g} {suffix}"
    return f"{n:g}"


def pvalue(p: float) -> str:
    """``"p = 0.021"``, or ``"p < 0.001"`` rather than the misleading ``"p = 0.000"``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"

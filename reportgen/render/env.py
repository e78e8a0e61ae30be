"""The one Jinja environment: strict (a typo in a template is an error), autoescaped, with format filters.

Templates format numbers through filters and never do arithmetic (nbconvert's habit). A manifest's own
template folder (``[report] templates``) is searched before the built-in one, so a course can override
any template by giving a file of the same name.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import jinja2

from reportgen.config.errors import RenderError
from reportgen.text import count, pvalue


def builtin_templates() -> Path:
    """The built-in templates: inside the package when installed from a wheel, else the checkout's top level."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report.html.j2").is_file():
            return candidate
    raise RenderError(f"reportgen's templates are missing (looked in {here / 'templates'} and "
                      f"{here.parent / 'templates'})")


def make_env(extra: Path | None = None) -> jinja2.Environment:
    folders = [str(extra)] if extra is not None else []
    folders.append(str(builtin_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, mean_std=mean_std, num=num, count=count, seconds=seconds, pvalue=pvalue)
    return env


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def pct(x, digits: int = 1) -> str:
    """``0.9712 -> "97.1 %"``; ``None``/NaN -> "–"."""
    return "–" if _missing(x) else f"{100 * x:.{digits}f}\u00a0%"


def mean_std(summary: dict, digits: int = 1, percent: bool = True) -> str:
    """A ``summarize()`` dict as ``"97.1 ± 0.4 %"`` (or ``"97.1 %"`` for one seed)."""
    if not summary or _missing(summary.get("mean")):
        return "–"
    # No-break spaces: "97.1 ± 0.4 %" must not wrap inside a table cell.
    scale, unit = (100, "\u00a0%") if percent else (1, "")
    text = f"{scale * summary['mean']:.{digits}f}"
    if summary.get("n", 0) > 1:
        text += f"\u00a0±\u00a0{scale * summary['std']:.{digits}f}"
    return text + unit


def num(x, digits: int = 3) -> str:
    return "–" if _missing(x) else f"{x:.{digits}g}" if isinstance(x, float) else f"{x:,}"


def seconds(x) -> str:
    return "–" if _missing(x) else f"{x:.1f} s"


def data_uri(path: Path) -> str:
    """A PNG as a ``data:`` URI, so report.html is one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")

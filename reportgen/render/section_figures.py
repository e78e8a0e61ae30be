"""A section's figures as PNG files under ``OUT/figures``: drawn, or kept from the last build that drew them from the
same result with the same code.

A figure is drawn from its section's result alone (``Section.figures``), so a section recomputed with the same numbers
— the usual ``--section`` after editing a template, the notes or the question — has the figures it had. Redrawing them
costs more than the rest of such a build (text layout in matplotlib; importing matplotlib alone is about a second), so
they are kept when the figures' key is unchanged: the result, the section's id, type and options, and the source of
reportgen's section and figure code (a plugin's file too) and matplotlib's version. Any change to one of them redraws.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reportgen.config.specs import SectionSpec
from reportgen.io import save_atomic

_CODE: dict[str, str] = {}  # folder -> hash of its sources, once per process


def figures_key(section: SectionSpec, section_type: type, result: dict[str, Any]) -> str:
    """What the figures of ``section`` are drawn from (see the module's docstring), as 16 hex digits."""
    import importlib.metadata
    import inspect

    from reportgen import __version__

    package = Path(__file__).resolve().parents[1]
    code = [_sources(package / "figures"), _sources(package / "sections")]
    try:
        source = Path(inspect.getfile(section_type)).resolve()
        if package not in source.parents:  # a plugin's section type
            code.append(hashlib.sha256(source.read_bytes()).hexdigest())
    except (TypeError, OSError):
        code.append("unknown source")
    parts = [section.id, section.type, repr(sorted(section.options.items())), __version__,
             importlib.metadata.version("matplotlib"), *code, json.dumps(result, sort_keys=True, default=str)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def reusable_figures(previous: dict[str, Any] | None, key: str, out_dir: Path) -> list[dict[str, Any]] | None:
    """The figure entries of ``previous`` (the section's stored output, already checked to be this manifest's) when
    they were drawn under ``key`` and every file is still there; else None."""
    if not previous or previous.get("figures_key") != key or previous.get("error"):
        return None
    figures = previous.get("figures")
    if not isinstance(figures, list) or not all(isinstance(f, dict) and (out_dir / f.get("file", "")).is_file()
                                                 for f in figures):
        return None
    return figures


def draw_figures(section: SectionSpec, impl, result: dict[str, Any], out_dir: Path) -> list[dict[str, Any]]:
    """Draw every figure of ``impl.figures(result)`` into ``out_dir/figures`` (atomically); their entries."""
    import matplotlib.pyplot as plt

    from reportgen.figures import house_style

    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    figures = []
    for figure in impl.figures(result):
        relative = f"figures/{section.id}-{figure.name}.png"
        fig = figure.draw()
        try:
            with house_style():  # its savefig settings (dpi, tight box) apply only inside the context
                save_atomic(out_dir / relative, lambda path, fig=fig: fig.savefig(path, format="png"))
        finally:
            plt.close(fig)
        figures.append({"name": figure.name, "caption": figure.caption, "alt": figure.alt, "file": relative,
                        "wide": figure.wide})
    return figures


def _sources(folder: Path) -> str:
    if str(folder) not in _CODE:
        h = hashlib.sha256()
        for path in sorted(folder.rglob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        _CODE[str(folder)] = h.hexdigest()
    return _CODE[str(folder)]

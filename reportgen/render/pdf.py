"""HTML → PDF with WeasyPrint: the same document, laid out by ``print.css`` (page numbers, TOC pages)."""

from __future__ import annotations

import logging
from pathlib import Path

from reportgen.config.errors import RenderError


def write_pdf(html: str, target: Path, base_url: Path) -> Path:
    try:
        import weasyprint
    except (ImportError, OSError) as err:  # OSError: Pango or its friends missing on this machine
        raise RenderError(f"cannot make the PDF: WeasyPrint is unavailable ({err})") from None
    # WeasyPrint logs every CSS property it ignores; those are expected for screen-only rules.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        weasyprint.HTML(string=html, base_url=str(base_url)).write_pdf(str(target))
    except Exception as err:  # noqa: BLE001 - WeasyPrint raises many kinds; the user needs one message
        raise RenderError(f"cannot make the PDF {target}: {type(err).__name__}: {err}") from None
    return target

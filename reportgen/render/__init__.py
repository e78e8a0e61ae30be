"""Render the report: Jinja → ``report.html`` (self-contained) → WeasyPrint → ``report.pdf``.

A plugin's section type names its template relative to its own file (found through the plugin's folder, see
:mod:`reportgen.render.env`), or none: then its result is shown generically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from reportgen.config.errors import RenderError
from reportgen.config.specs import Manifest
from reportgen.faults import checkpoint
from reportgen.render.env import GENERIC, data_uri, generic_view, make_env


def render_html(manifest: Manifest, outputs: list[dict[str, Any]], build_info: dict, out_dir: Path) -> str:
    """The report's HTML. Figures are numbered in reading order and embedded as data URIs."""
    from reportgen.sections import SECTIONS

    extra = manifest.base_dir / manifest.report.templates if manifest.report.templates else None
    if extra is not None and not extra.is_dir():
        raise RenderError(f"{manifest.path.name}: report.templates: no such folder {extra}")
    own = {kind: _defined_in(SECTIONS.get(kind)) for kind in {s.type for s in manifest.sections.values()}}
    own = {kind: folder for kind, folder in own.items() if folder is not None}
    env = make_env(extra, sorted(set(own.values()), key=str))
    number = 0
    sections = []
    for output in outputs:
        figures = []
        for fig in output["figures"]:
            path = out_dir / fig["file"]
            if not path.is_file():
                continue
            number += 1
            figures.append({**fig, "number": number, "src": data_uri(path)})
        template, extras = "sections/_missing.html.j2", {}
        if output.get("error"):
            template = "sections/_failed.html.j2"
        elif not output.get("missing"):
            template = SECTIONS.get(output["type"]).template or GENERIC
            if template == GENERIC:
                extras = {"generic": generic_view(output["result"])}
            elif output["type"] in own:
                _check_not_shadowed(env, template, own[output["type"]], extra, output["type"])
        given = output["spec"].get("number")
        prefix = f"{len(sections) + 1}. " if given is None else f"{given}. " if given else ""
        sections.append({**output, **extras, "figures": figures, "template": template, "number": prefix})
    total_marks = sum(s["spec"]["marks"] for s in sections)
    try:
        return env.get_template("report.html.j2").render(
            report=manifest.report, sections=sections, build=build_info, total_marks=total_marks
        )
    except jinja2.TemplateError as err:
        where = f"{err.filename}:{err.lineno}: " if getattr(err, "lineno", None) else ""
        raise RenderError(f"template error: {where}{err}") from None


def _defined_in(cls) -> Path | None:
    """The folder of the file defining a section type that is not reportgen's own (a plugin's), else None."""
    import inspect

    try:
        source = Path(inspect.getfile(cls)).resolve()
    except (TypeError, OSError):
        return None
    return None if source.is_relative_to(Path(__file__).resolve().parents[1]) else source.parent


def _check_not_shadowed(env: jinja2.Environment, name: str, folder: Path, extra: Path | None, kind: str) -> None:
    """A plugin's template found elsewhere than beside the plugin (or in ``[report] templates``) is an error, not a
    silently different page: a built-in template, or another plugin's, has the same relative path."""
    mine = folder / name
    if not mine.is_file():
        return  # the plugin uses a built-in template (or the name is wrong: Jinja says so)
    try:
        found = Path(env.get_template(name).filename).resolve()
    except jinja2.TemplateError:
        return
    if found != mine.resolve() and not (extra is not None and found.is_relative_to(extra.resolve())):
        raise RenderError(f'section type "{kind}": its template {mine} is shadowed by {found}, which has the same '
                          f'relative path "{name}"; give it a name of its own (e.g. "templates/{kind}.html.j2")')


def render_report(
    manifest: Manifest, outputs: list[dict[str, Any]], build_info: dict, out_dir: Path, *, pdf: bool = True,
    timings: dict[str, float] | None = None,
) -> tuple[Path, Path | None]:
    """Write ``report.html`` and (unless ``pdf`` is false) ``report.pdf`` under ``out_dir``."""
    import time

    from reportgen.io import save_atomic
    from reportgen.render.pdf import write_pdf

    t = time.perf_counter()
    html = render_html(manifest, outputs, build_info, out_dir)
    html_path = save_atomic(out_dir / "report.html", lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    if timings is not None:
        timings["html"] = time.perf_counter() - t
    if not pdf:
        return html_path, None
    t = time.perf_counter()
    checkpoint("render")  # report.html written, the PDF not yet
    pdf_path = save_atomic(out_dir / "report.pdf", lambda tmp: write_pdf(html, Path(tmp), out_dir))
    if timings is not None:
        timings["pdf"] = time.perf_counter() - t
    return html_path, pdf_path

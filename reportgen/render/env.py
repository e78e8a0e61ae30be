"""The one Jinja environment: strict (a typo in a template is an error), autoescaped, with format filters.

Templates format numbers through filters and never do arithmetic (nbconvert's habit). A manifest's own
template folder (``[report] templates``) is searched before the built-in one, so a course can override
any template by giving a file of the same name. The folders of the report's plugin section types come last:
a plugin's ``template = "templates/my_type.html.j2"`` is relative to its own file, cannot shadow a built-in
template, and ``[report] templates`` overrides it by the same relative path. A section type with no template
is shown by ``sections/_generic.html.j2`` (its result's scalars, flat tables and figures; see
:func:`generic_view`).
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


#: The rendering of a section type without a template of its own (a plugin's, typically): see generic_view().
GENERIC_TEMPLATE = """\
{% from "macros.html.j2" import figure, analysis %}
{% set g = s.generic %}
{% if g.analysis %}{{ analysis(g.analysis) }}{% endif %}
{% if g["items"] %}
<table class="metrics generic">
  <tbody>
  {% for key, value in g["items"] %}
    <tr><th scope="row">{{ key }}</th><td>{{ value }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endif %}
{% for t in g.tables %}
<table class="metrics generic">
  <caption>{{ t.name }}</caption>
  <thead><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in t.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
  </tbody>
</table>
{% endfor %}
{% for f in s.figures %}
{{ figure(f) }}
{% endfor %}
{% if g.omitted %}<p class="note">Not shown here (see results.json): {{ g.omitted|join(", ") }}.</p>{% endif %}
"""
GENERIC = "sections/_generic.html.j2"


def make_env(extra: Path | None = None, plugin_dirs: list[Path] | tuple[Path, ...] = ()) -> jinja2.Environment:
    """The environment: ``extra`` (``[report] templates``), then the built-in templates, then ``plugin_dirs`` (the
    folders of the files defining the report's plugin section types)."""
    folders = [str(extra)] if extra is not None else []
    folders.append(str(builtin_templates()))
    folders.extend(str(d) for d in plugin_dirs if str(d) not in folders)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folders), jinja2.DictLoader({GENERIC: GENERIC_TEMPLATE})]),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, mean_std=mean_std_of_section, num=num, count=count, seconds=seconds, pvalue=pvalue)
    return env


def generic_view(result: dict) -> dict:
    """What ``sections/_generic.html.j2`` shows of a result: ``analysis`` (a list of paragraphs), ``items``
    (``(key, text)`` for each top-level scalar, and ``key.sub`` for a dict of scalars), ``tables`` (a list of dicts
    of scalars, e.g. one row per run: ``{"name", "columns", "rows"}``) and ``omitted`` (the keys not shown)."""
    view: dict = {"analysis": [], "items": [], "tables": [], "omitted": []}
    for key, value in result.items():
        if key == "analysis" and isinstance(value, list) and all(isinstance(p, str) for p in value):
            view["analysis"] = value
        elif _scalar(value):
            view["items"].append((key, _text(value)))
        elif isinstance(value, dict) and value and all(_scalar(v) for v in value.values()):
            view["items"].extend((f"{key}.{k}", _text(v)) for k, v in value.items())
        elif (isinstance(value, list) and value and all(isinstance(r, dict) for r in value)
              and all(_scalar(v) for r in value for v in r.values())):
            columns = list(dict.fromkeys(k for r in value for k in r))
            rows = [[_text(r.get(c)) for c in columns] for r in value]
            view["tables"].append({"name": key, "columns": columns, "rows": rows})
        else:
            view["omitted"].append(key)
    return view


def _scalar(x) -> bool:
    return x is None or isinstance(x, (str, int, float, bool))


def _text(x) -> str:
    if isinstance(x, bool) or x is None:
        return "–" if x is None else str(x).lower()
    return num(x, 4) if isinstance(x, float) else str(x)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def pct(x, digits: int = 1) -> str:
    """``0.9712 -> "97.1 %"``; ``None``/NaN -> "–"."""
    return "–" if _missing(x) else f"{100 * x:.{digits}f}\u00a0%"


def mean_std(summary: dict, digits: int = 1, percent: bool = True, asked: int | None = None) -> str:
    """A ``summarize()`` dict as ``"97.1 ± 0.4 %"`` (or ``"97.1 %"`` for one seed); ``"97.1 ± 0.4 % (n = 2)"`` when
    it summarises fewer values than the ``asked`` seeds (a seed failed or diverged), so a reader never mistakes it
    for a mean over all of them."""
    if not summary or _missing(summary.get("mean")):
        return "–"
    # No-break spaces: "97.1 ± 0.4 %" must not wrap inside a table cell.
    scale, unit = (100, "\u00a0%") if percent else (1, "")
    text = f"{scale * summary['mean']:.{digits}f}"
    n = summary.get("n", 0)
    if n > 1:
        text += f"\u00a0±\u00a0{scale * summary['std']:.{digits}f}"
    text += unit
    if asked is not None and 0 < n < asked:
        text += f" (n\u00a0=\u00a0{n})"
    return text


@jinja2.pass_context
def mean_std_of_section(context, summary: dict, digits: int = 1, percent: bool = True) -> str:
    """:func:`mean_std` with the number of seeds the section asked for (its result's ``seeds``), read from the
    template's context, so every table cell from fewer seeds shows its n without each template passing it."""
    asked = None
    for name in ("r", "s"):
        value = context.get(name)
        result = value.get("result", value) if isinstance(value, dict) else None
        if isinstance(result, dict) and isinstance(result.get("seeds"), (list, tuple)):
            asked = len(result["seeds"])
            break
    return mean_std(summary, digits, percent, asked)


def num(x, digits: int = 3) -> str:
    return "–" if _missing(x) else f"{x:.{digits}g}" if isinstance(x, float) else f"{x:,}"


def seconds(x) -> str:
    return "–" if _missing(x) else f"{x:.1f} s"


def data_uri(path: Path) -> str:
    """A PNG as a ``data:`` URI, so report.html is one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")

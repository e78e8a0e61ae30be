"""Check a TOML table against a function's keyword parameters.

Models, datasets, losses and section types are plain functions or classes whose keyword parameters *are*
their configuration (like nanoGPT's ``GPTConfig``): names, types and defaults come from the signature, bounds
from ``Annotated[int, Range(1)]``. :func:`check_params` turns a TOML table into validated keyword arguments,
raising a located :class:`~reportgen.config.errors.ManifestError` for an unknown key (with "did you mean"), a wrong
type or a value out of range.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from reportgen.config.errors import ManifestError
from reportgen.config.registry import did_you_mean


@dataclass(frozen=True)
class Range:
    """Bounds for a number (``Range(1)`` is "at least 1"); ``open_low`` excludes ``low`` itself."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False

    def check(self, value: float, where: str) -> None:
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            op = ">" if self.open_low else ">="
            raise ManifestError(f"must be {op} {self.low:g}, got {value:g}", location=where)
        if self.high is not None and value > self.high:
            raise ManifestError(f"must be <= {self.high:g}, got {value:g}", location=where)


@dataclass(frozen=True)
class SumsTo:
    """A list of numbers that must add up to ``total`` (split fractions), within ``tol``."""

    total: float
    tol: float = 1e-6

    def check(self, values: tuple, where: str) -> None:
        if abs(sum(values) - self.total) > self.tol:
            shown = " + ".join(f"{v:g}" for v in values)
            raise ManifestError(f"must add up to {self.total:g}, got {shown} = {sum(values):g}", location=where)


@dataclass(frozen=True)
class Length:
    """A list of exactly ``n`` items (``[train, val, test]`` fractions, ``[height, width]``)."""

    n: int
    what: str = ""  # what the items are, for the message: "[train, val, test]"

    def check(self, values: tuple, where: str) -> None:
        if len(values) != self.n:
            what = f" {self.what}" if self.what else ""
            raise ManifestError(f"expected {self.n} items{what}, got {len(values)}", location=where)


class TypeMismatch(ManifestError):
    """The value is of the wrong type (as opposed to the right type with a bad value)."""


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Annotated:
        return _type_name(get_args(tp)[0])
    if origin is Literal:
        return " or ".join(f'"{a}"' for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin in (list, tuple):
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"table of {_type_name(get_args(tp)[1])}"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(tp, str(tp))


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "table"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}"


def check_value(value: Any, tp: Any, where: str) -> Any:
    """``value`` converted to ``tp`` (ints widen to floats, lists to tuples), or a located error."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extras = get_args(tp)
        value = check_value(value, base, where)
        for extra in extras:
            if isinstance(extra, Range):
                for v in value if isinstance(value, tuple) else (value,):
                    extra.check(v, where)
            elif isinstance(extra, SumsTo | Length):
                extra.check(value, where)
        return value
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            hint = did_you_mean(str(value), [str(c) for c in choices])
            if not hint:
                hint = " (one of " + ", ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices) + ")"
            shown = f'"{value}"' if isinstance(value, str) else repr(value)
            raise ManifestError(f"unknown value {shown}{hint}", location=where)
        return value
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return check_value(value, option, where)
            except TypeMismatch:
                continue  # try the next option; a bad value of the right type propagates as is
        raise TypeMismatch(f"expected {_type_name(tp)}, got {_describe(value)}", location=where)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise TypeMismatch(f"expected {_type_name(tp)}, got {_describe(value)}", location=where)
        (item_type, *_) = get_args(tp)
        return tuple(check_value(v, item_type, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeMismatch(f"expected {_type_name(tp)}, got {_describe(value)}", location=where)
        _, item_type = get_args(tp)
        return {str(k): check_value(v, item_type, f"{where}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeMismatch(f"expected a number, got {_describe(value)}", location=where)
        if value != value or value in (float("inf"), float("-inf")):
            raise ManifestError(f"expected a finite number, got {value}", location=where)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeMismatch(f"expected an integer, got {_describe(value)}", location=where)
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise TypeMismatch(f"expected {_type_name(tp)}, got {_describe(value)}", location=where)
        return value
    if tp is Any:
        return value
    raise TypeError(f"check_value cannot check {tp!r}")  # a programming error, not a user error


def parameters(fn: Callable[..., Any], skip: Iterable[str] = (), *, lenient: bool = False
               ) -> dict[str, tuple[Any, Any]]:
    """``{name: (annotation, default)}`` for ``fn``'s keyword parameters (``inspect.Parameter.empty`` if
    required), leaving out ``skip`` (the arguments reportgen supplies itself, such as ``num_classes``).
    ``lenient`` (a user's code): annotations that cannot be resolved count as ``Any``."""
    try:
        # A plain class's parameters are its __init__'s; a dataclass's annotations are its fields.
        plain_class = inspect.isclass(fn) and not dataclasses.is_dataclass(fn)
        hints = get_type_hints(fn.__init__ if plain_class else fn, include_extras=True)
    except Exception:  # noqa: BLE001 - a user's forward reference or a typo in an annotation
        if not lenient:
            raise
        hints = {}
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name == "self":
            continue
        out[name] = (hints.get(name, Any), p.default)
    return out


def check_params(
    fn: Callable[..., Any], table: dict[str, Any], where: str, *, skip: Iterable[str] = (), lenient: bool = False
) -> dict[str, Any]:
    """Validate ``table`` against ``fn``'s keyword parameters; return the checked keyword arguments.

    Missing optional keys are left out (the function's default applies); a missing required key, an
    unknown key or a bad value raises :class:`ManifestError` located at ``where.key``. ``lenient`` is for a
    user's or a library's code: a callable taking ``**kwargs`` accepts any key (it passes them on), and an
    annotation this module cannot check (``nn.Module``, a custom class) accepts any value.
    """
    spec = parameters(fn, skip, lenient=lenient)
    var_kw = lenient and _takes_var_keyword(fn)
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in tuple(skip) and lenient:
            raise ManifestError(f'"{key}" is supplied by reportgen from the dataset; leave it out',
                                location=_join(where, key))
        if key not in spec:
            if var_kw:
                out[key] = value
                continue
            hint = did_you_mean(key, spec) or (f" (allowed: {', '.join(spec)})" if spec else "")
            raise ManifestError(f'unknown key "{key}"{hint}', location=_join(where, key))
        try:
            out[key] = check_value(value, spec[key][0], _join(where, key))
        except TypeError:
            if not lenient:
                raise
            out[key] = value
    for key, (_, default) in spec.items():
        if default is inspect.Parameter.empty and key not in out:
            raise ManifestError(f'missing required key "{key}"', location=where)
    return out


def _takes_var_keyword(fn: Callable[..., Any]) -> bool:
    try:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True


def resolved_params(fn: Callable[..., Any], kwargs: dict[str, Any], *, skip: Iterable[str] = ()) -> dict:
    """``kwargs`` completed with ``fn``'s defaults: the full configuration, as hashed into a run's key."""
    full = {k: d for k, (_, d) in parameters(fn, skip).items() if d is not inspect.Parameter.empty}
    full.update(kwargs)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(full.items())}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

"""One small registry helper, shared by models, datasets, losses, optimizers and sections.

Modelled on timm's ``@register_model`` / ``create_model``: registering is a decorator, and a miss names the
valid choices with a "did you mean" suggestion.

Every name remembers who registered it: reportgen itself (origin ``None``, "built in") or the plugin file being
imported at the time (:func:`registering_for`). A name taken twice is a :class:`RegistrationError` naming the
first owner; :func:`forget` withdraws everything one plugin registered (to load an edited plugin again).
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from reportgen.config.errors import UnknownNameError

T = TypeVar("T")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``'; did you mean "x"?'`` for the closest choice, or ``''`` when nothing is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class RegistrationError(ValueError):
    """A name registered a second time (by reportgen, the same plugin, or another plugin)."""


_LOADING: list[str] = []  # the plugins being imported, innermost last: what they register is theirs
_REGISTRIES: list[Registry] = []  # every registry, so that forget() reaches them all


@contextlib.contextmanager
def registering_for(origin: str):
    """Within this block, registrations belong to ``origin`` (a plugin's path or module name)."""
    _LOADING.append(origin)
    try:
        yield
    finally:
        _LOADING.pop()


def forget(origin: str) -> list[tuple[Registry, str, Any, bool]]:
    """Withdraw every name ``origin`` registered, in every registry; returns them for :func:`restore`."""
    removed = []
    for registry in _REGISTRIES:
        for name in [n for n, o in registry._origins.items() if o == origin]:
            is_alias = name in registry._aliases
            obj = registry._aliases.pop(name) if is_alias else registry._items.pop(name)
            del registry._origins[name]
            removed.append((registry, name, obj, is_alias))
    return removed


def restore(removed: list[tuple[Registry, str, Any, bool]], origin: str) -> None:
    """Put back what :func:`forget` withdrew from ``origin``."""
    for registry, name, obj, is_alias in removed:
        (registry._aliases if is_alias else registry._items)[name] = obj
        registry._origins[name] = origin


class Registry(Generic[T]):
    """A named collection of things of one kind (``Registry("model")``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}  # an older name -> the name it now goes by
        self._origins: dict[str, str | None] = {}  # name or alias -> the plugin that registered it (None: built in)
        _REGISTRIES.append(self)

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@MODELS.register("mlp")`` adds the decorated object under ``name``."""

        def add(obj: T) -> T:
            self._claim(name)
            self._items[name] = obj
            return obj

        return add

    def alias(self, old: str, new: str) -> None:
        """Keep ``old`` working as another name of ``new`` (a renamed type: old manifests mean the same)."""
        self._claim(old)
        self._aliases[old] = new

    def _claim(self, name: str) -> None:
        """Record that the plugin now loading (or reportgen) owns ``name``; a name already taken raises."""
        if name in self._items or name in self._aliases:
            owner = self._origins.get(name)
            raise RegistrationError(f'{self.kind} "{name}" is already registered '
                                    f'({"built in" if owner is None else f"by {owner}"})')
        self._origins[name] = _LOADING[-1] if _LOADING else None

    def origin(self, name: str) -> str | None:
        """The plugin that registered ``name`` (its path or module name), or None for reportgen's own."""
        return self._origins.get(self.canonical(name))

    def canonical(self, name: str) -> str:
        """The name ``name`` goes by now (itself unless it is an alias)."""
        return self._aliases.get(name, name)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def replace(self, name: str, obj: T) -> T:
        """Register ``obj`` as ``name`` even if it is taken (deliberately taking over a name)."""
        self._items[name] = obj
        self._origins[name] = _LOADING[-1] if _LOADING else None
        return obj

    def get(self, name: str) -> T:
        """The object registered as ``name`` (or as the name an alias stands for); an unknown name raises with the
        valid choices."""
        try:
            return self._items[self.canonical(name)]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        hint = did_you_mean(name, [*self._items, *self._aliases])
        if hint:
            return f'unknown {self.kind} "{name}"{hint}'
        return f'unknown {self.kind} "{name}" (known: {", ".join(sorted(self._items))})'

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

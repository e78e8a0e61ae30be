"""One small registry helper, shared by models, datasets, losses, optimizers and sections.

Modelled on timm's ``@register_model`` / ``create_model``: registering is a decorator, and a miss names the
valid choices with a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from reportgen.config.errors import UnknownNameError

T = TypeVar("T")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``'; did you mean "x"?'`` for the closest choice, or ``''`` when nothing is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class Registry(Generic[T]):
    """A named collection of things of one kind (``Registry("model")``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}  # an older name -> the name it now goes by

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@MODELS.register("mlp")`` adds the decorated object under ``name``."""

        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return add

    def alias(self, old: str, new: str) -> None:
        """Keep ``old`` working as another name of ``new`` (a renamed type: old manifests mean the same)."""
        if old in self._items or old in self._aliases:
            raise ValueError(f"{self.kind} {old!r} is registered twice")
        self._aliases[old] = new

    def canonical(self, name: str) -> str:
        """The name ``name`` goes by now (itself unless it is an alias)."""
        return self._aliases.get(name, name)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def replace(self, name: str, obj: T) -> T:
        """Register ``obj`` as ``name`` even if it is taken (a plugin file loaded again after an edit)."""
        self._items[name] = obj
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

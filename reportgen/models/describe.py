"""What a model says about its own structure, for tables that compare models of any kind.

The protocol is one optional method. A model (any ``nn.Module``) may define ``describe()`` returning a flat dict of
JSON-able facts about itself, in the order a table should show them::

    class Net(nn.Module):
        def describe(self) -> dict:
            return {"conv blocks": 4, "MobileNet blocks": 0, "widths": "32"}

:func:`describe_model` calls it when present and otherwise derives generic facts from the module itself (how many
convolutions, linear layers and attention modules it has, how many layers carry weights, the convolutions' widths).
Sections show the facts as they are, never special-casing an architecture; the one convention they read is
:func:`block_kinds`: an integer fact whose key ends in ``" blocks"`` counts blocks of one kind, so runs describing
the same kinds with the same total can be compared as swaps of one kind of block for another.

Importing this module imports no torch (the section that reads the facts is loaded with every manifest).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

#: How many widths :func:`compact_widths` writes out before eliding the middle.
MAX_WIDTHS = 8


def describe_model(model) -> dict[str, Any]:
    """The facts ``model`` gives about itself (its ``describe()``), or :func:`generic_facts` without one.

    Values are str, int, float, bool or None (a list or tuple of those is joined with ", "); anything else, or a
    ``describe()`` that returns no mapping, raises ``TypeError`` naming the model's class.
    """
    own = getattr(model, "describe", None)
    if not callable(own):
        return generic_facts(model)
    facts = own()
    name = f"{type(model).__name__}.describe()"
    if not isinstance(facts, Mapping):
        raise TypeError(f"{name} must return a dict of facts, got {type(facts).__name__}")
    return {str(key): _plain(value, f"{name}[{key!r}]") for key, value in facts.items()}


def generic_facts(model) -> dict[str, Any]:
    """Facts any ``nn.Module`` has: ``conv layers`` (Conv1d/2d/3d), ``linear layers``, ``attention layers``
    (``nn.MultiheadAttention`` and modules whose class name ends in "Attention", outermost only), ``weighted
    layers`` (modules with a weight matrix or kernel of their own: the depth counted in layers with weights) and,
    when there are convolutions, ``conv widths`` (their output channels in the order the modules are
    registered, repeats collapsed)."""
    from torch import nn

    convs = [m for m in model.modules() if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d)]
    attention: list[str] = []
    for name, module in model.named_modules():
        inside = any(outer == "" or name.startswith(outer + ".") for outer in attention)
        if not inside and (isinstance(module, nn.MultiheadAttention) or type(module).__name__.endswith("Attention")):
            attention.append(name)
    facts: dict[str, Any] = {
        "conv layers": len(convs),
        "linear layers": sum(isinstance(m, nn.Linear) for m in model.modules()),
        "attention layers": len(attention),
        "weighted layers": sum(_has_weights(m) for m in model.modules()),
    }
    if convs:
        facts["conv widths"] = compact_widths(m.out_channels for m in convs)
    return facts


def _has_weights(module) -> bool:
    """A weight matrix or kernel of the module's own (``weight``, ``in_proj_weight``…; 2-D or more): convolutions,
    linear layers, embeddings, attention's input projection — not norms, not loose tokens or position tables."""
    return any((name == "weight" or name.endswith("_weight")) and p.ndim >= 2
               for name, p in module.named_parameters(recurse=False))


def compact_widths(widths: Iterable[int]) -> str:
    """``"16, 32, 64"`` for widths 16, 32, 32, 64, 64 (repeats in a row collapsed; ``"32"`` when all are 32), with
    the middle elided past :data:`MAX_WIDTHS` entries."""
    shown: list[int] = []
    for w in widths:
        if not shown or shown[-1] != int(w):
            shown.append(int(w))
    if len(shown) > MAX_WIDTHS:
        return ", ".join(str(w) for w in shown[:MAX_WIDTHS - 2]) + f", …, {shown[-1]}"
    return ", ".join(str(w) for w in shown)


def block_kinds(facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of ``facts`` that count blocks of one kind (an int value, a key ending in ``" blocks"``), in order:
    ``("conv blocks", "MobileNet blocks")``."""
    return tuple(k for k, v in facts.items()
                 if k.endswith(" blocks") and isinstance(v, int) and not isinstance(v, bool))


def _plain(value: Any, where: str) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # a numpy scalar
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else str(float(value))  # results are JSON without NaN
    if isinstance(value, list | tuple) and all(isinstance(v, str | numbers.Real) for v in value):
        return ", ".join(str(v) for v in value)
    raise TypeError(f"{where} must be a str, number, bool or None, got {type(value).__name__}")

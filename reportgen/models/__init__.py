"""Model architectures: importing this package registers every one of them in :data:`MODELS`.

Importing it imports no torch, so that loading a manifest (which checks model options against the
registered builders' signatures) stays fast. The names that need torch (:class:`Classifier`,
:func:`count_params`, :func:`count_macs`, :func:`model_summary`) and the submodules that define networks
are loaded on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reportgen.models import cnn, conv_mobilenet, cs671, mlp  # noqa: F401  (registers the models)
from reportgen.models.base import MODELS, SUPPLIED

if TYPE_CHECKING:
    from reportgen.models.classifier import Classifier
    from reportgen.models.measure import count_macs, count_params, model_summary

__all__ = ["MODELS", "SUPPLIED", "Classifier", "build_model", "count_macs", "count_params", "model_summary"]

# Attribute -> module that defines it; both import torch, so neither is loaded until asked for.
_LAZY = {
    "Classifier": "reportgen.models.classifier",
    "count_macs": "reportgen.models.measure",
    "count_params": "reportgen.models.measure",
    "model_summary": "reportgen.models.measure",
}
# Submodules this package used to import eagerly (``reportgen.models.blocks.ConvBlock`` keeps working).
_SUBMODULES = ("blocks", "classifier", "layers", "measure", "nets")


def build_model(
    name: str, options: dict[str, Any], input_shape: tuple[int, int, int], num_classes: int
) -> Classifier:
    """The registered model ``name`` built with already-checked manifest ``options``."""
    return MODELS.get(name)(input_shape=tuple(input_shape), num_classes=num_classes, **options)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})

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
from reportgen.models.base import MODELS, SUPPLIED, model_callable, supplied_for

if TYPE_CHECKING:
    from reportgen.models.classifier import Classifier
    from reportgen.models.measure import count_macs, count_params, model_summary

__all__ = ["MODELS", "SUPPLIED", "Classifier", "build_model", "build_run_model", "count_macs", "count_params",
           "model_callable", "model_summary", "supplied_for"]

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
    name: str, options: dict[str, Any], input_shape: tuple[int, int, int], num_classes: int, base_dir=None
):
    """The model ``name`` (registered, or a reference such as ``"models.py:Net"`` resolved against ``base_dir``)
    built with already-checked manifest ``options``: a :class:`Classifier` or any ``nn.Module``."""
    from reportgen.config.plugins import is_reference

    if not is_reference(name):
        return MODELS.get(name)(input_shape=tuple(input_shape), num_classes=num_classes, **options)
    from reportgen.models.external import build_external

    fn = model_callable(name, base_dir, "model.arch")
    return build_external(fn, name, options, tuple(input_shape), num_classes, base_dir)


def build_run_model(spec, input_shape: tuple[int, int, int], num_classes: int):
    """The model of a manifest run (a :class:`~reportgen.config.specs.RunSpec`), freshly initialised."""
    return build_model(spec.arch, spec.model_options, input_shape, num_classes, spec.base_dir)


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

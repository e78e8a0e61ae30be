"""The contract every registered model meets.

A model is built by a registered function ``(*, input_shape, num_classes, **options)`` returning a
:class:`~reportgen.models.classifier.Classifier`; ``input_shape`` ``(C, H, W)`` and ``num_classes`` come from
the dataset, the options from the manifest's ``[runs.NAME.model]`` table (checked against the function's
signature by :mod:`reportgen.config.params`).

This module, and every module defining a builder, imports no torch: loading a manifest checks model options
against the builders' signatures, and commands that only read the manifest must not pay torch's import
time (seconds). So the builders import their ``nn.Module`` classes inside their bodies, and carry no return
annotation: ``typing.get_type_hints``, which :func:`~reportgen.config.params.check_params` calls, evaluates that
annotation too, and ``Classifier`` cannot be resolved without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from reportgen.config.registry import Registry

#: Architectures: ``@MODELS.register("mlp")``.
MODELS: Registry = Registry("model")

#: Arguments reportgen supplies to every model builder itself (never written in a manifest).
SUPPLIED = ("input_shape", "num_classes")

# Names this module used to define, now in modules that import torch: loaded on first use (PEP 562).
_MOVED = {
    "Classifier": "reportgen.models.classifier",
    "count_macs": "reportgen.models.measure",
    "count_params": "reportgen.models.measure",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

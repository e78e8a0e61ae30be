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
#: What reportgen passes to a user's model, torchvision's or timm's when the callable accepts it: the class count
#: (torchvision's and timm's ``num_classes``), the input's ``(C, H, W)`` and its channels (timm's ``in_chans``).
SUPPLIED_EXTERNAL = ("num_classes", "input_shape", "in_chans", "in_channels")


def model_callable(arch: str, base_dir=None, where: str = ""):
    """What builds ``arch``: a registered builder, or the class or function a reference names (``"models.py:Net"``,
    ``"torchvision.models:resnet18"``, ``"timm:vit_tiny_patch16_224"``; files relative to ``base_dir``)."""
    from reportgen.config.plugins import is_reference, parse_reference, resolve

    if is_reference(arch):
        return resolve(parse_reference(arch, where), base_dir or ".", where)
    return MODELS.get(arch)


def supplied_for(arch: str) -> tuple[str, ...]:
    """The keyword arguments reportgen supplies to ``arch``'s builder (never written in a manifest)."""
    from reportgen.config.plugins import is_reference

    return SUPPLIED_EXTERNAL if is_reference(arch) else SUPPLIED

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

"""Model architectures: importing this package registers every one of them in :data:`MODELS`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reportgen.models import blocks, cnn, conv_mobilenet, cs671, mlp  # noqa: F401  (registers the models)
from reportgen.models.base import MODELS, SUPPLIED, Classifier, count_macs, count_params

__all__ = ["MODELS", "SUPPLIED", "Classifier", "build_model", "count_macs", "count_params", "model_summary"]


def build_model(
    name: str, options: dict[str, Any], input_shape: tuple[int, int, int], num_classes: int
) -> Classifier:
    """The registered model ``name`` built with already-checked manifest ``options``."""
    return MODELS.get(name)(input_shape=tuple(input_shape), num_classes=num_classes, **options)


def model_summary(model: nn.Module, input_shape: tuple[int, int, int]) -> list[dict[str, Any]]:
    """One row per leaf module, in definition order: ``name``, ``type``, ``output_shape``, ``params``.

    Shapes come from one forward pass on a zero ``(1, C, H, W)`` input in eval mode (so BatchNorm's
    running statistics stay untouched); a leaf the forward pass never calls has ``output_shape`` None.
    """
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(m.children())]
    shapes: dict[str, list[int] | None] = {}

    def hook_for(name: str):
        def hook(_module: nn.Module, _inputs, output: Any) -> None:
            shapes[name] = list(output.shape) if isinstance(output, torch.Tensor) else None

        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in leaves]
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return [
        {
            "name": name,
            "type": type(m).__name__,
            "output_shape": shapes.get(name),
            "params": sum(p.numel() for p in m.parameters()),
        }
        for name, m in leaves
    ]

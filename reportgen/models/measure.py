"""How big a model is: trainable parameters, multiply-accumulates, and a per-layer summary."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: nn.Module, input_shape: tuple[int, int, int]) -> int:
    """Multiply-accumulate operations of one forward pass on one image.

    Counts convolutions (``out_elements × in_channels/groups × kH × kW``) and linear layers
    (``in × out``), the convention of ptflops/fvcore; BatchNorm, activations and pooling are not counted.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output[0].numel() * (module.in_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output[0].numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return int(total)


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

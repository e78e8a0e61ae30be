"""The contract every registered model meets, and how its size is measured.

A model is built by a registered function ``(*, input_shape, num_classes, **options) -> Classifier``;
``input_shape`` ``(C, H, W)`` and ``num_classes`` come from the dataset, the options from the manifest's
``[runs.NAME.model]`` table (checked against the function's signature by :mod:`reportgen.params`).
"""

from __future__ import annotations

import torch
from torch import nn

from reportgen.registry import Registry

#: Architectures: ``@MODELS.register("mlp")``.
MODELS: Registry = Registry("model")

#: Arguments reportgen supplies to every model builder itself (never written in a manifest).
SUPPLIED = ("input_shape", "num_classes")


class Classifier(nn.Module):
    """A classifier split timm-style into ``forward_features`` (penultimate layer) and ``forward_head``.

    Keeping the two apart lets the trainer save penultimate-layer features for t-SNE in the same pass that
    computes test-set probabilities.
    """

    #: Convolutional models are run in ``channels_last`` memory format (1.4–2.6× faster on CPU).
    is_conv: bool = False

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, D)
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N, num_classes)
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


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

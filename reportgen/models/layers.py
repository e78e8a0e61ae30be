"""Layers shared by several architectures: activations by manifest name, and "same"-padded convolutions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: The ``activation`` option's values (the builders' ``Literal`` lists them again, torch-free).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


class EvenSameConv2d(nn.Conv2d):
    """A stride-1 convolution with an even kernel and "same" output size: the ``k - 1`` padding is split
    ``(k - 2)/2`` before and ``k/2`` after (PyTorch's and TensorFlow's choice), padded explicitly so that no
    warning is raised on each forward pass as ``padding="same"`` does for even kernels."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__(in_ch, out_ch, kernel_size, padding=0, bias=bias)
        before = (kernel_size - 1) // 2
        self.pads = (before, kernel_size - 1 - before) * 2  # (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pads))


def same_conv(in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> nn.Conv2d:
    """A stride-1 ``kernel_size × kernel_size`` convolution whose output has its input's height and width."""
    if kernel_size % 2:
        return nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias)
    return EvenSameConv2d(in_ch, out_ch, kernel_size, bias=bias)

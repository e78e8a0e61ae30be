"""The two building blocks of the ITU Deep Learning 2022 Assignment 3 handout.

Both map ``(N, in_ch, H, W)`` to ``(N, out_ch, ⌈H/stride⌉, ⌈W/stride⌉)``. Submodules carry plain names
(``conv``, ``bn``, ``act``; ``depthwise``, ``bn1``, …) so reports can find and plot their weights.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """3×3 convolution → BatchNorm → ReLU.

    ``out_ch·in_ch·9 + 2·out_ch`` trainable parameters: no conv bias, since BatchNorm's shift replaces it.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        # Not in-place: activation hooks must see BatchNorm's output unchanged.
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, in_ch, H, W) -> (N, out_ch, H', W')
        return self.act(self.bn(self.conv(x)))


class MobileNetBlock(nn.Module):
    """Depthwise-separable block (MobileNet v1): 3×3 depthwise conv → BN → ReLU → 1×1 pointwise → BN → ReLU.

    ``in_ch·9 + 2·in_ch + out_ch·in_ch + 2·out_ch`` parameters, about 8× fewer than a :class:`ConvBlock`
    of the same widths: the depthwise conv filters each channel alone, the pointwise conv only mixes them.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_ch, in_ch, kernel_size=3, stride=stride, padding=1, groups=in_ch, bias=False
        )
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.act1 = nn.ReLU()
        self.pointwise = nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.act2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, in_ch, H, W) -> (N, out_ch, H', W')
        x = self.act1(self.bn1(self.depthwise(x)))
        return self.act2(self.bn2(self.pointwise(x)))

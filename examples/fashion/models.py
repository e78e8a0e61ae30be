"""The handout's starter network and its variants, as a student writes them (plain ``nn.Module`` code).

Each question of the assignment changes one part of ``StarterNet``: where BatchNorm goes (normalisation), a third
convolution (depth), the number of filters (width), dropout (regularisation). reportgen passes ``num_classes`` and
``in_channels`` because the constructor asks for them; everything else comes from the manifest's ``model`` table.
``describe()`` tells reportgen's ``model_size`` section what distinguishes the variants.
"""

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


class StarterNet(nn.Module):
    """conv 5×5 (no padding) → ReLU → max-pool → conv 5×5 → ReLU → max-pool [→ conv 3×3 → ReLU] → dropout → FC 128
    → FC classes. On 28×28 inputs: 28 → 24 → 12 → 8 → 4 (→ 2)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16, depth: Literal[2, 3] = 2,
                 dropout: float = 0.25, batchnorm: Literal["none", "before_relu", "after_relu"] = "none"):
        super().__init__()
        self.batchnorm, self.depth, self.width = batchnorm, depth, width
        channels = [in_channels, width, 2 * width, 4 * width][: depth + 1]
        kernels = [5, 5, 3][:depth]
        pairs = zip(channels[:-1], channels[1:], kernels, strict=True)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, k) for a, b, k in pairs)
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) if batchnorm != "none" else nn.Identity() for b in channels[1:])
        self.dropout = nn.Dropout(dropout)
        side = 4 if depth == 2 else 2
        self.fc1 = nn.Linear(channels[-1] * side * side, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = conv(x)
            x = F.relu(norm(x)) if self.batchnorm == "before_relu" else norm(F.relu(x))
            if i < 2:
                x = F.max_pool2d(x, 2)
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))

    def describe(self) -> dict:
        return {"conv layers": self.depth, "filters": f"{self.width}–{self.width * 2 ** (self.depth - 1)}",
                "BatchNorm": self.batchnorm.replace("_", " ")}

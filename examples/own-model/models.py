"""The networks of this assignment, written as a student writes them: plain ``nn.Module`` classes.

``StarterNet`` is the handout's given network (two unpadded 5×5 convolutions, max-pooling, dropout, two linear
layers); the questions change one part of it at a time. reportgen passes ``num_classes`` (and ``in_channels``)
because the constructors ask for them; every other argument comes from the manifest's ``model`` table.
"""

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


class StarterNet(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16, dropout: float = 0.25,
                 batchnorm: Literal["none", "before_relu", "after_relu"] = "none"):
        super().__init__()
        self.batchnorm = batchnorm
        self.conv1 = nn.Conv2d(in_channels, width, 5)  # 28 -> 24, pooled to 12
        self.conv2 = nn.Conv2d(width, 2 * width, 5)  # 12 -> 8, pooled to 4
        self.bn1 = nn.BatchNorm2d(width) if batchnorm != "none" else nn.Identity()
        self.bn2 = nn.BatchNorm2d(2 * width) if batchnorm != "none" else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * width * 4 * 4, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def block(self, conv: nn.Module, bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
        x = conv(x)
        x = F.relu(bn(x)) if self.batchnorm == "before_relu" else bn(F.relu(x))
        return F.max_pool2d(x, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.conv1, self.bn1, x)
        x = self.block(self.conv2, self.bn2, x)
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


def deeper(num_classes: int = 10, in_channels: int = 1, width: int = 16) -> nn.Module:
    """A factory function works as well as a class: three padded 3×3 stages and global average pooling."""
    layers, channels = [], in_channels
    for i in range(3):
        layers += [nn.Conv2d(channels, width * 2**i, 3, padding=1), nn.BatchNorm2d(width * 2**i), nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels = width * 2**i
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))

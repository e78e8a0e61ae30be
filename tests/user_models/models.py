"""A student's own network, as the section tests use it: plain nn.Module code reportgen did not write."""

import torch
import torch.nn.functional as F
from torch import nn


class StudentNet(nn.Module):
    """Two unpadded 5×5 convolutions, max-pooling, dropout and two linear layers (a typical starter network)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 4, dropout: float = 0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 5)
        self.conv2 = nn.Conv2d(width, 2 * width, 5)
        self.drop = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * width * 4 * 4, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(self.drop(torch.flatten(x, 1)))))

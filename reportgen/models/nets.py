"""The networks the registered builders assemble (imports torch; the builders import this lazily).

Each is a :class:`Classifier` whose submodules carry plain names, so that reports can find and plot their
weights; the builder modules (:mod:`~reportgen.models.mlp`, :mod:`~reportgen.models.cnn`, …) document the
architectures and check their options.
"""

from __future__ import annotations

import torch
from torch import nn

from reportgen.models.classifier import Classifier
from reportgen.models.describe import compact_widths
from reportgen.models.layers import same_conv


class MLP(Classifier):
    """``flatten`` → ``layers`` → ``head``; ``layers[i]`` holds ``linear``, ``bn``, ``act``, ``dropout``."""

    is_conv = False

    def __init__(self, layers: nn.Sequential, width: int, num_classes: int) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = layers
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, hidden[-1])
        return self.layers(self.flatten(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, hidden[-1]) -> (N, num_classes)
        return self.head(features)

    def describe(self) -> dict[str, int | str]:
        """Facts for tables of models (:mod:`reportgen.models.describe`): hidden layers and their widths."""
        widths = [group.linear.out_features for group in self.layers]
        return {"hidden layers": len(widths), **({"hidden units": compact_widths(widths)} if widths else {})}


class CNN(Classifier):
    """``blocks`` → ``flatten`` → ``fc`` → ``head``; ``blocks[i]`` holds ``conv``, ``bn``, ``act``, ``pool``."""

    is_conv = True

    def __init__(self, blocks: nn.Sequential, fc: nn.Module, width: int, num_classes: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.flatten = nn.Flatten()
        self.fc = fc
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, fc[-1] or C'·H'·W')
        return self.fc(self.flatten(self.blocks(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N, num_classes)
        return self.head(features)

    def describe(self) -> dict[str, int | str]:
        """Facts for tables of models (:mod:`reportgen.models.describe`): conv blocks, their filters, FC layers."""
        filters = [block.conv.out_channels for block in self.blocks]
        hidden = sum(isinstance(m, nn.Linear) for m in self.fc.modules())
        return {"conv blocks": len(filters), "filters": compact_widths(filters), "hidden FC layers": hidden}


class ConvMobileNet(Classifier):
    """``blocks`` (an ``nn.Sequential`` of ConvBlock/MobileNetBlock) → global average pool → ``head``."""

    is_conv = True

    def __init__(self, blocks: nn.Sequential, width: int, num_classes: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, width)
        return self.flatten(self.pool(self.blocks(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, width) -> (N, num_classes)
        return self.head(features)

    def describe(self) -> dict[str, int | str]:
        """Facts for tables of models (:mod:`reportgen.models.describe`): how many blocks of each kind (the
        handout's conv_block_count and mobilenet_block_count) and the blocks' output widths."""
        from reportgen.models.blocks import MobileNetBlock

        mobile = sum(isinstance(block, MobileNetBlock) for block in self.blocks)
        widths = [[m for m in block.modules() if isinstance(m, nn.Conv2d)][-1].out_channels for block in self.blocks]
        return {"conv blocks": len(self.blocks) - mobile, "MobileNet blocks": mobile, "widths": compact_widths(widths)}


class Conv7x7FC(Classifier):
    """``conv`` → ``conv_act`` (ReLU) → ``bn`` → ``pool`` → ``flatten`` → ``fc`` → ``fc_act`` (ReLU) → ``head``."""

    is_conv = True

    def __init__(self, in_ch: int, filters: int, kernel_size: int, flat: int, fc: int, num_classes: int) -> None:
        super().__init__()
        self.conv = same_conv(in_ch, filters, kernel_size)  # stride 1, same padding
        # The handout's order: ReLU *before* BatchNorm, so the conv keeps its bias (BN does not cancel it here).
        self.conv_act = nn.ReLU()
        self.bn = nn.BatchNorm2d(filters)
        self.pool = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(flat, fc)
        self.fc_act = nn.ReLU()
        self.head = nn.Linear(fc, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, fc)
        x = self.pool(self.bn(self.conv_act(self.conv(x))))
        return self.fc_act(self.fc(self.flatten(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, fc) -> (N, num_classes)
        return self.head(features)


class BottleneckCNN(Classifier):
    """``features`` (conv stages) → ``gap`` → ``flatten`` → [``dropout``] → ``head``.

    ``features`` holds ``conv{i}`` (3×3 or 1×1), ``bn{i}``, ``act{i}`` and ``pool{i}`` modules in call order.
    """

    is_conv = True

    def __init__(self, features: nn.Sequential, width: int, dropout: float, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, widths[-1])
        return self.flatten(self.gap(self.features(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # (N, widths[-1]) -> (N, num_classes)
        return self.head(self.dropout(features))

"""The base class of every model reportgen builds (imports torch: load it only to build or run a model)."""

from __future__ import annotations

import torch
from torch import nn


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

"""``mlp``: a fully connected baseline (flatten → hidden layers → linear head)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Literal

import torch
from torch import nn

from reportgen.errors import ManifestError
from reportgen.models.base import MODELS, Classifier
from reportgen.params import Range

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


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


@MODELS.register("mlp")
def mlp(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    hidden: list[Annotated[int, Range(1)]] = (256, 128),
    dropout: Annotated[float, Range(0, 0.95)] = 0.0,
    activation: Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu", "elu"] = "relu",
    batchnorm: bool = False,
) -> Classifier:
    """Hidden layers of the given sizes (``hidden = []`` is multinomial logistic regression)."""
    if activation not in ACTIVATIONS:  # check_params catches this for manifests; direct calls land here
        raise ManifestError(f"unknown value {activation!r}", location="activation")
    width = input_shape[0] * input_shape[1] * input_shape[2]
    groups: list[nn.Module] = []
    for size in hidden:
        parts: OrderedDict[str, nn.Module] = OrderedDict()
        # A bias before BatchNorm is cancelled by its mean subtraction, so leave it out.
        parts["linear"] = nn.Linear(width, size, bias=not batchnorm)
        if batchnorm:
            parts["bn"] = nn.BatchNorm1d(size)
        parts["act"] = ACTIVATIONS[activation]()
        if dropout > 0:
            parts["dropout"] = nn.Dropout(dropout)
        groups.append(nn.Sequential(parts))
        width = size
    return MLP(nn.Sequential(*groups), width, num_classes)

"""``mlp``: a fully connected baseline (flatten → hidden layers → linear head)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Literal

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range
from reportgen.models.base import MODELS


@MODELS.register("mlp")
def mlp(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    hidden: list[Annotated[int, Range(1)]] = (256, 128),
    dropout: Annotated[float, Range(0, 1)] = 0.0,
    activation: Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu", "elu"] = "relu",
    batchnorm: bool = False,
):  # -> Classifier (see models/base.py on why builders carry no return annotation)
    """Hidden layers of the given sizes (``hidden = []`` is multinomial logistic regression)."""
    from torch import nn

    from reportgen.models.layers import ACTIVATIONS
    from reportgen.models.nets import MLP

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

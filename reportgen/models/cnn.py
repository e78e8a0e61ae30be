"""``cnn``: the small CNN of ITU Deep Learning 2022 Assignment 2, Task 2.

``len(filters)`` blocks of ``kernel_size``² ("same"-padded) convolution → BatchNorm → activation → 2×2
max-pool, then fully connected hidden layers (activation → dropout), then the output layer::

    blocks[i] = conv (filters[i], k×k, same) → bn → act → pool (2×2, stride 2)   # H, W halved (floor)
    flatten → fc[j] = linear (fc[j]) → act → dropout                             # forward_features ends here
    head = linear (num_classes)

Dropout is applied after each fully connected hidden layer only, not after the conv blocks: with BatchNorm in
every block, the usual practice (and the one that trains best on small inputs) is to leave the conv blocks
undropped, since dropout's train/eval variance shift fights BatchNorm's statistics (Li et al., 2019,
"Understanding the disharmony between dropout and batch normalization"). With ``fc = []`` there is no hidden
layer, so ``dropout`` then acts on the flattened conv output, the head's input.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Literal

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range
from reportgen.models.base import MODELS


def max_pools(height: int, width: int) -> int:
    """How many 2×2, stride-2 max-pools an ``height × width`` map survives (each needs at least 2×2)."""
    count = 0
    while min(height, width) >= 2:
        height, width = height // 2, width // 2
        count += 1
    return count


@MODELS.register("cnn")
def cnn(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    filters: list[Annotated[int, Range(1)]] = (32, 64),
    kernel_size: Annotated[int, Range(1, 11)] = 3,
    batchnorm: bool = True,
    dropout: Annotated[float, Range(0, 1)] = 0.0,
    fc: list[Annotated[int, Range(1)]] = (128,),
    activation: Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu", "elu"] = "relu",
):  # -> Classifier (see models/base.py on why builders carry no return annotation)
    """One conv block per entry of ``filters`` (each halving H and W), one hidden layer per entry of ``fc``.

    The convolutions are "same"-padded (``kernel_size`` may be even); without BatchNorm they carry a bias,
    with it they do not (BatchNorm's shift replaces it). Too many blocks for the input size (a pool on a map
    smaller than 2×2) is a :class:`ManifestError` located at ``filters``.
    """
    from torch import nn

    from reportgen.models.layers import ACTIVATIONS, same_conv
    from reportgen.models.nets import CNN

    if activation not in ACTIVATIONS:  # check_params catches this for manifests; direct calls land here
        raise ManifestError(f"unknown value {activation!r}", location="activation")
    channels, height, width = input_shape
    if not filters:
        raise ManifestError("needs at least one conv block (filters is empty)", location="filters")
    fits = max_pools(height, width)
    if len(filters) > fits:
        raise ManifestError(
            f"{len(filters)} conv blocks each halve the {height}×{width} input, but it can be halved only "
            f"{fits} times (down to {height >> fits}×{width >> fits}); use at most {fits} blocks",
            location="filters",
        )

    blocks: list[nn.Module] = []
    for out_ch in filters:
        parts: OrderedDict[str, nn.Module] = OrderedDict()
        parts["conv"] = same_conv(channels, out_ch, kernel_size, bias=not batchnorm)
        if batchnorm:
            parts["bn"] = nn.BatchNorm2d(out_ch)
        parts["act"] = ACTIVATIONS[activation]()
        parts["pool"] = nn.MaxPool2d(2, 2)
        blocks.append(nn.Sequential(parts))
        channels, height, width = out_ch, height // 2, width // 2

    size = channels * height * width
    hidden: list[nn.Module] = []
    for units in fc:
        parts = OrderedDict()
        parts["linear"] = nn.Linear(size, units)
        parts["act"] = ACTIVATIONS[activation]()
        if dropout > 0:
            parts["dropout"] = nn.Dropout(dropout)
        hidden.append(nn.Sequential(parts))
        size = units
    if hidden:
        head_input: nn.Module = nn.Sequential(*hidden)
    elif dropout > 0:
        head_input = nn.Sequential(OrderedDict(dropout=nn.Dropout(dropout)))
    else:
        head_input = nn.Identity()
    return CNN(nn.Sequential(*blocks), head_input, size, num_classes)

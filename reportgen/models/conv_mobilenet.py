"""``conv_mobilenet``: the handout's ``init_network(conv_block_count, mobilenet_block_count, ...)``.

Convolutional blocks first, then MobileNet blocks, then global average pooling and one linear layer, so
that swapping ConvBlocks for MobileNetBlocks (``conv_blocks = 1, mobilenet_blocks = 3``) changes the
parameter count and MACs while keeping every feature-map shape the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range
from reportgen.models.base import MODELS

#: Blocks that halve the feature map by default (28 → 14 → 7 on MNIST, as in the handout).
DOWNSAMPLE_AT = (1, 2)


def _per_block(value: int | Sequence[int], count: int, what: str, key: str) -> list[int]:
    """``value`` repeated for each block, or the list itself if it has exactly one entry per block."""
    if isinstance(value, int):
        return [value] * count
    if len(value) != count:
        raise ManifestError(f"needs one {what} per block ({count}), got {len(value)}", location=key)
    return list(value)


@MODELS.register("conv_mobilenet")
def conv_mobilenet(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    conv_blocks: Annotated[int, Range(0)] = 4,
    mobilenet_blocks: Annotated[int, Range(0)] = 0,
    channels: Annotated[int, Range(1)] | list[Annotated[int, Range(1)]] = 32,
    strides: list[Annotated[int, Range(1, 4)]] | None = None,
):  # -> Classifier (see models/base.py on why builders carry no return annotation)
    """``conv_blocks`` ConvBlocks then ``mobilenet_blocks`` MobileNetBlocks, pooled, then a linear head.

    ``channels`` is one width for every block or a list with one per block; ``strides`` defaults to 2 at
    blocks 1 and 2 and 1 elsewhere. Errors are located at the option's key; the caller adds the prefix.
    """
    from torch import nn

    from reportgen.models.blocks import ConvBlock, MobileNetBlock
    from reportgen.models.nets import ConvMobileNet

    count = conv_blocks + mobilenet_blocks
    if count < 1:
        raise ManifestError(
            "needs at least one block (conv_blocks + mobilenet_blocks is 0)", location="conv_blocks"
        )
    widths = _per_block(channels, count, "width", "channels")
    if strides is None:
        steps = [2 if i in DOWNSAMPLE_AT else 1 for i in range(count)]
    else:
        steps = _per_block(strides, count, "stride", "strides")

    layers: list[nn.Module] = []
    in_ch = input_shape[0]
    for i, (out_ch, stride) in enumerate(zip(widths, steps, strict=True)):
        block = ConvBlock if i < conv_blocks else MobileNetBlock
        layers.append(block(in_ch, out_ch, stride))
        in_ch = out_ch
    return ConvMobileNet(nn.Sequential(*layers), in_ch, num_classes)


def block_counts(spec) -> tuple[int | None, int | None]:
    """``(conv_blocks, mobilenet_blocks)`` of a run spec (a :class:`~reportgen.config.specs.RunSpec`) whose arch is
    ``conv_mobilenet``, the defaults filled in; ``(None, None)`` for any other architecture. Without building the
    model; a built one says the same through its ``describe()``."""
    if spec.arch != "conv_mobilenet":
        return None, None
    from reportgen.config.params import resolved_params
    from reportgen.models.base import SUPPLIED

    full = resolved_params(conv_mobilenet, spec.model_options, skip=SUPPLIED)
    return int(full["conv_blocks"]), int(full["mobilenet_blocks"])

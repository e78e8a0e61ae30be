"""The two networks of IIT Mandi CS-671 (2019) Assignment 2, trained on the 96-class line dataset.

``conv7x7_fc`` (model 1.2.1) is the handout's network, layer for layer; ``bottleneck_cnn`` (model 1.2.2) is the
"better network of your own" the handout then asks for, using 1×1 convolutions to shrink the depth of the
feature maps so that it needs tens of thousands of parameters instead of millions.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated

from reportgen.config.errors import ManifestError
from reportgen.config.params import Range
from reportgen.models.base import MODELS
from reportgen.models.cnn import max_pools


@MODELS.register("conv7x7_fc")
def conv7x7_fc(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    filters: Annotated[int, Range(1)] = 32,
    kernel_size: Annotated[int, Range(1, 11)] = 7,
    fc: Annotated[int, Range(1)] = 1024,
):  # -> Classifier (see models/base.py on why builders carry no return annotation)
    """CS-671 model 1.2.1: ``kernel_size``² conv, ``filters`` filters, stride 1, same padding → ReLU → BatchNorm
    → 2×2 max-pool, stride 2 → fully connected ``fc`` → ReLU → output layer.

    The defaults are the handout's. On 28×28 RGB images the pooled map is 32×14×14, so the fully connected
    layer alone holds 6272·1024 + 1024 = 6,423,552 of the network's 6.5 M parameters (96 classes).
    """
    from reportgen.models.nets import Conv7x7FC

    channels, height, width = input_shape
    if max_pools(height, width) < 1:
        raise ManifestError(f"the {height}×{width} input is too small for a 2×2 max-pool", location="")
    flat = filters * (height // 2) * (width // 2)
    return Conv7x7FC(channels, filters, kernel_size, flat, fc, num_classes)


@MODELS.register("bottleneck_cnn")
def bottleneck_cnn(
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    widths: list[Annotated[int, Range(1)]] = (64, 16, 64, 16, 96),
    dropout: Annotated[float, Range(0, 1)] = 0.2,
):  # -> Classifier (see models/base.py on why builders carry no return annotation)
    """CS-671 model 1.2.2: 3×3 convolutions alternating with 1×1 "bottleneck" convolutions that shrink the depth.

    ``widths`` has an odd number of entries: a 3×3 conv of ``widths[0]`` filters, then pairs
    (1×1 conv of ``widths[2i+1]`` filters, 3×3 conv of ``widths[2i+2]``). Every conv is followed by BatchNorm
    and ReLU (no conv bias: BatchNorm's shift replaces it); every 3×3 conv but the last is followed by a 2×2
    max-pool. Global average pooling then gives one number per channel of the last conv, dropout (``dropout``
    probability, training only) is applied to those, and one linear layer classifies. The defaults, on 28×28::

        conv0 3×3, 64  (28×28) → pool → conv1 1×1, 16 → conv2 3×3, 64  (14×14) → pool
        → conv3 1×1, 16 → conv4 3×3, 96  (7×7) → global average pool → dropout 0.2 → linear 96 → classes

    The 1×1 convs cut each following 3×3 conv's input depth from 64 to 16, i.e. its weights 4×, and global
    average pooling replaces conv7x7_fc's 6.4 M-weight fully connected layer with nothing: about 37 k
    parameters for RGB input and 96 classes, against conv7x7_fc's 6.5 M. The last 3×3 conv sees an 18×18 pixel
    window, enough to span a 15-pixel line; averaging over positions suits classes that differ in anything but
    position.
    """
    from torch import nn

    from reportgen.models.layers import same_conv
    from reportgen.models.nets import BottleneckCNN

    if len(widths) % 2 == 0:
        raise ManifestError(
            f"needs an odd number of widths (a 3×3 conv, then 1×1/3×3 pairs), got {len(widths)}", location="widths"
        )
    channels, height, width = input_shape
    pools = len(widths) // 2  # one after each 3×3 conv but the last
    fits = max_pools(height, width)
    if pools > fits:
        raise ManifestError(
            f"{len(widths)} widths mean {pools} 2×2 max-pools, but the {height}×{width} input can be halved only "
            f"{fits} times",
            location="widths",
        )
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i, out_ch in enumerate(widths):
        k = 3 if i % 2 == 0 else 1
        layers[f"conv{i}"] = same_conv(channels, out_ch, k, bias=False)
        layers[f"bn{i}"] = nn.BatchNorm2d(out_ch)
        layers[f"act{i}"] = nn.ReLU()
        if k == 3 and i < len(widths) - 1:
            layers[f"pool{i}"] = nn.MaxPool2d(2, 2)
        channels = out_ch
    return BottleneckCNN(nn.Sequential(layers), channels, dropout, num_classes)

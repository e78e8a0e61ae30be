"""Turning what a dataset holds into reportgen's resident tensors: ``uint8`` images ``(N, C, H, W)``, ``int64`` labels.

Shared by the dataset kinds: decoding image files with PIL (``imagefolder_csv``, ``imagefolder``, and torchvision
datasets read item by item), and checking arrays a user's loader or a torchvision class hands over (``python``,
``torchvision``). Every error is a :class:`~reportgen.config.errors.DataError` naming the offending file or key.

Importing this module imports no torch, numpy or PIL (the kinds import it to annotate their options); the
functions import them when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from reportgen.config.errors import DataError
from reportgen.config.params import Length, Range

if TYPE_CHECKING:
    import numpy as np
    import torch
    from PIL import Image

#: ``image_size = [H, W]``: resize every image to this size (bilinear).
ImageSize = Annotated[list[Annotated[int, Range(1)]], Length(2, "[height, width]")] | None

#: Channel counts an image array may have: gray, RGB, RGBA.
CHANNELS = (1, 3, 4)


def check_image_size(image_size: Sequence[int] | None) -> None:
    if image_size is not None and (len(image_size) != 2 or min(image_size) < 1):
        raise DataError(f"image_size: expected [height, width] of positive integers, got {list(image_size)}")


def open_images(paths: Sequence[Path], places: Sequence[tuple[str, str]]) -> list[Image.Image]:
    """Each file of ``paths`` decoded with PIL. ``places[i] = (where, file)`` names it in errors:
    ``labels.csv:5: cannot read image "img_3.png": …``."""
    from PIL import Image, UnidentifiedImageError

    images = []
    for path, (where, file) in zip(paths, places, strict=True):
        try:
            with Image.open(path) as im:
                im.load()
                images.append(im)
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f'{where}: cannot read image "{file}": {err}') from None
    return images


def stack_images(
    images: Sequence[Image.Image],
    places: Sequence[tuple[str, str]],
    grayscale: bool | None = None,
    image_size: Sequence[int] | None = None,
) -> torch.Tensor:
    """PIL images as one ``uint8`` tensor ``(N, C, H, W)``: ``C`` = 1 when ``grayscale`` (default: when every image
    is grayscale), else 3. Without ``image_size = (H, W)`` all images must share one size (an error names the first
    that does not, by its ``places`` entry)."""
    import numpy as np
    import torch
    from PIL import Image

    gray = all(im.mode in ("L", "1") for im in images) if grayscale is None else grayscale
    arrays, first_size = [], None
    for (where, file), im in zip(places, images, strict=True):
        im = im.convert("L" if gray else "RGB")
        if image_size is not None:
            im = im.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)  # PIL wants (W, H)
        elif first_size is None:
            first_size = im.size
        elif im.size != first_size:
            raise DataError(
                f'{where}: image "{file}" is {im.size[1]}x{im.size[0]} (HxW) but earlier images '
                f"are {first_size[1]}x{first_size[0]}; set image_size = [H, W] to resize them all"
            )
        arrays.append(np.asarray(im, dtype=np.uint8))
    x = torch.from_numpy(np.stack(arrays))
    x = x.unsqueeze(1) if gray else x.permute(0, 3, 1, 2)  # (N, H, W) or (N, H, W, 3) -> (N, C, H, W)
    return x.contiguous()


def resize_images(x: torch.Tensor, image_size: Sequence[int]) -> torch.Tensor:
    """``uint8`` images ``(N, C, H, W)`` resized to ``image_size = (H, W)`` with PIL's bilinear filter, one image
    (and channel) at a time: load time only, never in training."""
    import numpy as np
    import torch
    from PIL import Image

    h, w = int(image_size[0]), int(image_size[1])
    if tuple(x.shape[2:]) == (h, w):
        return x
    out = np.empty((x.shape[0], x.shape[1], h, w), dtype=np.uint8)
    for i, image in enumerate(x.numpy()):
        for c, plane in enumerate(image):
            out[i, c] = np.asarray(Image.fromarray(plane).resize((w, h), Image.Resampling.BILINEAR))
    return torch.from_numpy(out)


def to_numpy(value: Any, what: str) -> np.ndarray:
    """A numpy array, a torch tensor or a nested list as a numpy array (an error names ``what`` otherwise)."""
    import numpy as np

    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, possibly on a GPU
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise DataError(f"{what}: not an array: {err}") from None
    if arr.dtype == object:
        raise DataError(f"{what}: not a numeric array (got {type(value).__name__} of Python objects)")
    return arr


def as_images(value: Any, what: str) -> torch.Tensor:
    """Images as ``uint8`` ``(N, C, H, W)``, from an array of shape ``(N, H, W)`` (C = 1), ``(N, H, W, C)`` or
    ``(N, C, H, W)`` with ``C`` in 1, 3, 4 (when both could be channels, ``(N, C, H, W)`` wins).

    ``uint8`` is taken as is; other integers must lie in [0, 255]; floats must lie in [0, 1] and are quantised to
    ``round(x * 255)``. ``what`` names the array in errors (``"data.py:load returned train.x"``).
    """
    import numpy as np
    import torch

    arr = to_numpy(value, what)
    shape = tuple(arr.shape)
    if arr.ndim == 3 and min(shape[1:]) > 0:
        arr = arr[:, None]
    elif arr.ndim == 4 and min(shape[1:]) > 0 and (shape[1] in CHANNELS or shape[3] in CHANNELS):
        if shape[1] not in CHANNELS:
            arr = arr.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    else:
        raise DataError(
            f"{what} of shape {shape}: expected images (N, H, W), (N, H, W, C) or (N, C, H, W) with C in 1, 3, 4"
        )
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise DataError(f"{what} of dtype {arr.dtype}: expected uint8, integers in [0, 255] or floats in [0, 1]")
    elif np.issubdtype(arr.dtype, np.integer):
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high > 255:
            raise DataError(f"{what} with integer values in [{low}, {high}]: expected [0, 255] (or uint8)")
        out = arr.astype(np.uint8)
    else:
        if not np.isfinite(arr).all():
            raise DataError(f"{what} with NaN or infinite values")
        low, high = float(arr.min()), float(arr.max())
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"{what} with float values in [{low:g}, {high:g}]: floats must lie in [0, 1] "
                "(they are quantised to round(x * 255)); pass uint8 or integers in [0, 255] otherwise"
            )
        out = np.rint(arr.astype(np.float64) * 255.0).astype(np.uint8)
    out = np.ascontiguousarray(out)
    return torch.from_numpy(out if out.flags.writeable else out.copy())  # torch wants writable memory


def as_labels(value: Any, what: str, n: int) -> torch.Tensor:
    """Labels as ``int64`` ``(N,)``; integral floats are accepted. ``n`` is the number of images they label."""
    import numpy as np
    import torch

    arr = to_numpy(value, what)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{what} of shape {tuple(arr.shape)}: expected labels (N,)")
    if len(arr) != n:
        raise DataError(f"{what} with {len(arr)} labels for {n} images")
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(f"{what} of dtype {arr.dtype}: expected integer class indices")
    if np.issubdtype(arr.dtype, np.floating) and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        raise DataError(f"{what} with non-integer values: expected integer class indices")
    return torch.from_numpy(arr.astype(np.int64))


def check_label_range(y: torch.Tensor, num_classes: int, what: str) -> None:
    """Every label in ``[0, num_classes)``, or an error showing the first one that is not."""
    bad = ((y < 0) | (y >= num_classes)).nonzero().flatten()
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{what}[{i}] = {int(y[i])}: labels must be integers in [0, {num_classes}) ({num_classes} classes); "
            f"{len(bad)} label(s) out of range"
        )


def classes_from_labels(ys: Sequence[torch.Tensor]) -> tuple[tuple[str, ...], list[torch.Tensor]]:
    """For labels without class names: the sorted distinct labels (over all of ``ys``) as strings, and each of
    ``ys`` mapped to indices into them (the identity when the labels are already ``0 … K-1``)."""
    import torch

    values = torch.unique(torch.cat([y for y in ys]))
    mapped = [torch.searchsorted(values, y) for y in ys]
    return tuple(str(int(v)) for v in values), mapped

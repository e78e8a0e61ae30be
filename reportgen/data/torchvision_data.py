"""``torchvision``: MNIST, Fashion-MNIST, KMNIST or CIFAR-10 read from torchvision's on-disk formats.

torchvision's dataset classes are used only to find, download and parse the files; their ``.data`` and
``.targets`` are taken whole, never item by item. Images come out ``uint8`` of shape ``(N, C, H, W)``
(``C`` = 1 for the MNIST family, 3 for CIFAR-10).

Where the files may be, for ``root`` (relative to the manifest's folder unless absolute):

* torchvision's layout: ``root/MNIST/raw/train-images-idx3-ubyte`` (``FashionMNIST``, ``KMNIST`` likewise),
  ``root/cifar-10-batches-py/`` — what ``download = true`` creates;
* for the MNIST family only, the four idx files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) directly in ``root`` —
  the layout of Debian's ``dataset-fashion-mnist`` package (``root = "/usr/share/datasets/fashion-mnist"``).
  Nothing in those files says which dataset they are, so ``name`` must match them.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from reportgen.config.errors import DataError
from reportgen.config.params import Range
from reportgen.data.base import DATASETS, DatasetSplits, Split
from reportgen.data.options import Caps, CapsApplyTo

if TYPE_CHECKING:
    import numpy as np
    import torch

_CLASS_NAMES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR10"}
_IDX_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_idx(path: Path) -> np.ndarray:
    """An idx-ubyte file (gzipped or not) as a ``uint8`` array of the shape its header gives."""
    import numpy as np

    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(bytearray(data), dtype=np.uint8, offset=4 + 4 * ndim)  # writable, as torch wants
    if arr.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape} but holds {arr.size} bytes")
    return arr.reshape(shape)


def _flat_idx(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Images and labels from idx files directly in ``root`` (Debian's layout), or ``None`` if absent."""
    found = []
    for stem in _IDX_FILES[train]:
        path = next((root / (stem + ext) for ext in ("", ".gz") if (root / (stem + ext)).is_file()), None)
        if path is None:
            return None
        found.append(path)
    return _read_idx(found[0]), _read_idx(found[1])


def _load(name: str, root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """``(x uint8 (N, C, H, W), y int64 (N,), class names)`` of the official train or test set."""
    import numpy as np
    import torch
    import torchvision.datasets as tvd  # imported lazily: only this kind needs torchvision

    cls = getattr(tvd, _CLASS_NAMES[name])
    flat = _flat_idx(root, train) if name != "cifar10" and root.is_dir() else None
    if flat is not None:
        data, targets, classes = flat[0], flat[1], list(cls.classes)
    else:
        if not download and not root.is_dir():
            raise _not_found(name, root)
        try:
            ds = cls(str(root), train=train, download=download)
        except RuntimeError as err:
            if "not found" in str(err).lower() and not download:
                raise _not_found(name, root) from None
            raise DataError(f'torchvision dataset "{name}" under {root}: {err}') from err
        except (OSError, ValueError, AssertionError) as err:  # a failed download, or a corrupt file
            raise DataError(f'torchvision dataset "{name}" under {root}: {err!r}') from err
        data, targets, classes = ds.data, ds.targets, list(ds.classes)
    x = torch.as_tensor(np.asarray(data), dtype=torch.uint8)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # MNIST family: NHW; CIFAR-10: NHWC
    y = torch.as_tensor(np.asarray(targets), dtype=torch.int64)
    if len(x) != len(y):
        raise DataError(f'torchvision dataset "{name}" under {root}: {len(x)} images but {len(y)} labels')
    if name == "mnist":
        classes = [c.split(" - ")[0] for c in classes]  # "3 - three" -> "3", as in mnist5k
    return x.contiguous(), y, classes


def _not_found(name: str, root: Path) -> DataError:
    return DataError(
        f'torchvision dataset "{name}" not found under {root} '
        "(set download = true to fetch it, or point root at a folder holding it)"
    )


@DATASETS.register("torchvision")
def torchvision_dataset(
    *,
    base_dir: Path,
    name: Literal["mnist", "fashion_mnist", "kmnist", "cifar10"],
    root: str = "data",
    download: bool = False,
    val_fraction: Annotated[float, Range(0, 1, open_low=True)] = 0.1,
    limit_train: Annotated[int, Range(1)] | None = None,
    limit_test: Annotated[int, Range(1)] | None = None,
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """A torchvision dataset: its official test set as test, a stratified ``val_fraction`` of its training
    set as val, the rest as train.

    ``limit_train`` / ``limit_test`` keep a stratified seeded subsample (train is limited before val is
    carved out of it); ``class_caps`` then caps classes as in ``mnist5k``.
    """
    from reportgen.data.split import cap_splits, stratified_holdout, stratified_sample, take

    folder = Path(root).expanduser()
    folder = (folder if folder.is_absolute() else Path(base_dir) / folder).resolve()
    x_tr, y_tr, classes = _load(name, folder, True, download)
    x_te, y_te, _ = _load(name, folder, False, download)
    full_train, test = Split(x_tr, y_tr), Split(x_te, y_te)
    if limit_train is not None:
        full_train = take(full_train, stratified_sample(full_train.y, limit_train, seed))
    if limit_test is not None:
        test = take(test, stratified_sample(test.y, limit_test, seed + 1))
    idx_train, idx_val = stratified_holdout(full_train.y, val_fraction, seed + 2)
    names = tuple(str(c) for c in classes)
    splits = (take(full_train, idx_train), take(full_train, idx_val), test)
    train, val, test = cap_splits(splits, class_caps, caps_apply_to, names, seed)
    return DatasetSplits(train, val, test, names)

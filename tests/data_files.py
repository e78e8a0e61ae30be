"""Tiny datasets written in real on-disk formats, for the dataset kinds' tests (and the example manifests' tests).

Every writer is seeded and marks each image with its label (see each function), so that a test can check that
labels stay with their images through loading and splitting.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _balanced_labels(n: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels, as balanced over ``num_classes`` as ``n`` allows, in a seeded random order."""
    return rng.permutation(np.arange(n) % num_classes)


def cifar_images(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random ``uint8`` images ``(N, 3, 32, 32)`` whose first pixel (channel 0, row 0, column 0) is ``label * 20``."""
    x = rng.integers(0, 256, size=(len(y), 3, 32, 32), dtype=np.uint8)
    x[:, 0, 0, 0] = y * 20
    return x


def _pickle(path: Path, obj: dict) -> None:
    with path.open("wb") as f:
        pickle.dump(obj, f, protocol=2)  # the protocol of the official files


def write_cifar10(root: Path, n_train: int = 60, n_test: int = 20, seed: int = 0) -> Path:
    """``root/cifar-10-batches-py/`` as the official CIFAR-10 python release lays it out: pickled ``data_batch_1``
    … ``data_batch_5`` (``n_train`` images in all), ``test_batch`` (``n_test``) and ``batches.meta``.

    Each batch is a dict with ``data`` (``uint8`` ``(n, 3072)``: the 1024 red, then green, then blue values, row
    by row), ``labels`` (list of int), ``batch_label`` and ``filenames``; the first pixel of each image is
    ``label * 20``. The files differ from the official ones, so torchvision's md5 check rejects them: reportgen's
    ``torchvision`` kind reads the pickles itself. Returns the folder.
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    y_train = _balanced_labels(n_train, 10, rng)
    batches = [(f"data_batch_{i + 1}", part) for i, part in enumerate(np.array_split(y_train, 5))]
    for file, y in [*batches, ("test_batch", _balanced_labels(n_test, 10, rng))]:
        x = cifar_images(y, rng)
        _pickle(folder / file, {
            "batch_label": file.replace("_", " "),
            "labels": [int(v) for v in y],
            "data": x.reshape(len(y), -1),
            "filenames": [f"{file}_{i}.png" for i in range(len(y))],
        })
    _pickle(folder / "batches.meta", {"label_names": CIFAR10_CLASSES, "num_cases_per_batch": n_train // 5,
                                      "num_vis": 3072})
    return folder


def write_cifar100(root: Path, n_train: int = 100, n_test: int = 100, seed: int = 0) -> Path:
    """``root/cifar-100-python/`` (``train``, ``test``, ``meta``) with 100 fine classes ``c00`` … ``c99`` (and
    20 coarse ones), images as :func:`write_cifar10` (first pixel = ``fine label * 2``)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    for file, n in (("train", n_train), ("test", n_test)):
        y = _balanced_labels(n, 100, rng)
        x = cifar_images(y, rng)
        x[:, 0, 0, 0] = y * 2
        _pickle(folder / file, {"fine_labels": [int(v) for v in y], "coarse_labels": [int(v) // 5 for v in y],
                                "data": x.reshape(n, -1), "filenames": [f"{file}_{i}.png" for i in range(n)]})
    _pickle(folder / "meta", {"fine_label_names": [f"c{i:02d}" for i in range(100)],
                              "coarse_label_names": [f"s{i:02d}" for i in range(20)]})
    return folder


def write_idx(path: Path, arr: np.ndarray) -> None:
    """``arr`` (``uint8``) as an idx-ubyte file (the MNIST family's format), gzipped when ``path`` ends in ``.gz``."""
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def write_mnist(folder: Path, per_class: tuple[int, int] = (6, 2), prefix: str = "", suffix: str = "") -> Path:
    """The four idx files of an MNIST-like set in ``folder``: ``per_class`` = (train, test) 28x28 images per
    class of 10, pixel = ``label * 10``. ``prefix`` names EMNIST's files (``"emnist-digits-"``: then
    ``emnist-digits-train-…`` and ``…-test-…``); ``suffix`` ``".gz"`` gzips them. Returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in zip(("train", "test" if prefix else "t10k"), per_class, strict=True):
        y = np.tile(np.arange(10), n)
        x = np.repeat(y[:, None, None] * 10, 28 * 28).reshape(-1, 28, 28)
        write_idx(folder / f"{prefix}{part}-images-idx3-ubyte{suffix}", x)
        write_idx(folder / f"{prefix}{part}-labels-idx1-ubyte{suffix}", y)
    return folder


def write_image_folder(root: Path, classes: list[str] | tuple[str, ...] = ("cat", "dog"), per_class: int = 6,
                       size: tuple[int, int] = (8, 8), mode: str = "RGB") -> Path:
    """``root/<class>/<i>.png``: ``per_class`` PNGs of ``size = (H, W)`` per class, in PIL ``mode`` ("L" or
    "RGB"), every pixel ``class index * 20 + i`` (so images of a class differ). Returns ``root``."""
    root = Path(root)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            value = k * 20 + i
            Image.new(mode, (size[1], size[0]), (value,) * 3 if mode == "RGB" else value).save(root / name / f"{i}.png")
    return root


_LOADER = '''\
"""A generated dataset loader (tests/data_files.py)."""

import numpy as np


def load(n={n}, seed={seed}):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % {num_classes}
    x = rng.integers(0, 256, size=(n, *{shape}), dtype=np.uint8)
    x.reshape(n, -1)[:, 0] = y * 20  # the first pixel is the label * 20
    x = {convert}
    classes = {classes!r}
    {returns}
'''

_RETURNS = {
    "pool": 'out = {"x": x, "y": y}',
    "train_test": 'k = n * 3 // 4\n    out = {"train": (x[:k], y[:k]), "test": {"x": x[k:], "y": y[k:]}}',
    "all": 'a, b = n // 2, n * 3 // 4\n'
           '    out = {"train": (x[:a], y[:a]), "val": (x[a:b], y[a:b]), "test": (x[b:], y[b:])}',
}


def write_python_loader(path: Path, *, n: int = 60, shape: tuple[int, ...] = (8, 8), num_classes: int = 3,
                        form: str = "pool", dtype: str = "uint8", classes: list[str] | None = None,
                        seed: int = 0) -> Path:
    """A ``data.py`` at ``path`` whose ``load(n, seed)`` returns ``n`` generated images of ``shape`` (per image:
    ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)``) with labels ``i % num_classes``, as ``form``: ``"pool"``
    (``{x, y}``), ``"train_test"`` or ``"all"`` (train, val, test); ``dtype`` ``"uint8"``, ``"float"`` (in [0, 1])
    or ``"torch"`` (a uint8 tensor). ``classes`` (names) is returned when given. Returns ``path``."""
    convert = {"uint8": "x", "float": "x / 255.0", "torch": "__import__('torch').from_numpy(x)"}[dtype]
    returns = _RETURNS[form] + ("\n    out['classes'] = classes" if classes is not None else "") + "\n    return out"
    text = _LOADER.format(n=n, seed=seed, num_classes=num_classes, shape=tuple(shape), convert=convert,
                          classes=classes, returns=returns)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path

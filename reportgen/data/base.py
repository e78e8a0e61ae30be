"""What every dataset kind returns: resident uint8 tensors split into train/val/test.

Images stay ``uint8`` in memory (4× smaller than float32) and are converted batch by batch in the trainer,
so no per-item decoding ever happens in the training loop.

Importing this module imports no torch (the tensor types below are annotations only, never evaluated), so
that the manifest loader can check dataset options against the registered kinds quickly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reportgen.config.registry import Registry

if TYPE_CHECKING:
    import torch

#: Dataset kinds: ``@DATASETS.register("mnist5k")`` on a function ``(*, base_dir, **options) -> DatasetSplits``.
DATASETS: Registry = Registry("dataset kind")


def location_options(*names: str):
    """Decorator for a dataset kind: its options ``names`` only say where the data is (a folder, a file, whether to
    download it), never what it holds. A run's key leaves them out (the data's content fingerprint is keyed beside
    the other options), so moving a data folder, or a download that already happened, retrains nothing."""

    def mark(fn):
        from reportgen.config.params import parameters

        unknown = [n for n in names if n not in parameters(fn)]
        if unknown:  # a programming error in the kind, caught when it is defined
            raise TypeError(f"{fn.__name__} has no option {', '.join(unknown)}")
        fn.location_options = tuple(names)
        return fn

    return mark


def location_options_of(kind_fn) -> tuple[str, ...]:
    """The options a dataset kind declared with :func:`location_options` (none for a kind that did not)."""
    return tuple(getattr(kind_fn, "location_options", ()))


@dataclass(frozen=True)
class Split:
    """One split: ``x`` is ``uint8`` of shape ``(N, C, H, W)``, ``y`` is ``int64`` of shape ``(N,)``."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def class_counts(self, num_classes: int) -> list[int]:
        return self.y.bincount(minlength=num_classes).tolist()


@dataclass(frozen=True)
class DatasetSplits:
    """A dataset ready for training: three splits, class names and a content fingerprint."""

    train: Split
    val: Split
    test: Split
    classes: tuple[str, ...]
    fingerprint: str = field(default="")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.train.x.shape[1:]
        return int(c), int(h), int(w)

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images, in [0, 1] units (for normalisation)."""
        x = self.train.x.float().div_(255.0)
        mean = x.mean(dim=(0, 2, 3))
        std = x.std(dim=(0, 2, 3)).clamp_min(1e-6)
        return mean.tolist(), std.tolist()

    def with_fingerprint(self) -> DatasetSplits:
        """A copy whose ``fingerprint`` hashes every tensor and the class names (part of each run's key)."""
        h = hashlib.sha256()
        for split in (self.train, self.val, self.test):
            for t in (split.x, split.y):
                h.update(str(tuple(t.shape)).encode())
                h.update(t.contiguous().numpy().tobytes())
        h.update("\x1f".join(self.classes).encode())
        return DatasetSplits(self.train, self.val, self.test, self.classes, h.hexdigest()[:16])

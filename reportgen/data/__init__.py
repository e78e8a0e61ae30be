"""Datasets: each kind module registers a builder in :data:`DATASETS`; :func:`load_dataset` calls one.

Importing this package imports every kind module, so that every kind is registered.
"""

from __future__ import annotations

from reportgen.data import (  # noqa: F401  (registers the kinds)
    image_folder,
    imagefolder,
    lines,
    mnist5k,
    python_loader,
    torchvision_data,
)
from reportgen.data.base import DATASETS, DatasetSplits, Split
from reportgen.data.loading import load_dataset

__all__ = ["DATASETS", "DatasetSplits", "Split", "load_dataset"]

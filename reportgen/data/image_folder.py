"""``imagefolder``: images sorted into one folder per class, ``root/<class>/<image>`` (torchvision's ImageFolder).

Class names are the sorted class folder names (so class indices match torchvision's ``ImageFolder``); a class
folder may hold sub-folders. Files count as images by extension (:data:`IMG_EXTENSIONS`, any case); other files,
and hidden files and folders (``.DS_Store``, ``.ipynb_checkpoints``), are skipped.

Given splits: when ``root`` holds exactly ``train/`` and ``test/`` (and optionally ``val/``), each a folder per
class, those are the splits (a class may be missing from val or test, not from train). Without ``val/``, val is
carved out of train per class: ``split = [train, val, test]`` then says how much (val / (train + val) of it).

Every image is decoded once, with PIL, into ``uint8`` ``(N, C, H, W)``; errors name the file relative to ``root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.config.errors import DataError
from reportgen.data.base import DATASETS, DatasetSplits, Split, location_options
from reportgen.data.images import ImageSize, check_image_size
from reportgen.data.options import Caps, CapsApplyTo, Fractions, check_fractions

if TYPE_CHECKING:
    import torch

#: torchvision's ``IMG_EXTENSIONS`` (``torchvision.datasets.folder``), copied so that listing needs no torchvision.
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
_SPLIT_FOLDERS = ("train", "val", "test")


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_files(class_dir: Path) -> list[Path]:
    """Image files under ``class_dir`` (recursively), sorted; hidden files and folders skipped."""
    found = []
    for path in class_dir.rglob("*"):
        rel = path.relative_to(class_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix.lower() in IMG_EXTENSIONS:
            found.append(path)
    return sorted(found)


def _listing(folder: Path, root: Path, shown: str, classes: list[str] | None
             ) -> tuple[list[str], list[Path], list[int]]:
    """``(class names, files, class indices)`` of ``folder/<class>/…``; with ``classes`` given (a split folder after
    train), each class folder must be one of them."""
    dirs = _visible_dirs(folder)
    if not dirs:
        where = shown if folder == root else f"{shown}: {folder.relative_to(root).as_posix()}/"
        raise DataError(f"{where}: no class folders (expected one folder of images per class)")
    names = [d.name for d in dirs]
    if classes is not None:
        for name in names:
            if name not in classes:
                rel = (folder / name).relative_to(root)
                raise DataError(f'{shown}: {rel}/: class "{name}" has no folder under train/')
    index = {name: i for i, name in enumerate(classes or names)}
    files, labels = [], []
    for d in dirs:
        found = _image_files(d)
        if not found:
            shown_ext = ", ".join(IMG_EXTENSIONS)
            raise DataError(f"{shown}: {d.relative_to(root)}/: no image files (looked for {shown_ext})")
        files += found
        labels += [index[d.name]] * len(found)
    return list(classes or names), files, labels


def _decode(files: list[Path], labels: list[int], root: Path, shown: str, grayscale, image_size
            ) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    from reportgen.data.images import open_images, stack_images

    places = [(shown, f.relative_to(root).as_posix()) for f in files]
    x = stack_images(open_images(files, places), places, grayscale, image_size)
    return x, torch.tensor(labels, dtype=torch.int64)


def _layout(folder: Path) -> list[str] | None:
    """The split folders present when ``folder`` holds given splits (``train`` and ``test``, maybe ``val``)."""
    names = {d.name for d in _visible_dirs(folder)}
    if {"train", "test"} <= names and names <= set(_SPLIT_FOLDERS):
        return [s for s in _SPLIT_FOLDERS if s in names]
    return None


@DATASETS.register("imagefolder")
@location_options("root")
def image_folder(
    *,
    base_dir: Path,
    root: str,
    split: Fractions = (0.6, 0.2, 0.2),
    grayscale: bool | None = None,
    image_size: ImageSize = None,
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """Images under ``root`` (relative to the manifest's folder), one sub-folder per class, split per class by
    ``split``; or given splits ``root/train``, ``root/test`` (``root/val``).

    ``grayscale`` forces 1 or 3 channels (default: 1 if every image is grayscale). ``image_size = [H, W]``
    resizes every image; without it, all images must have the same size. ``class_caps`` caps classes as in
    ``mnist5k``.
    """
    from reportgen.data.split import cap_splits, split_and_cap, stratified_holdout, take

    fractions = check_fractions(split)
    check_image_size(image_size)
    folder = (Path(base_dir) / root).resolve()
    shown = root.rstrip("/")
    if not folder.is_dir():
        raise DataError(f"image folder {root} not found (looked for {folder})")
    given = _layout(folder)
    if given is None:
        classes, files, labels = _listing(folder, folder, shown, None)
        full = Split(*_decode(files, labels, folder, shown, grayscale, image_size))
        train, val, test = split_and_cap(full, fractions, class_caps, caps_apply_to, tuple(classes), seed)
        return DatasetSplits(train, val, test, tuple(classes))

    classes, files, labels = _listing(folder / "train", folder, shown, None)
    listed = {"train": (files, labels)}
    for name in given[1:]:
        _, files, labels = _listing(folder / name, folder, shown, classes)
        listed[name] = (files, labels)
    # One decode for all splits, so that grayscale-or-RGB and the common size are decided once.
    all_files = [f for name in given for f in listed[name][0]]
    all_labels = [label for name in given for label in listed[name][1]]
    x, y = _decode(all_files, all_labels, folder, shown, grayscale, image_size)
    parts, start = {}, 0
    for name in given:
        n = len(listed[name][0])
        parts[name] = Split(x[start : start + n], y[start : start + n])
        start += n
    if "val" in parts:
        splits = (parts["train"], parts["val"], parts["test"])
    else:
        train_fraction, val_fraction, _ = fractions
        idx_train, idx_val = stratified_holdout(parts["train"].y, val_fraction / (train_fraction + val_fraction), seed)
        splits = (take(parts["train"], idx_train), take(parts["train"], idx_val), parts["test"])
    names = tuple(classes)
    train, val, test = cap_splits(splits, class_caps, caps_apply_to, names, seed)
    return DatasetSplits(train, val, test, names)

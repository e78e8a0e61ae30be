"""``imagefolder_csv``: a folder of image files plus a CSV of (file name, label) rows.

Every image is decoded once, with PIL, into one ``uint8`` tensor of shape ``(N, C, H, W)`` (``C`` = 1 for
grayscale, 3 otherwise). Class names are the CSV's distinct labels, sorted (numerically when they are all
numbers); problems are reported as ``labels.csv:14: …`` with the CSV line.
"""

from __future__ import annotations

import csv as csvlib
from pathlib import Path

from reportgen.config.errors import DataError
from reportgen.config.registry import did_you_mean
from reportgen.data.base import DATASETS, DatasetSplits, Split, location_options
from reportgen.data.images import ImageSize, check_image_size, open_images, stack_images
from reportgen.data.options import Caps, CapsApplyTo, Fractions, check_fractions


def _read_rows(path: Path, shown: str, file_column: str | None, label_column: str | None) -> list[tuple]:
    """``[(csv line, file name, label), …]`` from a CSV with a header row."""
    if not path.is_file():
        raise DataError(f"CSV file {shown} not found (looked for {path})")
    with path.open(newline="", encoding="utf-8-sig") as f:  # -sig: Excel writes a byte-order mark
        reader = csvlib.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 2:
            raise DataError(f"{shown}:1: expected a header row with at least 2 columns, got {header}")
        cols = []
        for option, given, default in (("file_column", file_column, 0), ("label_column", label_column, 1)):
            if given is None:
                cols.append(default)
            elif given in header:
                cols.append(header.index(given))
            else:
                hint = did_you_mean(given, header) or f" (columns: {', '.join(header)})"
                raise DataError(f'{shown}: {option}: no column "{given}"{hint}')
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines (often a trailing one)
            where = f"{shown}:{reader.line_num}"
            if len(row) <= max(cols):
                raise DataError(f"{where}: expected {len(header)} columns, got {len(row)}")
            file, label = row[cols[0]].strip(), row[cols[1]].strip()
            if not file or not label:
                raise DataError(f"{where}: empty {'file name' if not file else 'label'}")
            rows.append((reader.line_num, file, label))
    if not rows:
        raise DataError(f"{shown}: no rows after the header")
    return rows


def _sorted_labels(labels: set[str]) -> list[str]:
    """Distinct labels sorted numerically when all are numbers ("2" before "10"), else as text."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


@DATASETS.register("imagefolder_csv")
@location_options("root", "csv")
def imagefolder_csv(
    *,
    base_dir: Path,
    root: str,
    csv: str,
    file_column: str | None = None,
    label_column: str | None = None,
    split: Fractions = (0.6, 0.2, 0.2),
    grayscale: bool | None = None,
    image_size: ImageSize = None,
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """Images under ``root`` labelled by ``csv`` (both relative to the manifest's folder), split per class.

    ``file_column`` / ``label_column`` name the CSV columns (default: its first two). ``grayscale`` forces
    1 or 3 channels (default: 1 if every image is grayscale). ``image_size = [H, W]`` resizes every image;
    without it, all images must have the same size.
    """
    import torch

    from reportgen.data.split import split_and_cap

    fractions = check_fractions(split)
    check_image_size(image_size)
    folder = Path(base_dir) / root
    if not folder.is_dir():
        raise DataError(f"image folder {root} not found (looked for {folder})")
    rows = _read_rows(Path(base_dir) / csv, Path(csv).name, file_column, label_column)
    shown_csv, shown_root = Path(csv).name, root.rstrip("/") + "/"

    images, places = [], [(f"{shown_csv}:{line}", file) for line, file, _ in rows]
    for (line, file, _), place in zip(rows, places, strict=True):
        if not (folder / file).is_file():
            raise DataError(f'{shown_csv}:{line}: image "{file}" not found under {shown_root}')
        images += open_images([folder / file], [place])
    x = stack_images(images, places, grayscale, image_size)

    classes = tuple(_sorted_labels({label for _, _, label in rows}))
    index = {name: i for i, name in enumerate(classes)}
    y = torch.tensor([index[label] for _, _, label in rows], dtype=torch.int64)
    full = Split(x, y)
    train, val, test = split_and_cap(full, fractions, class_caps, caps_apply_to, classes, seed)
    return DatasetSplits(train, val, test, classes)

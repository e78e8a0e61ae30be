"""``lines``: the line dataset of IIT Mandi CS-671 (2019) Assignment 2 §1, generated, deterministic by seed.

Each image is ``uint8`` of shape ``(3, 28, 28)``: one straight line on a black background, drawn with hard
(not antialiased) pixels in pure red ``(255, 0, 0)`` or pure blue ``(0, 0, 255)``. Four factors make the
2 × 2 × 12 × 2 = 96 classes:

* length 7 or 15 px: the Euclidean length of the segment;
* width 1 or 3 px;
* angle 0°, 15°, …, 165°, counter-clockwise from the positive x axis as the image is seen (rows grow
  downwards, so the line's direction in ``(column, row)`` coordinates is ``(cos a, -sin a)``);
* colour red or blue.

Class names carry the factors as ``"length=7 width=1 angle=15 colour=red"`` (this exact ``key=value`` form; see
:func:`parse_class_name`). Classes are ordered by length, then width, then angle, then colour (red before
blue): class ``((l·2 + w)·12 + a)·2 + c`` for the indices ``l, w, a, c`` of its factor values in
:data:`LENGTHS`, :data:`WIDTHS`, :data:`ANGLES`, :data:`COLOURS`.

**Drawing.** A line runs between the centres of two pixels, :func:`segment` apart: the whole-pixel step nearest
to ``length · (cos angle, -sin angle)``, so its Euclidean length is within 0.56 px of ``length`` and its
direction within 3.5° of ``angle`` (exact at 0°, 45°, 90° and 135°). A 1-pixel line is the digital straight line
between them (one pixel per step along its major axis, as Bresenham's algorithm draws it); a 3-pixel line lights
every pixel within 1.5 px of the segment, with flat ends (:func:`stroke`). Every image of a class is an exact
translate of one template: within a class only the position varies.

**Positions.** Each class draws its positions from every one that keeps the whole line inside the image,
in a seeded random order without repeats, starting over in the same order only once ``per_class`` exceeds the
number of such positions (225 for a thick 15-pixel line at 45°, up to 588). Duplicates within a class, and so
between splits, are thus as few as they can be: none up to 225 per class; at the course's 1,000 per class every
position is used 2–5 times, so test images then also appear in the training split.

The course generated 1,000 images per class and split them 60/40 into train and test; the default
``split = [0.5, 0.1, 0.4]`` keeps the 40 % test share and carves validation out of the course's 60 % train.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from reportgen.config.params import Range
from reportgen.data.base import DATASETS, DatasetSplits, Split
from reportgen.data.options import Caps, CapsApplyTo, Fractions

if TYPE_CHECKING:
    import torch

SIZE = 28
LENGTHS = (7, 15)
WIDTHS = (1, 3)
ANGLES = tuple(range(0, 180, 15))
COLOURS = ("red", "blue")
#: RGB value of each colour.
RGB = {"red": (255, 0, 0), "blue": (0, 0, 255)}

_NAME = re.compile(r"length=(\d+) width=(\d+) angle=(\d+) colour=(\w+)")


def class_factors() -> list[tuple[int, int, int, str]]:
    """``(length, width, angle, colour)`` of each class, in class order."""
    return [(n, w, a, c) for n in LENGTHS for w in WIDTHS for a in ANGLES for c in COLOURS]


def class_name(length: int, width: int, angle: int, colour: str) -> str:
    """``"length=7 width=1 angle=15 colour=red"``."""
    return f"length={length} width={width} angle={angle} colour={colour}"


def parse_class_name(name: str) -> dict[str, int | str]:
    """``{"length": 7, "width": 1, "angle": 15, "colour": "red"}`` from a class name; ``ValueError`` if malformed."""
    m = _NAME.fullmatch(name)
    if m is None:
        raise ValueError(f"not a line class name: {name!r}")
    return {"length": int(m[1]), "width": int(m[2]), "angle": int(m[3]), "colour": m[4]}


def segment(length: int, angle: int) -> tuple[int, int]:
    """``(columns, rows)`` from a line's first end pixel to its last: the whole-pixel step nearest to
    ``length · (cos angle, -sin angle)`` (rows grow downwards); of two equally near, the one closer in angle."""
    vx, vy = length * math.cos(math.radians(angle)), -length * math.sin(math.radians(angle))

    def angle_error(d: tuple[int, int]) -> float:
        error = abs(math.degrees(math.atan2(-d[1], d[0])) % 180 - angle)
        return min(error, 180 - error)

    candidates = [(x, y) for x in {math.floor(vx), math.ceil(vx)} for y in {math.floor(vy), math.ceil(vy)}]
    return min(candidates, key=lambda d: (round(math.hypot(d[0] - vx, d[1] - vy), 9), angle_error(d), d))


def stroke(length: int, width: int, angle: int, cols: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Whether each pixel ``(cols, rows)`` (whole pixels, relative to the line's first end pixel) is lit.

    With ``(dx, dy)`` = :func:`segment` and ``d`` its length, both widths end flat at the end pixels' centres:

    * width 1: the digital straight line, one pixel per step along the major axis: at major offset
      ``0 … max(|dx|, |dy|)`` the pixel whose minor-axis distance ``t`` to the segment is in ``(-1/2, 1/2]``
      (lighting every pixel within 1/2 px perpendicular would double the line wherever it passes between
      two pixels);
    * width 3 (any width > 1): every pixel whose centre is within ``width / 2`` of the segment, measured
      perpendicular to it, and between the perpendiculars through its ends.

    Everything is whole-number arithmetic, so the same pixels light on every machine.
    """
    dx, dy = segment(length, angle)
    if width == 1:
        x_major = abs(dx) >= abs(dy)
        (a, da), (b, db) = ((cols, dx), (rows, dy)) if x_major else ((rows, dy), (cols, dx))
        sign, m = (1 if da >= 0 else -1), abs(da)
        t2 = 2 * (b * da - a * db) * sign  # 2·t·|da|
        return (a * sign >= 0) & (a * sign <= m) & (t2 > -m) & (t2 <= m)
    sq = dx * dx + dy * dy
    along = cols * dx + rows * dy  # along · d
    across = cols * dy - rows * dx  # across · d
    return (along >= 0) & (along <= sq) & (4 * across * across <= width * width * sq)


def templates() -> torch.Tensor:
    """``bool (96, 55, 55)``: each class's line with the pixel nearest its middle at ``(27, 27)`` of a 55 × 55
    canvas (the middle of :func:`segment`'s step, rounded down).

    Cutting ``[27 - row : 55 - row, 27 - col : 55 - col]`` out of it gives the 28 × 28 image of the line
    placed at pixel ``(row, col)``.
    """
    import torch

    offsets = torch.arange(-(SIZE - 1), SIZE)
    rows, cols = offsets[:, None], offsets[None, :]
    masks = []
    for length, width, angle, _colour in class_factors():
        dx, dy = segment(length, angle)
        masks.append(stroke(length, width, angle, cols + dx // 2, rows + dy // 2))
    return torch.stack(masks)


def render(labels: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``uint8 (N, 3, 28, 28)``: the line of class ``labels[i]`` placed at pixel ``(rows[i], cols[i])`` (the pixel
    nearest its middle, rounded down, as in :func:`templates`).

    One gather over all images at once from a strided view of every 28 × 28 window of the coloured
    templates (no per-image Python loop, no per-pixel index tensors).
    """
    import torch

    rgb = torch.tensor([RGB[colour] for *_, colour in class_factors()], dtype=torch.uint8)  # (96, 3)
    coloured = templates()[:, None].to(torch.uint8) * rgb[:, :, None, None]  # (96, 3, 55, 55)
    windows = coloured.unfold(2, SIZE, 1).unfold(3, SIZE, 1)  # (96, 3, 28, 28, 28, 28), a view
    centre = SIZE - 1
    return windows[labels, :, centre - rows, centre - cols].contiguous()  # (N, 3, 28, 28)


def valid_positions() -> torch.Tensor:
    """``bool (96, 28, 28)``: the pixels each class's line may be placed at (see :func:`render`) while lying wholly
    inside the image."""
    import torch

    canvas = templates()
    rows_lit, cols_lit = canvas.any(dim=2), canvas.any(dim=1)  # (96, 55): offset used by some lit pixel
    offsets = torch.arange(-(SIZE - 1), SIZE)
    big = torch.tensor(10 * SIZE)
    lo_r = torch.where(rows_lit, offsets, big).amin(dim=1)  # most negative row offset lit
    hi_r = torch.where(rows_lit, offsets, -big).amax(dim=1)
    lo_c = torch.where(cols_lit, offsets, big).amin(dim=1)
    hi_c = torch.where(cols_lit, offsets, -big).amax(dim=1)
    grid = torch.arange(SIZE)
    ok_r = (grid[None] + lo_r[:, None] >= 0) & (grid[None] + hi_r[:, None] <= SIZE - 1)  # (96, 28)
    ok_c = (grid[None] + lo_c[:, None] >= 0) & (grid[None] + hi_c[:, None] <= SIZE - 1)
    return ok_r[:, :, None] & ok_c[:, None, :]


def positions(per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(labels, rows, cols)``, ``int64 (96·per_class,)`` each, grouped by class; seeded.

    Each class runs through its valid positions in a random order, starting over only once all are used.
    """
    import torch

    valid = valid_positions().flatten(1)  # (96, 784)
    generator = torch.Generator().manual_seed(int(seed))
    scores = torch.rand(valid.shape, generator=generator, dtype=torch.float64)
    scores[~valid] = 2.0  # after every valid position
    order = scores.argsort(dim=1, stable=True)  # (96, 784): valid positions first, in random order
    count = valid.sum(dim=1)  # (96,)
    k = torch.arange(per_class)
    picked = order.gather(1, k[None, :] % count[:, None])  # (96, per_class) flat positions
    labels = torch.arange(len(valid)).repeat_interleave(per_class)
    flat = picked.flatten()
    return labels, flat // SIZE, flat % SIZE


def generate(per_class: int, seed: int) -> Split:
    """``per_class`` images of each of the 96 classes, grouped by class (not yet split)."""
    labels, rows, cols = positions(per_class, seed)
    return Split(render(labels, rows, cols), labels)


@DATASETS.register("lines")
def lines(
    *,
    base_dir: Path,
    per_class: Annotated[int, Range(3, 5000)] = 100,
    split: Fractions = (0.5, 0.1, 0.4),
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """``per_class`` generated 28 × 28 RGB line images of each of the 96 classes, split ``[train, val, test]``
    per class; ``seed`` chooses the line positions and the split.

    ``class_caps = {"length=7 width=1 angle=0 colour=red" = 10}`` keeps at most 10 of that class in the
    training split (or in each split, with ``caps_apply_to = "all"``).
    """
    from reportgen.data.split import split_and_cap

    del base_dir  # generated, nothing to read
    full = generate(per_class, seed)
    classes = tuple(class_name(*f) for f in class_factors())
    train, val, test = split_and_cap(full, split, class_caps, caps_apply_to, classes, seed)
    return DatasetSplits(train, val, test, classes)

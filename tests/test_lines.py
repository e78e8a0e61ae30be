"""The ``lines`` dataset kind (IIT Mandi CS-671 A2 §1), checked from the pixels themselves.

Each property the class name claims (colour, angle, length, width) is measured back from the lit pixels: the
angle and length by principal component analysis of the lit pixel centres, the width as their extent across the
principal axis.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import torch

from reportgen.config.errors import DataError, ManifestError
from reportgen.config.params import check_params
from reportgen.data import DATASETS, load_dataset
from reportgen.data.lines import (
    ANGLES,
    LENGTHS,
    class_name,
    generate,
    lines,
    parse_class_name,
    positions,
    segment,
)

PER_CLASS = 20
COLOURS = {"red": (255, 0, 0), "blue": (0, 0, 255)}


@pytest.fixture(scope="module")
def data():
    return lines(base_dir=Path("."), per_class=PER_CLASS, seed=0)


def _all(data) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.cat([data.train.x, data.val.x, data.test.x]), torch.cat([data.train.y, data.val.y, data.test.y])


def measure(image: torch.Tensor) -> dict[str, float]:
    """Angle (degrees, mod 180, counter-clockwise as seen), length and width of the lit pixels of one image."""
    rows, cols = image.amax(dim=0).nonzero(as_tuple=True)
    points = torch.stack([cols.double(), -rows.double()], dim=1)  # x right, y up
    centre = points.mean(dim=0)
    centred = points - centre
    _, vectors = torch.linalg.eigh(centred.T @ centred / len(points))
    major, minor = vectors[:, 1], vectors[:, 0]
    along, across = centred @ major, centred @ minor
    return {
        "angle": math.degrees(math.atan2(major[1], major[0])) % 180,
        "length": float(along.max() - along.min()),
        "width": float(across.max() - across.min()),
        "centre": (float(centre[0]), float(centre[1])),
        "pixels": len(points),
    }


def _angle_error(a: float, b: float) -> float:
    d = abs(a - b) % 180
    return min(d, 180 - d)


# --- classes and sizes ----------------------------------------------------------------------------------------


def test_registered_and_96_named_classes(data):
    assert DATASETS.get("lines") is lines
    assert data.num_classes == 96 and data.input_shape == (3, 28, 28)
    factors = [parse_class_name(c) for c in data.classes]
    assert len({tuple(f.values()) for f in factors}) == 96
    assert data.classes[0] == "length=7 width=1 angle=0 colour=red"
    assert data.classes[1] == "length=7 width=1 angle=0 colour=blue"
    assert data.classes[-1] == "length=15 width=3 angle=165 colour=blue"
    colour_rank = {"red": 0, "blue": 1}
    keys = [(f["length"], f["width"], f["angle"], colour_rank[f["colour"]]) for f in factors]
    assert keys == sorted(keys)  # by length, width, angle, then colour (red first)
    assert {f["angle"] for f in factors} == set(range(0, 166, 15))
    assert {(f["length"], f["width"], f["colour"]) for f in factors} == {
        (n, w, c) for n in (7, 15) for w in (1, 3) for c in ("red", "blue")
    }
    for name in data.classes:
        assert class_name(**parse_class_name(name)) == name  # the exact "key=value" form, round trip
    with pytest.raises(ValueError):
        parse_class_name("length=7, width=1")


def test_sizes_dtypes_and_stratified_split(data):
    x, y = _all(data)
    assert x.shape == (96 * PER_CLASS, 3, 28, 28) and x.dtype == torch.uint8 and y.dtype == torch.int64
    # 20 per class split 0.5 / 0.1 / 0.4 within each class.
    for split, n in ((data.train, 10), (data.val, 2), (data.test, 8)):
        assert split.class_counts(96) == [n] * 96
    other = lines(base_dir=Path("."), per_class=10, split=(0.6, 0.2, 0.2))
    assert (len(other.train), len(other.val), len(other.test)) == (96 * 6, 96 * 2, 96 * 2)


# --- what the pixels show ------------------------------------------------------------------------------------


def test_colours_are_pure_and_background_black(data):
    x, y = _all(data)
    pixels = x.permute(0, 2, 3, 1)  # (N, 28, 28, 3)
    lit = pixels.amax(dim=3) > 0
    assert lit.flatten(1).sum(dim=1).min() >= 6  # every image shows a line
    for label in range(96):
        colour = torch.tensor(COLOURS[parse_class_name(data.classes[label])["colour"]], dtype=torch.uint8)
        mine = pixels[y == label]
        on = lit[y == label]
        assert (mine[on] == colour).all(), data.classes[label]  # every lit pixel is exactly the class colour
        assert (mine[~on] == 0).all()  # everything else is black
    assert set(x.unique().tolist()) == {0, 255}  # hard pixels: no antialiasing


def test_angle_length_and_width_from_the_pixels(data):
    x, y = _all(data)
    worst = {"angle": 0.0, "length": 0.0}
    widths: dict[int, list[float]] = {1: [], 3: []}
    for label, name in enumerate(data.classes):
        truth = parse_class_name(name)
        for image in x[y == label][:3]:
            m = measure(image)
            worst["angle"] = max(worst["angle"], _angle_error(m["angle"], truth["angle"]))
            worst["length"] = max(worst["length"], abs(m["length"] - truth["length"]))
            widths[truth["width"]].append(m["width"])
    assert worst["angle"] <= 4.0  # a 7-pixel line cannot point exactly at 30°; 3.15° is the worst case
    assert worst["length"] <= 1.5  # 0.56 at most: the end pixels' centres are within 0.56 px of the length
    assert max(widths[1]) < 1.0 < 1.9 < min(widths[3])  # width 1 vs 3 tell apart from the pixels


def test_within_a_class_only_the_position_varies(data):
    x, y = _all(data)
    for label in range(96):
        images = x[y == label].amax(dim=1)  # (n, 28, 28): > 0 where lit
        shapes, centres = set(), set()
        for mask in images:
            rows, cols = mask.nonzero(as_tuple=True)
            top, left = int(rows.min()), int(cols.min())
            shapes.add(tuple(zip((rows - top).tolist(), (cols - left).tolist(), strict=True)))
            centres.add((float(cols.double().mean()), float(rows.double().mean())))
        assert len(shapes) == 1, data.classes[label]  # every image: one shape, translated
        assert len(centres) == PER_CLASS  # ... to a different place each time
        measured = {tuple(round(v, 6) for k, v in measure(m[None]).items() if k != "centre") for m in images}
        assert len(measured) == 1


def test_positions_cover_the_image_without_repeats():
    labels, rows, cols = positions(225, seed=1)  # 225: the fewest positions any class has
    for label in range(96):
        mine = rows[labels == label] * 28 + cols[labels == label]
        assert len(set(mine.tolist())) == 225
    labels, rows, cols = positions(1000, seed=1)  # more than there are: each position used evenly
    for label in (0, 95):
        counts = torch.bincount(rows[labels == label] * 28 + cols[labels == label])
        used = counts[counts > 0]
        assert int(used.max()) - int(used.min()) <= 1


def test_segment_length_and_angle_are_close():
    for n in LENGTHS:
        for a in ANGLES:
            dx, dy = segment(n, a)
            assert abs(math.hypot(dx, dy) - n) <= 0.56
            assert _angle_error(math.degrees(math.atan2(-dy, dx)), a) < 3.5


# --- seeds, manifest, speed --------------------------------------------------------------------------------------


def test_deterministic_by_seed():
    a = lines(base_dir=Path("."), per_class=5, seed=3)
    b = lines(base_dir=Path("."), per_class=5, seed=3)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    c = lines(base_dir=Path("."), per_class=5, seed=4)
    assert not torch.equal(a.train.x, c.train.x)
    assert torch.equal(generate(5, 3).x, generate(5, 3).x) and not torch.equal(generate(5, 3).x, generate(5, 4).x)


def test_manifest_options_and_loading(tmp_path):
    check = check_params
    assert check(lines, {}, "datasets.d", skip=("base_dir",)) == {}
    ok = check(lines, {"per_class": 50, "split": [0.6, 0.2, 0.2], "seed": 2}, "datasets.d", skip=("base_dir",))
    assert ok == {"per_class": 50, "split": (0.6, 0.2, 0.2), "seed": 2}
    with pytest.raises(ManifestError, match="datasets.d.per_class: must be >= 3, got 2"):
        check(lines, {"per_class": 2}, "datasets.d", skip=("base_dir",))
    with pytest.raises(ManifestError, match="datasets.d.per_class: must be <= 5000, got 5001"):
        check(lines, {"per_class": 5001}, "datasets.d", skip=("base_dir",))

    name = "length=15 width=3 angle=45 colour=blue"
    d = load_dataset("lines", {"per_class": 10, "class_caps": {name: 2}}, tmp_path)
    counts = d.train.class_counts(96)
    assert counts[d.classes.index(name)] == 2 and sum(counts) == 5 * 95 + 2
    assert d.fingerprint
    with pytest.raises(DataError, match='class_caps: unknown class "length=15 width=3 angle=45 colour=green"'):
        load_dataset("lines", {"per_class": 10, "class_caps": {name.replace("blue", "green"): 2}}, tmp_path)


def test_generation_is_fast():
    start = time.perf_counter()
    full = generate(1000, seed=0)  # the course's 1,000 per class
    elapsed = time.perf_counter() - start
    assert full.x.shape == (96_000, 3, 28, 28)
    assert elapsed < 5.0

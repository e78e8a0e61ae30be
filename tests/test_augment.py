"""Batch augmentation: seeded and independent of the global RNG, layout-preserving, and each op does what it says
(exact crops and flips checked against slicing, erased rectangles within torchvision's bounds). CPU, small batches."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from reportgen.config.errors import ManifestError, TrainingError
from reportgen.config.params import check_params
from reportgen.training.augment import (
    ERASE_AREA,
    Augment,
    BatchAugmenter,
    affine,
    describe,
    is_active,
    shift_flip,
)

ALL = Augment(crop=4, hflip=True, rotate=15.0, erase=0.5, jitter=0.4)
MEAN, STD = [0.5, 0.4, 0.3], [0.25, 0.2, 0.3]


def batch(n=16, c=3, h=32, w=32, seed=0) -> torch.Tensor:
    """A normalised-looking batch: uint8 pixels through ``(x/255 - mean)/std``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, c, h, w), generator=g).float() / 255
    return (x - torch.tensor(MEAN[:c]).view(1, c, 1, 1)) / torch.tensor(STD[:c]).view(1, c, 1, 1)


def augmenter(options: Augment, seed: int = 0, c: int = 3) -> BatchAugmenter:
    return BatchAugmenter(options, seed, "cpu", mean=MEAN[:c], std=STD[:c])


def test_same_seed_same_batches_other_seed_other_batches():
    x = batch()
    a, b, other = augmenter(ALL, 0), augmenter(ALL, 0), augmenter(ALL, 1)
    first, second = a(x), a(x)
    assert torch.equal(first, b(x)) and torch.equal(second, b(x))
    assert not torch.equal(first, second)  # a stream, not one draw
    assert not torch.equal(first, other(x))


def test_the_global_rng_is_untouched():
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    augmenter(ALL)(batch())
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("options", [ALL, Augment(crop=2, hflip=True), Augment(erase=1.0), Augment(jitter=0.5)])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("channels_last", [False, True])
def test_shape_dtype_and_memory_format_are_kept(options, c, channels_last):
    x = batch(n=4, c=c, h=12, w=10)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    out = augmenter(options, c=c)(x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert out.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    assert torch.isfinite(out).all()


def test_hflip_mirrors_about_half_the_images_exactly():
    x = batch(n=200, c=1, h=8, w=8)
    out = augmenter(Augment(hflip=True), c=1)(x)
    same = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)]
    assert all(s != m for s, m in zip(same, mirrored, strict=True))  # each image one or the other
    assert 70 <= sum(mirrored) <= 130


def test_crop_is_an_integer_shift_with_zero_fill():
    p, x = 3, batch(n=24, c=3, h=9, w=11)
    out = augmenter(Augment(crop=p))(x)
    padded = F.pad(x, (p, p, p, p))
    shifts = set()
    for i in range(len(x)):
        found = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                 if torch.equal(out[i], padded[i, :, dy : dy + 9, dx : dx + 11])]
        assert found, f"image {i} is no pad-and-crop of its input"
        shifts.add(found[0])
    assert len(shifts) > 5


def test_the_affine_path_reproduces_exact_shifts_and_flips():
    x = batch(n=32, c=3, h=9, w=12)
    g = torch.Generator().manual_seed(0)
    ty, tx = torch.randint(-3, 4, (32,), generator=g), torch.randint(-3, 4, (32,), generator=g)
    flip = torch.rand(32, generator=g) < 0.5
    exact = shift_flip(x, ty, tx, flip)
    assert (affine(x, ty, tx, flip, torch.zeros(32)) - exact).abs().amax() <= 1e-5
    assert torch.equal(shift_flip(x, ty * 0, tx * 0, flip), torch.where(flip[:, None, None, None], x.flip(3), x))


def test_a_small_rotation_moves_pixels_but_keeps_the_centre():
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 29), torch.linspace(-1, 1, 29), indexing="ij")
    x = (torch.sin(3 * xs) + torch.cos(2 * ys) + xs * ys).expand(8, 1, 29, 29).contiguous()
    out = augmenter(Augment(rotate=10.0), c=1)(x)
    assert (out - x).abs().amax() > 1e-2
    assert (out[:, :, 14, 14] - x[:, :, 14, 14]).abs().amax() <= 1e-4


def test_erase_zeroes_one_rectangle_of_bounded_area():
    h, w = 20, 24
    x = torch.ones(64, 3, h, w)
    out = augmenter(Augment(erase=1.0))(x)
    erased = 0
    for image in out:
        zero = image == 0
        assert torch.equal(zero, zero[:1].expand_as(zero))  # every channel alike
        zero = zero[0]
        if not zero.any():
            continue  # no try fitted (rare)
        erased += 1
        rows, cols = zero.any(1), zero.any(0)
        assert torch.equal(zero, rows[:, None] & cols[None, :])  # a rectangle
        assert rows.nonzero().squeeze(1).diff().eq(1).all() and cols.nonzero().squeeze(1).diff().eq(1).all()
        area = zero.sum().item() / (h * w)
        assert ERASE_AREA[0] * 0.5 <= area <= ERASE_AREA[1] * 1.3  # rounding of the sides
        assert torch.equal(image[:, ~zero], x[0][:, ~zero])  # the rest untouched
    assert erased >= 60


def test_jitter_stays_finite_in_range_and_keeps_a_flat_image_flat():
    x = batch(n=32)
    out = augmenter(Augment(jitter=1.0))(x)
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    pixels = out * std + mean
    assert torch.isfinite(out).all() and pixels.amin() >= -1e-6 and pixels.amax() <= 1 + 1e-6
    assert not torch.allclose(out, x)
    grey = ((torch.full((32, 3, 8, 8), 0.4) - mean) / std)  # contrast and saturation leave a flat grey alone
    flat = augmenter(Augment(jitter=0.5))(grey) * std + mean
    assert (flat - flat[:, :1, :1, :1]).abs().amax() < 1e-5
    assert ((flat[:, 0, 0, 0] - 0.4).abs() > 1e-3).any()  # brightness changed it


def reference_jitter(img: torch.Tensor, b: float, c: float, s: float) -> torch.Tensor:
    """One image, as torchvision.transforms.functional's adjust_brightness, adjust_contrast, adjust_saturation."""
    grey = lambda im: 0.2989 * im[0] + 0.587 * im[1] + 0.114 * im[2]  # noqa: E731
    img = (img * b).clamp(0, 1)
    img = (c * img + (1 - c) * grey(img).mean()).clamp(0, 1)
    return (s * img + (1 - s) * grey(img)).clamp(0, 1)


def test_jitter_matches_torchvisions_formulas_with_the_drawn_factors():
    from reportgen.training.augment import _BRIGHT, _DRAWS

    img = torch.rand(4, 3, 11, 15, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    draws = torch.rand((4, _DRAWS), generator=torch.Generator().manual_seed(7))  # what seed 7 gives the augmenter
    jittered = augmenter(Augment(jitter=0.5), seed=7)((img - mean) / std) * std + mean
    for i in range(4):
        factors = (0.5 + draws[i, _BRIGHT : _BRIGHT + 3]).tolist()  # uniform in [1 - 0.5, 1 + 0.5]
        assert (jittered[i] - reference_jitter(img[i], *factors)).abs().amax() < 1e-5


def test_rotation_by_quarter_and_half_turns_equals_rot90():
    none = torch.zeros(2, dtype=torch.long)
    square, wide = torch.rand(2, 2, 7, 7), torch.rand(2, 2, 6, 8)
    quarter = affine(square, none, none, none.bool(), torch.full((2,), math.pi / 2))
    assert (quarter - torch.rot90(square, 1, (2, 3))).abs().amax() < 1e-5  # counter-clockwise, as torchvision's
    half = affine(wide, none, none, none.bool(), torch.full((2,), math.pi))  # not sheared when H != W
    assert (half - torch.rot90(wide, 2, (2, 3))).abs().amax() < 1e-5


def test_no_options_is_inactive_and_the_identity():
    x = batch()
    assert not is_active(Augment()) and not is_active(Augment(jitter=0.0, rotate=0))
    assert is_active(Augment(hflip=True))
    off = BatchAugmenter(Augment(), 0, "cpu")
    assert not off.active and off(x) is x


def test_misuse_is_reported():
    with pytest.raises(ValueError, match="mean and std"):
        BatchAugmenter(Augment(jitter=0.2), 0, "cpu")
    with pytest.raises(TrainingError, match="more than half"):
        augmenter(Augment(crop=5))(batch(h=8, w=8))


def test_describe():
    assert describe(Augment()) == "none"
    assert describe(Augment(hflip=True)) == "horizontal flips"
    assert describe(Augment(crop=4, hflip=True, erase=0.25)) == (
        "random 4-pixel crops, horizontal flips and random erasing (p = 0.25)")
    assert "rotations (up to ±15°)" in describe(Augment(rotate=15.0, jitter=0.2))


def test_manifest_options_are_checked_with_locations():
    checked = check_params(Augment, {"crop": 4, "hflip": True, "rotate": 15}, "runs.r.augment")
    assert Augment(**checked) == Augment(crop=4, hflip=True, rotate=15.0)
    with pytest.raises(ManifestError) as err:
        check_params(Augment, {"crop": -1}, "runs.r.augment")
    assert err.value.location == "runs.r.augment.crop"
    for table, where in (({"erase": 1.5}, "erase"), ({"rotate": 181}, "rotate"), ({"hflip": "yes"}, "hflip")):
        with pytest.raises(ManifestError) as err:
            check_params(Augment, table, "runs.r.augment")
        assert err.value.location == f"runs.r.augment.{where}"
    with pytest.raises(ManifestError, match='did you mean "hflip"'):
        check_params(Augment, {"hfilp": True}, "runs.r.augment")


def test_checking_options_loads_no_torch():
    code = ("import sys\nfrom reportgen.config.params import check_params\n"
            "from reportgen.training.augment import Augment, describe\n"
            "Augment(**check_params(Augment, {'crop': 4}, 'runs.r.augment'))\ndescribe(Augment(crop=4))\n"
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

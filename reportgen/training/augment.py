"""Batch augmentation on the device: ``augment = { crop = 4, hflip = true }`` in a run's table.

The trainer keeps each split as a resident ``uint8`` tensor and builds a batch by an index gather plus one
convert-and-normalise, so augmentation works on that normalised float batch ``(N, C, H, W)``, on the device,
vectorised over the whole batch: a handful of tensor operations per batch, none per image.

Order, per image: colour jitter (on the unnormalised image), then the geometry, then random erasing. Jitter comes
first so that the fill of a crop's padding, a rotation's corners and an erased rectangle stays exactly 0, which after
normalisation is the dataset's mean colour. Crops and flips alone are one exact gather (:func:`shift_flip`); with a
rotation, crop, rotation and flip are one affine map and one bilinear ``grid_sample`` (:func:`affine`).

The options, :class:`~reportgen.config.specs.Augment`, live with the manifest's other dataclasses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reportgen.config.errors import TrainingError
from reportgen.config.specs import Augment  # the options; the manifest checks them

if TYPE_CHECKING:  # for the annotations only: torch is imported inside the functions that use it
    import torch

# Random erasing as Zhong et al. (2017) and torchvision's RandomErasing: the rectangle's area is this fraction of
# the image, its aspect ratio log-uniform in this range, and up to ERASE_TRIES draws are made for one that fits.
ERASE_AREA = (0.02, 0.33)
ERASE_ASPECT = (0.3, 3.3)
ERASE_TRIES = 10
# ITU-R 601 luma weights, as torchvision's rgb_to_grayscale (contrast's mean and saturation's grey).
LUMA = (0.2989, 0.587, 0.114)

# Columns of the per-image uniform draws (one (N, _DRAWS) tensor per batch, whatever the options, so that the
# stream a seed gives does not depend on the batch contents): crop y, crop x, flip, angle, brightness, contrast,
# saturation, erase-or-not, then (area, aspect, top, left) per erase try.
_TY, _TX, _FLIP, _ANGLE, _BRIGHT, _CONTRAST, _SAT, _ERASE = range(8)
_DRAWS = 8 + 4 * ERASE_TRIES


def is_active(options: Augment) -> bool:
    """Whether ``options`` changes anything; an inactive augmenter is skipped, so unaugmented runs stay exact."""
    return options != Augment()


def describe(options: Augment) -> str:
    """A phrase for the report: ``"random 4-pixel crops, horizontal flips and random erasing (p = 0.25)"``."""
    parts = []
    if options.crop:
        parts.append(f"random {options.crop}-pixel crops")
    if options.hflip:
        parts.append("horizontal flips")
    if options.rotate:
        parts.append(f"random rotations (up to ±{options.rotate:g}°)")
    if options.jitter:
        parts.append(f"colour jitter (strength {options.jitter:g})")
    if options.erase:
        parts.append(f"random erasing (p = {options.erase:g})")
    if not parts:
        return "none"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class BatchAugmenter:
    """Augments normalised float batches ``(N, C, H, W)`` on ``device``, with a random stream of its own.

    ``mean`` and ``std`` (per channel, as the batch was normalised with) are needed for ``jitter`` only:
    brightness and contrast act on the unnormalised image, which is clamped to [0, 1] after each step and then
    normalised again. The same ``seed`` gives the same sequence of augmented batches on the same device; the
    global RNG (the trainer's initialisation and shuffling streams) is never drawn from.
    """

    def __init__(
        self,
        options: Augment,
        seed: int,
        device: str | torch.device = "cpu",
        mean: list[float] | None = None,
        std: list[float] | None = None,
    ) -> None:
        import torch

        self.options = options
        self.device = torch.device(device)
        self.active = is_active(options)
        if options.jitter and (mean is None or std is None):
            raise ValueError("jitter needs the batch's normalisation mean and std")
        self.mean, self.std = mean, std
        # A generator on the device where it has them (CUDA does): no host round trip per batch.
        try:
            self.generator = torch.Generator(device=self.device)
        except RuntimeError:
            self.generator = torch.Generator()
        self.generator.manual_seed(seed)
        self._stats: dict[int, tuple] = {}  # channels -> jitter's mean, std and grey weights, on the device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` augmented: same shape, dtype, device and memory format (``channels_last`` stays so)."""
        if not self.active:
            return x
        import torch

        n, c, h, w = x.shape
        o = self.options
        if 2 * o.crop > min(h, w):
            raise TrainingError(f"augment.crop = {o.crop} is more than half the {h}×{w} image")
        channels_last = not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            u = torch.rand((n, _DRAWS), generator=self.generator, device=self.generator.device)
            u = u.to(x.device, non_blocking=True)
            # Work in NCHW: on the CPU, per-channel and per-image broadcasts over channels_last run an inner loop
            # of C values and are several times slower than the two layout copies (benchmarks/augment.py).
            out = x.contiguous()
            if o.jitter:
                out = self._jitter(out, u)
            if o.rotate:
                out = affine(out, *self._geometry(u), angle=(2 * u[:, _ANGLE] - 1) * math.radians(o.rotate))
            elif o.crop or o.hflip:
                out = shift_flip(out, *self._geometry(u))
            if o.erase:
                out = out * self._erase_keep(u, h, w).to(out.dtype)
        return out.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)

    def _geometry(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image: integer shifts ``(ty, tx)`` in ``[-crop, crop]`` (pad + random crop) and a flip flag."""
        p = self.options.crop
        ty = (u[:, _TY] * (2 * p + 1)).floor().clamp_(max=2 * p) - p
        tx = (u[:, _TX] * (2 * p + 1)).floor().clamp_(max=2 * p) - p
        flip = u[:, _FLIP] < 0.5 if self.options.hflip else u[:, _FLIP] < 0  # all False without hflip
        return ty.long(), tx.long(), flip

    def _jitter(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """torchvision's ColorJitter (brightness, contrast, saturation; in that order) on the unnormalised image,
        clamped to [0, 1] after each step as torchvision does, then normalised again."""
        import torch

        n, c, h, w = x.shape
        if c not in self._stats:
            as_tensor = lambda v: torch.tensor(v, dtype=x.dtype, device=x.device)  # noqa: E731
            mean, std = as_tensor(self.mean).view(1, c, 1, 1), as_tensor(self.std).view(1, c, 1, 1)
            luma = as_tensor(LUMA if c == 3 else [1.0 / c] * c).view(1, 1, c)  # grey = luma @ channels
            self._stats[c] = mean, std, luma
        mean, std, luma = self._stats[c]
        j = self.options.jitter
        factor = (1 - j + 2 * j * u[:, _BRIGHT : _SAT + 1]).to(x.dtype)[:, :, None, None]  # (N, 3, 1, 1)
        bright = factor[:, 0:1]
        img = torch.addcmul(mean * bright, x, std * bright).clamp_(0, 1)  # unnormalise and brighten in one pass

        def grey(img: torch.Tensor) -> torch.Tensor:  # (N, 1, H, W)
            return img if c == 1 else (luma @ img.view(n, c, h * w)).view(n, 1, h, w)

        img = torch.lerp(grey(img).mean((2, 3), keepdim=True), img, factor[:, 1:2]).clamp_(0, 1)  # contrast
        if c == 3:
            img = torch.lerp(grey(img), img, factor[:, 2:3]).clamp_(0, 1)  # saturation
        return torch.addcmul(-mean / std, img, 1 / std)

    def _erase_keep(self, u: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """``(N, 1, H, W)``: 0 in the rectangle to erase per image, 1 elsewhere (torchvision's sampling, vectorised:
        ``ERASE_TRIES`` draws per image, the first that fits is taken; no erasing where none fits)."""
        import torch

        tries = u[:, 8:].view(-1, ERASE_TRIES, 4)
        lo, hi = ERASE_AREA
        area = h * w * (lo + (hi - lo) * tries[..., 0])
        log_lo, log_hi = math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * tries[..., 1])
        eh, ew = (area * aspect).sqrt().round().long(), (area / aspect).sqrt().round().long()
        fits = (eh < h) & (ew < w)
        pick = fits.int().argmax(1, keepdim=True)  # the first try that fits, as torchvision's loop takes
        eh, ew = eh.gather(1, pick), ew.gather(1, pick)  # (N, 1)
        top = (tries[..., 2].gather(1, pick) * (h - eh + 1)).floor().long()
        left = (tries[..., 3].gather(1, pick) * (w - ew + 1)).floor().long()
        erase = (u[:, _ERASE : _ERASE + 1] < self.options.erase) & fits.any(1, keepdim=True)
        rows, cols = torch.arange(h, device=u.device), torch.arange(w, device=u.device)
        in_rows = ((rows >= top) & (rows < top + eh) & erase).to(u.dtype)  # (N, H)
        in_cols = ((cols >= left) & (cols < left + ew)).to(u.dtype)  # (N, W)
        return 1.0 - (in_rows[:, :, None] * in_cols[:, None, :])[:, None]


def shift_flip(x: torch.Tensor, ty: torch.Tensor, tx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """``out[n, :, i, j] = x[n, :, i + ty[n], j' + tx[n]]`` (0 outside), ``j' = W-1-j`` where ``flip[n]``.

    Exact pad-and-crop plus mirror as one ``gather`` over each image's flattened pixels, then a zero-fill mask:
    the same image as ``F.pad`` and slicing, without the padded copy. On the CPU this is 2-3x faster than
    advanced indexing or ``grid_sample`` (benchmarks/augment.py).
    """
    import torch

    n, c, h, w = x.shape
    rows = torch.arange(h, device=x.device) + ty[:, None]  # (N, H) source rows
    cols = torch.arange(w, device=x.device).expand(n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols) + tx[:, None]  # (N, W) source columns
    src = (rows.clamp(0, h - 1)[:, :, None] * w + cols.clamp(0, w - 1)[:, None, :]).view(n, 1, h * w)
    planes = x.reshape(n, c, h * w).gather(2, src.expand(n, c, h * w)).view(n, c, h, w)
    # Zero where the source is padding; float masks multiplied, cheaper than an (N, H, W) boolean "and".
    row_ok, col_ok = ((rows >= 0) & (rows < h)).to(x.dtype), ((cols >= 0) & (cols < w)).to(x.dtype)
    return planes * (row_ok[:, :, None] * col_ok[:, None, :])[:, None]


def affine(
    x: torch.Tensor, ty: torch.Tensor, tx: torch.Tensor, flip: torch.Tensor, angle: torch.Tensor
) -> torch.Tensor:
    """Shift by ``(ty, tx)`` pixels, rotate by ``angle`` radians about the centre and mirror where ``flip``, as one
    bilinear ``grid_sample`` with zero fill. At angle 0 it equals :func:`shift_flip` up to float rounding: with
    ``align_corners=False`` an integer shift samples exactly at pixel centres."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    cos, sin = torch.cos(angle), torch.sin(angle)
    sign = 1.0 - 2.0 * flip.to(x.dtype)
    # Output (xo, yo) to input coordinates, both in [-1, 1]: rotate in pixel units (so that non-square images
    # are not sheared), then shift; the flip mirrors the output's x first.
    theta = torch.stack(
        [
            torch.stack([cos * sign, -sin * (h / w), 2 * tx.to(x.dtype) / w], 1),
            torch.stack([sin * sign * (w / h), cos, 2 * ty.to(x.dtype) / h], 1),
        ],
        1,
    ).to(x.dtype)
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

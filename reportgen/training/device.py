"""``--device auto|cpu|cuda|mps`` → a ``torch.device``."""

from __future__ import annotations

from reportgen.config.errors import ReportgenError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto"):
    """``auto`` picks CUDA, then MPS, then the CPU; asking for one that is absent is an error."""
    import torch

    if name not in DEVICE_CHOICES:
        raise ReportgenError(f'--device: unknown device "{name}" (one of: {", ".join(DEVICE_CHOICES)})')
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise ReportgenError("--device cuda: no CUDA GPU is available to torch here (try --device auto)")
    if name == "mps" and not mps:
        raise ReportgenError("--device mps: Apple's MPS backend is not available here (try --device auto)")
    return torch.device(name)

"""Where a training runs: ``--device auto|cpu|cuda|mps`` → a ``torch.device``; how many trainings share one device
under ``--jobs auto``; and ``--deterministic``, torch's deterministic algorithms for every training of a build."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator

from reportgen.config.errors import ReportgenError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

# --jobs auto on a CUDA GPU: worker processes that train at once on the one device. A small classifier leaves a GPU
# idle between its kernel launches, and another process's kernels fill those gaps (each process launches its own).
# Not measured yet (no GPU was available when this was written): benchmarks/gpu.sh times the default build with it.
GPU_JOBS = 4

# --deterministic: set in the environment so that the worker processes a build starts (spawned, so they inherit it)
# train the same way as the driver. cuBLAS reads CUBLAS_WORKSPACE_CONFIG when it starts, before any training runs.
DETERMINISTIC_ENV = "REPORTGEN_DETERMINISTIC"
CUBLAS_WORKSPACE = ":4096:8"
_NO_DETERMINISTIC_OP = re.compile(r"^(\S+) does not have a deterministic implementation")


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


def trainings_per_device(device_type: str, cpus: int) -> int:
    """How many trainings ``--jobs auto`` runs at once on a device of ``device_type`` with ``cpus`` usable CPU
    cores (before any memory limit): one per core on the CPU; on a CUDA GPU, ``GPU_JOBS`` worker processes sharing
    it (at most one per core: each needs a core to launch its kernels); one on MPS."""
    cpus = max(1, cpus)
    if device_type == "cpu":
        return cpus
    if device_type == "cuda":
        return min(GPU_JOBS, cpus)
    return 1


@contextlib.contextmanager
def deterministic_requested(on: bool = True) -> Iterator[None]:
    """While open (``reportgen build --deterministic``), every training in this process and in the worker processes
    it starts runs in :func:`deterministic_mode`; the environment is restored on exit."""
    if not on:
        yield
        return
    saved = {k: os.environ.get(k) for k in (DETERMINISTIC_ENV, "CUBLAS_WORKSPACE_CONFIG")}
    os.environ[DETERMINISTIC_ENV] = "1"
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def deterministic_wanted() -> bool:
    """Whether ``--deterministic`` is in force (``$REPORTGEN_DETERMINISTIC`` set to anything but "" or "0")."""
    return os.environ.get(DETERMINISTIC_ENV, "") not in ("", "0")


@contextlib.contextmanager
def deterministic_mode(on: bool) -> Iterator[list[str]]:
    """torch's deterministic algorithms while open, the previous settings restored after; yields the list that
    receives the names of the operations that have no deterministic implementation on this device.

    Operations with a deterministic alternative use it (cuDNN's deterministic convolutions, cuBLAS with a fixed
    workspace), and cuDNN does not benchmark algorithms. An operation with none (on CUDA: the backward pass of a
    non-global adaptive average pool, ``NLLLoss``, ``grid_sample``'s gradient...) warns rather than fails the run
    (``warn_only``): its name is collected so that the run's provenance can say its numbers may still vary. On the
    CPU the numbers are the same as without this mode.
    """
    ops: list[str] = []
    if not on:
        yield ops
        return
    import torch

    workspace_set = "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)  # in time if cuBLAS has not started yet
    cudnn = torch.backends.cudnn
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             cudnn.deterministic, cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # once per message: an op warns on every call
            yield ops
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        cudnn.deterministic, cudnn.benchmark = saved[2], saved[3]
        if workspace_set:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    for w in caught:
        found = _NO_DETERMINISTIC_OP.match(str(w.message))
        if found:
            if found.group(1) not in ops:
                ops.append(found.group(1))
        else:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

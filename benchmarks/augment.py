"""Microseconds per batch for each augmentation, beside the trainer's own batch building, on the CPU.

``python -m benchmarks.augment [--batch 256] [--device cpu] [--threads N]``

Each row augments a normalised float batch in ``channels_last`` (what a conv net's trainer hands over) of
MNIST-like 1×28×28 and CIFAR-like 3×32×32 images. Two references put the figures in context: "batch build", the
trainer's index gather plus convert-and-normalise of the same batch from resident ``uint8`` data, and "train step",
forward + backward + Adam step of the default manifest's plain conv net (4 conv blocks, 32 channels) on it.
The fastest of ``--repeat`` timings of ``--inner`` calls each, after a warm-up (the minimum, because on a shared
machine a neighbour only ever adds time).
"""

from __future__ import annotations

import argparse
import time

SHAPES = ((1, 28, 28), (3, 32, 32))
CONV_NET = {"conv_blocks": 4, "mobilenet_blocks": 0, "channels": 32}  # experiments.toml's plain conv run
CASES = {
    "crop 4": {"crop": 4},
    "hflip": {"hflip": True},
    "crop 4 + hflip": {"crop": 4, "hflip": True},
    "rotate 15": {"rotate": 15.0},
    "crop 4 + hflip + rotate 15": {"crop": 4, "hflip": True, "rotate": 15.0},
    "erase 0.5": {"erase": 0.5},
    "jitter 0.4": {"jitter": 0.4},
    "all": {"crop": 4, "hflip": True, "rotate": 15.0, "erase": 0.5, "jitter": 0.4},
}


def time_us(fn, repeat: int, inner: int) -> float:
    """Microseconds per call of ``fn``: the fastest repetition."""
    import torch

    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(inner):
            fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append((time.perf_counter() - started) / inner * 1e6)
    return min(times)


def measure(batch: int, device: str, repeat: int, inner: int) -> list[tuple[str, list[float]]]:
    """``(row name, [µs per shape])`` rows."""
    import torch

    from reportgen.models import build_model
    from reportgen.training.augment import Augment, BatchAugmenter

    rows: dict[str, list[float]] = {"train step (reference)": [], "batch build (reference)": []}
    for c, h, w in SHAPES:
        data = torch.randint(0, 256, (4096, c, h, w), dtype=torch.uint8, device=device)
        mean, std = [0.5] * c, [0.25] * c
        scale = torch.full((1, c, 1, 1), 1 / (255 * 0.25), device=device)
        shift = torch.full((1, c, 1, 1), 0.5 / 0.25, device=device)
        idx = torch.randperm(4096, device=device)[:batch]

        def build(data=data, idx=idx, scale=scale, shift=shift):
            xb = torch.addcmul(-shift, data[idx].to(torch.float32), scale)
            return xb.contiguous(memory_format=torch.channels_last)

        rows["batch build (reference)"].append(time_us(build, repeat, inner))
        x = build()
        model = build_model("conv_mobilenet", CONV_NET, (c, h, w), 10).to(device, memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters())
        y = torch.randint(0, 10, (batch,), device=device)

        def step(model=model, optimizer=optimizer, x=x, y=y):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        rows["train step (reference)"].append(time_us(step, max(2, repeat // 2), 1))
        for name, options in CASES.items():
            augmenter = BatchAugmenter(Augment(**options), seed=0, device=device, mean=mean, std=std)
            rows.setdefault(name, []).append(time_us(lambda a=augmenter, x=x: a(x), repeat, inner))
    return list(rows.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--inner", type=int, default=20)
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rows = measure(args.batch, args.device, args.repeat, args.inner)
    heads = [f"{c}×{h}×{w} µs" for c, h, w in SHAPES]
    width = max(len(name) for name, _ in rows)
    print(f"augmentation of a {args.batch}-image batch on {args.device}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; fastest of {args.repeat} × {args.inner} calls")
    print(f"{'':<{width}}  " + "  ".join(f"{h:>12}" for h in heads))
    for name, values in rows:
        print(f"{name:<{width}}  " + "  ".join(f"{v:>12.0f}" for v in values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

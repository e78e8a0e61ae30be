"""The house style: one matplotlib rc context for every figure, sized for an A4 page at print size."""

from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg")  # headless: reportgen never opens a window

import matplotlib.pyplot as plt  # noqa: E402

#: Widths in inches: the text column of an A4 page with 2 cm margins is about 6.7 in.
FULL_WIDTH = 6.7
HALF_WIDTH = 3.3

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "savefig.dpi": 150,  # sharp on A4 at print size, small enough to embed two dozen figures
    "savefig.bbox": "tight",
    "image.cmap": "viridis",
}


@contextlib.contextmanager
def house_style():
    with plt.rc_context(RC):
        yield


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = FULL_WIDTH, aspect: float = 0.75, **kwargs):
    """``(fig, axes)`` in the house style; height follows ``aspect`` per panel."""
    with house_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, width / ncols * aspect * nrows),
                                 layout="constrained", squeeze=False, **kwargs)
    return fig, axes

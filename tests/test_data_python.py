"""The ``python`` dataset kind: a user's ``load()`` returns arrays; reportgen checks, splits and names them.

Each loader is written to its own file name: user files are imported once per process, by path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from reportgen.config.errors import DataError
from reportgen.config.manifest import load_manifest
from reportgen.data import load_dataset
from reportgen.data.python_loader import python_dataset
from reportgen.runs.plan import load_run_data
from tests.data_files import write_python_loader


def _load(tmp_path: Path, file: str = "data.py", **options):
    return python_dataset(base_dir=tmp_path, loader=f"{file}:load", **options)


def _first_pixel(x: torch.Tensor) -> torch.Tensor:
    return x[:, 0, 0, 0].long()


def test_pool_is_split_per_class_with_default_names(tmp_path):
    write_python_loader(tmp_path / "data.py", n=60, num_classes=3)
    d = load_dataset("python", {}, tmp_path)  # loader defaults to data.py:load
    assert d.classes == ("0", "1", "2") and d.input_shape == (1, 8, 8)
    assert d.train.x.dtype == torch.uint8 and d.train.y.dtype == torch.int64
    assert (len(d.train), len(d.val), len(d.test)) == (36, 12, 12)
    assert d.train.class_counts(3) == [12, 12, 12]
    for split in (d.train, d.val, d.test):
        assert torch.equal(_first_pixel(split.x), split.y * 20)  # labels stay with their images


@pytest.mark.parametrize(
    ("shape", "dtype", "expected"),
    [
        ((28, 28), "uint8", (1, 28, 28)),
        ((32, 32, 3), "float", (3, 32, 32)),
        ((3, 64, 64), "torch", (3, 64, 64)),
        ((64, 64, 3), "uint8", (3, 64, 64)),
        ((8, 8, 1), "uint8", (1, 8, 8)),
    ],
)
def test_layouts_and_dtypes(tmp_path, shape, dtype, expected):
    write_python_loader(tmp_path / "data.py", n=12, shape=shape, dtype=dtype)
    d = _load(tmp_path)
    assert d.input_shape == expected and d.train.x.dtype == torch.uint8
    assert torch.equal(_first_pixel(d.train.x), d.train.y * 20)  # floats quantised back exactly


def test_given_train_and_test_carve_val_from_train(tmp_path):
    write_python_loader(tmp_path / "data.py", n=80, num_classes=4, form="train_test", classes=list("abcd"))
    d = _load(tmp_path, val_fraction=0.2)
    assert d.classes == ("a", "b", "c", "d")
    assert (len(d.train), len(d.val), len(d.test)) == (48, 12, 20)
    with pytest.raises(DataError, match=r"split: data.py:load returned its own test set"):
        _load(tmp_path, split=(0.6, 0.2, 0.2))


def test_given_three_splits_are_kept_and_options_reach_the_loader(tmp_path):
    write_python_loader(tmp_path / "data.py", n=40, form="all")
    d = _load(tmp_path, options={"n": 24})
    assert (len(d.train), len(d.val), len(d.test)) == (12, 6, 6)
    assert torch.equal(d.val.y, torch.arange(12, 18) % 3)  # in the loader's order


def test_split_and_caps(tmp_path):
    write_python_loader(tmp_path / "data.py", n=60)
    d = _load(tmp_path, split=(0.5, 0.25, 0.25), class_caps={"1": 3}, caps_apply_to="all")
    assert d.train.class_counts(3) == [10, 3, 10] and d.test.class_counts(3) == [5, 3, 5]


def test_splits_are_deterministic_per_seed(tmp_path):
    write_python_loader(tmp_path / "data.py", n=60)
    a, b, c = _load(tmp_path, seed=1), _load(tmp_path, seed=1), _load(tmp_path, seed=2)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.x, c.train.x)


def test_labels_without_classes_are_named_by_their_values(tmp_path):
    (tmp_path / "sparse.py").write_text(
        "import numpy as np\n"
        "def load():\n"
        "    y = np.tile([3, 7, 12], 10)\n"
        "    return {'x': np.zeros((30, 4, 4), np.uint8) + y[:, None, None], 'y': y}\n"
    )
    d = _load(tmp_path, "sparse.py")
    assert d.classes == ("3", "7", "12")
    assert torch.equal(_first_pixel(d.train.x), torch.tensor([3, 7, 12])[d.train.y])


def test_module_reference(tmp_path, monkeypatch):
    write_python_loader(tmp_path / "mypkg_data_gen" / "loaders.py", n=30)
    (tmp_path / "mypkg_data_gen" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    d = python_dataset(base_dir=tmp_path, loader="mypkg_data_gen.loaders:load")
    assert d.num_classes == 3
    sys.modules.pop("mypkg_data_gen.loaders", None)
    sys.modules.pop("mypkg_data_gen", None)


# --- located errors ------------------------------------------------------------------------------------------

BODIES = {
    "bad_shape": ("{'x': np.zeros((100, 5), np.uint8), 'y': np.zeros(100, int)}",
                  "data.py:load returned x of shape (100, 5): expected images (N, H, W), (N, H, W, C) or (N, C, H, W)"),
    "bad_dtype": ("{'train': (np.zeros((9, 4, 4), bool), np.zeros(9, int)), 'test': (np.zeros((3, 4, 4)), [0] * 3)}",
                  "data.py:load returned train.x of dtype bool: expected uint8, integers in [0, 255] or floats"),
    "float_range": ("{'x': np.full((9, 4, 4), 2.5), 'y': np.arange(9) % 3}",
                    "data.py:load returned x with float values in [2.5, 2.5]: floats must lie in [0, 1]"),
    "int_range": ("{'x': np.full((9, 4, 4), 300), 'y': np.arange(9) % 3}",
                  "data.py:load returned x with integer values in [300, 300]: expected [0, 255]"),
    "label_range": ("{'x': np.zeros((9, 4, 4), np.uint8), 'y': np.arange(9), 'classes': ['a', 'b', 'c']}",
                    "data.py:load returned y[3] = 3: labels must be integers in [0, 3) (3 classes)"),
    "float_labels": ("{'x': np.zeros((9, 4, 4), np.uint8), 'y': np.arange(9) / 2}",
                     "data.py:load returned y with non-integer values"),
    "lengths": ("{'train': (np.zeros((9, 4, 4), np.uint8), np.zeros(8, int)), 'test': (np.zeros((3, 4, 4)), [0] * 3)}",
                "data.py:load returned train.y with 8 labels for 9 images"),
    "shapes": ("{'train': (np.zeros((9, 4, 4), np.uint8), np.zeros(9, int)), 'test': (np.zeros((3, 5, 5)), [0] * 3)}",
               "data.py:load returned images of different shapes (C, H, W): train.x (1, 4, 4), test.x (1, 5, 5)"),
    "not_dict": ("[np.zeros((9, 4, 4)), np.zeros(9)]", "data.py:load returned a list: expected a dict of"),
    "unknown_key": ("{'images': 1, 'x': 1, 'y': 2}", "data.py:load returned unknown key(s) images"),
    "no_test": ("{'train': (np.zeros((9, 4, 4)), np.zeros(9)), 'val': (np.zeros((3, 4, 4)), np.zeros(3))}",
                "data.py:load returned only train, val: expected"),
    "bad_pair": ("{'train': (1, 2, 3), 'test': (1, 2)}",
                 "data.py:load returned train as a tuple: expected a pair (x, y) or a dict {x, y}"),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_bad_returns_are_located(tmp_path, case):
    body, message = BODIES[case]
    (tmp_path / "data.py").write_text(f"import numpy as np\n\ndef load():\n    return {body}\n")
    with pytest.raises(DataError, match=re.escape(message)):
        _load(tmp_path)


def test_missing_file_and_attribute(tmp_path):
    with pytest.raises(DataError, match=r"^loader: no such file .*nowhere.py"):
        _load(tmp_path, "nowhere.py")
    (tmp_path / "data.py").write_text("def lode():\n    pass\n")
    with pytest.raises(DataError, match='^loader: data.py has no "load"; did you mean "lode"\\?'):
        _load(tmp_path)


def test_syntax_error_names_the_line(tmp_path):
    (tmp_path / "broken.py").write_text("import numpy as np\n\ndef load(:\n    pass\n")
    with pytest.raises(DataError) as err:
        _load(tmp_path, "broken.py")
    assert str(err.value) == f"loader: {tmp_path / 'broken.py'}:3: SyntaxError: invalid syntax"


def test_exception_inside_load_names_the_line(tmp_path):
    (tmp_path / "raising.py").write_text("def helper():\n    return 1 / 0\n\n\ndef load():\n    return helper()\n")
    with pytest.raises(DataError) as err:
        _load(tmp_path, "raising.py")
    assert str(err.value) == (
        f"loader raising.py:load: {(tmp_path / 'raising.py').resolve()}:2: ZeroDivisionError: division by zero"
    )


# --- through a whole manifest --------------------------------------------------------------------------------

MANIFEST = """\
[report]
title = "Python loader"
seeds = [0]

[datasets.x]
kind = "python"
loader = "data.py:load"
options = { n = 45 }
split = [0.6, 0.2, 0.2]

[runs.r]
dataset = "x"
model = "mlp"
epochs = 1

[runs.r2]
extends = "r"
lr = 0.1

[sections.s]
type = "compare"
runs = ["r", "r2"]
"""


def test_through_a_manifest(tmp_path):
    write_python_loader(tmp_path / "data.py", n=60, shape=(6, 6, 3))
    path = tmp_path / "experiments.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    manifest = load_manifest(path)
    assert manifest.datasets["x"].kind == "python"
    data = load_run_data(manifest, manifest.runs["r"])
    assert data.input_shape == (3, 6, 6) and (len(data.train), len(data.val), len(data.test)) == (27, 9, 9)
    assert len(data.fingerprint) == 16

    (tmp_path / "data.py").unlink()
    path.write_text(MANIFEST.replace("data.py:load", "gone.py:load"), encoding="utf-8")
    with pytest.raises(DataError, match=r"^experiments.toml: datasets.x: loader: no such file .*gone.py"):
        load_run_data(load_manifest(path), manifest.runs["r"])


def test_float_images_are_rounded(tmp_path):
    values = np.array([0.0, 0.5, 1.0, 0.2])
    (tmp_path / "rounding.py").write_text(
        "import numpy as np\n"
        f"def load():\n    return {{'x': np.tile(np.array({values.tolist()}), (9, 4, 1)), 'y': np.arange(9) % 3}}\n"
    )
    d = _load(tmp_path, "rounding.py")
    assert d.train.x[0, 0, 0].tolist() == [0, 128, 255, 51]

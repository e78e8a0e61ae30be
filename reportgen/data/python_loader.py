"""``python``: a dataset a user's own function returns (``loader = "data.py:load"`` or ``"package.module:attr"``).

The loader is called once per process as ``loader(**options)`` and returns a dict, either of given splits::

    {"train": (x, y), "test": (x, y), "val": (x, y), "classes": ["cat", "dog"]}   # val and classes optional

(each split a pair ``(x, y)`` or a dict ``{"x": x, "y": y}``), or of one pool that ``split`` divides::

    {"x": x, "y": y, "classes": [...]}

Arrays may be numpy arrays or torch tensors. ``x``: images ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)``
with ``C`` in 1, 3, 4; ``uint8``, integers in [0, 255], or floats in [0, 1] (quantised to ``round(x * 255)``).
``y``: integer class indices in ``[0, len(classes))``; without ``classes``, any integers, named by their sorted
distinct values (as strings). Every problem is a :class:`~reportgen.config.errors.DataError` naming the loader and
the key (``data.py:load returned train.x of shape (100, 5): …``), or the user's file and line for an error raised
in the loader's own code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from reportgen.config.errors import DataError, ManifestError
from reportgen.config.params import Range
from reportgen.data.base import DATASETS, DatasetSplits, Split
from reportgen.data.options import Caps, CapsApplyTo, Fractions, check_fractions

if TYPE_CHECKING:
    import torch

_SPLITS = ("train", "val", "test")
_SHAPES = "{train, test} or {train, val, test} (each (x, y) or {x, y}), or one pool {x, y}; plus optional classes"


def _call_loader(loader: str, base_dir: Path, options: dict[str, Any]) -> Any:
    """What the loader returns; a bad reference or an error in the user's code is a located :class:`DataError`."""
    from reportgen.config import plugins

    try:
        ref = plugins.parse_reference(loader, "loader")
        if ref.kind == "factory":
            raise ManifestError(f'"{loader}": expected "file.py:function" or "package.module:function"',
                                location="loader")
        fn = plugins.resolve(ref, base_dir, "loader")
    except ManifestError as err:  # a DataError, so that the build names the dataset ("datasets.mine: loader: …")
        raise DataError(str(err)) from None
    path = (Path(base_dir) / ref.target).resolve() if ref.kind == "file" else None
    try:
        return fn(**options)
    except Exception as err:  # noqa: BLE001 - any error in the user's code becomes one located message
        raise DataError(f"loader {loader}: {plugins.user_frame(err, path)}: {type(err).__name__}: {err}") from None


def _pair(value: Any, what: str) -> tuple[Any, Any]:
    """``(x, y)`` from a pair or a ``{"x", "y"}`` mapping."""
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"x", "y"})
        if extra or not {"x", "y"} <= set(value):
            keys = ", ".join(repr(k) for k in value)
            raise DataError(f'{what} with keys {keys or "none"}: expected exactly "x" and "y"')
        return value["x"], value["y"]
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    raise DataError(f"{what} as a {type(value).__name__}: expected a pair (x, y) or a dict {{x, y}}")


def _splits_of(result: Any, shown: str) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], Any]:
    """``({split name or "pool": (x, y)}, classes or None)`` checked for shapes and dtypes."""
    from reportgen.data.images import as_images, as_labels

    if not isinstance(result, Mapping):
        raise DataError(f"{shown} returned a {type(result).__name__}: expected a dict of {_SHAPES}")
    keys = set(result)
    unknown = sorted(str(k) for k in keys - {*_SPLITS, "x", "y", "classes"})
    if unknown:
        raise DataError(f"{shown} returned unknown key(s) {', '.join(unknown)}: expected {_SHAPES}")
    given = keys & set(_SPLITS)
    if given and keys & {"x", "y"}:
        raise DataError(f"{shown} returned both splits ({', '.join(sorted(given))}) and a pool (x, y): pick one")
    if given and ("train" not in given or given == {"train", "val"}):
        raise DataError(f"{shown} returned only {', '.join(sorted(given))}: expected {_SHAPES}")
    if not given and not {"x", "y"} <= keys:
        raise DataError(f"{shown} returned neither splits nor a pool (x, y): expected {_SHAPES}")
    raw = {name: _pair(result[name], f"{shown} returned {name}") for name in _SPLITS if name in given}
    if not given:
        raw = {"pool": (result["x"], result["y"])}
    out = {}
    for name, (x, y) in raw.items():
        prefix = f"{shown} returned " + ("" if name == "pool" else f"{name}.")
        images = as_images(x, f"{prefix}x")
        out[name] = (images, as_labels(y, f"{prefix}y", len(images)))
    shapes = {name: tuple(x.shape[1:]) for name, (x, _) in out.items()}
    if len(set(shapes.values())) > 1:
        shown_shapes = ", ".join(f"{name}.x {shape}" for name, shape in shapes.items())
        raise DataError(f"{shown} returned images of different shapes (C, H, W): {shown_shapes}")
    return out, result.get("classes")


def _class_names(classes: Any, shown: str) -> tuple[str, ...]:
    if isinstance(classes, str) or not isinstance(classes, list | tuple) or not classes:
        raise DataError(f"{shown} returned classes = {classes!r}: expected a non-empty list of names")
    names = tuple(str(c) for c in classes)
    if len(set(names)) != len(names):
        raise DataError(f"{shown} returned classes with duplicate names: {list(names)}")
    return names


@DATASETS.register("python")
def python_dataset(
    *,
    base_dir: Path,
    loader: str = "data.py:load",
    options: dict[str, Any] | None = None,
    split: Fractions | None = None,
    val_fraction: Annotated[float, Range(0, 1, open_low=True)] = 0.1,
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """The dataset ``loader(**options)`` returns (``loader``: ``"file.py:function"``, the file relative to the
    manifest's folder, or ``"package.module:function"``).

    A pool ``{x, y}`` (or a lone ``train``) is split per class by ``split`` (default ``[0.6, 0.2, 0.2]``). Given
    ``train`` and ``test``, val is a stratified ``val_fraction`` of train; given all three, they are used as they
    are. ``class_caps`` then caps classes as in ``mnist5k``.
    """
    from reportgen.data.images import check_label_range, classes_from_labels
    from reportgen.data.split import cap_splits, split_and_cap, stratified_holdout, take

    shown = loader
    parts, classes = _splits_of(_call_loader(loader, Path(base_dir), dict(options or {})), shown)
    if classes is None:
        classes, ys = classes_from_labels([y for _, y in parts.values()])
        parts = {name: (x, y) for (name, (x, _)), y in zip(parts.items(), ys, strict=True)}
    else:
        classes = _class_names(classes, shown)
        for name, (_, y) in parts.items():
            check_label_range(y, len(classes), f"{shown} returned {'' if name == 'pool' else name + '.'}y")

    if "test" not in parts:  # one pool (or a lone train set): split it three ways
        full = Split(*parts.get("pool", parts.get("train")))
        fractions = (0.6, 0.2, 0.2) if split is None else check_fractions(split)
        train, val, test = split_and_cap(full, fractions, class_caps, caps_apply_to, classes, seed)
        return DatasetSplits(train, val, test, classes)
    if split is not None:
        raise DataError(f"split: {shown} returned its own test set; split applies to a pool (use val_fraction)")
    test = Split(*parts["test"])
    if "val" in parts:
        splits = (Split(*parts["train"]), Split(*parts["val"]), test)
    else:
        full_train = Split(*parts["train"])
        idx_train, idx_val = stratified_holdout(full_train.y, val_fraction, seed + 2)
        splits = (take(full_train, idx_train), take(full_train, idx_val), test)
    train, val, test = cap_splits(splits, class_caps, caps_apply_to, classes, seed)
    return DatasetSplits(train, val, test, classes)

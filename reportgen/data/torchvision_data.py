"""``torchvision``: any torchvision classification dataset whose files are on disk (``name = "CIFAR100"``, ``"SVHN"``…).

``name`` is a torchvision class name (:data:`CLASSIFICATION`); the short names of earlier versions (``mnist``,
``fashion_mnist``, ``kmnist``, ``cifar10``) stay as aliases (:data:`ALIASES`). ``options`` passes extra keyword
arguments to the class (``options = { split = "digits" }`` for ``EMNIST``). Nothing is downloaded unless
``download = true``.

The images are read whole where a class keeps them in memory (``.data`` with ``.targets`` or ``.labels``: the MNIST
family, CIFAR, SVHN, STL10 …); otherwise each item is decoded once, at load time, never in training. Either way they
come out ``uint8`` of shape ``(N, C, H, W)``; class names are the class's ``.classes`` (or ``.categories``), else
the sorted distinct labels.

Files reportgen reads itself (torchvision's class then only downloads):

* CIFAR-10 / CIFAR-100: the pickled batches under ``root/cifar-10-batches-py/`` (``root/cifar-100-python/``), read
  exactly as torchvision reads them but without its md5 check of the official release, so that re-packed or
  generated files of the same format load too (the data's content fingerprint, part of every run's key, records
  what was read);
* the MNIST family (``MNIST``, ``FashionMNIST``, ``KMNIST``): besides torchvision's ``root/MNIST/raw/…`` layout,
  the four idx files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) directly in ``root`` — the layout of Debian's
  ``dataset-fashion-mnist`` package. Nothing in those files says which dataset they are, so ``name`` must match.

The official test set is the test split (classes without one hold out a stratified ``test_fraction``); val is a
stratified ``val_fraction`` of the training set.
"""

from __future__ import annotations

import gzip
import inspect
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from reportgen.config.errors import DataError
from reportgen.config.params import Range
from reportgen.config.registry import did_you_mean
from reportgen.data.base import DATASETS, DatasetSplits, Split, location_options
from reportgen.data.images import ImageSize, check_image_size
from reportgen.data.options import Caps, CapsApplyTo

if TYPE_CHECKING:
    import numpy as np
    import torch

#: Short names of earlier versions -> torchvision class names.
ALIASES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR10"}
#: torchvision's image classification datasets (those a torchvision version lacks are refused as unknown).
CLASSIFICATION = (
    "CIFAR10", "CIFAR100", "Caltech101", "Caltech256", "CLEVRClassification", "Country211", "DTD", "EMNIST",
    "EuroSAT", "FakeData", "FashionMNIST", "FER2013", "FGVCAircraft", "Flowers102", "Food101", "GTSRB",
    "ImageNet", "Imagenette", "INaturalist", "KMNIST", "LFWPeople", "MNIST", "OxfordIIITPet", "PCAM", "Places365",
    "QMNIST", "RenderedSST2", "SEMEION", "STL10", "StanfordCars", "SUN397", "SVHN", "USPS",
)  # fmt: skip
#: ``split=`` values of the official (train, test) sets, where they are not ``("train", "test")``.
_SPLIT_NAMES = {
    "CLEVRClassification": ("train", "val"),  # its test set has no labels
    "FGVCAircraft": ("trainval", "test"),
    "ImageNet": ("train", "val"),
    "Imagenette": ("train", "val"),
    "LFWPeople": ("train", "test"),
    "OxfordIIITPet": ("trainval", "test"),
    "Places365": ("train-standard", "val"),
}
#: Constructor arguments reportgen sets itself.
_RESERVED = ("root", "train", "download", "transform", "target_transform", "transforms", "loader")
#: CIFAR pickles: folder, train files, test files, meta file, its class-name key, the label key.
_PICKLES = {
    "CIFAR10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "batches.meta",
                "label_names", "labels"),
    "CIFAR100": ("cifar-100-python", ["train"], ["test"], "meta", "fine_label_names", "fine_labels"),
}
_MNIST_FAMILY = ("MNIST", "FashionMNIST", "KMNIST")
_IDX_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def class_name(name: str) -> str:
    """The torchvision class ``name`` means: an alias, a class name, or a class name in other case
    (``"cifar100"``); an unknown name is a :class:`DataError` with "did you mean"."""
    if name in ALIASES:
        return ALIASES[name]
    if name in CLASSIFICATION:
        return name
    folded = {n.lower(): n for n in CLASSIFICATION}
    if name.lower() in folded:
        return folded[name.lower()]
    hint = did_you_mean(name, [*CLASSIFICATION, *ALIASES]) or "; did you mean one of: " + ", ".join(CLASSIFICATION)
    raise DataError(f'name: unknown torchvision classification dataset "{name}"{hint}')


def _read_idx(path: Path) -> np.ndarray:
    """An idx-ubyte file (gzipped or not) as a ``uint8`` array of the shape its header gives."""
    import numpy as np

    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(bytearray(data), dtype=np.uint8, offset=4 + 4 * ndim)  # writable, as torch wants
    if arr.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape} but holds {arr.size} bytes")
    return arr.reshape(shape)


def _flat_idx(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Images and labels from idx files directly in ``root`` (Debian's layout), or ``None`` if absent."""
    found = []
    for stem in _IDX_FILES[train]:
        path = next((root / (stem + ext) for ext in ("", ".gz") if (root / (stem + ext)).is_file()), None)
        if path is None:
            return None
        found.append(path)
    return _read_idx(found[0]), _read_idx(found[1])


def _unpickle(path: Path, keys: tuple[str, ...]) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: file missing from the CIFAR folder")
    try:
        with path.open("rb") as f:
            entry = pickle.load(f, encoding="latin1")  # the user's own files, as torchvision does
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as err:
        raise DataError(f"{path}: not a CIFAR pickle: {err}") from None
    missing = [k for k in keys if not isinstance(entry, dict) or k not in entry]
    if missing:
        raise DataError(f"{path}: not a CIFAR pickle (no {', '.join(repr(k) for k in missing)})")
    return entry


def _cifar(name: str, root: Path, train: bool) -> tuple[np.ndarray, list[int], list[str]] | None:
    """``(data (N, 3, 32, 32) uint8, labels, class names)`` from CIFAR pickles under ``root``, or ``None`` if the
    folder is absent. The same parsing as torchvision's ``CIFAR10`` (without its transpose to NHWC)."""
    import numpy as np

    folder, train_files, test_files, meta, names_key, labels_key = _PICKLES[name]
    if not (root / folder).is_dir():
        return None
    data, labels = [], []
    for file in train_files if train else test_files:
        entry = _unpickle(root / folder / file, ("data", labels_key))
        data.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3 * 32 * 32))
        labels.extend(int(v) for v in entry[labels_key])
    classes = list(_unpickle(root / folder / meta, (names_key,))[names_key])
    return np.vstack(data).reshape(-1, 3, 32, 32), labels, classes


def _not_found(name: str, root: Path) -> DataError:
    return DataError(
        f'torchvision dataset "{name}" not found under {root} '
        "(set download = true to fetch it, or point root at a folder holding it)"
    )


def _construct(cls: type, name: str, root: Path, part: str, download: bool, options: dict[str, Any]) -> Any:
    """``cls`` built for the official ``part`` ("train", "test" or "all"), with the user's ``options``."""
    params = inspect.signature(cls).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    mnist_like = cls.__name__ in ("EMNIST", "QMNIST")  # they take train= and download= through **kwargs
    kwargs: dict[str, Any] = {}
    if "root" in params:
        kwargs["root"] = str(root)
    if "download" in params or mnist_like:
        kwargs["download"] = download  # always given: some classes (SEMEION) download by default
    if part != "all":
        if "train" in params or mnist_like:
            kwargs["train"] = part == "train"
        else:
            kwargs["split"] = _SPLIT_NAMES.get(cls.__name__, ("train", "test"))[part == "test"]
    for key in options:
        if key in _RESERVED or key in kwargs:
            raise DataError(f'options.{key}: reportgen sets "{key}" of torchvision\'s {cls.__name__} itself')
        if key not in params and not takes_kwargs:
            allowed = [p for p in params if p not in _RESERVED and p not in kwargs]
            hint = did_you_mean(key, allowed) or f" ({cls.__name__} takes: {', '.join(allowed) or 'none'})"
            raise DataError(f'options.{key}: torchvision\'s {cls.__name__} has no argument "{key}"{hint}')
    for key, p in params.items():
        if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD and key not in kwargs and key not in options:
            raise DataError(f'torchvision\'s {cls.__name__} needs options.{key} (options = {{ {key} = … }})')
    try:
        return cls(**kwargs, **options)
    except RuntimeError as err:
        if "not found" in str(err).lower() and not download:
            raise _not_found(name, root) from None
        raise DataError(f'torchvision dataset "{name}" under {root}: {err}') from err
    except FileNotFoundError:
        if download:
            raise
        raise _not_found(name, root) from None
    except (OSError, ValueError, TypeError, AssertionError, KeyError) as err:  # a failed download, a corrupt file
        raise DataError(f'torchvision dataset "{name}" under {root}: {err!r}') from err


def _read_dataset(ds: Any, name: str, image_size) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x uint8 (N, C, H, W), y int64 (N,))`` of a constructed torchvision dataset: its arrays when it holds
    them, else each item decoded once."""
    import numpy as np
    import torch
    from PIL import Image

    from reportgen.data.images import as_images, as_labels, stack_images

    what = f'torchvision dataset "{name}"'
    data = getattr(ds, "data", None)
    labels = next((getattr(ds, a) for a in ("targets", "labels") if getattr(ds, a, None) is not None), None)
    if type(ds).__name__ == "QMNIST" and labels is not None:
        labels = labels[:, 0]  # QMNIST keeps 8 columns per sample; the first is the class
    if isinstance(data, np.ndarray | torch.Tensor) and labels is not None and len(data) == len(labels):
        return as_images(data, f"{what}: .data"), as_labels(labels, f"{what}: .labels", len(data))
    images, targets = [], []
    for i in range(len(ds)):  # once, at load time
        image, target = ds[i]
        if not isinstance(image, Image.Image):
            image = Image.fromarray(np.asarray(image))
        if not isinstance(target, int | np.integer) and not (hasattr(target, "ndim") and target.ndim == 0):
            raise DataError(f"{what}: item {i} has target {target!r}, not a class index (not a classification set?)")
        images.append(image)
        targets.append(int(target))
    places = [(what, f"item {i}") for i in range(len(images))]
    return stack_images(images, places, None, image_size), torch.tensor(targets, dtype=torch.int64)


def _load(name: str, tv_name: str, root: Path, part: str, download: bool, options: dict[str, Any], image_size
          ) -> tuple[torch.Tensor, torch.Tensor, list[str] | None]:
    """``(x, y, class names or None)`` of the official ``part`` ("train", "test" or "all")."""
    import numpy as np
    import torch
    import torchvision.datasets as tvd  # imported lazily: only this kind needs torchvision

    from reportgen.data.images import resize_images

    cls = getattr(tvd, tv_name, None)
    if cls is None:
        raise DataError(f'name: torchvision {tvd.__name__} has no dataset "{tv_name}" (an older torchvision?)')
    train = part == "train"
    takes_root = "root" in inspect.signature(cls).parameters
    arrays = None
    if tv_name in _PICKLES and not options:
        if download and not (root / _PICKLES[tv_name][0]).is_dir():
            _construct(cls, name, root, part, download, options)  # downloads (and checks) the official files
        arrays = _cifar(tv_name, root, train) if root.is_dir() else None
    elif tv_name in _MNIST_FAMILY and not options and root.is_dir():
        flat = _flat_idx(root, train)
        arrays = None if flat is None else (flat[0], flat[1], list(cls.classes))
    if arrays is not None:
        x = torch.as_tensor(np.asarray(arrays[0]), dtype=torch.uint8)
        x = x.unsqueeze(1) if x.ndim == 3 else x
        y = torch.as_tensor(np.asarray(arrays[1]), dtype=torch.int64)
        classes = arrays[2]
    else:
        if takes_root and not download and not root.is_dir():
            raise _not_found(name, root)
        ds = _construct(cls, name, root, part, download, options)
        x, y = _read_dataset(ds, name, image_size)
        classes = next((getattr(ds, a) for a in ("classes", "categories") if getattr(ds, a, None) is not None), None)
    if len(x) != len(y):
        raise DataError(f'torchvision dataset "{name}" under {root}: {len(x)} images but {len(y)} labels')
    if image_size is not None:
        x = resize_images(x, image_size)
    if classes is not None:
        classes = [str(c) for c in classes]
        if tv_name == "MNIST":
            classes = [c.split(" - ")[0] for c in classes]  # "3 - three" -> "3", as in mnist5k
    return x.contiguous(), y, classes


def _has_official_test(tv_name: str) -> bool:
    import torchvision.datasets as tvd

    params = inspect.signature(getattr(tvd, tv_name)).parameters
    return "train" in params or "split" in params or tv_name in ("EMNIST", "QMNIST")


@DATASETS.register("torchvision")
@location_options("root", "download")
def torchvision_dataset(
    *,
    base_dir: Path,
    name: str,
    root: str = "data",
    download: bool = False,
    options: dict[str, Any] | None = None,
    image_size: ImageSize = None,
    val_fraction: Annotated[float, Range(0, 1, open_low=True)] = 0.1,
    test_fraction: Annotated[float, Range(0, 1, open_low=True)] | None = None,
    limit_train: Annotated[int, Range(1)] | None = None,
    limit_test: Annotated[int, Range(1)] | None = None,
    class_caps: Caps = None,
    caps_apply_to: CapsApplyTo = "train",
    seed: int = 0,
) -> DatasetSplits:
    """A torchvision dataset: its official test set as test, a stratified ``val_fraction`` of its training
    set as val, the rest as train.

    ``name``: a class of :data:`CLASSIFICATION` or an alias. ``options``: extra keyword arguments for the class.
    ``image_size = [H, W]`` resizes every image (needed for classes whose images differ in size, e.g. Caltech101).
    ``test_fraction`` (default 0.2) is held out as test for classes without an official test set (Caltech101,
    EuroSAT, SEMEION, SUN397, FakeData …), and is an error for the others. ``limit_train`` / ``limit_test`` keep a
    stratified seeded subsample (train is limited before val is carved out of it); ``class_caps`` then caps classes
    as in ``mnist5k``.
    """
    from reportgen.data.images import check_label_range, classes_from_labels
    from reportgen.data.split import cap_splits, stratified_holdout, stratified_sample, take

    tv_name = class_name(name)
    check_image_size(image_size)
    options = dict(options or {})
    folder = Path(root).expanduser()
    folder = (folder if folder.is_absolute() else Path(base_dir) / folder).resolve()
    if _has_official_test(tv_name):
        if test_fraction is not None:
            raise DataError(f"test_fraction: {tv_name} has an official test set; test_fraction is for those without")
        x_tr, y_tr, classes = _load(name, tv_name, folder, "train", download, options, image_size)
        x_te, y_te, _ = _load(name, tv_name, folder, "test", download, options, image_size)
        full_train, test = Split(x_tr, y_tr), Split(x_te, y_te)
    else:
        x, y, classes = _load(name, tv_name, folder, "all", download, options, image_size)
        pool = Split(x, y)
        idx_rest, idx_test = stratified_holdout(y, 0.2 if test_fraction is None else test_fraction, seed + 3)
        full_train, test = take(pool, idx_rest), take(pool, idx_test)
    if classes is None:
        classes, (y_tr, y_te) = classes_from_labels([full_train.y, test.y])
        full_train, test = Split(full_train.x, y_tr), Split(test.x, y_te)
    for part, split in (("train", full_train), ("test", test)):
        check_label_range(split.y, len(classes), f'torchvision dataset "{name}": {part} labels')
    if limit_train is not None:
        full_train = take(full_train, stratified_sample(full_train.y, limit_train, seed))
    if limit_test is not None:
        test = take(test, stratified_sample(test.y, limit_test, seed + 1))
    idx_train, idx_val = stratified_holdout(full_train.y, val_fraction, seed + 2)
    names = tuple(str(c) for c in classes)
    splits = (take(full_train, idx_train), take(full_train, idx_val), test)
    train, val, test = cap_splits(splits, class_caps, caps_apply_to, names, seed)
    return DatasetSplits(train, val, test, names)

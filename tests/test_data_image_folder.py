"""The ``imagefolder`` dataset kind: ``root/<class>/<image>`` (torchvision's ImageFolder), or given splits."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from reportgen.config.errors import DataError
from reportgen.data import load_dataset
from reportgen.data.image_folder import image_folder
from tests.data_files import write_image_folder


def _class_of_pixel(x: torch.Tensor) -> torch.Tensor:
    """The class index written into each image by write_image_folder (pixel = class * 20 + i, i < 20)."""
    return x[:, 0, 0, 0].long() // 20


@pytest.mark.parametrize(
    ("size", "mode", "shape"),
    [((28, 28), "L", (1, 28, 28)), ((32, 32), "RGB", (3, 32, 32)), ((64, 64), "RGB", (3, 64, 64))],
)
def test_class_folders_are_split_per_class(tmp_path, size, mode, shape):
    write_image_folder(tmp_path / "photos", ("cat", "dog", "bird"), per_class=5, size=size, mode=mode)
    d = load_dataset("imagefolder", {"root": "photos"}, tmp_path)
    assert d.classes == ("bird", "cat", "dog")  # sorted folder names, as torchvision's ImageFolder
    assert d.input_shape == shape and d.train.x.dtype == torch.uint8
    assert (len(d.train), len(d.val), len(d.test)) == (9, 3, 3)
    # "cat" was written as class 0 and is class 1 here: the labels follow the sorted names.
    written = {"cat": 0, "dog": 1, "bird": 2}
    for split in (d.train, d.val, d.test):
        assert torch.equal(_class_of_pixel(split.x), torch.tensor([written[c] for c in d.classes])[split.y])


def test_skips_hidden_and_non_images_and_reads_subfolders(tmp_path):
    root = write_image_folder(tmp_path / "photos", ("a", "b"), per_class=3, mode="L")
    (root / "a" / ".DS_Store").write_bytes(b"junk")
    (root / "a" / "notes.txt").write_text("not an image")
    (root / ".ipynb_checkpoints").mkdir()
    (root / "b" / "more").mkdir()
    Image.new("L", (8, 8), 27).save(root / "b" / "more" / "x.PNG")  # upper-case extension counts
    d = image_folder(base_dir=tmp_path, root="photos", split=(0.5, 0.25, 0.25))
    assert d.classes == ("a", "b") and len(d.train) + len(d.val) + len(d.test) == 7


def test_grayscale_resize_and_mixed_modes(tmp_path):
    root = write_image_folder(tmp_path / "photos", ("a", "b"), per_class=4, size=(10, 12), mode="L")
    Image.new("RGB", (12, 10), (200, 0, 0)).save(root / "a" / "rgb.png")
    assert image_folder(base_dir=tmp_path, root="photos").input_shape == (3, 10, 12)  # one RGB image: all RGB
    d = image_folder(base_dir=tmp_path, root="photos", grayscale=True, image_size=(6, 4))
    assert d.input_shape == (1, 6, 4)


def test_given_train_test_layout_carves_val(tmp_path):
    write_image_folder(tmp_path / "photos" / "train", ("a", "b"), per_class=8)
    write_image_folder(tmp_path / "photos" / "test", ("a", "b"), per_class=2)
    d = image_folder(base_dir=tmp_path, root="photos")  # val = 0.2 / (0.6 + 0.2) of train
    assert d.classes == ("a", "b") and (len(d.train), len(d.val), len(d.test)) == (12, 4, 4)
    assert torch.equal(_class_of_pixel(d.test.x), d.test.y)


def test_given_train_val_test_layout(tmp_path):
    for name, n in (("train", 5), ("val", 2), ("test", 3)):
        write_image_folder(tmp_path / "photos" / name, ("a", "b", "c"), per_class=n, mode="L")
    d = image_folder(base_dir=tmp_path, root="photos", class_caps={"a": 1}, caps_apply_to="all")
    assert (len(d.train), len(d.val), len(d.test)) == (11, 5, 7)
    assert d.test.class_counts(3) == [1, 3, 3]


def test_splits_are_deterministic_per_seed(tmp_path):
    write_image_folder(tmp_path / "photos", ("a", "b"), per_class=10)
    a, b, c = (image_folder(base_dir=tmp_path, root="photos", seed=s) for s in (3, 3, 4))
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.val.y, b.val.y)
    assert not torch.equal(a.train.x, c.train.x)


def test_errors_name_the_file_under_root(tmp_path):
    with pytest.raises(DataError, match=r"^image folder photos not found \(looked for "):
        image_folder(base_dir=tmp_path, root="photos")
    root = write_image_folder(tmp_path / "photos", ("a", "b"), per_class=3)
    Image.new("RGB", (9, 8)).save(root / "b" / "odd.png")
    with pytest.raises(DataError) as err:
        image_folder(base_dir=tmp_path, root="photos")
    assert str(err.value) == (
        'photos: image "b/odd.png" is 8x9 (HxW) but earlier images are 8x8; set image_size = [H, W] to resize them all'
    )
    (root / "b" / "odd.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match='^photos: cannot read image "b/odd.png": '):
        image_folder(base_dir=tmp_path, root="photos")
    (root / "b" / "odd.png").unlink()
    (root / "empty").mkdir()
    with pytest.raises(DataError, match=r"^photos: empty/: no image files \(looked for .jpg, .jpeg, .png"):
        image_folder(base_dir=tmp_path, root="photos")


def test_errors_in_given_splits(tmp_path):
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="^flat: no class folders"):
        image_folder(base_dir=tmp_path, root="flat")
    write_image_folder(tmp_path / "photos" / "train", ("a", "b"), per_class=4)
    write_image_folder(tmp_path / "photos" / "test", ("a", "zebra"), per_class=2)
    with pytest.raises(DataError) as err:
        image_folder(base_dir=tmp_path, root="photos")
    assert str(err.value) == 'photos: test/zebra/: class "zebra" has no folder under train/'

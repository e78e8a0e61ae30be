"""Leakage: an image in two splits is reported by the data section (and stops the build when asked to)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reportgen.config.errors import DataError
from reportgen.config.specs import SectionSpec
from reportgen.data import Split
from reportgen.sections import SECTIONS, RunGroup, SectionContext
from reportgen.sections.leakage import find_leaks
from tests import support


def _planted(data, n: int = 2):
    """``data`` with the first ``n`` training images copied over the first ``n`` test images."""
    x, y = data.test.x.clone(), data.test.y.clone()
    x[:n], y[:n] = data.train.x[:n], data.train.y[:n]
    return replace(data, test=Split(x, y))


def _compute(data, **options):
    spec = support.tiny_spec("mlp")
    group = RunGroup("mlp", spec, [0], [support.train_spec(spec, 0)], data=data)
    section = SectionSpec("data", "data", "Data", "", 0.0, ("mlp",), options=options)
    return SECTIONS.get("data")(section).compute(SectionContext(section, [group]))


def test_clean_splits_have_no_leaks():
    data = support.tiny_data()
    assert find_leaks(data) == {"pairs": {}, "total": 0}


def test_an_image_planted_in_train_and_test_is_reported():
    data = _planted(support.tiny_data())
    leaks = find_leaks(data)
    assert leaks["total"] == 2 and leaks["pairs"]["train/test"]["count"] == 2
    assert leaks["pairs"]["train/test"]["examples"][0] == {"train": 0, "test": 0,
                                                          "labels": [data.classes[int(data.train.y[0])]] * 2}
    result = _compute(data)
    text = " ".join(result["analysis"])
    assert "Leakage in" in text and "2 test images" in text and "test accuracy is inflated" in text


def test_leakage_error_stops_the_build_with_a_located_message():
    with pytest.raises(DataError, match=r'sections.data.leakage = "error": Leakage in .*2 test images'):
        _compute(_planted(support.tiny_data()), leakage="error")

"""bfloat16 training: opt-in per run, recorded in the provenance, keyed apart from float32, and close to it."""

from __future__ import annotations

import pytest
import torch

from reportgen.config.errors import TrainingError
from reportgen.runs.plan import make_plan
from reportgen.training.train import mixed_precision
from tests.conftest import TINY_MANIFEST, edit
from tests.support import tiny_spec, train_spec

BF16 = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


@pytest.mark.skipif(not BF16, reason="this CPU has no bfloat16 support")
def test_bfloat16_run_trains_records_its_precision_and_stays_near_float32():
    fp32 = train_spec(tiny_spec("conv", epochs=2), 0)
    bf16 = train_spec(tiny_spec("conv", epochs=2, precision="bfloat16"), 0)
    assert fp32.provenance["precision"] == "float32" and bf16.provenance["precision"] == "bfloat16"
    assert bf16.status == "ok" and bf16.test_prob.dtype.name == "float32"
    acc = [float((r.test_prob.argmax(1) == r.test_true).mean()) for r in (fp32, bf16)]
    assert abs(acc[0] - acc[1]) < 0.1, acc  # 200 test images: 0.1 is 20 images


def test_float32_keys_are_unchanged_and_bfloat16_gets_its_own(write_manifest):
    from reportgen.config.manifest import load_manifest

    base = make_plan(load_manifest(write_manifest(TINY_MANIFEST))).runs
    text = edit(TINY_MANIFEST, "lr = 0.01\n", 'lr = 0.01\nprecision = "float32"\n')
    same = make_plan(load_manifest(write_manifest(text))).runs
    text = edit(TINY_MANIFEST, "lr = 0.01\n", 'lr = 0.01\nprecision = "bfloat16"\n')
    other = make_plan(load_manifest(write_manifest(text))).runs
    assert [p.key for p in base] == [p.key for p in same]
    assert not {p.key for p in base} & {p.key for p in other}


def test_bfloat16_where_unsupported_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    with pytest.raises(TrainingError, match='precision "bfloat16" is not supported on cpu'):
        mixed_precision("bfloat16", torch.device("cpu"))

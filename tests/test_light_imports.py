"""Importing the model and dataset registries, and checking manifest options against them, loads no torch.

Commands that only read the manifest (``reportgen grade``, ``reportgen sections``, ``--help``) would otherwise
spend seconds importing torch. Each check runs in a fresh interpreter, since this one has torch loaded already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import reportgen.data
import reportgen.models
from reportgen.data import options, split
from reportgen.models import base, classifier, measure

HEAVY = ("torch", "torchvision", "PIL", "mlxtend", "sklearn", "pandas")


def heavy_modules_after(code: str) -> list[str]:
    """The modules of :data:`HEAVY` that a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_registries_loads_no_torch():
    assert heavy_modules_after("import reportgen.models, reportgen.data") == []


def test_checking_every_models_and_datasets_options_loads_no_torch():
    code = """
from reportgen.data import DATASETS
from reportgen.config.errors import ManifestError
from reportgen.models import MODELS, SUPPLIED
from reportgen.config.params import check_params, resolved_params

checked = check_params(MODELS.get("conv_mobilenet"), {"conv_blocks": 2, "channels": [8, 16]}, "runs.x.model",
                       skip=SUPPLIED)
assert checked == {"conv_blocks": 2, "channels": (8, 16)}, checked
try:
    check_params(MODELS.get("conv_mobilenet"), {"conv_blocks": -1}, "runs.x.model", skip=SUPPLIED)
except ManifestError as err:
    assert "runs.x.model.conv_blocks" in str(err), err
else:
    raise AssertionError("a negative block count passed")
for name in MODELS:
    resolved_params(MODELS.get(name), check_params(MODELS.get(name), {}, name, skip=SUPPLIED), skip=SUPPLIED)
check_params(DATASETS.get("mnist5k"), {"split": [0.5, 0.25, 0.25], "class_caps": {"3": 5}}, "datasets.d",
             skip=("base_dir",))
check_params(DATASETS.get("torchvision"), {"name": "mnist"}, "datasets.d", skip=("base_dir",))
for name in DATASETS:
    check_params(DATASETS.get(name), {}, name, skip=("base_dir", "name", "root", "csv"))
"""
    assert heavy_modules_after(code) == []


@pytest.mark.parametrize(
    ("module", "name", "home"),
    [
        (reportgen.models, "Classifier", classifier),
        (reportgen.models, "count_params", measure),
        (reportgen.models, "count_macs", measure),
        (reportgen.models, "model_summary", measure),
        (base, "Classifier", classifier),
        (base, "count_macs", measure),
        (split, "Fractions", options),
        (split, "check_fractions", options),
    ],
)
def test_names_that_moved_are_still_found_where_they_were(module, name, home):
    assert getattr(module, name) is getattr(home, name)


def test_lazy_lookups_still_reject_unknown_names():
    with pytest.raises(AttributeError, match="no attribute 'Clasifier'"):
        reportgen.models.Clasifier  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'MLP'"):
        base.MLP  # noqa: B018
    assert reportgen.models.blocks.ConvBlock.__name__ == "ConvBlock"  # a submodule, loaded on first use
    assert {"Classifier", "model_summary", "blocks"} <= set(dir(reportgen.models))
    assert reportgen.data.Split.__module__ == "reportgen.data.base"

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


# --- whole commands, each in a fresh interpreter ---------------------------------------------------------------

COMMAND_PROBE = """
import json, sys
from reportgen.cli import main
try:
    main(sys.argv[2:])
except SystemExit:  # --help, and argparse's usage errors
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
with open(sys.argv[1], "w") as f:
    json.dump(heavy, f)
"""


def heavy_modules_of_command(tmp_path, *argv: str, cwd=None) -> list[str]:
    """The modules of :data:`HEAVY` a fresh interpreter has loaded after running ``reportgen ARGV`` to its end."""
    found = tmp_path / "heavy.json"
    done = subprocess.run([sys.executable, "-c", COMMAND_PROBE.format(heavy=("torch", *HEAVY[1:])), str(found),
                           *argv], capture_output=True, text=True, timeout=120, cwd=cwd or tmp_path)
    assert found.is_file(), done.stderr  # the probe ran to its end
    return json.loads(found.read_text())


def test_help_imports_no_torch(tmp_path):
    assert heavy_modules_of_command(tmp_path, "--help") == []
    assert heavy_modules_of_command(tmp_path, "build", "--help") == []


def test_sections_reads_no_data_and_imports_no_torch(tmp_path, tiny_manifest_text):
    """Before any build (every key "not yet known") and after one recorded the data's fingerprints (keys computed,
    cached runs counted): neither loads the data, so neither imports torch, mlxtend or scikit-learn."""
    (tmp_path / "experiments.toml").write_text(tiny_manifest_text, encoding="utf-8")
    assert heavy_modules_of_command(tmp_path, "sections", "experiments.toml") == []

    from reportgen.config.manifest import load_manifest
    from reportgen.runs.plan import make_plan, remember_fingerprints

    remember_fingerprints(make_plan(load_manifest(tmp_path / "experiments.toml")), tmp_path / "out" / "cache")
    assert heavy_modules_of_command(tmp_path, "sections", "experiments.toml") == []


def test_cache_verify_imports_no_torch(tmp_path):
    from reportgen.runs.cache import RunCache
    from tests.test_cache import make_result

    key = "0123456789abcdef0123"
    RunCache(tmp_path / "out" / "cache").save(make_result(key))  # weights.pt included: checked, never loaded
    assert heavy_modules_of_command(tmp_path, "cache", "verify") == []
    damaged = tmp_path / "out" / "cache" / key / "arrays.npz"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    assert heavy_modules_of_command(tmp_path, "cache", "verify") == []  # a damaged entry is reported, torch-free


def test_grading_a_text_report_imports_no_torch(tmp_path):
    from tests.grade_support import COURSE, GRADING

    (tmp_path / "course.toml").write_text(COURSE + GRADING, encoding="utf-8")
    (tmp_path / "student.md").write_text("# 1 Conv vs MobileNet\n\nC4 reaches 95.2 % test accuracy and C1+M3 "
                                         "93.1 %.\n", encoding="utf-8")
    argv = ("grade", "student.md", "--manifest", "course.toml", "--out", "grades", "--no-pdf", "--quiet")
    assert heavy_modules_of_command(tmp_path, *argv) == []
    assert (tmp_path / "grades" / "student.json").is_file()  # it graded, not just started

"""Bring your own network: model references, keys that follow code, init_from, evaluate_on, failing user code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import make_plan, training_code_hash

NET = textwrap.dedent("""\
    import torch
    from torch import nn
    import torch.nn.functional as F


    class Net(nn.Module):
        \"\"\"A course's starter network: unpadded 5x5 convolutions, max-pooling, dropout, two linear layers.\"\"\"

        def __init__(self, num_classes: int = 10, dropout: float = 0.25, width: int = 8):
            super().__init__()
            self.conv1 = nn.Conv2d(1, width, 5)
            self.conv2 = nn.Conv2d(width, 2 * width, 5)
            self.drop = nn.Dropout(dropout)
            self.fc1 = nn.Linear(2 * width * 4 * 4, 32)
            self.fc2 = nn.Linear(32, num_classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = self.drop(torch.flatten(x, 1))
            return self.fc2(F.relu(self.fc1(x)))


    def small(num_classes, hidden=16):
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
""")

HEAD = """\
[report]
title = "Own models"
seeds = [0]

[datasets.digits]
kind = "mnist5k"
class_caps = {0 = 12, 1 = 12, 2 = 12, 3 = 12, 4 = 12, 5 = 12, 6 = 12, 7 = 12, 8 = 12, 9 = 12}
caps_apply_to = "all"
"""

RUNS = """
[runs.student]
dataset = "digits"
model = { arch = "models.py:Net", dropout = 0.5 }
epochs = 1
batch_size = 16

[runs.baseline]
dataset = "digits"
model = "mlp"
epochs = 1
batch_size = 16

[sections.compare]
type = "compare"
runs = ["student", "baseline"]
"""


def course(tmp_path: Path, runs: str = RUNS, net: str = NET) -> Path:
    (tmp_path / "models.py").write_text(net, encoding="utf-8")
    path = tmp_path / "experiments.toml"
    path.write_text(HEAD + runs, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return str(info.value)


# --- references and their located errors ------------------------------------------------------------------------


def test_a_model_from_a_file_is_checked_against_its_signature(tmp_path):
    manifest = load_manifest(course(tmp_path))
    assert manifest.runs["student"].arch == "models.py:Net"
    assert manifest.runs["student"].model_options == {"dropout": 0.5}
    assert "did you mean \"dropout\"" in error_of(course(tmp_path, RUNS.replace("dropout = 0.5", "dropuot = 0.5")))
    message = error_of(course(tmp_path, RUNS.replace("dropout = 0.5", 'dropout = "high"')))
    assert "runs.student.model.dropout: expected a number" in message
    message = error_of(course(tmp_path, RUNS.replace("dropout = 0.5", "num_classes = 3")))
    assert "runs.student.model.num_classes" in message and "supplied by reportgen" in message


@pytest.mark.parametrize(("arch", "expected"), [
    ("nothere.py:Net", "runs.student.model.arch: no such file"),
    ("models.py:Nte", 'models.py has no "Nte"; did you mean "Net"?'),
    ("no_such_package_xyz.mod:Net", 'runs.student.model.arch: cannot import "no_such_package_xyz.mod"'),
    ("timm:vit_tiny_patch16_22", 'timm has no model "vit_tiny_patch16_22"'),
])
def test_a_bad_reference_is_one_located_error(tmp_path, arch, expected):
    pytest.importorskip("timm")
    message = error_of(course(tmp_path, RUNS.replace('"models.py:Net", dropout = 0.5', f'"{arch}"')))
    assert "experiments.toml: runs.student.model.arch: " in message and expected in message


def test_errors_in_the_users_file_name_its_line(tmp_path):
    broken = NET.replace("        super().__init__()", "        super().__init__(", 1)
    message = error_of(course(tmp_path, net=broken))
    assert "runs.student.model.arch" in message and "models.py:" in message and "SyntaxError" in message
    raising = NET + "\nraise RuntimeError('forgot to finish this file')\n"
    message = error_of(course(tmp_path, net=raising))
    line = raising.splitlines().index("raise RuntimeError('forgot to finish this file')") + 1
    assert f"models.py:{line}: RuntimeError: forgot to finish this file" in message


def test_editing_models_py_changes_exactly_the_keys_of_its_runs(tmp_path):
    path = course(tmp_path)
    before = {name: [p.key for p in runs] for name, runs in make_plan(load_manifest(path)).by_name.items()}
    (tmp_path / "models.py").write_text(NET + "\n# a comment changes the file, so the key\n", encoding="utf-8")
    after = {name: [p.key for p in runs] for name, runs in make_plan(load_manifest(path)).by_name.items()}
    assert before["baseline"] == after["baseline"]
    assert before["student"] != after["student"]


def test_the_key_hashes_reportgens_own_training_code():
    plan_code = training_code_hash()
    assert len(plan_code) == 16 and plan_code == training_code_hash()


# --- training any module ----------------------------------------------------------------------------------------


def _train(tmp_path, runs: str, name: str, **kwargs):
    from reportgen.runs.plan import load_run_data
    from reportgen.training.train import train

    manifest = load_manifest(course(tmp_path, runs))
    planned = make_plan(manifest).by_name[name][0]
    return planned, train(planned, load_run_data(manifest, planned.run), torch.device("cpu"), **kwargs)


def test_a_model_from_a_file_trains_and_gives_features_of_its_last_linear_input(tmp_path):
    _, result = _train(tmp_path, RUNS, "student")
    assert result.ok and result.test_prob.shape == (len(result.test_true), 10)
    assert result.test_features.shape[1] == 32  # the input of fc2
    assert result.macs > 0 and result.params == sum(v.numel() for k, v in result.state_dict.items()
                                                    if "running" not in k and "num_batches" not in k)


def test_a_factory_function_from_a_module_is_built_with_num_classes(tmp_path, monkeypatch):
    (tmp_path / "course_models_xyz.py").write_text(NET, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    runs = RUNS.replace('"models.py:Net", dropout = 0.5', '"course_models_xyz:small", hidden = 8')
    planned, result = _train(tmp_path, runs, "student")
    assert planned.spec["model"]["code"].keys() == {"sha256"}  # a module outside any package: its source's hash
    assert result.ok and result.test_features.shape[1] == 8


def test_init_from_starts_from_the_source_runs_weights(tmp_path):
    from reportgen.models import build_run_model
    from reportgen.runs.plan import load_run_data
    from reportgen.training.train import _Batches, evaluate, start_from

    runs = RUNS.replace('runs = ["student", "baseline"]', 'runs = ["tuned", "baseline"]') + (
        '\n[runs.tuned]\nextends = "student"\ninit_from = "student"\nfreeze = ["conv1"]\n')
    manifest = load_manifest(course(tmp_path, runs))
    plan = make_plan(manifest)  # no section shows "student": it is planned all the same, before "tuned"
    source_planned, tuned_planned = plan.runs[0], plan.by_name["tuned"][0]
    assert source_planned.run.name == "student"
    assert tuned_planned.init_from == source_planned.key == tuned_planned.spec["init_from"]["key"]
    from reportgen.training.train import train

    data = load_run_data(manifest, source_planned.run)
    source = train(source_planned, data, torch.device("cpu"))
    # Before any step, the dependent model predicts exactly what the source did.
    model = build_run_model(tuned_planned.run, data.input_shape, data.num_classes)
    note = start_from(model, source.state_dict, tuned_planned)
    assert "8 tensors" in note and "re-initialised" not in note
    mean, std = data.channel_stats()
    _, accuracy, prob, _ = evaluate(model, _Batches(data.test, mean, std, torch.device("cpu"), True),
                                    torch.nn.CrossEntropyLoss(), keep_outputs=True)
    assert accuracy == pytest.approx(source.test_accuracy)
    np.testing.assert_allclose(prob, source.test_prob, atol=1e-5)
    tuned = train(tuned_planned, data, torch.device("cpu"), init_state=source.state_dict)
    assert any("froze" in n for n in tuned.notes) and any("started from" in n for n in tuned.notes)
    assert torch.equal(tuned.state_dict["conv1.weight"], source.state_dict["conv1.weight"])  # frozen
    assert not torch.equal(tuned.state_dict["fc2.weight"], source.state_dict["fc2.weight"])


def test_a_head_with_another_class_count_is_reinitialised_and_said_so(tmp_path):
    from reportgen.models import build_model
    from reportgen.training.train import start_from

    course(tmp_path)
    source = build_model("models.py:Net", {}, (1, 28, 28), 10, tmp_path)
    target = build_model("models.py:Net", {}, (1, 28, 28), 3, tmp_path)
    planned = type("P", (), {"spec": {"init_from": {"run": "fashion"}}, "seed": 0})()
    note = start_from(target, source.state_dict(), planned)
    assert "2 re-initialised" in note and "fc2.weight" in note
    assert torch.equal(target.conv1.weight, source.conv1.weight)


def test_evaluate_on_equals_a_direct_evaluation(tmp_path):
    from reportgen.data import Split
    from reportgen.models import build_run_model
    from reportgen.training.train import _Batches, evaluate

    generator = torch.Generator().manual_seed(1)
    other = Split(torch.randint(0, 256, (30, 1, 28, 28), dtype=torch.uint8, generator=generator),
                  torch.randint(0, 10, (30,), generator=generator))
    planned, result = _train(tmp_path, RUNS, "student", extra_tests={"other": other})
    assert set(result.extra_tests) == {"other"}
    from reportgen.runs.plan import load_run_data

    data = load_run_data(load_manifest(tmp_path / "experiments.toml"), planned.run)
    model = build_run_model(planned.run, data.input_shape, data.num_classes)
    model.load_state_dict(result.state_dict)
    mean, std = data.channel_stats()  # the run's own training statistics, not the other set's
    _, accuracy, prob, _ = evaluate(model, _Batches(other, mean, std, torch.device("cpu"), True),
                                    torch.nn.CrossEntropyLoss(), keep_outputs=True)
    np.testing.assert_allclose(result.extra_tests["other"]["prob"], prob, atol=1e-6)
    np.testing.assert_array_equal(result.extra_tests["other"]["true"], other.y.numpy())


def test_evaluate_on_a_dataset_with_other_classes_names_both(tmp_path):
    from reportgen.config.errors import DataError

    runs = RUNS.replace('model = "mlp"', 'model = "mlp"\nevaluate_on = ["lines"]').replace(
        "[runs.student]", '[datasets.lines]\nkind = "lines"\nper_class = 3\n\n[runs.student]')
    manifest = load_manifest(course(tmp_path, runs))
    with pytest.raises(DataError, match=r'runs.baseline.evaluate_on: dataset "lines" has classes .* "digits"'):
        make_plan(manifest)


def test_an_unknown_evaluate_on_dataset_is_a_located_error(tmp_path):
    runs = RUNS.replace('model = "mlp"', 'model = "mlp"\nevaluate_on = ["digit"]')
    assert 'runs.baseline.evaluate_on[0]: unknown dataset "digit"; did you mean "digits"?' in error_of(
        course(tmp_path, runs))


def test_an_init_from_cycle_is_a_located_error(tmp_path):
    runs = RUNS.replace('[runs.baseline]\n', '[runs.baseline]\ninit_from = "student"\n').replace(
        "[runs.student]\n", '[runs.student]\ninit_from = "baseline"\n')
    assert "init_from forms a cycle" in error_of(course(tmp_path, runs))


def test_failing_user_code_fails_its_run_alone_with_file_and_line(tmp_path):
    from reportgen.build import build

    broken = NET.replace("        x = self.drop(torch.flatten(x, 1))",
                         "        raise ValueError('shapes do not match: fix me')")
    line = broken.splitlines().index("        raise ValueError('shapes do not match: fix me')") + 1
    path = course(tmp_path, net=broken)
    summary = build(path, quiet=True, pdf=False)
    assert summary.failed == 1 and summary.unfinished == 1
    html = summary.html.read_text(encoding="utf-8")
    assert f"models.py:{line}" in html and "shapes do not match: fix me" in html


def test_timm_pretrained_weights_are_refused_before_anything_downloads(tmp_path):
    pytest.importorskip("timm")
    runs = RUNS.replace('"models.py:Net", dropout = 0.5', '"timm:resnet18", pretrained = true')
    message = error_of(course(tmp_path, runs))
    assert "runs.student.model.pretrained: would download weights" in message and "weights_file" in message


def test_torchvision_weights_come_only_from_the_local_hub_cache(tmp_path, monkeypatch):
    from reportgen.config.errors import TrainingError
    from reportgen.models import build_model

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # an empty hub cache: nothing may be fetched
    with pytest.raises(TrainingError, match="not in torch's local hub cache .*never downloads"):
        build_model("torchvision.models:resnet18", {"weights": "IMAGENET1K_V1"}, (3, 32, 32), 10)
    assert not (tmp_path / "torch-home").exists() or not any((tmp_path / "torch-home").rglob("*.pth"))


def test_weights_file_loads_matching_tensors_and_keeps_a_new_head_fresh(tmp_path):
    from reportgen.models import build_model

    course(tmp_path)
    source = build_model("models.py:Net", {}, (1, 28, 28), 10, tmp_path)
    torch.save(source.state_dict(), tmp_path / "pretrained.pt")
    model = build_model("models.py:Net", {"weights_file": "pretrained.pt"}, (1, 28, 28), 4, tmp_path)
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert any("2 kept fresh (fc2.weight, fc2.bias)" in note for note in model.build_notes)


def test_a_head_trained_on_other_classes_is_reinitialised_even_when_its_shape_fits(tmp_path):
    from reportgen.models import build_model
    from reportgen.training.train import start_from

    course(tmp_path)
    torch.manual_seed(0)
    source = build_model("models.py:Net", {}, (1, 28, 28), 10, tmp_path)
    torch.manual_seed(1)
    target = build_model("models.py:Net", {}, (1, 28, 28), 10, tmp_path)
    fresh_head = target.fc2.weight.clone()
    planned = type("P", (), {"spec": {"init_from": {"run": "fashion"}}, "seed": 0})()
    fashion = ("T-shirt/top", "Trouser", "Pullover", *map(str, range(7)))
    note = start_from(target, source.state_dict(), planned, fashion, tuple(map(str, range(10))))
    assert "its head (fc2) was re-initialised" in note and "T-shirt/top" in note
    assert torch.equal(target.fc2.weight, fresh_head) and torch.equal(target.fc1.weight, source.fc1.weight)

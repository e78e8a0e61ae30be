"""Manifest validation of the report, runs, models, datasets and extends (sections and the file itself:
test_manifest_sections.py): every problem is one ManifestError whose text names the file, the key path and the fix.

The messages are compared in full: they are the user interface of a wrong manifest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest
from reportgen.config.specs import RunSpec, TrainConfig
from reportgen.grade.rubric import grading_of
from reportgen.sections import SECTIONS
from tests.conftest import edit

REPO = Path(__file__).resolve().parents[1]

COMPARE_RUNS = 'runs = ["conv", "mobilenet"]\n\n[sections.confusion]'
REPORT_TABLE = '[report]\ntitle = "Tiny report"\ncourse = "Test course"\nauthor = "pytest"\nseeds = [0]\n'



def test_tiny_manifest_loads(tiny_manifest):
    manifest = load_manifest(tiny_manifest)
    assert list(manifest.sections) == ["compare", "confusion"]
    assert list(manifest.runs) == ["conv", "mobilenet"]
    assert manifest.report.seeds == (0,)
    assert len(manifest.sha256) == 64


# The ITU A3 handout's report questions: id -> marks. The default manifest must carry every one.
A3_QUESTIONS = {"compare": 5, "block_mix": 5, "confusion": 2.5, "predictions": 2.5, "filters": 5,
                "with_without_mobilenet": 10, "conclusions": 5, "sweeps": 5}


def test_repository_manifest_is_the_whole_a3_report():
    manifest = load_manifest(REPO / "experiments.toml")
    assert {sid: s.marks for sid, s in manifest.sections.items() if sid in A3_QUESTIONS} == A3_QUESTIONS
    assert [s.number for s in manifest.sections.values() if s.id in A3_QUESTIONS] == [str(i) for i in range(1, 9)]
    assert "data" in manifest.sections
    assert manifest.report.seeds == (0, 1, 2)
    for section in manifest.sections.values():
        assert section.type == SECTIONS.canonical(section.id)  # old names (block_mix) are aliases now
        assert set(section.all_runs) <= set(manifest.runs)


@pytest.mark.parametrize("path", sorted((REPO / "examples").glob("*.toml")), ids=lambda p: p.name)
def test_example_manifests_load(path):
    assert load_manifest(path).sections


# --- the issue's own example -------------------------------------------------------------------------------


def test_misspelt_run_in_section(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, COMPARE_RUNS, COMPARE_RUNS.replace('"mobilenet"', '"mobilnet"'))
    assert load_error(text) == (
        'experiments.toml: sections.compare.runs[1]: unknown run "mobilnet"; did you mean "mobilenet"?'
    )


# --- top level ---------------------------------------------------------------------------------------------


def test_unknown_top_level_table_with_suggestion(load_error, tiny_manifest_text):
    text = tiny_manifest_text + '\n[sectoins.extra]\ntype = "compare"\n'
    assert load_error(text) == 'experiments.toml: sectoins: unknown table "sectoins"; did you mean "sections"?'


def test_unknown_top_level_table_lists_allowed(load_error, tiny_manifest_text):
    text = tiny_manifest_text + "\n[plots]\nstyle = 1\n"
    assert load_error(text) == (
        'experiments.toml: plots: unknown table "plots" (allowed: report, datasets, runs, sections, grading)'
    )


def test_missing_report_table(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, REPORT_TABLE, "")
    assert load_error(text) == 'experiments.toml: missing the [report] table (it needs at least a "title")'


def test_missing_report_title(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'title = "Tiny report"\n', "")
    assert load_error(text) == 'experiments.toml: report: missing required key "title"'


def test_report_not_a_table(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, REPORT_TABLE, "report = 5\n")
    assert load_error(text) == "experiments.toml: report: expected a table, got int"


def test_no_sections(load_error, tiny_manifest_text):
    text = tiny_manifest_text.split("[sections.compare]")[0]
    assert load_error(text) == (
        "experiments.toml: sections: the manifest has no [sections.ID] table: nothing to report"
    )


# --- seeds -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ("[]", "report.seeds: needs at least one seed"),
        ("[0, 1, 0]", "report.seeds: seeds repeat"),
        ("[-1]", "report.seeds[0]: must be >= 0, got -1"),
        ("[0, 1.5]", "report.seeds[1]: expected an integer, got number 1.5"),
        ("0", "report.seeds: expected list of integer, got integer 0"),
    ],
)
def test_bad_seeds(load_error, tiny_manifest_text, seeds, message):
    text = edit(tiny_manifest_text, "seeds = [0]", f"seeds = {seeds}")
    assert load_error(text) == f"experiments.toml: {message}"


# --- runs: keys and types ----------------------------------------------------------------------------------


def test_unknown_run_key_with_suggestion(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "epochs = 1", "epoch = 1")
    assert load_error(text) == 'experiments.toml: runs.conv.epoch: unknown key "epoch"; did you mean "epochs"?'


def test_unknown_run_key_lists_allowed(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "epochs = 1", "zzz = 1")
    message = load_error(text)
    assert message.startswith('experiments.toml: runs.conv.zzz: unknown key "zzz" (allowed: extends, dataset, ')
    assert message.endswith(")")
    assert "epochs" in message and "label_smoothing" in message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("epochs = 1", 'epochs = "5"', "runs.conv.epochs: expected an integer, got string '5'"),
        ("epochs = 1", "epochs = -1", "runs.conv.epochs: must be >= 1, got -1"),
        ("epochs = 1", "epochs = 0", "runs.conv.epochs: must be >= 1, got 0"),
        ("epochs = 1", "epochs = 2.0", "runs.conv.epochs: expected an integer, got number 2.0"),
        ("epochs = 1", "epochs = true", "runs.conv.epochs: expected an integer, got boolean True"),
        ("lr = 0.01", 'lr = "fast"', "runs.conv.lr: expected a number, got string 'fast'"),
        ("lr = 0.01", "lr = 0", "runs.conv.lr: must be > 0, got 0"),
        ("lr = 0.01", "lr = 11", "runs.conv.lr: must be <= 10, got 11"),
        ("lr = 0.01", "lr = nan", "runs.conv.lr: expected a finite number, got nan"),
        ("batch_size = 32", "batch_size = 0", "runs.conv.batch_size: must be >= 1, got 0"),
        (
            "lr = 0.01",
            'lr = 0.01\noptimizer = "adm"',
            "runs.conv.optimizer: unknown value \"adm\"; did you mean \"adam\"?",
        ),
        (
            "lr = 0.01",
            'lr = 0.01\noptimizer = "lion"',
            "runs.conv.optimizer: unknown value \"lion\" (one of \"adam\", \"adamw\", \"sgd\", \"rmsprop\")",
        ),
        ('label = "C2"', "label = 5", "runs.conv.label: expected string, got integer 5"),
    ],
)
def test_wrong_run_value(load_error, tiny_manifest_text, old, new, message):
    # The first [runs.*] table is "conv": edit only its line (the one before "[runs.mobilenet]").
    head, tail = tiny_manifest_text.split("[runs.mobilenet]")
    text = edit(head, old, new) + "[runs.mobilenet]" + tail
    assert load_error(text) == f"experiments.toml: {message}"


def test_run_missing_dataset(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'dataset = "digits"\n', "")
    assert load_error(text) == 'experiments.toml: runs.conv: missing required key "dataset"'


def test_label_smoothing_needs_cross_entropy(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "lr = 0.01", 'lr = 0.01\nloss = "focal"\nlabel_smoothing = 0.1')
    assert load_error(text) == (
        'experiments.toml: runs.conv.label_smoothing: applies to loss "cross_entropy" only, not "focal"'
    )


def test_label_smoothing_with_cross_entropy_is_fine(load_ok, tiny_manifest_text):
    manifest = load_ok(edit(tiny_manifest_text, "lr = 0.01", "lr = 0.01\nlabel_smoothing = 0.1"))
    assert manifest.runs["conv"].train.label_smoothing == 0.1
    assert manifest.runs["mobilenet"].train.label_smoothing == 0.1  # inherited through extends


# --- runs: model -------------------------------------------------------------------------------------------


def test_unknown_model_arch_with_suggestion(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'arch = "conv_mobilenet"', 'arch = "conv_mobilenett"')
    assert load_error(text) == (
        'experiments.toml: runs.conv.model.arch: unknown model "conv_mobilenett"; did you mean "conv_mobilenet"?'
    )


def test_unknown_model_arch_lists_known(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'arch = "conv_mobilenet"', 'arch = "resnet"')
    message = load_error(text)
    assert message.startswith('experiments.toml: runs.conv.model.arch: unknown model "resnet" (known: ')
    assert "conv_mobilenet" in message and "mlp" in message


def test_unknown_model_option(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "conv_blocks = 2,", "conv_blcoks = 2,")
    assert load_error(text) == (
        'experiments.toml: runs.conv.model.conv_blcoks: unknown key "conv_blcoks"; did you mean "conv_blocks"?'
    )


def test_model_option_out_of_range(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "channels = 8", "channels = 0")
    assert load_error(text) == "experiments.toml: runs.conv.model.channels: must be >= 1, got 0"


def test_model_option_wrong_type(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "channels = 8", 'channels = "8"')
    assert load_error(text) == (
        "experiments.toml: runs.conv.model.channels: expected integer or list of integer, got string '8'"
    )


def test_model_without_arch(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'arch = "conv_mobilenet", ', "")
    assert load_error(text) == 'experiments.toml: runs.conv.model: missing required key "arch"'


def test_model_as_bare_name(load_ok, tiny_manifest_text):
    text = edit(
        tiny_manifest_text,
        'model = { arch = "conv_mobilenet", conv_blocks = 2, mobilenet_blocks = 0, channels = 8 }',
        'model = "mlp"',
    )
    text = edit(text, "model = { conv_blocks = 1, mobilenet_blocks = 1 }", 'model = { arch = "mlp", hidden = [16] }')
    manifest = load_ok(text)
    assert manifest.runs["conv"].arch == "mlp"
    assert manifest.runs["conv"].model_options == {}
    assert manifest.runs["mobilenet"].model_options == {"hidden": (16,)}


def test_extends_merges_into_a_bare_model_name(load_ok, tiny_manifest_text):
    text = edit(
        tiny_manifest_text,
        'model = { arch = "conv_mobilenet", conv_blocks = 2, mobilenet_blocks = 0, channels = 8 }',
        'model = "mlp"',
    )
    text = edit(text, "model = { conv_blocks = 1, mobilenet_blocks = 1 }", "model = { hidden = [16] }")
    manifest = load_ok(text)
    assert manifest.runs["mobilenet"].arch == "mlp"
    assert manifest.runs["mobilenet"].model_options == {"hidden": (16,)}


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        ('type = "compare"', 'type = ["compare"]', "sections.compare.type"),
        ('kind = "mnist5k"', 'kind = ["mnist5k"]', "datasets.digits.kind"),
        ('arch = "conv_mobilenet"', 'arch = ["conv_mobilenet"]', "runs.conv.model.arch"),
    ],
)
def test_name_that_is_not_a_string(write_manifest, monkeypatch, tiny_manifest_text, old, new, location):
    path = write_manifest(edit(tiny_manifest_text, old, new))
    monkeypatch.chdir(path.parent)
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(path.name))
    assert str(info.value).startswith(f"experiments.toml: {location}: ")


# --- datasets ----------------------------------------------------------------------------------------------


def test_unknown_dataset_name_in_run(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'dataset = "digits"', 'dataset = "digit"')
    assert load_error(text) == 'experiments.toml: runs.conv.dataset: unknown dataset "digit"; did you mean "digits"?'


def test_dataset_kind_used_directly_by_a_run(load_ok, tiny_manifest_text):
    manifest = load_ok(edit(tiny_manifest_text, 'dataset = "digits"', 'dataset = "mnist5k"'))
    assert manifest.runs["conv"].dataset == "mnist5k"
    assert manifest.runs["mobilenet"].dataset == "mnist5k"


def test_unknown_dataset_kind_with_suggestion(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'kind = "mnist5k"', 'kind = "mnist"')
    assert load_error(text) == (
        'experiments.toml: datasets.digits.kind: unknown dataset kind "mnist"; did you mean "mnist5k"?'
    )


def test_unknown_dataset_kind_lists_known(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'kind = "mnist5k"', 'kind = "foo"')
    message = load_error(text)
    assert message.startswith('experiments.toml: datasets.digits.kind: unknown dataset kind "foo" (known: ')
    assert "mnist5k" in message


def test_dataset_without_kind(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'kind = "mnist5k"\n', "")
    message = load_error(text)
    assert message.startswith('experiments.toml: datasets.digits: missing required key "kind" (one of: ')
    assert "mnist5k" in message


def test_dataset_split_not_summing_to_one(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "split = [0.6, 0.2, 0.2]", "split = [0.6, 0.4, 0.3]")
    assert load_error(text) == (
        "experiments.toml: datasets.digits.split: must add up to 1, got 0.6 + 0.4 + 0.3 = 1.3"
    )


def test_dataset_unknown_option(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'caps_apply_to = "all"', 'cap_apply_to = "all"')
    assert load_error(text) == (
        'experiments.toml: datasets.digits.cap_apply_to: unknown key "cap_apply_to"; did you mean "caps_apply_to"?'
    )


# --- extends -----------------------------------------------------------------------------------------------


def test_extends_unknown_run(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'extends = "conv"', 'extends = "cnv"')
    assert load_error(text) == 'experiments.toml: runs.mobilenet.extends: unknown run "cnv"; did you mean "conv"?'


def test_extends_cycle(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "[runs.conv]\n", '[runs.conv]\nextends = "mobilenet"\n')
    assert load_error(text) == (
        "experiments.toml: runs.mobilenet.extends: extends forms a cycle: conv -> mobilenet -> conv"
    )


def test_extends_itself(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "[runs.conv]\n", '[runs.conv]\nextends = "conv"\n')
    assert load_error(text) == "experiments.toml: runs.conv.extends: extends forms a cycle: conv -> conv"


def test_extends_not_a_string(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'extends = "conv"', 'extends = ["conv"]')
    assert load_error(text) == "experiments.toml: runs.mobilenet.extends: expected the name of another run"


def test_extends_merges_model_and_does_not_inherit_label(load_ok, tiny_manifest_text):
    text = tiny_manifest_text + '\n[runs.wide]\nextends = "mobilenet"\nmodel = { channels = 16 }\nlr = 0.02\n'
    manifest = load_ok(text)
    assert manifest.runs["conv"] == RunSpec(
        name="conv",
        label="C2",
        dataset="digits",
        arch="conv_mobilenet",
        model_options={"conv_blocks": 2, "mobilenet_blocks": 0, "channels": 8},
        train=TrainConfig(epochs=1, batch_size=32, lr=0.01),
        base_dir=str(manifest.base_dir),
    )
    mobilenet = manifest.runs["mobilenet"]
    assert mobilenet.label == "C1+M1"
    assert mobilenet.arch == "conv_mobilenet"  # from the parent's model table
    assert mobilenet.model_options == {"conv_blocks": 1, "mobilenet_blocks": 1, "channels": 8}
    assert mobilenet.train == TrainConfig(epochs=1, batch_size=32, lr=0.01)
    assert mobilenet.dataset == "digits"
    wide = manifest.runs["wide"]  # two levels of extends
    assert wide.label == "wide"  # a label is not inherited: it defaults to the run's own name
    assert wide.model_options == {"conv_blocks": 1, "mobilenet_blocks": 1, "channels": 16}
    assert wide.train == TrainConfig(epochs=1, batch_size=32, lr=0.02)



def test_extends_with_another_arch_replaces_the_model_table(load_ok, tiny_manifest_text):
    # The parent's conv options (conv_blocks, channels) mean nothing to an MLP: they must not be inherited.
    text = edit(tiny_manifest_text, "model = { conv_blocks = 1, mobilenet_blocks = 1 }",
                'model = { arch = "mlp", hidden = [16] }')
    manifest = load_ok(text)
    assert manifest.runs["mobilenet"].arch == "mlp"
    assert manifest.runs["mobilenet"].model_options == {"hidden": (16,)}
    assert manifest.runs["mobilenet"].train.epochs == manifest.runs["conv"].train.epochs


def test_plateau_patience_that_can_never_fire_before_early_stopping(load_ok, tiny_manifest_text):
    schedule = 'lr = 0.01\nlr_schedule = "plateau"\nplateau_patience = 2\nearly_stopping = 3'
    text = edit(tiny_manifest_text, "lr = 0.01", schedule)
    with pytest.raises(ManifestError) as info:
        load_ok(text)
    assert str(info.value) == (
        "experiments.toml: runs.conv.plateau_patience: must be below early_stopping - 1 (= 2), or training stops "
        "before the learning rate can ever decay"
    )


@pytest.mark.parametrize(("table", "message"), [
    ("[grading]\nval_test_gap = 5\n", "grading.val_test_gap: must be <= 1"),
    ("[grading]\ntest_size = \"10k\"\n", "grading.test_size: expected"),
    ("[grading.aliases]\nconvv = [\"conv block\"]\n",
     'grading.aliases.convv: unknown run "convv"; did you mean "conv"?'),
    ("[grading.questions.compar]\nexpects = [\"ROC\"]\n",
     'grading.questions.compar: unknown section "compar"; did you mean "compare"?'),
    ("[grading.questions.compare]\nexpect = [\"ROC\"]\n", 'grading.questions.compare.expect: unknown key "expect"'),
    ("[grading.test_sets.lines]\nsize = 0\n", "grading.test_sets.lines.size: must be >= 1"),
])
def test_grading_table_errors_are_located(write_manifest, tiny_manifest_text, table, message):
    # [grading] is opaque to the manifest core: grade/ checks it when it grades (and build checks it up front).
    manifest = load_manifest(write_manifest(tiny_manifest_text + "\n" + table))
    with pytest.raises(ManifestError) as info:
        grading_of(manifest)
    assert message in str(info.value) and "experiments.toml: " in str(info.value)


def test_grading_table_is_read(write_manifest, tiny_manifest_text):
    path = write_manifest(tiny_manifest_text + """
[grading]
test_size = 10000
[grading.aliases]
conv = ["plain conv net"]
[grading.questions.compare]
expects = ["ROC", "loss"]
[grading.test_sets.lines]
size = 19200
classes = 96
balanced = true
""")
    grading = grading_of(load_manifest(path))
    assert grading.test_size == 10000 and grading.aliases == {"conv": ("plain conv net",)}
    assert grading.rubric("compare").expects == ("ROC", "loss") and grading.rubric("confusion").expects == ()
    assert [(t.name, t.size, t.classes, t.balanced) for t in grading.all_test_sets()] == [("lines", 19200, 96, True)]

"""Planning: which runs a build needs, each once, under a key that changes exactly when the numbers could."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest
from reportgen.data.loading import clear_cache
from reportgen.runs.plan import make_plan, training_code_hash
from tests.conftest import edit

THIRD_RUN = '\n[runs.third]\nextends = "conv"\nlabel = "third"\nlr = 0.02\n'
COMPARE_RUNS = 'runs = ["conv", "mobilenet"]\n\n[sections.confusion]'


@pytest.fixture
def plan_of(tmp_path):
    """``plan_of(text, only=None) -> Plan`` for manifest text written to a fresh file."""
    counter = iter(range(1000))

    def run(text: str, only: list[str] | None = None):
        folder = tmp_path / f"m{next(counter)}"
        folder.mkdir()
        path = folder / "experiments.toml"
        path.write_text(text, encoding="utf-8")
        return make_plan(load_manifest(path), only)

    return run


def keys(plan) -> dict[str, list[str]]:
    return {name: [p.key for p in planned] for name, planned in plan.by_name.items()}


def test_tiny_plan(plan_of, tiny_manifest_text):
    plan = plan_of(tiny_manifest_text)
    assert [s.id for s in plan.sections] == ["compare", "confusion"]
    assert list(plan.by_name) == ["conv", "mobilenet"]
    assert len(plan.runs) == 2  # both sections use both runs: each is planned once
    assert [p.run.name for p in plan.runs] == ["conv", "mobilenet"]
    for planned in plan.runs:
        assert re.fullmatch(r"[0-9a-f]{20}", planned.key)
        assert planned.seed == 0
        assert planned.spec["seed"] == 0
        assert planned.spec["code"] == training_code_hash()
        assert planned.spec["dataset"]["kind"] == "mnist5k"
        assert planned.spec["dataset"]["fingerprint"]
        assert planned.spec["model"]["arch"] == "conv_mobilenet"
        json.dumps(planned.spec, allow_nan=False)
    assert plan.runs[0].title == "C2 (seed 0)"
    section = plan.sections[0]
    assert list(plan.runs_for(section)) == ["conv", "mobilenet"]


def test_identical_runs_with_different_names_share_one_key(plan_of, tiny_manifest_text):
    text = tiny_manifest_text + '\n[runs.again]\nextends = "conv"\nlabel = "Same as C2"\n'
    text = edit(text, COMPARE_RUNS, COMPARE_RUNS.replace('"mobilenet"]', '"mobilenet", "again"]'))
    plan = plan_of(text)
    assert list(plan.by_name) == ["conv", "mobilenet", "again"]
    assert plan.by_name["again"][0].key == plan.by_name["conv"][0].key
    assert len(plan.runs) == 2  # unique trainings, not names
    assert plan.runs[0].run.name == "conv"  # the first name that needs it


def test_seeds_multiply_runs(plan_of, tiny_manifest_text):
    plan = plan_of(edit(tiny_manifest_text, "seeds = [0]", "seeds = [0, 1]"))
    assert len(plan.runs) == 4
    for name in ("conv", "mobilenet"):
        assert [p.seed for p in plan.by_name[name]] == [0, 1]
    assert len({p.key for p in plan.runs}) == 4
    assert [p.title for p in plan.by_name["mobilenet"]] == ["C1+M1 (seed 0)", "C1+M1 (seed 1)"]


def test_section_filter(plan_of, tiny_manifest_text):
    text = tiny_manifest_text + THIRD_RUN
    text = edit(text, COMPARE_RUNS, COMPARE_RUNS.replace('"mobilenet"]', '"mobilenet", "third"]'))
    full = plan_of(text)
    assert len(full.runs) == 3
    only = plan_of(text, ["confusion"])
    assert [s.id for s in only.sections] == ["confusion"]
    assert list(only.by_name) == ["conv", "mobilenet"]  # "third" is needed by compare only
    assert len(only.runs) == 2
    assert keys(only) == {name: k for name, k in keys(full).items() if name != "third"}


def test_section_filter_keeps_manifest_order(plan_of, tiny_manifest_text):
    plan = plan_of(tiny_manifest_text, ["confusion", "compare"])
    assert [s.id for s in plan.sections] == ["compare", "confusion"]


def test_unknown_section_in_filter(plan_of, tiny_manifest_text):
    with pytest.raises(ManifestError) as info:
        plan_of(tiny_manifest_text, ["confusoin"])
    assert str(info.value) == 'experiments.toml: --section: unknown section "confusoin"; did you mean "confusion"?'


def test_unknown_section_in_filter_without_suggestion(plan_of, tiny_manifest_text):
    with pytest.raises(ManifestError) as info:
        plan_of(tiny_manifest_text, ["zzz"])
    assert str(info.value) == 'experiments.toml: --section: unknown section "zzz" (sections: compare, confusion)'


# --- what the key hashes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("lr = 0.01", "lr = 0.02"),
        ("epochs = 1", "epochs = 2"),
        ("batch_size = 32", "batch_size = 16"),
        ("lr = 0.01", 'lr = 0.01\noptimizer = "sgd"'),
        ("lr = 0.01", 'lr = 0.01\nloss = "focal"'),
        ("lr = 0.01", "lr = 0.01\nweight_decay = 0.001"),
        ("channels = 8", "channels = 16"),  # a model option
        ("mobilenet_blocks = 0,", "mobilenet_blocks = 1,"),  # another model option
        ('caps_apply_to = "all"', 'caps_apply_to = "all"\nseed = 1'),  # a dataset option (another split)
        ("split = [0.6, 0.2, 0.2]", "split = [0.5, 0.25, 0.25]"),  # a dataset option
        ("seeds = [0]", "seeds = [1]"),  # the seed
    ],
)
def test_key_changes_with_what_changes_the_numbers(plan_of, tiny_manifest_text, old, new):
    before = keys(plan_of(tiny_manifest_text))
    after = keys(plan_of(edit(tiny_manifest_text, old, new)))
    assert after["conv"] != before["conv"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('label = "C2"', 'label = "Baseline"'),  # a label
        ('label = "C2"\n', ""),  # no label at all
        ('title = "Conv vs MobileNet"', 'title = "Another title"'),  # a section's text
        ("marks = 5", "marks = 7"),
        ('title = "Tiny report"', 'title = "Other report"'),  # the report's text
    ],
)
def test_key_ignores_presentation(plan_of, tiny_manifest_text, old, new):
    assert keys(plan_of(edit(tiny_manifest_text, old, new))) == keys(plan_of(tiny_manifest_text))


def test_key_ignores_run_and_dataset_names(plan_of, tiny_manifest_text):
    renamed = tiny_manifest_text.replace("[runs.conv]", "[runs.baseline]").replace('"conv"', '"baseline"')
    renamed = renamed.replace("[datasets.digits]", "[datasets.numbers]").replace('"digits"', '"numbers"')
    assert "conv" not in renamed.replace("conv_", "") and "digits" not in renamed
    before, after = keys(plan_of(tiny_manifest_text)), keys(plan_of(renamed))
    assert after["baseline"] == before["conv"]
    assert after["mobilenet"] == before["mobilenet"]


def test_key_is_stable_across_loads(tiny_manifest):
    first = keys(make_plan(load_manifest(tiny_manifest)))
    clear_cache()  # recompute the dataset's content fingerprint from scratch
    second = keys(make_plan(load_manifest(Path(str(tiny_manifest)))))
    assert first == second


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("lr = 0.01", 'lr = 0.01\noptimizer = "adam"'),
        ("lr = 0.01", 'lr = 0.01\nloss = "cross_entropy"\nlabel_smoothing = 0.0\nweight_decay = 0'),
        ("lr = 0.01", "lr = 0.01\nwarmup_epochs = 0\nnesterov = false\naugment = { crop = 0 }"),
        ("lr = 0.01", "lr = 1e-2"),
        ('caps_apply_to = "all"', 'caps_apply_to = "all"\nseed = 0'),  # the dataset's default seed
        ("mobilenet_blocks = 0, ", ""),  # conv_mobilenet's default, left out instead of written
    ],
)
def test_default_written_out_gives_the_same_key(plan_of, tiny_manifest_text, old, new):
    assert keys(plan_of(edit(tiny_manifest_text, old, new))) == keys(plan_of(tiny_manifest_text))


def test_dataset_table_and_bare_kind_share_keys(plan_of, tiny_manifest_text):
    """A [datasets] entry with default options and the bare kind name are the same data."""
    with_table = edit(tiny_manifest_text, 'dataset = "digits"', 'dataset = "plain"')
    with_table += '\n[datasets.plain]\nkind = "mnist5k"\n'
    bare = edit(tiny_manifest_text, 'dataset = "digits"', 'dataset = "mnist5k"')
    assert keys(plan_of(with_table)) == keys(plan_of(bare))
    assert keys(plan_of(bare)) != keys(plan_of(tiny_manifest_text))  # the caps change the data

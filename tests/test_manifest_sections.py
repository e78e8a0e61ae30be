"""Manifest validation of sections and of the file itself: exact, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.config.errors import ManifestError
from reportgen.config.manifest import load_manifest
from tests.conftest import edit

COMPARE_RUNS = 'runs = ["conv", "mobilenet"]\n\n[sections.confusion]'


# --- sections ----------------------------------------------------------------------------------------------


def test_unknown_section_type_with_suggestion(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'type = "compare"', 'type = "compair"')
    assert load_error(text) == (
        'experiments.toml: sections.compare.type: unknown section type "compair"; did you mean "compare"?'
    )


def test_unknown_section_type_lists_known(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, 'type = "compare"', 'type = "xyzzy"')
    message = load_error(text)
    assert message.startswith('experiments.toml: sections.compare.type: unknown section type "xyzzy" (known: ')
    assert "compare" in message and "confusion" in message


def test_section_type_defaults_to_its_id(load_ok, tiny_manifest_text):
    manifest = load_ok(edit(tiny_manifest_text, 'type = "compare"\n', ""))
    assert manifest.sections["compare"].type == "compare"


def test_section_without_type(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, '[sections.compare]\ntype = "compare"\n', "[sections.question1]\n")
    message = load_error(text)
    assert message.startswith('experiments.toml: sections.question1: missing required key "type" (one of: ')


def test_unknown_section_key(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "marks = 5\n", "marks = 5\nmark = 3\n")
    assert load_error(text) == 'experiments.toml: sections.compare.mark: unknown key "mark"; did you mean "marks"?'


def test_unknown_section_option(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "marks = 5\n", 'marks = 5\nsortby = "accuracy"\n')
    assert load_error(text) == (
        'experiments.toml: sections.compare.sortby: unknown key "sortby"; did you mean "sort_by"?'
    )


def test_bad_section_option_value(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "marks = 5\n", 'marks = 5\nsort_by = "acuracy"\n')
    assert load_error(text) == (
        "experiments.toml: sections.compare.sort_by: unknown value \"acuracy\"; did you mean \"accuracy\"?"
    )


def test_compare_needs_two_runs(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, COMPARE_RUNS, COMPARE_RUNS.replace('"conv", "mobilenet"', '"conv"'))
    assert load_error(text) == "experiments.toml: sections.compare.runs: needs at least 2 run(s), got 1"


def test_section_run_listed_twice(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, COMPARE_RUNS, COMPARE_RUNS.replace('"mobilenet"]', '"mobilenet", "conv"]'))
    assert load_error(text) == "experiments.toml: sections.compare.runs: a run is listed twice"


def test_section_runs_not_a_list(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, COMPARE_RUNS, COMPARE_RUNS.replace('["conv", "mobilenet"]', '"conv"'))
    assert load_error(text) == "experiments.toml: sections.compare.runs: expected list of string, got string 'conv'"


def test_negative_marks(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "marks = 5\n", "marks = -1\n")
    assert load_error(text) == "experiments.toml: sections.compare.marks: must be >= 0, got -1"


@pytest.mark.parametrize("bad_id", ["../../x", "1st", "a b", "x" * 65, "_x"])
def test_invalid_section_id(load_error, tiny_manifest_text, bad_id):
    text = edit(tiny_manifest_text, "[sections.confusion]", f'[sections."{bad_id}"]')
    assert load_error(text) == (
        f"experiments.toml: sections.{bad_id}: a name must start with a letter and hold only letters, digits, "
        "'_' and '-' (at most 64)"
    )


def test_invalid_run_name(load_error, tiny_manifest_text):
    text = tiny_manifest_text + '\n[runs."c/4"]\nextends = "conv"\n'
    assert load_error(text) == (
        "experiments.toml: runs.c/4: a name must start with a letter and hold only letters, digits, "
        "'_' and '-' (at most 64)"
    )


# --- the file itself ---------------------------------------------------------------------------------------


def test_invalid_toml_names_the_line(load_error, tiny_manifest_text):
    text = edit(tiny_manifest_text, "lr = 0.01", "lr = = 0.01")
    line = text.splitlines().index("lr = = 0.01") + 1
    message = load_error(text)
    assert message.startswith("experiments.toml: invalid TOML: ")
    assert f"line {line}" in message


def test_not_utf8(write_manifest, monkeypatch, tiny_manifest_text):
    path = write_manifest()
    path.write_bytes(tiny_manifest_text.replace("Tiny", "T\xe9ny").encode("latin-1"))
    monkeypatch.chdir(path.parent)
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(path.name))
    assert str(info.value) == "experiments.toml: not UTF-8 text"


def test_nonexistent_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestError) as info:
        load_manifest("missing.toml")
    message = str(info.value)
    assert message.startswith("missing.toml: cannot read manifest: ")
    assert "No such file" in message


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}: cannot read manifest: ")


def test_error_names_the_path_as_given(write_manifest, tiny_manifest_text):
    """A manifest outside the working folder is named by the path the user gave, so it can be found."""
    text = edit(tiny_manifest_text, "epochs = 1", "epoch = 1")
    path = write_manifest(text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(info.value) == f'{path}: runs.conv.epoch: unknown key "epoch"; did you mean "epochs"?'


def test_two_runs_of_a_section_with_one_label(write_manifest, monkeypatch, tiny_manifest_text):
    # Labels name rows and curves; two alike would silently merge in a figure.
    path = write_manifest(edit(tiny_manifest_text, 'label = "C1+M1"', 'label = "C2"'))
    monkeypatch.chdir(path.parent)
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(path.name))
    assert str(info.value) == (
        'experiments.toml: sections.compare.runs[1]: run "mobilenet" has the same label "C2" as run "conv"; '
        "give one of them its own label"
    )

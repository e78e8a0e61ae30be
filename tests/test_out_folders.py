"""Output folders: each manifest of a folder writes its own (``out/`` for experiments.toml, ``out/<stem>/`` for the
others) and they share one run cache; a folder holding one manifest's report refuses another's; a stored section
result of another manifest (or of none recorded) is never reused or shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reportgen.build import build, load_section_outputs
from reportgen.cli import main
from reportgen.config.errors import CacheError
from reportgen.config.manifest import load_manifest
from reportgen.out_folder import default_cache, default_out
from reportgen.training import train as train_module
from tests.conftest import TINY_MANIFEST, edit

# The tiny manifest with one run (one training of about a second) and two one-run sections.
ONE_RUN = TINY_MANIFEST.split("[runs.mobilenet]")[0] + """
[sections.curves]
type = "curves"
title = "Training curves"
question = "Plot the training curves."
runs = ["conv"]

[sections.confusion]
type = "confusion"
title = "Confusion matrix"
question = "Report the confusion matrix."
runs = ["conv"]
"""


def write(folder: Path, name: str, title: str = "Tiny report") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(edit(ONE_RUN, 'title = "Tiny report"', f'title = "{title}"'), encoding="utf-8")
    return path


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the run cache, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "cache" not in p.relative_to(folder).parts}


def test_default_folders_per_manifest_and_one_cache_per_folder(tmp_path):
    assert default_out(tmp_path / "experiments.toml") == tmp_path / "out"
    assert default_out(tmp_path / "itu-a2.toml") == tmp_path / "out" / "itu-a2"
    assert default_cache(tmp_path / "itu-a2.toml") == default_cache(tmp_path / "experiments.toml") == \
        tmp_path / "out" / "cache"
    for reserved in ("cache", "sections", "figures"):
        with pytest.raises(CacheError, match=rf"{reserved}\.toml: its default output folder out/{reserved}/ .*--out"):
            default_out(tmp_path / f"{reserved}.toml")


def test_two_manifests_of_a_folder_keep_their_own_results_and_share_the_trainings(tmp_path, monkeypatch):
    default, other = write(tmp_path, "experiments.toml"), write(tmp_path, "a2.toml", title="Assignment 2")
    first = build(default, quiet=True, device="cpu", pdf=False)
    assert first.out == tmp_path / "out" and first.html == tmp_path / "out" / "report.html"
    before = files(tmp_path / "out")

    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("the shared cache holds this run"))
    second = build(other, quiet=True, device="cpu", pdf=False)
    assert second.out == tmp_path / "out" / "a2" and second.trained == 0 and second.cached == 1
    assert not (second.out / "cache").exists()  # the folder's cache, not a second one
    assert second.sections_built == ["curves", "confusion"]
    # experiments.toml's report is untouched (out/a2/ lies inside out/, so compare only what was there before)
    assert {k: v for k, v in files(tmp_path / "out").items() if not k.startswith("a2/")} == before
    assert json.loads(first.results.read_text())["report"]["title"] == "Tiny report"
    assert json.loads(second.results.read_text())["report"]["title"] == "Assignment 2"
    stored = json.loads((second.out / "sections" / "confusion.json").read_text())
    assert stored["manifest"]["path"] == str(other.resolve())


def test_an_out_folder_holding_another_manifests_report_is_refused_and_left_as_it_was(tmp_path, capsys):
    a, b = write(tmp_path, "a.toml"), write(tmp_path, "b.toml", title="B")
    out = tmp_path / "shared"
    assert main(["build", str(a), "--out", str(out), "--no-pdf", "-q", "--device", "cpu"]) == 0
    before = files(out)
    capsys.readouterr()

    assert main(["build", str(b), "--out", str(out), "--no-pdf", "-q", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"Error: output folder {out} holds the report of {a.resolve()} ")
    assert f"building {b.resolve()} there would replace" in err and "Pass another --out DIR" in err
    assert files(out) == before

    # Its own manifest builds there again, reusing every section.
    summary = build(a, out=out, quiet=True, device="cpu", pdf=False)
    assert summary.sections_built == [] and summary.trained == 0


def test_a_moved_project_still_owns_its_out_folder(tmp_path, monkeypatch):
    build(write(tmp_path / "course", "experiments.toml"), quiet=True, device="cpu", pdf=False)
    shutil.move(tmp_path / "course", tmp_path / "moved")
    moved = tmp_path / "moved" / "experiments.toml"
    # Its results are still its own (the run specs name their folder, so they read as stale until rebuilt).
    assert not any(o.get("missing") for o in load_section_outputs(load_manifest(moved), moved.parent / "out"))
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("retrained"))
    assert build(moved, quiet=True, device="cpu", pdf=False).cached == 1
    record = json.loads((tmp_path / "moved" / "out" / "manifest.json").read_text())["manifest"]
    assert record == {"path": str(tmp_path / "moved" / "experiments.toml"), "relative": "../experiments.toml"}


def test_sections_of_another_or_an_unrecorded_manifest_are_never_shown(tmp_path):
    a, b = write(tmp_path, "a.toml"), write(tmp_path, "b.toml", title="B")
    out = tmp_path / "old"
    build(a, out=out, quiet=True, device="cpu", pdf=False)

    # A folder as reportgen wrote it before it recorded owners: no manifest.json, no "manifest" in the sections.
    (out / "manifest.json").unlink()
    for path in (out / "sections").glob("*.json"):
        stored = json.loads(path.read_text())
        del stored["manifest"]
        path.write_text(json.dumps(stored))
    confusion_before = (out / "sections" / "confusion.json").read_bytes()
    summary = build(b, out=out, sections=["curves"], quiet=True, device="cpu", pdf=False)
    statuses = {sid: s["status"] for sid, s in json.loads(summary.results.read_text())["sections"].items()}
    assert statuses == {"curves": "ok", "confusion": "missing"}  # a.toml's confusion result is not b.toml's
    assert "This section has not been built yet" in summary.html.read_text().split('id="confusion"')[1]
    assert (out / "sections" / "confusion.json").read_bytes() == confusion_before

    # A result that names another manifest is not reused either: a full build recomputes it.
    outputs = {o["id"]: o for o in load_section_outputs(load_manifest(b), out)}
    assert outputs["confusion"].get("missing") and not outputs["curves"].get("missing")
    assert build(b, out=out, quiet=True, device="cpu", pdf=False).sections_built == ["confusion"]
    stored = json.loads((out / "sections" / "curves.json").read_text())
    stored["manifest"] = {"path": str(a.resolve()), "relative": "../a.toml"}
    (out / "sections" / "curves.json").write_text(json.dumps(stored))
    assert build(b, out=out, quiet=True, device="cpu", pdf=False).sections_built == ["curves"]

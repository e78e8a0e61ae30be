"""benchmarks/run.py: the cheap stages run end to end on tiny settings (--quick) and write their JSON; the
table, the targets and the cold-build floor arithmetic are right. Nothing here asserts a timing."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import run as bench
from benchmarks.common import Row, format_table, reported_seconds
from benchmarks.trainer import cold_floor_rows, distinct_trainings
from reportgen.config.manifest import load_manifest
from reportgen.runs.plan import load_run_data, make_plan
from tests.conftest import TINY_MANIFEST

SWEEP = """
[sections.sweeps]
type = "sweeps"
title = "Sweeps"
question = "Change the batch size and the loss."
marks = 1
runs = ["mobilenet"]

[sections.sweeps.factors]
batch_size = [16, 32]
loss = ["cross_entropy", "focal"]
"""


def rows_of(path) -> dict[str, dict]:
    return {r["what"]: r for r in json.loads(path.read_text())["rows"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny manifest and its built report (runs cached, sections stored, report.html; no PDF)."""
    from reportgen.build import build

    folder = tmp_path_factory.mktemp("bench")
    manifest = folder / "experiments.toml"
    manifest.write_text(TINY_MANIFEST, encoding="utf-8")
    build(manifest, out=folder / "out", device="cpu", quiet=True, pdf=False)
    return manifest, folder / "out"


def test_quick_stages_write_every_figure(built, tmp_path, capsys):
    manifest, report = built
    out = tmp_path / "bench.json"
    code = bench.main(["--quick", "--only", "train", "tsne", "figures", "pdf", "--manifest", str(manifest),
                       "--report-dir", str(report), "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "CPUs" in printed and "threads" in printed and "overhead" in printed
    doc = json.loads(out.read_text())
    assert doc["quick"] and doc["torch_threads"] >= 1 and doc["stages"] == ["train", "tsne", "figures", "pdf"]
    rows = rows_of(out)
    assert not [r for r in rows.values() if r["note"].startswith("skipped") and "openTSNE" not in r["what"]]
    trainer = rows["train conv (bs 32) trainer"]
    assert trainer["unit"] == "samples/s" and trainer["median"] > 0 and trainer["sizes"]["train"] > 0
    assert len(trainer["train_s"][0]) == 2 and len(trainer["val_s"][0]) == 2  # two epochs, validation apart
    assert rows["train conv (bs 32) floor"]["median"] > 0
    overhead = rows["train conv (bs 32) overhead"]
    assert overhead["unit"] == "%" and overhead["target"] == "<= 15"
    # The verdict follows the measured median and the target (not a timing assertion: the rule, checked).
    assert overhead["ok"] is (overhead["median"] <= 15)
    assert any(w.startswith("cold build floor") for w in rows)
    tsne = rows[next(w for w in rows if w.startswith("t-SNE as the report runs it"))]
    assert tsne["median"] > 0 and tsne["tsne"]["source"] == "run cache"
    figures = rows[next(w for w in rows if w.startswith("figures: draw + save"))]
    assert figures["median"] > 0 and figures["passes"][0]["figures"] >= 2
    assert rows["HTML → PDF (write_pdf)"]["median"] > 0


def test_missing_inputs_are_skipped_rows_not_errors(tiny_manifest, tmp_path):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--only", "figures", "--manifest", str(tiny_manifest),
                       "--report-dir", str(tmp_path / "none"), "--json", str(out)]) == 0
    (row,) = rows_of(out).values()
    assert row["median"] is None and row["note"].startswith("skipped")


def test_sweep_batch_sizes_are_distinct_trainings_named_after_their_model(write_manifest):
    plan = make_plan(load_manifest(write_manifest(TINY_MANIFEST + SWEEP)))
    labels = [label for label, _ in distinct_trainings(plan)]
    # The focal-loss variation has mobilenet's model and batch size: not a training of its own.
    assert labels == ["conv", "mobilenet", "mobilenet bs16"]


def test_cold_floor_sums_every_planned_training(write_manifest):
    plan = make_plan(load_manifest(write_manifest(TINY_MANIFEST + SWEEP)))
    combos = distinct_trainings(plan)
    measured = {label: {"planned": p, "floor_sps": [100.0, 200.0], "trainer_sps": [50.0, 100.0],
                        "val_s_per_item": 0.0, "test_s_per_item": 0.0} for label, p in combos}
    floor, estimate = cold_floor_rows(plan, measured)
    items = 0
    for planned in plan.runs:
        n = len(load_run_data(plan.manifest, planned.run).train)
        items += planned.run.train.epochs * n
    assert floor.values == pytest.approx([items / 100.0, items / 200.0])
    assert estimate.values == pytest.approx([items / 50.0, items / 100.0])
    assert f"{len(plan.runs)} trainings" in floor.what


def test_rows_meet_or_miss_their_targets_and_print_as_one_table():
    rows = [Row("warm build", [9.0, 12.0, 11.0], "s", ("<=", 10.0)),
            Row("floor", [4500.0], "samples/s", note="resident"),
            Row("nothing", [], "", note="skipped: why")]
    assert rows[0].median == 11.0 and rows[0].ok is False and rows[1].ok is None
    assert math.isnan(rows[2].median) and rows[2].to_json()["median"] is None
    table = format_table(rows).splitlines()
    assert table[0].split()[:7] == ["what", "median", "min", "max", "unit", "target", "ok?"]
    assert "NO" in table[2] and "4,500" in table[3] and "skipped: why" in table[4]


def test_build_time_is_read_from_the_build_command_output():
    assert reported_seconds("wrote out/report.html\nsections computed: none; runs: 0 trained, 54 cached; 3.4 s\n") \
        == 3.4
    assert reported_seconds("no time here") is None

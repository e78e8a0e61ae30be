"""benchmarks/gpu.sh runs every step on the CPU (--cpu-dry-run) and ends with its Markdown table; its Python half
(benchmarks/gpu.py) checks what it says it checks; the compare benchmark's class of reports is what it claims."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gpu import course_copy, differences, read_steps, same, stable, table
from benchmarks.outputs import class_of_reports

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.sh"
STEPS = ("env", "default", "train", "plain", "det1", "det2", "same", "same_plain", "course")


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHON": sys.executable, **env})


def test_the_cpu_dry_run_runs_every_step_and_prints_the_table():
    done = run_script("--cpu-dry-run")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in STEPS:  # one timing line per step, each ok
        assert re.search(rf"^\[gpu\.sh\] {step}: [0-9.]+ s, ok ", out, re.M), step
    assert "identical: det1 and det2" in out and "identical: plain and det1" in out
    table_lines = out[out.index("| what (on CPU"):].splitlines()
    assert table_lines[1] == "|---|---|---|"
    assert any("cold build of the tests' tiny manifest" in line and "2 trained, 0 cached" in line
               for line in table_lines)
    assert any(line.startswith("| `--deterministic` cost") for line in table_lines)
    assert any(line.startswith("| conv (bs 32) |") for line in table_lines)  # the trainer's per-model table
    assert out.rstrip().endswith("9 of 9 steps ok")


def test_the_script_fails_when_its_time_is_spent():
    done = run_script("--cpu-dry-run", GPU_SH_SECONDS="0")
    assert done.returncode == 1
    assert "env: " in done.stdout and "not run (out of time)" in done.stdout


def test_an_unknown_option_is_refused():
    assert run_script("--gpu").returncode == 2


def test_same_ignores_timings_and_finds_a_changed_number(tmp_path, capsys):
    doc = {"build": {"built_at": "2026-01-01", "seconds": 3.0},
           "sections": [{"id": "compare", "result": {"acc": [0.91, 0.92], "train_seconds": 1.0},
                         "text": ["C4 trained fastest (1.0 s)", "C4 is better"]}]}
    later = json.loads(json.dumps(doc))
    later["build"]["built_at"], later["sections"][0]["result"]["train_seconds"] = "2026-01-02", 2.0
    later["sections"][0]["text"][0] = "C1+M3 trained fastest (0.9 s)"
    changed = json.loads(json.dumps(later))
    changed["sections"][0]["result"]["acc"][1] = 0.93
    for name, d in (("a", doc), ("b", later), ("c", changed)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(d))
    assert same(tmp_path / "a", tmp_path / "b", require=True) == 0
    assert same(tmp_path / "a", tmp_path / "c", require=True) == 1
    assert same(tmp_path / "a", tmp_path / "c", require=False) == 0  # reported, not required
    assert "$.sections[0].result.acc[1]: 0.92 vs 0.93" in capsys.readouterr().out
    assert differences(stable(doc), stable(changed)) == ["$.sections[0].result.acc[1]: 0.92 vs 0.93"]


def test_course_copy_sets_per_class_and_refuses_a_manifest_without_one(tmp_path):
    from reportgen.config.manifest import load_manifest

    copy = course_copy(ROOT / "examples" / "cs671-a2.toml", tmp_path / "c.toml", 1000)
    manifest = load_manifest(copy)
    assert manifest.datasets["lines"].options["per_class"] == 1000
    assert manifest.runs["m122_lines"].train.epochs == 10  # untouched without --epochs
    small = load_manifest(course_copy(ROOT / "examples" / "cs671-a2.toml", tmp_path / "s.toml", 10, 1, [0]))
    assert {r.train.epochs for r in small.runs.values()} == {1} and list(small.report.seeds) == [0]
    with pytest.raises(SystemExit, match="no per_class"):
        course_copy(ROOT / "experiments.toml", tmp_path / "e.toml", 1000)


def test_table_reports_failed_steps_and_the_deterministic_ratio(tmp_path, capsys):
    steps = tmp_path / "steps.tsv"
    steps.write_text("env\tenvironment\t2.0\tok\tNVIDIA H200, torch 2.14\n"
                     "default\tcold build\t90.0\tok\t54 trained, 0 cached; build() 85.0 s\n"
                     "plain\t`--section compare`, cold\t20.0\tok\t\n"
                     "det1\tdet\t24.0\tok\t\ndet2\tdet again\t26.0\tok\t\n"
                     "course\tCS-671\t300.0\ttimed out\t\n")
    assert read_steps(steps)["course"]["status"] == "timed out"
    table(steps, None)
    out = capsys.readouterr().out
    assert "| what (on NVIDIA H200, torch 2.14) | measured | how |" in out
    assert "| cold build | 90.0 s (54 trained, 0 cached; build() 85.0 s) |" in out
    assert "20.0 s without, 24.0, 26.0 s with (1.25×)" in out
    assert "| CS-671 | timed out after 300 s |" in out
    assert out.rstrip().endswith("5 of 6 steps ok; failed: course")


def test_a_class_of_reports_has_one_verbatim_pair_per_ten_and_no_shared_figures(tmp_path):
    source = tmp_path / "report.md"
    source.write_text("# 1 Compare\n\nTest Set Accuracy: 0.9472\nF1: 0.9477546579444083\nEpochs: 10, lr 0.001\n")
    paths = class_of_reports(source, tmp_path / "class", 20)
    texts = [p.read_text() for p in paths]
    assert len(paths) == 20 and [p.name for p in paths[:2]] == ["student-000.md", "student-001.md"]
    assert texts[9] == texts[8] and texts[19] == texts[18]
    assert len(set(texts)) == 18  # every other report differs from all the rest
    assert "Test Set Accuracy: 0.9403" in texts[3] and "F1: 0.9477546579444003" in texts[3]
    assert "Epochs: 10, lr 0.001" in texts[3]  # fewer than 3 decimals: a setting, kept

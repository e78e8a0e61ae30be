"""The ``reportgen`` command: help for every command, one ``Error:`` line for every user error, no tracebacks."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen import __version__
from reportgen.cli import build_parser, main

MOBILNET_ERROR = 'Error: experiments.toml: sections.compare.runs[1]: unknown run "mobilnet"; did you mean "mobilenet"?'


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def reportgen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def mobilnet_manifest(write_manifest, tiny_manifest_text) -> Path:
    old = 'runs = ["conv", "mobilenet"]\n\n[sections.confusion]'
    assert tiny_manifest_text.count(old) == 1
    return write_manifest(tiny_manifest_text.replace(old, old.replace('"mobilenet"]', '"mobilnet"]')))


# --- help and start-up -------------------------------------------------------------------------------------


def test_subcommands_exist():
    assert {"build", "sections"} <= set(subcommands())


@pytest.mark.parametrize("command", [None, *subcommands()])
def test_help(command, tmp_path):
    args = ["--help"] if command is None else [command, "--help"]
    proc = reportgen(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: reportgen{'' if command is None else ' ' + command}")
    assert proc.stderr == ""
    if command is None:
        for name in subcommands():
            assert name in proc.stdout


@pytest.mark.parametrize("command", [None, *subcommands()])
def test_help_in_process(command, capsys):
    args = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 0
    assert "usage: reportgen" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"reportgen {__version__}"


def test_cli_import_is_light(tmp_path):
    code = (
        "import sys, reportgen.cli; "
        "heavy = sorted({'torch', 'torchvision', 'matplotlib', 'weasyprint', 'sklearn', 'pandas'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: reportgen" in capsys.readouterr().err


# --- user errors: one line, exit status 1 ------------------------------------------------------------------


def test_bad_manifest_subprocess(mobilnet_manifest):
    folder = mobilnet_manifest.parent
    proc = reportgen("build", "experiments.toml", "--quiet", "--no-pdf", cwd=folder)
    assert proc.returncode == 1
    assert proc.stderr == MOBILNET_ERROR + "\n"
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert not (folder / "out").exists()


@pytest.mark.parametrize("command", ["build", "sections"])
def test_bad_manifest_in_process(mobilnet_manifest, monkeypatch, capsys, command):
    folder = mobilnet_manifest.parent
    monkeypatch.chdir(folder)
    assert main([command, "experiments.toml"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [MOBILNET_ERROR]
    assert captured.out == ""
    assert not (folder / "out").exists()


@pytest.mark.parametrize("command", ["build", "sections"])
def test_missing_manifest(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    assert main([command, "nope.toml"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: nope.toml: cannot read manifest: ")
    assert not (tmp_path / "out").exists()


def test_missing_manifest_subprocess(tmp_path):
    proc = reportgen("sections", "nope.toml", cwd=tmp_path)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("Error: nope.toml: cannot read manifest: ")
    assert "Traceback" not in proc.stderr


def test_unknown_section_filter(tiny_manifest, monkeypatch, capsys):
    monkeypatch.chdir(tiny_manifest.parent)
    assert main(["build", "experiments.toml", "--section", "confusoin", "--quiet", "--no-pdf"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        'Error: experiments.toml: --section: unknown section "confusoin"; did you mean "confusion"?'
    ]
    assert not (tiny_manifest.parent / "out").exists()


def test_device_cuda_without_cuda(tiny_manifest, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.chdir(tiny_manifest.parent)
    assert main(["build", "experiments.toml", "--device", "cuda", "--quiet", "--no-pdf"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: --device cuda: ")
    assert "Traceback" not in captured.err
    assert not (tiny_manifest.parent / "out" / "cache").exists()  # nothing was trained


def test_unknown_device_is_a_usage_error(tiny_manifest, capsys):
    with pytest.raises(SystemExit) as info:
        main(["build", str(tiny_manifest), "--device", "tpu"])
    assert info.value.code == 2
    assert "--device" in capsys.readouterr().err


# --- reportgen sections ------------------------------------------------------------------------------------


def test_sections_before_a_build(tiny_manifest, monkeypatch, capsys):
    monkeypatch.chdir(tiny_manifest.parent)
    assert main(["sections", "experiments.toml"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "MARKS", "RUNS", "CACHED", "TITLE"]
    # No build has loaded the data yet, so the keys (which hash its content) are not known: said, not loaded.
    assert lines[1].split() == ["compare", "compare", "5", "2", "not", "yet", "known", "Conv", "vs", "MobileNet"]
    assert lines[2].split() == ["confusion", "confusion", "2.5", "2", "not", "yet", "known", "Confusion", "matrices"]
    assert lines[3:] == ["", lines[4]] and lines[4].startswith("not yet known: no build into ")
    assert "the data of conv, mobilenet" in lines[4]
    # the columns line up
    assert lines[1].index("not yet") == lines[2].index("not yet") == lines[0].index("CACHED")
    assert not (tiny_manifest.parent / "out").exists()  # listing writes nothing


def test_sections_counts_cached_runs(tiny_manifest, tmp_path, capsys):
    """A cache entry for one run's key shows as 1/2 (without training: the entry is written by hand)."""
    import numpy as np

    from reportgen.config.manifest import load_manifest
    from reportgen.runs.cache import RunCache
    from reportgen.runs.plan import make_plan, remember_fingerprints
    from reportgen.training.result import RunResult

    out = tmp_path / "elsewhere"
    plan = make_plan(load_manifest(tiny_manifest))
    remember_fingerprints(plan, out / "cache")  # as a build does: `sections` keys the runs from these
    planned = plan.by_name["conv"][0]
    RunCache(out / "cache").save(RunResult(
        key=planned.key, spec=planned.spec, history={}, test_true=np.zeros(2, np.int64),
        test_prob=np.full((2, 10), 0.1, np.float32), test_features=np.zeros((2, 3), np.float32),
        classes=tuple("0123456789"), params=1, macs=1, train_seconds=0.1,
    ))
    assert main(["sections", str(tiny_manifest), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[4] == "1/2"
    assert lines[2].split()[4] == "1/2"


def test_sections_subprocess(tiny_manifest):
    proc = reportgen("sections", "experiments.toml", cwd=tiny_manifest.parent)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["ID", "compare", "confusion"]
    assert [line.split()[4] for line in lines[1:3]] == ["not", "not"]  # "not yet known": no build loaded the data
    assert "Traceback" not in proc.stderr

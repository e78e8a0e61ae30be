"""What a build shows while it trains: bars with one line per training in a terminal (fed from the worker processes
under --jobs 2), one line per finished run in a log, nothing with --quiet."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from types import SimpleNamespace

import numpy as np
import pytest

from reportgen.build import build
from reportgen.runs.progress import Progress
from reportgen.training.result import RunFailure, RunResult
from tests.conftest import TINY_MANIFEST

# Two epochs, so that a training's line moves from epoch 1/2 to 2/2.
TWO_EPOCHS = TINY_MANIFEST.replace("epochs = 1", "epochs = 2")


def _planned(label: str, seed: int, key: str, epochs: int = 3):
    run = SimpleNamespace(label=label, train=SimpleNamespace(epochs=epochs))
    return SimpleNamespace(key=key, run=run, seed=seed, title=f"{label} (seed {seed})")


def _result(key: str, val_acc: float = 0.8) -> RunResult:
    return RunResult(key=key, spec={}, history={"train_loss": [0.9, 0.5], "val_acc": [0.7, val_acc]},
                     test_true=np.array([0, 1, 1, 0]), test_prob=np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4],
                                                                           [0.7, 0.3]]),
                     test_features=np.zeros((4, 2)), classes=("a", "b"), params=10, macs=10, train_seconds=1.5)


def test_a_log_has_one_line_per_finished_run_and_no_redraws():
    stream = io.StringIO()
    progress = Progress(2, cached=1, jobs=2, stream=stream, interactive=False)
    a, b = _planned("C4", 0, "ka"), _planned("C4", 1, "kb")
    progress.start(a)
    progress.epoch(a, 0, {"train_loss": 0.9, "val_acc": 0.7})
    progress.finish(a, _result("ka"))
    progress.finish(b, RunFailure("kb", {}, "RuntimeError: boom (at model.py:3)"))
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "training 2 runs (1 cached), 2 at a time"
    assert lines[1].startswith("[1/2] C4 (seed 0): val acc 0.800, test acc 0.750, 2 epochs in 1.5 s (")
    assert "ETA" in lines[1]
    assert lines[2].startswith("[2/2] C4 (seed 1): failed: RuntimeError: boom (at model.py:3) (")
    assert len(lines) == 3 and "\r" not in stream.getvalue()


def test_bars_show_one_line_per_training_in_progress():
    stream = io.StringIO()
    progress = Progress(3, jobs=2, stream=stream, interactive=True)
    a, b = _planned("C4", 0, "ka"), _planned("C1+M3", 2, "kb")
    progress.start(a)
    progress.start(b)
    assert sorted(progress.rows.values()) == [1, 2]  # one screen row each, under the overall bar (row 0)
    progress.epoch(b, 1, {"train_loss": 0.4123, "val_acc": 0.9131})
    assert "C1+M3 (seed 2): epoch 2/3, loss 0.412, val acc 0.913 | ETA" in stream.getvalue()
    progress.finish(a, _result("ka"))
    progress.epoch(a, 2, {"train_loss": 0.1, "val_acc": 0.99})  # overtaken by its result: ignored
    assert "ka" not in progress.lines
    c = _planned("C3+M1", 0, "kc")
    progress.start(c)
    assert progress.rows["kc"] == 1  # the finished training's row is reused
    progress.finish(c, RunFailure("kc", {}, "diverged at epoch 2"))
    assert "C3+M1 (seed 0): failed: diverged at epoch 2" in stream.getvalue()
    progress.close()
    assert "runs" in stream.getvalue()


def test_quiet_shows_only_runs_that_did_not_finish():
    stream = io.StringIO()
    progress = Progress(2, stream=stream, quiet=True, interactive=True)
    a, b = _planned("C4", 0, "ka"), _planned("C4", 1, "kb")
    progress.start(a)
    progress.epoch(a, 0, {"train_loss": 0.9, "val_acc": 0.7})
    progress.finish(a, _result("ka"))
    assert stream.getvalue() == ""
    progress.finish(b, RunFailure("kb", {}, "boom"))
    assert stream.getvalue() == "C4 (seed 1): failed: boom\n"


@pytest.fixture
def two_epoch_manifest(write_manifest):
    return write_manifest(TWO_EPOCHS)


def test_jobs_2_logs_each_finished_run_and_quiet_prints_nothing(two_epoch_manifest, tmp_path, capsys):
    summary = build(two_epoch_manifest, out=tmp_path / "log", device="cpu", pdf=False, jobs=2, threads=1)
    assert summary.trained == 2
    err = capsys.readouterr().err  # not a terminal: the log form
    assert "training 2 runs, 2 at a time" in err
    finished = [line for line in err.splitlines() if line.startswith("[")]
    assert sorted(line.split(":")[0] for line in finished) == ["[1/2] C1+M1 (seed 0)", "[2/2] C2 (seed 0)"] or \
        sorted(line.split(":")[0] for line in finished) == ["[1/2] C2 (seed 0)", "[2/2] C1+M1 (seed 0)"]
    assert all("2 epochs in" in line for line in finished) and "\r" not in err

    build(two_epoch_manifest, out=tmp_path / "quiet", device="cpu", pdf=False, jobs=2, threads=1, quiet=True)
    assert capsys.readouterr().err == ""


def _run_in_terminal(args: list[str], timeout: float = 240) -> str:
    """Run ``python -m reportgen ARGS`` with stderr on a pseudo-terminal of 120 columns; what it drew there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "REPORTGEN_JOBS": ""}
    process = subprocess.Popen([sys.executable, "-m", "reportgen", *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    drawn, deadline = bytearray(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the last writer closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(master)
    assert process.returncode == 0, drawn.decode(errors="replace")[-2000:]
    return drawn.decode(errors="replace")


def test_a_terminal_shows_each_trainings_epochs_fed_from_the_workers(two_epoch_manifest, tmp_path):
    drawn = _run_in_terminal(["build", str(two_epoch_manifest), "--out", str(tmp_path / "out"), "--no-pdf",
                              "--device", "cpu", "--jobs", "2", "--threads", "1"])
    for title in ("C2 (seed 0)", "C1+M1 (seed 0)"):  # trained in worker processes: their epochs came back
        assert f"{title}: epoch 1/2, loss " in drawn
        assert f"{title}: epoch 2/2, loss " in drawn
    assert "val acc " in drawn and "| ETA " in drawn
    assert "runs: 100%" in drawn and "2/2" in drawn
    assert "[1/2]" not in drawn  # the log form is for logs

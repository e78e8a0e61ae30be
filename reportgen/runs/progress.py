"""What a build shows on stderr while it trains.

Three ways, chosen once per build:

- a terminal (stderr is a TTY): the overall bar (``runs 12/54`` with its ETA) and under it one line per training in
  progress — run label and seed, epoch, training loss, validation accuracy, its own ETA — fed by the trainings
  wherever they run (this process, or ``--jobs N`` worker processes through the executor's event queue); a run that
  fails or diverges is written above the bars;
- a log (stderr is a file or a pipe: CI, ``2> build.log``): no bars and no redraws, one line when training starts
  and one line per finished run;
- ``--quiet``: nothing but the runs that failed or diverged.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from reportgen.runs.plan import PlannedRun

# A training's line: "  C4 (seed 1): epoch 3/8, loss 0.412, val acc 0.913 | ETA 00:21".
TRAINING_FORMAT = "  {desc}: epoch {n_fmt}/{total_fmt}{postfix} | ETA {remaining}"


def epoch_summary(values: dict[str, float]) -> str:
    """``loss 0.412, val acc 0.913`` from a trainer's epoch values (``train_loss``, ``val_acc``)."""
    return f"loss {values['train_loss']:.3f}, val acc {values['val_acc']:.3f}"


def outcome_summary(outcome) -> str:
    """One finished run in words: ``val acc 0.913, test acc 0.951, 8 epochs in 41.2 s``, or its failure."""
    if not outcome.ok:
        return f"{outcome.status}: {outcome.reason}"
    history = outcome.history
    epochs = len(history.get("val_acc", []))
    val = f"val acc {history['val_acc'][-1]:.3f}, " if epochs else ""
    return (f"{val}test acc {outcome.test_accuracy:.3f}, {epochs} epoch{'s' if epochs != 1 else ''} in "
            f"{outcome.train_seconds:.1f} s")


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """The progress of training ``total`` runs (``cached`` more were loaded), ``jobs`` at a time (``None``: on
    Ray, which reports no epochs). ``interactive``:
    bars (default: whether ``stream`` is a terminal). Callbacks may come in any order for different runs, and an
    epoch or a start reported after its run finished (events from another process can overtake the result) is
    ignored."""

    def __init__(self, total: int, *, cached: int = 0, jobs: int | None = 1, quiet: bool = False,
                 stream: TextIO | None = None, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.done, self.started_at = total, 0, time.monotonic()
        if interactive is None:
            interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = "quiet" if quiet or total == 0 else "bars" if interactive else "log"
        self.finished: set[str] = set()
        self.lines: dict[str, object] = {}  # run key -> its training's tqdm line (bars)
        self.rows: dict[str, int] = {}  # run key -> the screen row under the overall bar that its line holds
        self.bar = None
        if self.mode == "bars":
            from tqdm import tqdm

            self._tqdm = tqdm
            self.bar = tqdm(total=total, desc="runs", unit="run", position=0, leave=True, file=self.stream,
                            dynamic_ncols=True)
        elif self.mode == "log":
            more = f" ({cached} cached)" if cached else ""
            where = f"{jobs} at a time" if jobs else "as Ray tasks"
            self._log(f"training {total} run{'s' if total != 1 else ''}{more}, {where}")

    def start(self, planned: PlannedRun) -> None:
        """``planned`` began training."""
        if self.mode != "bars" or planned.key in self.finished or planned.key in self.lines:
            return
        row = min(set(range(1, len(self.rows) + 2)) - set(self.rows.values()))
        self.rows[planned.key] = row
        self.lines[planned.key] = self._tqdm(total=planned.run.train.epochs, desc=planned.title, position=row,
                                             leave=False, file=self.stream, bar_format=TRAINING_FORMAT,
                                             dynamic_ncols=True)

    def epoch(self, planned: PlannedRun, epoch: int, values: dict[str, float]) -> None:
        """``planned`` finished epoch ``epoch`` (0-based) with the trainer's ``values``."""
        if self.mode != "bars" or planned.key in self.finished:
            return
        if planned.key not in self.lines:  # its start event was lost or overtaken
            self.start(planned)
        line = self.lines[planned.key]
        line.n = epoch + 1
        # Every epoch is drawn (refresh): they are seconds apart, and tqdm's rate limit would hide short runs.
        line.set_postfix_str(epoch_summary(values), refresh=False)
        line.refresh()

    def finish(self, planned: PlannedRun, outcome) -> None:
        """``planned`` finished (trained, failed or diverged)."""
        self.finished.add(planned.key)
        self.done += 1
        line = self.lines.pop(planned.key, None)
        self.rows.pop(planned.key, None)
        if line is not None:
            line.close()
        if self.mode == "bars":
            if not outcome.ok:
                self._tqdm.write(f"{planned.title}: {outcome_summary(outcome)}", file=self.stream)
            self.bar.update()
        elif self.mode == "log":
            elapsed = time.monotonic() - self.started_at
            left = elapsed / self.done * (self.total - self.done)
            eta = f", ETA {clock(left)}" if self.done < self.total else ""
            self._log(f"[{self.done}/{self.total}] {planned.title}: {outcome_summary(outcome)} "
                      f"({clock(elapsed)} elapsed{eta})")
        elif not outcome.ok:
            self._log(f"{planned.title}: {outcome_summary(outcome)}")

    def close(self) -> None:
        for line in self.lines.values():
            line.close()
        self.lines.clear()
        if self.bar is not None:
            self.bar.close()

    def _log(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

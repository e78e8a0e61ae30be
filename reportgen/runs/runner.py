"""Get every planned run: from the cache when it holds it, trained otherwise.

A run that raises is recorded as a :class:`~reportgen.training.result.RunFailure` and the others go on; a
diverged run is cached like any finished one (retraining it would diverge again).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from reportgen.runs.cache import RunCache
from reportgen.runs.plan import Plan, PlannedRun
from reportgen.training.result import InitState, RunFailure, RunResult

Outcome = RunResult | RunFailure


@dataclass
class RunnerReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # by run key
    trained: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def run_plan(plan: Plan, cache: RunCache, device, *, force: bool = False, quiet: bool = False, jobs: int = 1,
             threads: int | None = None, executor: str = "local", ray_address: str | None = None) -> RunnerReport:
    """Load or train each of ``plan.runs`` once: here, in ``jobs`` local processes, or on Ray. Each finished
    training is cached as soon as it returns, so an interrupted build keeps it."""
    from reportgen.runs.executors import run_local, run_ray

    report = RunnerReport()
    todo: list[PlannedRun] = []
    for planned in plan.runs:
        hit = None if force else cache.load(planned.key)
        if hit is not None:
            report.outcomes[planned.key] = hit
            report.cached.append(planned.key)
        else:
            todo.append(planned)
    if jobs > 1 and threads is None:
        # Fixed by the jobs asked for, not by how many runs happen to be left: the numbers depend on threads.
        from reportgen.runs.executors import default_threads

        threads = default_threads(jobs)
    jobs = max(1, min(jobs, len(todo)))  # no worker processes for one run
    progress = _Progress(len(todo), quiet, per_epoch=executor == "local" and jobs <= 1)
    # Runs that start from another's weights (init_from) wait for it: the plan lists sources first, so each wave
    # is the runs whose sources are done (one wave when nothing uses init_from).
    while todo:
        wave = [p for p in todo if p.init_from is None or p.init_from in report.outcomes]
        todo = [p for p in todo if p not in wave]
        init_states, ready = {}, []
        for planned in wave:
            source = report.outcomes.get(planned.init_from) if planned.init_from else None
            if planned.init_from is None:
                ready.append(planned)
            elif not source.ok:
                why = f"init_from: the run it starts from did not finish ({source.status}: {source.reason})"
                _record(report, progress, planned, RunFailure(planned.key, planned.spec, why), cache)
            else:
                state = source.state_dict if source.state_dict is not None else _weights(cache, planned.init_from)
                if state is None:
                    why = f"init_from: the weights of cache entry {planned.init_from} are unavailable"
                    _record(report, progress, planned, RunFailure(planned.key, planned.spec, why), cache)
                else:
                    init_states[planned.key] = InitState(state, tuple(source.classes))
                    ready.append(planned)
        if executor == "ray":
            finished = run_ray(plan.manifest, ready, str(device), threads, ray_address, init_states)
        else:
            finished = run_local(plan.manifest, ready, str(device), min(jobs, max(len(ready), 1)), threads,
                                 on_epoch=progress.epoch, on_start=progress.start, init_states=init_states)
        for planned, outcome in finished:
            _record(report, progress, planned, outcome, cache)
    progress.close()
    return report


def _record(report: RunnerReport, progress, planned: PlannedRun, outcome, cache: RunCache) -> None:
    if isinstance(outcome, RunResult):  # diverged ones too: retraining would diverge again
        cache.save(outcome)
        report.trained.append(planned.key)
    if not outcome.ok:
        report.failed.append(planned.key)
        progress.note(f"{planned.title}: {outcome.status}: {outcome.reason}")
    report.outcomes[planned.key] = outcome
    progress.finish()


def _weights(cache: RunCache, key: str):
    hit = cache.load(key, weights=True)
    return hit.state_dict if hit is not None else None


class _Progress:
    """Two tqdm bars on stderr (runs, and epochs of the current run); silent with ``quiet``."""

    def __init__(self, total: int, quiet: bool, per_epoch: bool = True) -> None:
        self.quiet = quiet or total == 0
        self.per_epoch = per_epoch  # runs in other processes report only when they finish
        self.runs = self.epochs = None
        if not self.quiet:
            from tqdm.auto import tqdm

            self._tqdm = tqdm
            self.runs = tqdm(total=total, desc="runs", unit="run", position=0, file=sys.stderr, leave=True)

    def start(self, planned: PlannedRun) -> None:
        if self.quiet or not self.per_epoch:
            return
        self.epochs = self._tqdm(total=planned.run.train.epochs, desc=planned.title, unit="epoch",
                                 position=1, leave=False, file=sys.stderr)

    def epoch(self, _epoch: int, values: dict[str, float]) -> None:
        if self.epochs is not None:
            self.epochs.set_postfix(loss=f"{values['train_loss']:.3f}", val_acc=f"{values['val_acc']:.3f}")
            self.epochs.update()

    def note(self, text: str) -> None:
        if self.quiet:
            print(text, file=sys.stderr)
        else:
            self._tqdm.write(text, file=sys.stderr)

    def finish(self) -> None:
        if self.epochs is not None:
            self.epochs.close()
        if self.runs is not None:
            self.runs.update()

    def close(self) -> None:
        if self.runs is not None:
            self.runs.close()

"""Get every planned run: from the cache when it holds it, trained otherwise.

A run that raises is recorded as a :class:`~reportgen.training.result.RunFailure` and the others go on; a
diverged run is cached like any finished one (retraining it would diverge again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.runs.cache import RunCache
from reportgen.runs.plan import Plan, PlannedRun
from reportgen.runs.progress import Progress
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
    progress = Progress(len(todo), cached=len(report.cached), jobs=jobs if executor == "local" else None,
                        quiet=quiet)
    try:
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
    finally:  # on Ctrl-C too: the bars are cleared before the CLI says what was kept
        progress.close()
    if report.trained:
        from reportgen.runs.machine import release_freed_memory

        release_freed_memory()
    return report


def _record(report: RunnerReport, progress: Progress, planned: PlannedRun, outcome, cache: RunCache) -> None:
    if isinstance(outcome, RunResult):  # diverged ones too: retraining would diverge again
        cache.save(outcome)
        report.trained.append(planned.key)
    if not outcome.ok:
        report.failed.append(planned.key)
    report.outcomes[planned.key] = outcome
    progress.finish(planned, outcome)


def _weights(cache: RunCache, key: str):
    hit = cache.load(key, weights=True)
    return hit.state_dict if hit is not None else None

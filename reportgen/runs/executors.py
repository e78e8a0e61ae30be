"""Where trainings run: in this process one after another, in a pool of local processes (``--jobs N``), or as
Ray tasks on a cluster (``--executor ray``). Every executor runs the same task function and returns the same
:class:`~reportgen.training.result.RunResult` (or :class:`~reportgen.training.result.RunFailure`); the driver
alone writes the content-addressed cache, so a run trained anywhere is interchangeable with one trained here.

Numbers depend on the seed and on the number of CPU threads a training uses (summation order), not on where it
ran: ``--threads`` fixes the latter (default: the machine's cores shared among the jobs).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator

from reportgen.config.errors import ReportgenError
from reportgen.runs.plan import PlannedRun
from reportgen.training.result import RunFailure, RunResult

Outcome = RunResult | RunFailure
EXECUTORS = ("local", "ray")


def train_task(manifest, planned: PlannedRun, device: str, threads: int | None, on_epoch: Callable | None = None,
               init_state: dict | None = None, jobs: int | str = 1) -> Outcome:
    """Load the run's data and train it with ``threads`` CPU threads; any error becomes a RunFailure naming its
    cause, at the user's file and line when the error came from their code (one failing run must not sink the
    build). Top-level and picklable: worker processes and Ray tasks run it too. ``init_state``: the weights of
    the run this one starts from (``init_from``), loaded by the driver from the cache. ``jobs``: how many trainings
    shared the machine with it, recorded beside its time (times are only compared between like setups)."""
    import torch

    from reportgen.config.plugins import user_frame
    from reportgen.runs.plan import extra_test_data, load_run_data
    from reportgen.training import train as train_module

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        data = load_run_data(manifest, planned.run)
        extra = {name: extra_test_data(manifest, planned.run, name)[0] for name in planned.run.evaluate_on}
        result = train_module.train(planned, data, torch.device(device), on_epoch=on_epoch, init_state=init_state,
                                    extra_tests=extra)
        result.provenance["jobs"] = jobs
        return result
    except ReportgenError as err:
        return RunFailure(planned.key, planned.spec, str(err))
    except Exception as err:  # noqa: BLE001
        where = user_frame(err)
        if where == "(unknown place)":
            last = traceback.extract_tb(err.__traceback__)[-1]
            where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        reason = f"{type(err).__name__}: {err} (at {where})"
        return RunFailure(planned.key, planned.spec, reason)
    finally:
        torch.set_num_threads(previous)


def default_threads(jobs: int) -> int:
    """The cores shared fairly among ``jobs`` concurrent trainings (at least one each)."""
    return max(1, (os.cpu_count() or 1) // max(jobs, 1))


def run_local(manifest, todo: list[PlannedRun], device: str, jobs: int, threads: int | None,
              on_epoch: Callable | None = None, on_start: Callable | None = None, init_states: dict | None = None
              ) -> Iterator[tuple[PlannedRun, Outcome]]:
    """Train ``todo`` here (``jobs == 1``) or in ``jobs`` worker processes; yield each outcome as it finishes."""
    init = init_states or {}
    if jobs <= 1:
        for planned in todo:
            if on_start is not None:
                on_start(planned)
            yield planned, train_task(manifest, planned, device, threads, on_epoch, init.get(planned.key))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: a forked child inherits torch's thread pools mid-state and can hang.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending = {pool.submit(train_task, manifest, p, device, threads or default_threads(jobs), None,
                               init.get(p.key), jobs): p for p in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                planned = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as err:  # noqa: BLE001 - a worker that died (killed, out of memory)
                    outcome = RunFailure(planned.key, planned.spec, f"worker process failed: {err!r}")
                yield planned, outcome
    finally:
        # Ctrl-C or an error in the driver: drop what has not started; finished runs are already yielded.
        pool.shutdown(wait=True, cancel_futures=True)


def run_ray(manifest, todo: list[PlannedRun], device: str, threads: int | None, address: str | None,
            init_states: dict | None = None) -> Iterator[tuple[PlannedRun, Outcome]]:
    """Each run a Ray task (one GPU each when the device is CUDA); outcomes as they finish. Ctrl-C cancels the
    outstanding tasks; the finished ones have been yielded (and cached by the driver)."""
    try:
        import ray
    except ImportError:
        raise ReportgenError("--executor ray needs Ray: pip install 'reportgen[ray]'") from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONWARNINGS": "ignore"}} if address else None)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise ReportgenError(f"--ray-address {address}: cannot connect to a Ray cluster ({err})") from None
    cpus = threads or 1
    remote = ray.remote(num_cpus=cpus, num_gpus=1 if device.startswith("cuda") else 0, max_retries=0)(train_task)
    init = init_states or {}
    pending = {remote.remote(manifest, p, device, cpus, None, init.get(p.key), "ray"): p for p in todo}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                planned = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as err:  # noqa: BLE001 - a task or its worker died
                    outcome = RunFailure(planned.key, planned.spec, f"Ray task failed: {type(err).__name__}: {err}")
                yield planned, outcome
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)

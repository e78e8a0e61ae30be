"""Where trainings run: in this process one after another, ``--jobs N`` at a time on this machine (one in a thread
of this process, the others in N - 1 worker processes), or as Ray tasks on a cluster (``--executor ray``). Every
executor runs the same task function and returns the same :class:`~reportgen.training.result.RunResult` (or
:class:`~reportgen.training.result.RunFailure`); the driver alone writes the content-addressed cache, so a run
trained anywhere is interchangeable with one trained here.

Numbers depend on the seed and on the number of CPU threads a training uses (summation order), not on where it
ran: ``--threads`` fixes the latter (default: the CPUs this process may use shared among the jobs).

Why N - 1 processes and not N: each process that imports torch holds about 0.5 GB before it trains (a CUDA build of
torch), and the driver, which only waits while they train, holds one already. Local worker processes get their data
from the driver, which has loaded it to key the runs anyway: its tensors are moved to shared memory once and reach
each worker as file descriptors to the same pages (torch's reductions for multiprocessing), so no worker decodes or
holds a dataset of its own. They report each training's start and epochs back through a queue the pool's initializer
hands them, which the driver drains while it waits for results (Ray tasks report only when they finish).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator

from reportgen.config.errors import ReportgenError
from reportgen.runs.plan import PlannedRun
from reportgen.training.result import RunFailure, RunResult

Outcome = RunResult | RunFailure
EXECUTORS = ("local", "ray")


#: ``on_epoch(planned, epoch, values)``: a training finished an epoch (0-based) with the trainer's values.
EpochReport = Callable[[PlannedRun, int, dict[str, float]], None]
#: How often (seconds) the driver looks for workers' progress events while it waits for their results.
POLL_SECONDS = 0.2


def train_task(manifest, planned: PlannedRun, device: str, threads: int | None, on_epoch: Callable | None = None,
               init_state: dict | None = None, jobs: int | str = 1, *, inputs: tuple | None = None) -> Outcome:
    """Train the run with ``threads`` CPU threads on its data (``inputs``: ``(data, extra test splits)`` the driver
    passed, else loaded here); any error becomes a RunFailure naming its cause, at the user's file and line when
    the error came from their code (one failing run must not sink the build). Top-level and picklable: worker
    processes and Ray tasks run it too. ``on_epoch(epoch, values)``: the trainer's epoch callback. ``init_state``:
    the weights of the run this one starts from (``init_from``), loaded by the driver from the cache. ``jobs``: how
    many trainings shared the machine with it, recorded beside its time (times are only compared between like
    setups)."""
    import torch

    from reportgen.config.plugins import user_frame
    from reportgen.training import train as train_module

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        data, extra = inputs if inputs is not None else run_inputs(manifest, planned)
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


def run_inputs(manifest, planned: PlannedRun) -> tuple:
    """``(DatasetSplits, {dataset name: test Split})``: the data a run trains on and the test splits of the datasets
    it is also evaluated on (``evaluate_on``), memoised per process."""
    from reportgen.runs.plan import extra_test_data, load_run_data

    data = load_run_data(manifest, planned.run)
    return data, {name: extra_test_data(manifest, planned.run, name)[0] for name in planned.run.evaluate_on}


def shared_inputs(manifest, planned: PlannedRun) -> tuple | None:
    """:func:`run_inputs` with every tensor in shared memory, for a worker process; ``None`` when the data cannot be
    loaded (the worker then tries and returns the located error as the run's failure)."""
    from reportgen.config.errors import ReportgenError
    from reportgen.data.loading import share_memory

    try:
        data, extra = run_inputs(manifest, planned)
    except ReportgenError:
        return None
    for split in extra.values():
        split.x.share_memory_()
        split.y.share_memory_()
    return share_memory(data), extra


def default_threads(jobs: int) -> int:
    """The CPUs this process may use (affinity, cgroup quota) shared fairly among ``jobs`` concurrent trainings (at
    least one each)."""
    from reportgen.runs.machine import usable_cpus

    return max(1, usable_cpus()[0] // max(jobs, 1))


def run_local(manifest, todo: list[PlannedRun], device: str, jobs: int, threads: int | None,
              on_epoch: EpochReport | None = None, on_start: Callable[[PlannedRun], None] | None = None,
              init_states: dict | None = None) -> Iterator[tuple[PlannedRun, Outcome]]:
    """Train ``todo`` here one after another (``jobs == 1``) or ``jobs`` at a time (one in a thread here, the others
    in ``jobs - 1`` worker processes); yield each outcome as it finishes. ``on_start(planned)`` and
    ``on_epoch(planned, epoch, values)`` are called here, in the driver, wherever the training runs."""
    init = init_states or {}
    if jobs <= 1:
        for planned in todo:
            if on_start is not None:
                on_start(planned)
            report = None if on_epoch is None else (lambda epoch, values, p=planned: on_epoch(p, epoch, values))
            yield planned, train_task(manifest, planned, device, threads, report, init.get(planned.key))
        return
    import multiprocessing
    import queue
    import threading
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    threads = threads or default_threads(jobs)
    # One of the jobs trains here, in a thread (the driver only waits meanwhile), the others in jobs - 1 worker
    # processes: every process that imports torch holds about 0.5 GB before it trains (benchmarks/memory.py).
    # spawn, not fork: a forked child inherits torch's thread pools mid-state and can hang.
    context = multiprocessing.get_context("spawn")
    events, here_events, stop = context.Queue(), queue.SimpleQueue(), threading.Event()
    pool = ProcessPoolExecutor(max_workers=jobs - 1, mp_context=context, initializer=_worker_init,
                               initargs=(events,))
    here = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-training")
    by_key = {p.key: p for p in todo}
    inputs = {p.run.name: shared_inputs(manifest, p) for p in todo}  # one dataset per run name, whatever the seeds
    waiting, running = list(todo), {}

    def start_next(executor) -> None:
        # One run per free slot, so that neither the pool nor the thread queues runs the other could take.
        if not waiting:
            return
        planned = waiting.pop(0)
        args = (manifest, planned, device, threads, init.get(planned.key), jobs)
        if executor is here:
            running[here.submit(_thread_task, *args, here_events, stop)] = planned, here
        else:
            try:
                future = pool.submit(_worker_task, *args, inputs[planned.run.name])
            except BrokenProcessPool as err:  # a worker died: the pool takes no more runs; this one fails too
                future = Future()
                future.set_exception(err)
            running[future] = planned, pool

    try:
        for executor in (here, *[pool] * (jobs - 1)):
            start_next(executor)
        while running:
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for source in (here_events, events):
                _drain(source, by_key, on_start, on_epoch)
            for future in done:
                planned, executor = running.pop(future)
                start_next(executor)
                try:
                    outcome = future.result()
                except Exception as err:  # noqa: BLE001 - a worker that died (killed, out of memory)
                    outcome = RunFailure(planned.key, planned.spec, f"worker process failed: {err!r}")
                yield planned, outcome
    finally:
        # Ctrl-C or an error in the driver: drop what has not started, stop the training here at the end of its
        # epoch, let the workers finish theirs (on Ctrl-C they have left already); finished runs were yielded.
        stop.set()
        here.shutdown(wait=True, cancel_futures=True)
        pool.shutdown(wait=True, cancel_futures=True)
        events.close()


class _Stopped(Exception):
    """The build was interrupted: the training in the driver's thread stops at the end of its epoch."""


def _thread_task(manifest, planned: PlannedRun, device: str, threads: int, init_state, jobs: int, events,
                 stop) -> Outcome:
    """:func:`train_task` in the driver's training thread, its start and epochs reported on ``events``."""
    events.put(("start", planned.key))

    def on_epoch(epoch: int, values: dict[str, float]) -> None:
        if stop.is_set():
            raise _Stopped("interrupted")
        events.put(("epoch", planned.key, epoch, values))

    return train_task(manifest, planned, device, threads, on_epoch, init_state, jobs)


# The queue a worker process reports progress on (set by the pool's initializer).
_EVENTS = None


def _worker_init(events) -> None:
    import signal

    global _EVENTS
    _EVENTS = events
    # Ctrl-C reaches every process of the terminal's group: the driver says "Interrupted" once; a worker leaves
    # quietly (SystemExit prints no traceback), whether it was training or waiting for a run.
    signal.signal(signal.SIGINT, _leave_quietly)


def _leave_quietly(_signum, _frame) -> None:
    raise SystemExit(130)


def _worker_task(manifest, planned: PlannedRun, device: str, threads: int, init_state, jobs: int,
                 inputs: tuple | None) -> Outcome:
    """:func:`train_task` in a worker process, its start and epochs reported on the driver's queue."""
    events = _EVENTS
    events.put(("start", planned.key))

    def on_epoch(epoch: int, values: dict[str, float]) -> None:
        events.put(("epoch", planned.key, epoch, values))

    return train_task(manifest, planned, device, threads, on_epoch, init_state, jobs, inputs=inputs)


def _drain(events, by_key: dict[str, PlannedRun], on_start, on_epoch) -> None:
    """Hand every event the workers have sent so far to the driver's callbacks."""
    import queue

    while True:
        try:
            event = events.get_nowait()
        except queue.Empty:
            return
        planned = by_key.get(event[1])
        if planned is None:
            continue
        if event[0] == "start" and on_start is not None:
            on_start(planned)
        elif event[0] == "epoch" and on_epoch is not None:
            on_epoch(planned, event[2], event[3])


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

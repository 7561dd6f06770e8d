"""Where chunks of runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor has one method, `map_in_order(function, tasks)`, that applies a
top-level function to each task's arguments and yields the results in the
order of the tasks, with at most `max_in_flight` tasks submitted and not yet
consumed (so memory stays bounded however many chunks there are). Results
come back in task order whoever computed them, which is what makes an
ensemble's files identical for any number of workers.

- `workers=1`, no scheduler: the chunks run one after the other in this process.
- `workers>1`, no scheduler: a `concurrent.futures.ProcessPoolExecutor` of local
  processes (started from a fork server that has the model imported, so a
  worker costs milliseconds, not a fresh interpreter).
- `scheduler="tcp://host:port"`: an existing Dask distributed cluster, through
  `distributed.Client`; the machines behind it need this package installed.
  `scheduler="local"` starts a `distributed.LocalCluster` of `workers` processes
  on this machine instead. Dask does the scheduling; nothing here schedules.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from typing import Any

LOCAL_CLUSTER = "local"
IN_FLIGHT_PER_WORKER = 2
WAKE_SECONDS = 0.2  # how often a wait for a result wakes up, so that Ctrl-C is seen at once


class SchedulerError(Exception):
    """A Dask scheduler that cannot be reached or used."""


def _ordered(
    submit: Callable[[tuple[Any, ...]], Future],
    tasks: Iterable[tuple[Any, ...]],
    max_in_flight: int,
    result: Callable[[Any], Any],
    cancel: Callable[[Iterable[Any]], None],
) -> Iterator[Any]:
    """Keep up to `max_in_flight` tasks submitted; yield the oldest one's result as it completes."""
    pending: deque[Any] = deque()
    iterator = iter(tasks)
    try:
        for task in iterator:
            pending.append(submit(task))
            if len(pending) >= max_in_flight:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())
    finally:
        if pending:
            cancel(pending)


class InProcess:
    """Run the tasks here, one after the other."""

    workers = 1

    def map_in_order(self, function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        for task in tasks:
            yield function(*task)

    def share(self, value: Any) -> Any:
        return value

    def close(self, interrupted: bool = False) -> None:
        pass


def _ignore_interrupts() -> None:
    # The parent process handles Ctrl-C and shuts the pool down; workers should not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _result(future: Future) -> Any:
    """The future's result, waiting in short slices: a signal that reached another thread (Ctrl-C)
    is only acted on when the main thread runs, and a blocking wait would hold it back."""
    while True:
        try:
            return future.result(timeout=WAKE_SECONDS)
        except FutureTimeout:
            continue


PRELOAD = ("__main__", "sim.runs.batch")


def start_local_workers() -> multiprocessing.context.BaseContext:
    """The context local worker processes start from; with a fork server, it is started now (it imports
    the model in the background, so calling this early hides that cost behind other work)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(list(PRELOAD))
        _start_fork_server()
    return context


# Signals the fork server, the resource tracker it starts and the workers it forks ignore: sent to the whole
# process group (Ctrl-C; a closed terminal's SIGHUP), they stop only this process, which then stops them.
# SIGTERM is left alone: it is how `close` stops a worker.
IGNORED_BY_HELPERS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGHUP") if hasattr(signal, name))


def _start_fork_server() -> None:
    """Start the fork server (and with it the resource tracker) with `IGNORED_BY_HELPERS` ignored; they and
    the workers forked later inherit that. A resource tracker killed by SIGHUP would be started again and
    print tracebacks about the semaphores it lost."""
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in IGNORED_BY_HELPERS}
    try:
        forkserver.ensure_running()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


class LocalProcesses:
    """A pool of local worker processes (concurrent.futures)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        context = start_local_workers()
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupts)

    def map_in_order(self, function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        def cancel(pending: Iterable[Future]) -> None:
            for future in pending:
                future.cancel()

        return _ordered(
            lambda task: self.pool.submit(function, *task), tasks, IN_FLIGHT_PER_WORKER * self.workers, _result, cancel
        )

    def share(self, value: Any) -> Any:
        return value

    def close(self, interrupted: bool = False) -> None:
        if not interrupted:
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        # Do not wait for chunks nobody will read: no new work, then stop the workers now.
        workers = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(timeout=5)


class DaskCluster:
    """Chunks sent to a Dask distributed cluster: an existing one at `address`, or a LocalCluster."""

    def __init__(self, address: str, workers: int = 2, connect_timeout: str = "10s") -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover - dask[distributed] is a dependency
            raise SchedulerError(f"Dask distributed is not installed ({error}).") from None
        self.cluster = None
        try:
            if address == LOCAL_CLUSTER:
                with warnings.catch_warnings():  # its HTTP server moves to a free port when 8787 is taken; fine
                    warnings.filterwarnings("ignore", message="Port .* is already in use")
                    self.cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    )
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: a malformed address
            if self.cluster is not None:
                self.cluster.close()
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {address} ({error}). Hint: start one with "
                "`dask scheduler` and `dask worker ADDRESS`, or leave out --scheduler."
            ) from None
        threads = sum(self.client.nthreads().values())
        self.workers = max(threads, 1)

    def map_in_order(self, function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        def cancel(pending: Iterable[Any]) -> None:
            self.client.cancel(list(pending))

        def result(future: Any) -> Any:
            try:
                return _result(future)
            except ModuleNotFoundError as error:
                raise SchedulerError(
                    f"the Dask workers cannot import '{error.name}'. Hint: install this package "
                    "(pip install negotiation-sim, or the project folder) on every worker."
                ) from None

        # pure=False: two chunks with equal arguments are still two tasks.
        return _ordered(
            lambda task: self.client.submit(function, *task, pure=False),
            tasks,
            IN_FLIGHT_PER_WORKER * self.workers,
            result,
            cancel,
        )

    def share(self, value: Any) -> Any:
        """Send a value to every worker once; tasks receive it by reference."""
        return self.client.scatter(value, broadcast=True, hash=False)

    def close(self, interrupted: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Opened(AbstractContextManager):
    def __init__(self, executor: InProcess | LocalProcesses | DaskCluster) -> None:
        self.executor = executor

    def __enter__(self) -> InProcess | LocalProcesses | DaskCluster:
        return self.executor

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.executor.close(interrupted=kind is not None and issubclass(kind, KeyboardInterrupt))


def open_executor(workers: int = 1, scheduler: str | None = None) -> _Opened:
    """The executor for `workers` and `scheduler`, as a context manager that shuts it down.

    Args:
        workers: local processes to use (ignored with an existing cluster, whose size Dask knows).
        scheduler: None for local execution, "local" for a Dask LocalCluster, or the
            address of an existing Dask scheduler (e.g. "tcp://10.0.0.5:8786").
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if scheduler:
        return _Opened(DaskCluster(scheduler, workers))
    if workers == 1:
        return _Opened(InProcess())
    return _Opened(LocalProcesses(workers))

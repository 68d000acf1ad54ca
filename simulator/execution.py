"""Where independent pieces of work run: in this process, in N local processes, or on a Dask cluster.

A sweep's points and a Monte Carlo's chunks of draws are independent tasks. `Executor.run` hands
each task to a worker and yields `(index, result)` as tasks finish; the caller puts results back
in task order, so the figures never depend on how many workers ran or in which order they
finished. Every random number is drawn from the task's own inputs (its seed and index), never
from a worker's state: that is what makes `--jobs 1`, `--jobs 8` and a cluster agree exactly.

Ctrl-C stops cleanly: workers ignore the interrupt, the pool (or the cluster's pending tasks) is
cancelled, and `Interrupted` carries the results that had finished, so a caller can keep them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

EXECUTORS = ("local", "dask")


class Interrupted(Exception):
    """Ctrl-C while tasks ran: `finished` maps each finished task's index to its result."""

    def __init__(self, finished: dict[int, Any]):
        self.finished = finished
        super().__init__(f"stopped after {len(finished):,} finished task(s)")


@dataclass(frozen=True)
class Executor:
    """How to run independent tasks: `jobs` local processes (1 = in this process), or a Dask scheduler's workers."""

    kind: str = "local"
    jobs: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ConfigError("is not an executor", key="--executor", got=self.kind, expected=" or ".join(EXECUTORS))
        if self.jobs < 1:
            raise ConfigError("must be 1 or more", key="--jobs", got=self.jobs, hint="use --jobs 1 to run in this process")
        if self.kind == "dask" and not self.scheduler:
            raise ConfigError(
                "needs the address of a Dask scheduler",
                key="--scheduler",
                hint="pass --scheduler tcp://HOST:8786 (start one with `dask scheduler` and `dask worker`)",
            )

    @property
    def parallel(self) -> bool:
        """True when tasks leave this process."""
        return self.kind == "dask" or self.jobs > 1

    def describe(self) -> str:
        """The executor in words, for the terminal and the manifest."""
        if self.kind == "dask":
            return f"Dask scheduler at {self.scheduler}"
        return "this process" if self.jobs == 1 else f"{self.jobs} local processes"

    def run(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield `(index, function(tasks[index]))` for every task, in the order they finish.

        `function` must be a module-level function and each task picklable when the executor is parallel. Ctrl-C raises
        `Interrupted` with the results finished so far; any other error in a task is raised here as it was raised there.
        """
        if not tasks:
            return
        if self.kind == "dask":
            yield from _on_dask(self.scheduler or "", function, tasks)
        elif self.jobs == 1 or len(tasks) == 1:
            yield from _in_process(function, tasks)
        else:
            yield from _in_processes(min(self.jobs, len(tasks)), function, tasks)

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any], progress: Callable[[int], None] | None = None) -> list[Any]:
        """Every task's result in task order; `progress` hears the count of tasks finished so far."""
        results: dict[int, Any] = {}
        for index, result in self.run(function, tasks):
            results[index] = result
            if progress:
                progress(len(results))
        return [results[index] for index in range(len(tasks))]


LOCAL = Executor()
"""Every task in this process, one after another."""


def chunks(total: int, pieces: int) -> list[range]:
    """`range(total)` cut into at most `pieces` consecutive, nearly equal ranges (none empty)."""
    pieces = max(1, min(pieces, total))
    bounds = [round(total * k / pieces) for k in range(pieces + 1)]
    return [range(bounds[k], bounds[k + 1]) for k in range(pieces) if bounds[k + 1] > bounds[k]]


def _in_process(function: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    finished: dict[int, Any] = {}
    try:
        for index, task in enumerate(tasks):
            finished[index] = function(task)
            yield index, finished[index]
    except KeyboardInterrupt:
        raise Interrupted(finished) from None


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool; otherwise each would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(job: tuple[Callable[[Any], Any], int, Any]) -> tuple[int, Any]:
    function, index, task = job
    return index, function(task)


def _in_processes(jobs: int, function: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    # "spawn" everywhere: a forked worker would inherit the parent's threads (BLAS, HiGHS) in whatever state they were.
    context = multiprocessing.get_context("spawn")
    finished: dict[int, Any] = {}
    pool = context.Pool(jobs, initializer=_ignore_interrupts)
    try:
        for index, result in pool.imap_unordered(_call, [(function, index, task) for index, task in enumerate(tasks)]):
            finished[index] = result
            yield index, result
        pool.close()
    except KeyboardInterrupt:
        pool.terminate()
        raise Interrupted(finished) from None
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _on_dask(scheduler: str, function: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ConfigError(
            "needs dask.distributed, which is not installed",
            key="--executor",
            got="dask",
            hint="install the extra: pip install 'safer-streets-simulator[dask]'",
        ) from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ConfigError(
            f"could not reach the Dask scheduler ({error})",
            key="--scheduler",
            got=scheduler,
            hint="check the address and that `dask scheduler` is running",
        ) from None
    finished: dict[int, Any] = {}
    futures = []
    try:
        futures = client.map(_call, [(function, index, task) for index, task in enumerate(tasks)], pure=False)
        for future in as_completed(futures, loop=client.loop):
            index, result = future.result()
            finished[index] = result
            yield index, result
    except KeyboardInterrupt:
        client.cancel(futures)
        raise Interrupted(finished) from None
    finally:
        client.close()


def default_jobs() -> int:
    """The cores this process may use (the `--jobs` a planner would pick to use the whole machine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1

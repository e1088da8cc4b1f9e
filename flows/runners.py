"""The task runner of the ingest flows: Prefect's thread pool with an explicit bound."""

from __future__ import annotations

import os
from typing import Any, cast

from prefect.futures import PrefectFuture
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from rma.config import Settings, load_settings
from rma.service import stopping


class FilePoolTaskRunner(ThreadPoolTaskRunner[Any]):
    """At most RMA_WORKERS tasks (a file, or a group of small files) at once in one flow run.
    Prefect's default thread pool is unbounded (``sys.maxsize``): a night of 500 files would
    open 500 threads and 500 database sessions. Prefect duplicates a flow's runner for every
    run: the bound is read then, from the run's environment, not when the module is imported
    (so a bad setting fails the run with a clear message, never the import of the flows)."""

    def __init__(self, max_workers: int | None = None):
        self._configured = max_workers
        super().__init__(max_workers=max_workers or Settings().workers)

    def duplicate(self) -> FilePoolTaskRunner:
        return type(self)(max_workers=self._configured or load_settings().workers)

    @property
    def max_workers(self) -> int:
        return self._max_workers


#: Below this many small files in one run, starting worker processes (each imports pandas,
#: pandera and Prefect: 2-3 s) costs more than running their groups on threads saves.
PROCESS_MIN_FILES = 50


def group_processes(settings: Settings, small_files: int, groups: int,
                    cpus: int | None = None) -> int:
    """How many processes run a run's groups of small files; 0: the flow's thread pool.

    The groups are pure CPU work for one interpreter lock: on threads a run uses one core
    (300 files of 20 rows: 53.4 s on threads, 39-45 s on two processes, bench/HISTORY.md).
    RMA_PROCESSES, or (auto) one per CPU when the run has PROCESS_MIN_FILES small files;
    never more than RMA_WORKERS or the number of groups, and one process is none."""
    if settings.processes is not None:
        wanted = settings.processes
    elif small_files >= PROCESS_MIN_FILES:
        wanted = cpus if cpus is not None else (os.cpu_count() or 1)
    else:
        return 0
    count = min(wanted, settings.workers, groups)
    return count if count >= 2 else 0


def process_pool(processes: int) -> ProcessPoolTaskRunner:
    """Prefect's process pool (spawned interpreters; the task runs report to the same API;
    a run asked to stop tells them through ``rma.service.stopping``'s flag file)."""
    # the workers ignore SIGINT/SIGTERM: the parent stops the run (rma.service.stopping)
    return ProcessPoolTaskRunner(max_workers=processes, initializer=stopping.ignore_signals)


def file_pool() -> TaskRunner[PrefectFuture[Any]]:
    """A ``FilePoolTaskRunner`` as ``flow(task_runner=)`` is typed: Prefect declares it as a
    runner of ``PrefectFuture`` while its own thread pool hands out the subclass
    ``PrefectConcurrentFuture``, and the runner type is invariant in it."""
    return cast("TaskRunner[PrefectFuture[Any]]", FilePoolTaskRunner())

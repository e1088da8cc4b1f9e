"""The task runner of the ingest flows: Prefect's thread pool with an explicit bound."""

from __future__ import annotations

from prefect.task_runners import ThreadPoolTaskRunner

from rma.config import Settings, load_settings


class FilePoolTaskRunner(ThreadPoolTaskRunner):
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

"""The chunked path of a very large file (``ingest-large-file``): more than RMA_CHUNK_ROWS rows.

A CSV is read and format-checked in ranges of whole records, an xlsx is read once and
format-checked in row frames, each range a task on the flow's task runner: a
``DaskTaskRunner`` on the existing Dask cluster that RMA_DASK_ADDRESS names, else a thread
pool. The chunk tasks are pure (the CSV reader's chunked mode, ``rma.adapters.readers.csv``,
or a frame of ``large_files.split_sheet``: bytes or a frame in, checked rows out) and
need nothing but the installed code: no database, no shared disk. Then, in this process, the
whole file is decided, reported and posted in ONE transaction, exactly as a small file is;
only that step touches the database and only that step retries (transient faults).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import artifacts
from flows.artifacts import publish_batch
from flows.engines import engine_for
from rma.adapters.db.faults import retry_condition
from rma.adapters.readers import read_batch
from rma.adapters.readers.csv import CsvChunk, ReadChunk, assemble, plan_csv, read_csv_chunk
from rma.adapters.readers.large_files import split_sheet
from rma.adapters.readers.source import FileState, read_regular
from rma.config import Settings, load_settings
from rma.domain.rules.formatcheck import CheckedRows, check_rows, concat_rows, format_issues
from rma.domain.vocabulary.results import BatchResult
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError, ConfigError, LargeFileFailed
from rma.service import progress
from rma.service.batch import post_checked, screen_file
from rma.service.origin import Origin

T = TypeVar("T")


@task(name="check-csv-chunk", cache_policy=NO_CACHE,
      task_run_name="read and check rows {chunk.first_row}+")
def check_csv_chunk(chunk: CsvChunk) -> ReadChunk:
    """Parse one range of CSV records and check their format (no I/O, no database)."""
    return read_csv_chunk(chunk)


@task(name="check-rows-chunk", cache_policy=NO_CACHE, task_run_name="check rows")
def check_rows_chunk(frame: pd.DataFrame, today: dt.date) -> CheckedRows:
    """Check the format of one frame of rows of a sheet read whole (no I/O)."""
    return check_rows(frame, today)


@task(name="post-batch", retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=retry_condition, cache_policy=NO_CACHE,
      task_run_name="post {source}")
def post_batch(sheet: SheetData, rows: pd.DataFrame, issues: pd.DataFrame,
               account_id: str | None, source: str, database_url: str, reports_dir: str,
               now: dt.datetime) -> BatchResult:
    """Decide, report and post the checked file in one transaction; transient database
    faults are retried from the checked rows (the chunks are not read again)."""
    settings = load_settings()  # a task of its own flow run, maybe on a Dask worker
    return post_checked(sheet, rows, issues, Origin(account_id, source),
                        engine_for(database_url, settings.db_pool), settings,
                        Path(reports_dir), now)


@flow(name="ingest-large-file", log_prints=False)
def ingest_large_file(path: str, account_id: str | None = None, source: str | None = None,
                      database_url: str | None = None, reports_dir: str | None = None,
                      listed: FileState | None = None) -> quote:
    """One very large file as one batch: read and checked in chunks, posted whole. The
    result is returned in ``quote`` so that Prefect does not walk its every claim id and
    rejection looking for futures (2.6 s for a 200k-row file); ``.unwrap()`` it."""
    started = time.monotonic()
    settings = load_settings()
    source = source or path
    url = database_url or settings.database_url
    reports = reports_dir or str(settings.reports or Path("reports"))
    now = dt.datetime.now(dt.UTC)
    result = screen_file(Path(path), Origin(account_id, source), engine_for(url, settings.db_pool),
                         settings.limits, listed)
    parts: list[CheckedRows] = []
    if result is None:
        try:
            sheet, parts = _checked_chunks(Path(path), source, settings, now.date(), listed)
        except BatchError as exc:
            result = BatchResult.failed(source, exc.code, exc.message, account_id)
        else:
            result = post_batch(sheet, concat_rows(parts), format_issues(parts, sheet),
                                account_id, source, url, reports, now)
    publish_batch(result, source, time.monotonic() - started, chunks=len(parts))
    artifacts.drain()
    return quote(result)


def _checked_chunks(path: Path, source: str, settings: Settings, today: dt.date,
                    listed: FileState | None = None) -> tuple[SheetData, list[CheckedRows]]:
    """The whole sheet and its checked rows, chunk by chunk (see the module docstring)."""
    limits, rows = settings.limits, settings.chunk_rows
    plan = None
    if path.suffix.lower() == ".csv":
        try:
            data, _ = read_regular(path, limits.file_bytes, listed)
            if len(data) <= limits.file_bytes:
                plan = plan_csv(data, path, limits, rows, today)
        except OSError:
            plan = None  # read_batch below says what is wrong
    if plan is not None:
        reads = _gather([check_csv_chunk.submit(c) for c in plan.chunks], source)
        sheet = assemble(plan, reads, limits)
        if sheet is not None:
            return sheet, [r.checked for r in reads if r.checked is not None]
    # an xlsx, or a CSV to read whole: read_batch raises the batch error a normal run gives
    sheet = read_batch(path, limits, listed)
    frames = split_sheet(sheet, rows)
    return sheet, _gather([check_rows_chunk.submit(f, today) for f in frames], source)


def _gather(futures: list[PrefectFuture[T]], source: str) -> list[T]:
    """The chunk results in row order; a chunk task that failed fails the file (a bug: the
    chunk functions reject rows as data, they do not raise)."""
    progress.chunks(source, len(futures))
    results = []
    for future in futures:
        results.append(future.result())
        progress.chunk_done(source)
    return results


def task_runner_for(settings: Settings) -> TaskRunner[Any]:
    """A DaskTaskRunner on the cluster at RMA_DASK_ADDRESS, else a bounded thread pool."""
    if settings.dask_address:
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError as exc:
            raise ConfigError("RMA_DASK_ADDRESS is set but prefect-dask is not installed; "
                              "pip install 'rma-intake[scale]'") from exc
        return DaskTaskRunner(address=settings.dask_address)
    return ThreadPoolTaskRunner(max_workers=settings.workers)


def run_large_file(path: str, account_id: str | None, source: str, database_url: str,
                   reports_dir: str, listed: FileState | None = None) -> BatchResult:
    """Run ``ingest-large-file`` as a subflow on the configured runner. Its posting has
    retried already, so a failure is raised as ``LargeFileFailed`` (not retried again)."""
    runner = task_runner_for(load_settings())
    state = ingest_large_file.with_options(task_runner=runner)(
        path, account_id, source, database_url, reports_dir, listed, return_state=True)
    if state.is_completed():
        return state.result().unwrap()
    raise LargeFileFailed(f"{Path(path).name}: the chunked run ended {state.name}: "
                          f"{state.message}")

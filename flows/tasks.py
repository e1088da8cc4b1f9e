"""The Prefect tasks of the intake: one file as one batch, several small files one after the
other in one task run, one e-mail, the replies. Each calls the service layer for the work;
the retries of transient database faults are set here."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import artifacts
from flows.artifacts import publish_batch
from flows.chunked import run_large_file
from flows.engines import engine_for
from rma.adapters.db.faults import retry_condition
from rma.adapters.mail.sending import send_pending
from rma.adapters.readers.large_files import is_large
from rma.adapters.readers.source import FileState, read_regular
from rma.config import Settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import BatchResult, NotTaken
from rma.service import stopping
from rma.service.batch import ingest_file
from rma.service.mail import MessageOutcome, ingest_message
from rma.service.origin import Origin
from rma.service.runlog import batch_line


@task(name="ingest-batch", retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=retry_condition, task_run_name="ingest {source}")
def ingest_batch(path: str, account_id: str | None, source: str, database_url: str,
                 reports_dir: str, settings: Settings, listed: FileState | None = None
                 ) -> BatchResult | NotTaken:
    """One file, one batch, one transaction. Transient database faults (``rma.adapters.db.faults``)
    raise and Prefect retries them; other errors fail at once and the file waits. A file of
    more than RMA_CHUNK_ROWS rows goes to the chunked subflow, which retries its own posting.
    ``listed``: a drop-folder file's state when listed (only that very file is read).
    Once the run is asked to stop (``rma.service.stopping``) a task that has not started yet (or
    a retry) takes nothing: the file waits for the next run."""
    if stopping.requested():
        return NotTaken(source)
    if is_large(Path(path), settings.chunk_rows):
        return run_large_file(path, account_id, source, database_url, reports_dir, listed)
    started = time.monotonic()
    result = ingest_file(Path(path), Origin(account_id, source),
                         engine_for(database_url, settings.db_pool), settings,
                         Path(reports_dir), listed=listed)
    publish_batch(result, source, time.monotonic() - started)
    return result


@task(name="ingest-small-files", cache_policy=NO_CACHE,
      task_run_name="ingest {count} small files")
def ingest_small_files(paths: list[str], accounts: list[str | None], sources: list[str],
                       count: int, database_url: str, reports_dir: str, settings: Settings,
                       listed: list[FileState | None] | None = None
                       ) -> list[BatchResult | NotTaken | None]:
    """Several small files in one task run, one after the other, each its own batch and
    transaction exactly as ``ingest_batch`` does it: a task run costs the client and the
    Prefect server more than a 20-row file's whole work (bench/HISTORY.md). A file that raises
    (a database fault, a bug) is not retried here: it comes back as None and the flow runs it
    again as its own ``ingest-batch`` task, with Prefect's retries. Once the run is asked to
    stop, the files not started yet come back ``NotTaken``."""
    engine = engine_for(database_url, settings.db_pool)
    results: list[BatchResult | NotTaken | None] = []
    states = listed or [None] * len(paths)
    for path, account_id, source, state in zip(paths, accounts, sources, states, strict=True):
        if stopping.requested():
            results.append(NotTaken(source))
            continue
        started = time.monotonic()
        try:
            result = ingest_file(Path(path), Origin(account_id, source), engine, settings,
                                 Path(reports_dir), listed=state)
        except Exception as exc:
            get_run_logger().warning("%s: %s: %s; it runs again as a task of its own",
                                     shown(source), type(exc).__name__, shown(exc))
            results.append(None)
            continue
        publish_batch(result, source, time.monotonic() - started)
        results.append(result)
    artifacts.drain()  # this may be a worker process that ends with the run
    return results


@task(name="ingest-mail", retries=2, retry_delay_seconds=[2, 10],
      task_run_name="mail {source}")
def ingest_mail(source: str, database_url: str, reports_dir: str, outbox: str,
                settings: Settings) -> MessageOutcome | NotTaken:
    """One e-mail: its form and attachments as batches, a record, a reply in the outbox;
    nothing once the run is asked to stop (the message waits for the next run)."""
    if stopping.requested():
        return NotTaken(source)
    started = time.monotonic()
    raw, _ = read_regular(Path(source), None)  # never through a link, never blocked by a pipe
    outcome = ingest_message(raw, source, engine_for(database_url, settings.db_pool), settings,
                             Path(reports_dir), Path(outbox))
    for batch in outcome.batches:
        get_run_logger().info(batch_line(batch, time.monotonic() - started, message=source))
    return outcome


@task(name="send-replies")
def send_replies(outbox: str, smtp_url: str | None) -> dict[str, Any]:
    """Send what waits in the outbox (this run's replies and earlier failed sends). Failed
    sends stay in the outbox for the next run: that is the retry, so no task retries here."""
    report = send_pending(Path(outbox), smtp_url)
    get_run_logger().info(report.line())
    return {"sent": len(report.sent), "failed": [f"{p.name}: {why}" for p, why in report.failed],
            "waiting_without_smtp": report.skipped_no_smtp,
            "unsure": [p.name for p in report.unsure], "error": report.error,
            "refused": [f"{p.name}: {why}" for p, why in report.refused]}

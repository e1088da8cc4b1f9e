"""The Prefect flows of the intake: ``run-inbox`` (the nightly job), ``ingest-files`` (files
named on the command line, or a group of the nightly run's fan-out) and ``ingest-file``.
prefect.yaml deploys them from here. Thin orchestration: the tasks are in ``flows.tasks``
(a task per file; small files share one, never a task per row), the files of a run in
``flows.files``, its mail in ``flows.mail``."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run as prefect_flow_run

from flows import artifacts
from flows.engines import engine_for
from flows.fanout import fan_out
from flows.files import ingest_and_settle, ingest_files, refuse_entries
from flows.mail import run_mail
from flows.runners import file_pool
from rma.adapters.db.runs import finish_run, start_run
from rma.adapters.inbox import folders, maildir
from rma.adapters.inbox.folders import Refused, WaitingFile
from rma.adapters.reports.runs import run_summary
from rma.adapters.runlock import inbox_lock
from rma.config import Settings, load_settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import Batches, BatchResult
from rma.service import progress, stopping
from rma.service.run import ABORTED, STOPPED, mail_batches


@flow(name="ingest-file", log_prints=False)
def ingest_one(path: str, account_id: str | None = None, database_url: str | None = None,
               reports_dir: str | None = None) -> dict[str, Any]:
    """Ingest one claim file as one batch (operations' manual re-run)."""
    return ingest_many([path], [account_id], database_url, reports_dir)[0]


@flow(name="ingest-files", log_prints=False, task_runner=file_pool())
def ingest_many(paths: list[str], accounts: list[str | None], database_url: str | None = None,
                reports_dir: str | None = None, inbox: str | None = None
                ) -> Batches:
    """Ingest files named on the command line, a batch each; files are not moved. With
    ``inbox`` (a group of the nightly run's fan-out) they are drop-folder files of that inbox
    and are archived or quarantined as the nightly run does."""
    settings = load_settings()
    url = database_url or settings.database_url
    reports = reports_dir or str(settings.reports or Path("reports"))
    if inbox is not None:  # listed again here: what the parent saw may have changed since
        entries = [folders.examine(Path(p), a or "")
                   for p, a in zip(paths, accounts, strict=True)]
        waiting = [e for e in entries if isinstance(e, WaitingFile | Refused)]
        results = ingest_and_settle(waiting, Path(inbox), url, reports, settings,
                                    dt.datetime.now(dt.UTC).date())
    else:
        results = [r for r in ingest_files(paths, accounts, paths, url, reports, settings)
                   if r is not None]
    create_markdown_artifact(key="ingest-run", markdown=run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    artifacts.drain()
    return Batches(r.to_json() for r in results)


@flow(name="run-inbox", log_prints=False, task_runner=file_pool())
def run_inbox(inbox: str | None = None, database_url: str | None = None) -> Batches:
    """The nightly job: every file waiting in the per-account drop folders, a batch each,
    then the mail. One run per inbox at a time (``rma.adapters.runlock``); each run is recorded."""
    settings = load_settings()
    root = Path(inbox) if inbox else settings.inbox
    url = database_url or settings.database_url
    engine = engine_for(url, settings.db_pool)
    # the lock is held until every task of the run has ended: after a stop request
    # (rma.service.stopping) _process_inbox returns only once the batches in progress have
    # committed or rolled back, and the run row then says what was done
    with inbox_lock(engine, root):
        run_id = start_run(engine, str(root.resolve()), str(prefect_flow_run.id or "") or None)
        aborted = partial(finish_run, engine, run_id, [], error=ABORTED, interrupted=True)
        with stopping.on_abort(aborted):
            try:
                batches = _process_inbox(root, url, settings)
            except BaseException as exc:
                artifacts.drain()
                finish_run(engine, run_id, [], error=f"{type(exc).__name__}: {exc}")
                raise
            stopped = stopping.requested()
            finish_run(engine, run_id, [BatchResult(**b) for b in batches],
                       error=STOPPED if stopped else None, interrupted=stopped)
    artifacts.drain()
    return batches


def _process_inbox(root: Path, url: str, settings: Settings) -> Batches:
    reports = str(settings.beside_inbox("reports", root))
    found = folders.scan(root, settings.settle_seconds)
    for item in found.unsettled:
        get_run_logger().info("%s: not settled (changed %.0f s ago; taken once unchanged for "
                              "RMA_SETTLE_SECONDS=%d s); it waits", shown(item.source),
                              item.quiet_seconds, settings.settle_seconds)
    mail = maildir.waiting_mail(root)
    # one count for the run: the mail is expected before the first file is done, so the
    # console counts [1/3] [2/3] [3/3], not [1/2] [2/2] [3/3]; mail that arrives meanwhile
    # waits for the next run
    progress.expect(len(mail))
    today = dt.datetime.now(dt.UTC).date()
    if settings.fanout_deployment and found.ready:  # spread over the work pool's workers
        results = fan_out(found.ready, root, reports, engine_for(url, settings.db_pool), settings)
        results += refuse_entries(found.refused, settings.beside_inbox("quarantine", root))
    else:  # tasks on this machine's bounded pool
        results = ingest_and_settle([*found.ready, *found.refused], root, url, reports,
                                    settings, today)
    create_markdown_artifact(key="run-inbox", markdown=run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    outcomes = run_mail(root, url, reports, today, mail, settings)
    return Batches([*(r.to_json() for r in results),
                    *(b for o in outcomes for b in mail_batches(o))])

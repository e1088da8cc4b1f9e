"""Prefect flows: thin orchestration over ``rma.service.batch`` — a task per file (small files
share one), never per row."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run as prefect_flow_run

from flows import artifacts
from flows.artifacts import publish_batch
from flows.chunked import run_large_file
from flows.engines import engine_for, forget_engines
from flows.fanout import fan_out
from flows.runners import FilePoolTaskRunner, group_processes, process_pool
from rma.adapters.db.faults import retry_condition
from rma.adapters.db.runs import finish_run, start_run
from rma.adapters.inbox import folders, maildir, moves
from rma.adapters.inbox.folders import Refused, WaitingFile
from rma.adapters.inbox.maildir import WaitingMail
from rma.adapters.mail.outbox import send_pending
from rma.adapters.readers.large_files import is_large
from rma.adapters.readers.source import FileState, read_regular
from rma.adapters.reports.runs import mail_summary, run_summary
from rma.adapters.runlock import inbox_lock
from rma.config import Settings, load_settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import Batches, BatchResult, NotTaken
from rma.errors import FileChanged
from rma.service import progress, stopping
from rma.service.batch import Origin, ingest_file
from rma.service.mail import MessageOutcome, ingest_message
from rma.service.returns import hand_back
from rma.service.run import (
    ABORTED,
    STOPPED,
    failed_file,
    failed_message,
    mail_batches,
    message_words,
    outcome_words,
    task_groups,
)
from rma.service.runlog import batch_line

__all__ = ["engine_for", "forget_engines", "ingest_many", "ingest_one", "run_inbox"]

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


def _mail_outcomes(futures: list, sources: list[str]) -> list[MessageOutcome | None]:
    """Each message's outcome, None for one not taken (the run was asked to stop)."""
    outcomes: list[MessageOutcome | None] = []  # counted in the run's progress with the files
    for future, source in zip(futures, sources, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, NotTaken):
            outcomes.append(None)
            continue
        if isinstance(outcome, BaseException):
            outcome = failed_message(source, outcome)
        outcomes.append(outcome)
        progress.done(source, message_words(outcome))
    return outcomes


def _ingest_files(paths: list[str], accounts: list[str | None], sources: list[str],
                  url: str, reports: str, settings: Settings,
                  listed: list[FileState | None] | None = None) -> list[BatchResult | None]:
    """A batch per file, in input order (None for a file not taken: the run was asked to
    stop before its task started, ``rma.service.stopping``). Small files share task runs
    (``ingest-small-files``, at most RMA_TASK_GROUP_FILES files and RMA_TASK_GROUP_BYTES
    bytes, an account's files together, never fewer tasks than RMA_WORKERS can run at
    once); any other file is its own ``ingest-batch`` task, as is a grouped file that
    raised. A task that failed even after retries is a failed batch. Each file is reported
    to the console progress as it finishes (``rma.service.progress``)."""
    progress.expect(len(paths))
    states = listed or [None] * len(paths)
    results: list[BatchResult | None] = [None] * len(paths)
    groups = task_groups(paths, accounts, settings)
    small = [group for group in groups if len(group) > 1]
    processes = group_processes(settings, sum(map(len, small)), len(small))
    again: list[int] = []
    with process_pool(processes) if processes else nullcontext() as pool:
        futures: dict[PrefectFuture, list[int]] = {}
        for group in groups:
            if len(group) == 1:
                [n] = group
                futures[ingest_batch.submit(paths[n], accounts[n], sources[n], url,
                                            reports, settings, states[n])] = group
                continue
            parameters = {"paths": [paths[n] for n in group],
                          "accounts": [accounts[n] for n in group],
                          "sources": [sources[n] for n in group], "count": len(group),
                          "database_url": url, "reports_dir": reports, "settings": settings,
                          "listed": [states[n] for n in group]}
            future = pool.submit(ingest_small_files, parameters) if pool is not None \
                else ingest_small_files.submit(**parameters)
            futures[future] = group
        for future in as_completed(list(futures)):
            group = futures[future]
            outcome = future.result(raise_on_failure=False)
            if len(group) > 1:
                outcomes = outcome if isinstance(outcome, list) else [None] * len(group)
                again += [n for n, o in zip(group, outcomes, strict=True) if o is None]
                done = [(n, o) for n, o in zip(group, outcomes, strict=True) if o is not None]
            else:
                done = [(group[0], outcome)]
            for n, one in done:
                results[n] = _settled(one, sources[n], accounts[n])
    # a grouped file that raised is tried again on its own, unless the run is stopping: it
    # rolled back and waits for the next run
    retried = {ingest_batch.submit(paths[n], accounts[n], sources[n], url, reports,
                                   settings, states[n]): n
               for n in ([] if stopping.requested() else sorted(again))}
    for future in as_completed(list(retried)):
        n = retried[future]
        results[n] = _settled(future.result(raise_on_failure=False), sources[n], accounts[n])
    return results


def _settled(outcome: BatchResult | NotTaken | BaseException, source: str,
             account: str | None) -> BatchResult | None:
    if isinstance(outcome, NotTaken):
        return None
    if isinstance(outcome, BaseException):
        outcome = failed_file(source, outcome, account)
        get_run_logger().info(batch_line(outcome, None))
    progress.done(source, outcome_words(outcome))
    return outcome


@flow(name="ingest-file", log_prints=False)
def ingest_one(path: str, account_id: str | None = None, database_url: str | None = None,
               reports_dir: str | None = None) -> dict[str, Any]:
    """Ingest one claim file as one batch (operations' manual re-run)."""
    return ingest_many([path], [account_id], database_url, reports_dir)[0]


@flow(name="ingest-files", log_prints=False, task_runner=FilePoolTaskRunner())
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
        entries = [folders.examine(Path(p), a or "") for p, a in zip(paths, accounts, strict=True)]
        waiting = [e for e in entries if isinstance(e, WaitingFile | Refused)]
        results = _ingest_and_settle(waiting, Path(inbox), url, reports, settings,
                                     dt.datetime.now(dt.UTC).date())
    else:
        results = [r for r in _ingest_files(paths, accounts, paths, url, reports, settings)
                   if r is not None]
    create_markdown_artifact(key="ingest-run", markdown=run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    artifacts.drain()
    return Batches(r.to_json() for r in results)


@flow(name="run-inbox", log_prints=False, task_runner=FilePoolTaskRunner())
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
        results += _refuse(found.refused, settings.beside_inbox("quarantine", root))
    else:  # tasks on this machine's bounded pool
        results = _ingest_and_settle([*found.ready, *found.refused], root, url, reports,
                                     settings, today)
    create_markdown_artifact(key="run-inbox", markdown=run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    outcomes = _run_mail(root, url, reports, today, mail, settings)
    return Batches([*(r.to_json() for r in results),
                    *(b for o in outcomes for b in mail_batches(o))])


def _ingest_and_settle(entries: list[WaitingFile | Refused], root: Path, url: str,
                       reports: str, settings: Settings, today: dt.date) -> list[BatchResult]:
    """A task per waiting file; then each file to archive/ or quarantine/ once settled (a
    file that changed since it was listed stays); then what is refused (``_refuse``)."""
    waiting = [e for e in entries if isinstance(e, WaitingFile)]
    sources = [w.source for w in waiting]
    accounts: list[str | None] = [w.account_id for w in waiting]
    outcomes = _ingest_files([str(w.path) for w in waiting], accounts, sources, url, reports,
                             settings, [w.listed for w in waiting])
    # a file not taken (the run is stopping) stays in the inbox as it is
    done = [(w, r) for w, r in zip(waiting, outcomes, strict=True) if r is not None]
    results = [r for _, r in done]
    for item, result in done:
        try:
            moves.settle(item, result.status, result.error,
                        settings.beside_inbox("archive", root),
                        settings.beside_inbox("quarantine", root), today)
        except FileChanged as exc:
            get_run_logger().warning("%s", shown(exc))
        except OSError as exc:  # the batch is committed; the next run archives the file
            get_run_logger().warning("%s could not be moved: %s", shown(item.source),
                                     shown(exc))
    try:
        hand_back(results, settings.beside_inbox("returns", root),
                  settings.beside_inbox("outbox", root), engine_for(url, settings.db_pool),
                  settings)
    except OSError as exc:  # the batches are committed; reports/ still holds every report
        get_run_logger().warning("the results could not be handed back to the submitters: "
                                 "%s", shown(exc))
    # what was refused is for operations (rma status), not handed back: a pipe left in place
    # would be reported to the partner every night
    refused = [e for e in entries if isinstance(e, Refused) and not stopping.requested()]
    return results + _refuse(refused, settings.beside_inbox("quarantine", root))


def _refuse(refused: list[Refused], quarantine: Path) -> list[BatchResult]:
    """A failed batch for each drop-folder entry that is not a file to take; links go to
    quarantine unread, pipes, devices and folders stay (``rma.adapters.inbox.moves.refuse``)."""
    results = []
    progress.expect(len(refused))
    for item in refused:
        try:
            message = moves.refuse(item, quarantine)
        except OSError as exc:
            message = f"{item.reason}; it could not be moved to quarantine ({exc})"
        result = BatchResult.failed(item.source, moves.REFUSED_CODE, message, item.account_id)
        get_run_logger().info(batch_line(result, None))
        progress.done(item.source, f"failed ({moves.REFUSED_CODE})")
        results.append(result)
    return results


def _run_mail(root: Path, url: str, reports: str, today: dt.date,
              waiting: list[WaitingMail], settings: Settings) -> list[MessageOutcome]:
    """The mail part of the nightly run: a task per message, then the outbox. A run asked to
    stop takes no more messages and leaves the replies in the outbox for the next run."""
    if stopping.requested():
        return []
    outbox = settings.beside_inbox("outbox", root)
    sources = [m.source for m in waiting]
    futures = ingest_mail.map(sources, unmapped(url), unmapped(reports), unmapped(str(outbox)),
                              unmapped(settings))
    taken = [(item, o) for item, o in zip(waiting, _mail_outcomes(list(futures), sources),
                                          strict=True) if o is not None]
    outcomes = [o for _, o in taken]
    for item, outcome in taken:
        try:
            moves.settle_mail(item, outcome.status, outcome.error,
                             settings.beside_inbox("archive", root),
                             settings.beside_inbox("quarantine", root), today)
        except OSError as exc:
            get_run_logger().warning("%s could not be moved: %s", shown(item.source),
                                     shown(exc))
    if stopping.requested():
        return outcomes
    delivery = send_replies(str(outbox), settings.smtp_url)
    if waiting or delivery["sent"] or delivery["failed"] or delivery["refused"]:
        create_markdown_artifact(key="run-inbox-mail", markdown=mail_summary(
            [o.to_json() for o in outcomes], delivery))
    for o in outcomes:
        get_run_logger().info(o.line())
    return outcomes

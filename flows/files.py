"""The files of a run as tasks: a batch per file, in input order (small files share task
runs), then each drop-folder file archived or quarantined, the results handed back to their
submitters and what the drop folders refused reported. Which files share a task and what a
task that raised becomes is ``rma.service.run``'s to say; this module only submits, waits
and collects."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.futures import PrefectFuture, as_completed

from flows.engines import engine_for
from flows.runners import group_processes, process_pool
from flows.tasks import ingest_batch, ingest_small_files
from rma.adapters.inbox import moves
from rma.adapters.inbox.folders import Refused, WaitingFile
from rma.adapters.readers.source import FileState
from rma.config import Settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import BatchResult, NotTaken
from rma.errors import FileChanged
from rma.service import progress, stopping
from rma.service.returns import hand_back
from rma.service.run import failed_file, outcome_words, task_groups
from rma.service.runlog import batch_line


def ingest_files(paths: list[str], accounts: list[str | None], sources: list[str],
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
        futures = _submit(groups, pool, paths, accounts, sources, url, reports, settings,
                          states)
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


def _submit(groups: list[list[int]], pool: Any, paths: list[str], accounts: list[str | None],
            sources: list[str], url: str, reports: str, settings: Settings,
            states: list[FileState | None]) -> dict[PrefectFuture, list[int]]:
    """A task per group: ``ingest-batch`` for a file alone, ``ingest-small-files`` (on the
    worker processes' ``pool`` when there is one) for several."""
    futures: dict[PrefectFuture, list[int]] = {}
    for group in groups:
        if len(group) == 1:
            [n] = group
            futures[ingest_batch.submit(paths[n], accounts[n], sources[n], url,
                                        reports, settings, states[n])] = group
            continue
        parameters: dict[str, Any] = {"paths": [paths[n] for n in group],
                      "accounts": [accounts[n] for n in group],
                      "sources": [sources[n] for n in group], "count": len(group),
                      "database_url": url, "reports_dir": reports, "settings": settings,
                      "listed": [states[n] for n in group]}
        future = pool.submit(ingest_small_files, parameters) if pool is not None \
            else ingest_small_files.submit(**parameters)
        futures[future] = group
    return futures


def _settled(outcome: BatchResult | NotTaken | BaseException, source: str,
             account: str | None) -> BatchResult | None:
    if isinstance(outcome, NotTaken):
        return None
    if isinstance(outcome, BaseException):
        outcome = failed_file(source, outcome, account)
        get_run_logger().info(batch_line(outcome, None))
    progress.done(source, outcome_words(outcome))
    return outcome


def ingest_and_settle(entries: list[WaitingFile | Refused], root: Path, url: str,
                      reports: str, settings: Settings, today: dt.date) -> list[BatchResult]:
    """A task per waiting file; then each file to archive/ or quarantine/ once settled (a
    file that changed since it was listed stays); then what is refused (``refuse_entries``)."""
    waiting = [e for e in entries if isinstance(e, WaitingFile)]
    sources = [w.source for w in waiting]
    accounts: list[str | None] = [w.account_id for w in waiting]
    outcomes = ingest_files([str(w.path) for w in waiting], accounts, sources, url, reports,
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
    return results + refuse_entries(refused, settings.beside_inbox("quarantine", root))


def refuse_entries(refused: list[Refused], quarantine: Path) -> list[BatchResult]:
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

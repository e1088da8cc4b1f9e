"""Prefect flows: thin orchestration over ``rma.service`` — a task per file, never per row."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from rma import inbox as drop
from rma.config import load_settings
from rma.db.engine import ensure_ready, make_engine
from rma.results import BatchResult
from rma.service import Origin, ingest_file


@cache
def engine_for(url: str) -> sa.Engine:
    engine = make_engine(url)
    ensure_ready(engine)
    return engine


def _artifact_key(batch_id: str) -> str:
    return "batch-" + "".join(ch if ch.isalnum() else "-" for ch in batch_id.lower())


@task(name="ingest-batch", retries=2, retry_delay_seconds=[2, 10],
      task_run_name="ingest {source}")
def ingest_batch(path: str, account_id: str | None, source: str, database_url: str,
                 reports_dir: str) -> BatchResult:
    """One file, one batch, one transaction. Database faults raise, so Prefect retries."""
    settings = load_settings()
    result = ingest_file(Path(path), Origin(account_id, source), engine_for(database_url),
                         settings, Path(reports_dir))
    if result.batch_id and result.status == "posted" and result.summary_markdown:
        key = _artifact_key(result.batch_id)
        create_markdown_artifact(key=key, markdown=result.summary_markdown,
                                 description=f"Batch {result.batch_id} from {source}")
        if result.issue_table:
            create_table_artifact(key=key + "-issues", table=result.issue_table[:1000],
                                  description=f"Rejections and warnings of {source}")
    return result


def _collect(futures: list, sources: list[str], accounts: list[str | None]
             ) -> list[BatchResult]:
    """Results in input order; a task that failed even after retries is a failed batch."""
    results = []
    for future, source, account in zip(futures, sources, accounts, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            results.append(BatchResult.failed(
                source, "PROCESSING_ERROR",
                f"{Path(source).name}: could not be processed ({type(outcome).__name__}: "
                f"{outcome}); the file stays waiting and the next run tries again.", account))
        else:
            results.append(outcome)
    return results


def _run_summary(results: list[BatchResult]) -> str:
    posted = [r for r in results if r.status == "posted"]
    lines = [
        "# Claim intake run",
        "",
        f"* files: **{len(results)}**, posted **{len(posted)}**, duplicates "
        f"**{sum(r.status == 'duplicate' for r in results)}**, failed "
        f"**{sum(r.status == 'failed' for r in results)}**",
        f"* claims accepted **{sum(r.claims_accepted for r in posted)}**, rejected "
        f"**{sum(r.claims_rejected for r in posted)}**",
        "",
        "| file | account | status | accepted | rejected | report / error |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        detail = (r.error or {}).get("code", "") if r.status != "posted" else \
            r.reports.get("xlsx", "")
        lines.append(f"| {Path(r.source).name} | {r.account_id or ''} | {r.status} | "
                     f"{r.claims_accepted} | {r.claims_rejected} | {detail} |")
    return "\n".join(lines)


@flow(name="ingest-file", log_prints=False)
def ingest_one(path: str, account_id: str | None = None, database_url: str | None = None,
               reports_dir: str | None = None) -> dict[str, Any]:
    """Ingest one claim file as one batch (operations' manual re-run)."""
    return ingest_many([path], [account_id], database_url, reports_dir)[0]


@flow(name="ingest-files", log_prints=False)
def ingest_many(paths: list[str], accounts: list[str | None], database_url: str | None = None,
                reports_dir: str | None = None) -> list[dict[str, Any]]:
    """Ingest files named on the command line, a batch each; files are not moved."""
    settings = load_settings()
    url = database_url or settings.database_url
    reports = reports_dir or str(settings.reports or Path("reports"))
    futures = ingest_batch.map(paths, accounts, paths, unmapped(url), unmapped(reports))
    results = _collect(list(futures), paths, accounts)
    create_markdown_artifact(key="ingest-run", markdown=_run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    return [r.to_json() for r in results]


@flow(name="run-inbox", log_prints=False)
def run_inbox(inbox: str | None = None, database_url: str | None = None) -> list[dict[str, Any]]:
    """The nightly job: every file waiting in the per-account drop folders, a batch each."""
    settings = load_settings()
    root = Path(inbox) if inbox else settings.inbox
    url = database_url or settings.database_url
    reports = str(settings.beside_inbox("reports", root))
    waiting = drop.waiting_files(root)
    sources = [w.source for w in waiting]
    accounts: list[str | None] = [w.account_id for w in waiting]
    futures = ingest_batch.map([str(w.path) for w in waiting], accounts, sources,
                               unmapped(url), unmapped(reports))
    results = _collect(list(futures), sources, accounts)
    today = dt.datetime.now(dt.UTC).date()
    for item, result in zip(waiting, results, strict=True):
        try:
            drop.settle(item, result.status, result.error,
                        settings.beside_inbox("archive", root),
                        settings.beside_inbox("quarantine", root), today)
        except OSError as exc:  # the batch is committed; the next run archives the file
            get_run_logger().warning("%s could not be moved: %s", item.source, exc)
    create_markdown_artifact(key="run-inbox", markdown=_run_summary(results))
    for r in results:
        get_run_logger().info(r.line())
    return [r.to_json() for r in results]

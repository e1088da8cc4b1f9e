"""The posting of a batch sent through the portal or the API (SPEC §9): one Prefect flow run
with one task, as operations see every other batch, with its artifacts. The web process runs
it and waits for it (the answer is the batch object); the file was kept in ``uploads/`` first
(``rma.service.uploads``), so the flow's parameters stay small and a failed run leaves it
there for operations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from flows import artifacts
from flows.artifacts import publish_batch
from flows.engines import engine_for
from rma.adapters.db.faults import retry_condition
from rma.adapters.reports.runs import run_summary
from rma.config import Settings, load_settings
from rma.domain.vocabulary.results import BatchResult
from rma.service.uploads import post_upload


@task(name="ingest-upload", retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=retry_condition, task_run_name="upload {name} ({account_id})")
def ingest_upload_task(kept: str, name: str, account_id: str, database_url: str,
                       settings: Settings, corrects_batch_id: str | None = None
                       ) -> BatchResult:
    """One upload, one batch, one transaction; transient database faults are retried as
    for a drop-folder file (``ingest-batch``)."""
    started = time.monotonic()
    result = post_upload(Path(kept), name, account_id,
                         engine_for(database_url, settings.db_pool), settings,
                         corrects_batch_id=corrects_batch_id)
    publish_batch(result, result.source, time.monotonic() - started)
    return result


@flow(name="ingest-upload", log_prints=False)
def ingest_upload(kept: str, name: str, account_id: str, database_url: str | None = None,
                  corrects_batch_id: str | None = None) -> dict[str, Any]:
    """Post a file sent through the portal or the API as one batch; its batch object.
    ``corrects_batch_id``: the batch whose rows the file corrects (rows corrected in the
    portal, SPEC §9)."""
    settings = load_settings()
    result = ingest_upload_task(kept, name, account_id, database_url or settings.database_url,
                                settings, corrects_batch_id)
    create_markdown_artifact(key="ingest-upload", markdown=run_summary([result]))
    artifacts.drain()
    return result.to_json()

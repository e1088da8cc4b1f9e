"""A batch's artifacts and log line, the artifacts created off the file's critical path.

A batch's two artifacts (markdown summary + issue table) are two round trips to the Prefect
API. Made inline they held every file's task for them: 300 small files took 56.3 s with
them and 45.9 s without (bench/HISTORY.md). Here they are created on a small thread pool, in
a copy of the task's context (so they belong to the same flow and task run as before), while
the task goes on; every flow that publishes batches calls ``drain`` before it returns, so
a finished run has all its artifacts.

An artifact that cannot be created is logged as a warning and never fails the batch: the
batch is already committed, and failing its task would report a posted file as failed.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from rma.domain.vocabulary.results import BatchResult
from rma.service.runlog import batch_line

#: round trips in flight at once (the API server is the bottleneck, not this process)
PUBLISHERS = 2

log = logging.getLogger("rma.artifacts")
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()


def submit(create: Callable[[], object], what: str) -> None:
    """Run ``create`` (artifact calls) in the background, in the caller's context."""
    global _pool
    context = contextvars.copy_context()
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(PUBLISHERS, thread_name_prefix="rma-artifacts")
        future = _pool.submit(context.run, _guarded, create, what)
        _pending.add(future)
    future.add_done_callback(_forget)


def drain(timeout: float | None = 120) -> None:
    """Wait until every artifact submitted so far is created (or has failed and been logged)."""
    with _lock:
        pending = set(_pending)
    if pending:
        wait(pending, timeout=timeout)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def _guarded(create: Callable[[], object], what: str) -> None:
    try:
        create()
    except Exception as exc:  # the batch is committed; its artifact is only a view of it
        log.warning("the Prefect artifact of %s could not be created: %s: %s", what,
                    type(exc).__name__, exc)


def publish_batch(result: BatchResult, source: str, seconds: float | None, **extra: object
                  ) -> None:
    """A processed batch's artifacts (when it has rejections or warnings; created in the
    background) and its one structured log line (``rma.service.runlog``)."""
    if result.batch_id and result.status == "posted" and result.summary_markdown:
        submit(partial(_batch_artifacts, result, source), f"batch {result.batch_id}")
    get_run_logger().info(batch_line(result, seconds, **extra))


def artifact_key(batch_id: str) -> str:
    """The key of a batch's artifacts (Prefect allows lower-case letters, digits and dashes)."""
    return "batch-" + "".join(ch if ch.isalnum() else "-" for ch in batch_id.lower())


def _batch_artifacts(result: BatchResult, source: str) -> None:
    key = artifact_key(str(result.batch_id))
    create_markdown_artifact(key=key, markdown=result.summary_markdown,
                             description=f"Batch {result.batch_id} from {source}")
    if result.issue_table:
        create_table_artifact(key=key + "-issues", table=result.issue_table[:1000],
                              description=f"Rejections and warnings of {source}")

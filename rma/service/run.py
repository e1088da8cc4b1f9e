"""What a run makes of its tasks: the policy the flows apply, written once here.

The flows (``flows.files``, ``flows.mail``) only submit tasks and collect what they return;
which files share a task run, what a task that raised becomes, and what a message that
yielded no batch counts as are decided here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rma.config import Settings
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.results import BatchResult
from rma.service.fanout import group_indices
from rma.service.mail import MessageOutcome

PROCESSING_ERROR = str(Reason.PROCESSING_ERROR)
STOPPED = ("asked to stop (SIGINT/SIGTERM): the batches in progress finished, the files and "
           "e-mails not taken wait for the next run")
ABORTED = ("aborted by a second signal: the batch in progress rolled back; the counts of "
           "this row were not recorded (the batches that committed are in the database)")


def task_groups(paths: list[str], accounts: list[str | None], settings: Settings
                ) -> list[list[int]]:
    """Positions of the files that share a task run: at most RMA_TASK_GROUP_FILES files and
    RMA_TASK_GROUP_BYTES bytes, an account's files together, and never fewer groups than
    RMA_WORKERS can run at once (``group_indices``). A task run costs the client and the
    Prefect server more than a small file's whole work."""
    if settings.task_group_files <= 1 or len(paths) <= 1:
        return [[n] for n in range(len(paths))]
    sizes = []
    for path in paths:
        try:
            sizes.append(Path(path).stat().st_size)
        except OSError:  # its own task says what is wrong with it
            sizes.append(settings.task_group_bytes + 1)
    most = max(1, min(settings.task_group_files, -(-len(paths) // settings.workers)))
    return group_indices(accounts, sizes, target_files=most,
                         target_bytes=settings.task_group_bytes)


def failed_file(source: str, exc: BaseException, account: str | None) -> BatchResult:
    """A file whose task failed even after its retries: it stays waiting for the next run."""
    return BatchResult.failed(
        source, PROCESSING_ERROR,
        f"{Path(source).name}: could not be processed ({type(exc).__name__}: {exc}); the "
        "file stays waiting and the next run tries again.", account)


def failed_message(source: str, exc: BaseException) -> MessageOutcome:
    """A message whose task failed even after its retries: it stays waiting."""
    return MessageOutcome(source, "failed", error={
        "code": PROCESSING_ERROR,
        "message": f"could not be processed ({type(exc).__name__}: {exc}); the message "
                   "stays waiting and the next run tries again."})


def mail_batches(outcome: MessageOutcome) -> list[dict[str, Any]]:
    """A message's batches in the run's JSON; a message that yielded none is one failed batch
    (unreadable, unknown sender, database fault); a duplicate message adds nothing."""
    if outcome.batches:
        return [b.to_json() for b in outcome.batches]
    if outcome.error is None:
        return []
    return [BatchResult.failed(outcome.source, outcome.error["code"], outcome.error["message"],
                               outcome.account_id).to_json()]


def outcome_words(result: BatchResult) -> str:
    """A few words for the console progress: ``posted, 3 accepted, 1 rejected``."""
    if result.status == "posted":
        return (f"posted, {result.claims_accepted} accepted, {result.claims_rejected} "
                "rejected")
    return f"{result.status} ({(result.error or {}).get('code', '')})"


def message_words(outcome: MessageOutcome) -> str:
    """A few words for the console progress: ``processed`` or ``failed (CODE)``."""
    if not outcome.error:
        return outcome.status
    return f"{outcome.status} ({outcome.error.get('code', '')})"

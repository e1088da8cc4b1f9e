"""Batches sent through the portal and the API (SPEC §9): a second door into the same
pipeline. The account is the signed-in one (the batch's origin, SPEC §3), never what the file
says; the file is read from its bytes with the pipeline's limits (``ingest_payload``).

What was sent is kept, so that what was posted can be traced to it: an upload is written to
``uploads/<account>/`` under its name made safe (``rma.adapters.names.safe_filename``: a name
like ``../x.xlsx`` is ``x.xlsx`` there), and once its batch is committed it moves to
``archive/YYYY-MM-DD/<account>/`` (posted, duplicate) or ``quarantine/<account>/`` (a file that
cannot be read), as a drop-folder file does. A checked upload stays in ``uploads/``, recorded
with its check, to be submitted without sending it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.batches import record_file
from rma.adapters.inbox import moves
from rma.adapters.inbox.folders import WaitingFile
from rma.adapters.names import free_name, safe_filename, temporary_beside
from rma.adapters.readers import screen_name_and_size
from rma.adapters.readers.source import read_regular
from rma.config import Settings
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.results import BatchResult
from rma.errors import BadClaim, BatchError
from rma.service.batch import ingest_payload
from rma.service.origin import Origin

log = logging.getLogger("rma.uploads")

#: the source of an upload's batch: ``api:<name>``
API_SOURCE = "api"
#: the JSON field of a claim's serial numbers (one column, several SNs, in the sheet)
SERIALS_FIELD = "serial_numbers"


def upload_name(name: str) -> str:
    """The name an upload is known by: its basename made safe."""
    return safe_filename(name or "", 1, fallback="upload")


def refused_upload(data: bytes, name: str, account_id: str, settings: Settings
                   ) -> BatchResult | None:
    """The failed batch of an upload refused before it is read, posted or kept (a format the
    pipeline does not take, more bytes than RMA_MAX_FILE_BYTES); None for one to process."""
    shown = upload_name(name)
    try:
        screen_name_and_size(shown, len(data), settings.limits)
    except BatchError as exc:
        return BatchResult.failed(f"{API_SOURCE}:{shown}", exc.code, exc.message, account_id)
    return None


def keep_upload(data: bytes, name: str, account_id: str, settings: Settings) -> Path:
    """Write the upload to ``uploads/<account>/<name>`` (a free name, written atomically:
    never a half-written file under the name) and return where."""
    folder = settings.beside_inbox("uploads") / account_id
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder / upload_name(name))
    tmp = temporary_beside(target)
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def upload_reports(settings: Settings) -> Path:
    """Uploads' reports go where the nightly run's go (beside the inbox unless configured),
    so operations find every batch's reports in one place."""
    return settings.beside_inbox("reports")


def check_upload(data: bytes, name: str, account_id: str, engine: sa.Engine,
                 settings: Settings, now: dt.datetime | None = None) -> BatchResult:
    """Check an upload (SPEC §9 ``check=true``): kept in ``uploads/``, decided in full, its
    reports written, recorded as checked with where it is kept; nothing posted."""
    kept = keep_upload(data, name, account_id, settings)
    shown = upload_name(name)
    return ingest_payload(data, shown, Origin(account_id, f"{API_SOURCE}:{shown}"), engine,
                          settings, upload_reports(settings), now, check=True, kept_as=kept)


def post_upload(kept: Path, name: str, account_id: str, engine: sa.Engine, settings: Settings,
                now: dt.datetime | None = None, corrects_batch_id: str | None = None
                ) -> BatchResult:
    """Post an upload kept by ``keep_upload`` as one batch, then move the file as a
    drop-folder file moves once its batch is committed (a database fault raises and the file
    stays in ``uploads/``). Run inside the ``ingest-upload`` flow (``flows/upload.py``).
    ``corrects_batch_id``: the batch whose rows the file corrects (``rma.service.corrections``)."""
    now = now or dt.datetime.now(dt.UTC)
    data, _ = read_regular(kept, settings.limits.file_bytes)  # one more byte: TOO_LARGE
    shown = upload_name(name)
    origin = Origin(account_id, f"{API_SOURCE}:{shown}", corrects_batch_id)
    result = ingest_payload(data, shown, origin, engine, settings, upload_reports(settings), now)
    try:
        moved = moves.settle(WaitingFile(kept, account_id), result.status, result.error,
                             settings.beside_inbox("archive"), settings.beside_inbox("quarantine"),
                             now.date())
    except OSError as exc:  # committed: the file stays in uploads/, where operations see it
        log.warning("%s could not be moved after its batch %s: %s", kept, result.batch_id, exc)
        moved = kept
    if result.status == "posted" and result.batch_id and moved is not None:
        _record_file(engine, result.batch_id, Path(moved))
    return result


def _record_file(engine: sa.Engine, batch_id: str, moved: Path) -> None:
    """Where the posted upload's file is now, so that its review page shows its rows as
    sent (the portal's corrections start from them). The batch is committed already: a
    database fault here only costs that, it is logged and never retried into a second
    posting."""
    try:
        record_file(engine, batch_id, str(moved.resolve()))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("where the file of batch %s is kept (%s) was not recorded: %s", batch_id,
                    moved, exc)


def claim_file(claim: Mapping[str, Any]) -> bytes:
    """A claim sent as JSON (the columns of SPEC §3, ``serial_numbers`` a list) as the one-row
    CSV file it is posted and kept as: the pipeline reads it as it reads any upload, and a
    claim sent twice is the same content (``DUPLICATE_BATCH``, not a second claim)."""
    if not isinstance(claim, Mapping):
        raise BadClaim("the body must be a JSON object of claim columns")
    row: dict[str, str] = {}
    for key, value in claim.items():
        if key == SERIALS_FIELD:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadClaim(f"{SERIALS_FIELD} must be a list of serial numbers (strings)")
            row["serial_number"] = "\n".join(value)
        elif value is None or isinstance(value, str | int | float) and \
                not isinstance(value, bool):
            row[str(key)] = "" if value is None else str(value)
        else:
            raise BadClaim(f"{key}: a column's value must be a string, a number or null")
    if "serial_number" in claim and SERIALS_FIELD in claim:
        raise BadClaim(f"give the serial numbers once, as {SERIALS_FIELD}")
    # the canonical columns in their order first, then what else was sent (UNKNOWN_COLUMN)
    header = [c for c in CANONICAL if c in row] + [c for c in row if c not in CANONICAL]
    if not header:
        raise BadClaim("the claim has no columns")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow([row[c] for c in header])
    return buffer.getvalue().encode("utf-8")


def content_name(data: bytes) -> str:
    """A claim's file name, told apart by its content (the kept files of two claims)."""
    return f"claim-{hashlib.sha256(data).hexdigest()[:12]}.csv"

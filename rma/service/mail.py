"""One e-mail, from raw bytes to batches, a database record and a reply in the outbox.

The sender's address names the account (active accounts only); an unknown sender gets no
reply (no backscatter) and the message is quarantined. So does a From header that does not
name exactly one trustworthy mailbox (``rma.adapters.mail.headers``: defects, several addresses, a
display name that is another address): it is never read as the registered account. The
body's claim form is one batch, every claim spreadsheet attached is a batch of its own; other
attachments are listed as ignored. A re-delivered copy is a duplicate and gets no reply:
the same Message-ID, the same bytes, or the same content (``MailMessage.content_sha256``: sender,
subject, body, attachments; not the transport headers) as a message answered within
RMA_REDELIVERY_DAYS (``redelivery_since`` says why that window). Copies waiting in one run
are taken in one after the other (``_InFlight``), so one of them is answered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rma.adapters.db.engine import posting_transaction
from rma.adapters.db.mail_records import MailRecords
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.mail.forms import form_sheet
from rma.adapters.mail.message import MailMessage, parse_message
from rma.adapters.mail.outbox import write_to_outbox
from rma.adapters.mail.reply import build_reply
from rma.adapters.readers import ACCEPTED_FORMATS
from rma.config import Settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.results import BatchResult
from rma.errors import BatchError
from rma.service.batch import ingest_payload, ingest_sheet
from rma.service.origin import Origin


@dataclass
class MessageOutcome:
    """What became of one e-mail; ``status``: processed, duplicate, unknown_sender, failed."""

    source: str
    status: str
    message_id: str = ""
    sender: str = ""
    account_id: str | None = None
    batches: list[BatchResult] = field(default_factory=list)
    ignored_attachments: list[str] = field(default_factory=list)
    reply: str | None = None
    error: dict[str, str] | None = None
    #: a duplicate: the Message-ID of the message taken in before (same id, bytes or content)
    duplicate_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "message_id": self.message_id, "sender": self.sender,
                "account_id": self.account_id, "status": self.status,
                "batches": [b.to_json() for b in self.batches],
                "ignored_attachments": list(self.ignored_attachments),
                "reply": self.reply, "error": self.error, "duplicate_of": self.duplicate_of}

    def line(self) -> str:
        """One line for the console and the log (the sender's text in it escaped)."""
        who = f"{self.sender or 'unknown sender'}"
        if self.error:
            return shown(f"{self.source} from {who}: {self.status} — {self.error['code']}: "
                         f"{self.error['message']}")
        if self.status == "duplicate":
            return shown(f"{self.source} from {who}: duplicate of {self.duplicate_of}, taken in "
                         "before: nothing processed, no reply")
        return shown(f"{self.source} from {who} ({self.account_id}): {self.status}, "
                     f"{len(self.batches)} batch(es), reply: {self.reply or 'none'}")


def _is_claim_file(name: str) -> bool:
    return Path(name).suffix.lower() in ACCEPTED_FORMATS


def _ignored_warnings(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"row": 0, "column": "", "code": str(Reason.IGNORED_ATTACHMENT),
                         "message": [f"The attachment {n!r} is not a claim spreadsheet and was "
                                     "ignored." for n in names],
                         "value": names})


def redelivery_since(now: dt.datetime, days: int) -> dt.datetime | None:
    """Since when an answered message with the same content makes this one a re-delivery
    (None: ``days`` is 0, content is not compared).

    RMA_REDELIVERY_DAYS, default 7. A mail system re-delivers within its queue lifetime
    (Postfix and sendmail give up after 5 days) or when a fetch (getmail, fetchmail, a
    mailbox restore) runs again after a crash, usually within hours; 7 days cover that
    and a weekend or a holiday on which the nightly run did not read the mailbox. Much
    longer would swallow a legitimate resend: a partner sends the same claim form again
    after Customer Service fixed something in the database (registered a code or the
    address), typically weeks later, and must get an answer. A resend inside the window
    needs a change anywhere in subject, body or attachments (README, "E-mail intake").
    The time is our own intake time (``received_at``), never the message's Date header,
    which the sender writes.
    """
    return now - dt.timedelta(days=days) if days > 0 else None


class _InFlight:
    """The keys (Message-ID, bytes, content) of the messages being taken in right now.

    A run takes its messages on several threads, and the check for an earlier copy happens
    before the record is written: an original and its re-delivery waiting in the same run
    (both delivered before the nightly run: the usual case) would both pass the check and
    both be answered. A message waits here while another with any of its keys is in flight,
    then finds that one's record. Runs over one inbox do not overlap (``rma.adapters.runlock``) and
    a run reads its mail in one process (the fan-out leaves mail to the parent).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held: set[str] = set()

    @contextmanager
    def hold(self, msg: MailMessage) -> Iterator[None]:
        keys = {f"id:{msg.message_id}", f"sha:{msg.sha256}", f"content:{msg.content_sha256}"}
        with self._changed:
            self._changed.wait_for(lambda: self._held.isdisjoint(keys))
            self._held |= keys
        try:
            yield
        finally:
            with self._changed:
                self._held -= keys
                self._changed.notify_all()


_IN_FLIGHT = _InFlight()


def _earlier_copy(records: MailRecords, msg: MailMessage, since: dt.datetime | None
                  ) -> str | None:
    return records.find_message(msg.message_id, msg.sha256, msg.content_sha256, since)


def _record(engine: sa.Engine, msg: MailMessage, account_id: str | None, status: str,
            error_code: str | None, batches: list[BatchResult], reply_id: str | None,
            now: dt.datetime, since: dt.datetime | None) -> None:
    with posting_transaction(engine) as conn:
        records = MailRecords(conn)
        if _earlier_copy(records, msg, since) is not None:
            return  # an overlapping run recorded it first
        records.insert_message({
            "message_id": msg.message_id, "sha256": msg.sha256,
            "content_sha256": msg.content_sha256, "sender": msg.sender,
            "account_id": account_id, "subject": msg.subject, "received_at": now,
            "status": status, "error_code": error_code,
            "authentication_results": msg.authentication_results,
            "batch_ids": ";".join(b.batch_id for b in batches if b.batch_id),
            "reply_message_id": reply_id,
        })


def ingest_message(raw: bytes, source: str, engine: sa.Engine, settings: Settings,
                   reports_dir: Path, outbox: Path, now: dt.datetime | None = None
                   ) -> MessageOutcome:
    """Process one e-mail. Batch errors are outcomes; database faults raise (Prefect retries)."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        msg = parse_message(raw, max_attachment_bytes=settings.max_attachment_bytes,
                            name=Path(source).name)
    except BatchError as exc:
        return MessageOutcome(source, "failed", error={"code": exc.code, "message": exc.message})
    with _IN_FLIGHT.hold(msg):
        return _ingest_parsed(msg, source, engine, settings, reports_dir, outbox, now)


def _ingest_parsed(msg: MailMessage, source: str, engine: sa.Engine, settings: Settings,
                   reports_dir: Path, outbox: Path, now: dt.datetime) -> MessageOutcome:
    outcome = MessageOutcome(source, "processed", msg.message_id, msg.sender)
    since = redelivery_since(now, settings.redelivery_days)
    with engine.connect() as conn:
        outcome.duplicate_of = _earlier_copy(MailRecords(conn), msg, since)
        if outcome.duplicate_of is not None:
            outcome.status = "duplicate"
            return outcome
        account = ClaimsRepository(conn).account_by_email(msg.sender)
    if account is None:
        outcome.status = "unknown_sender"
        why = (f"{msg.sender} is not the registered address of an active account"
               if msg.sender else f"no sender can be trusted: {msg.sender_problem}")
        outcome.error = {"code": str(Reason.UNKNOWN_SENDER),
                         "message": f"{why}; no reply is sent."}
        _record(engine, msg, None, outcome.status, outcome.error["code"], [], None, now, since)
        return outcome
    outcome.account_id = account
    outcome.batches, outcome.ignored_attachments = _batches(msg, source, account, engine,
                                                            settings, reports_dir, now)
    reply = build_reply(to=msg.sender, original_subject=msg.subject,
                        original_message_id=msg.message_id,
                        original_references=msg.references, results=outcome.batches,
                        from_address=settings.mail_from,
                        ignored_attachments=outcome.ignored_attachments, now=now,
                        portal_url=settings.portal.url)
    outcome.reply = str(write_to_outbox(reply, outbox))
    _record(engine, msg, account, outcome.status, None, outcome.batches,
            str(reply["Message-ID"]), now, since)
    return outcome


def _batches(msg: MailMessage, source: str, account: str, engine: sa.Engine,
             settings: Settings, reports_dir: Path, now: dt.datetime
             ) -> tuple[list[BatchResult], list[str]]:
    ignored = [a.filename for a in msg.attachments if not _is_claim_file(a.filename)]
    ignored += [f"{name} (over the size limit)" for name in msg.oversized]
    results: list[BatchResult] = []
    body_bytes = len(msg.body.encode("utf-8", "surrogateescape"))
    form = None
    if body_bytes > settings.max_body_bytes:
        # not read at all: the sender is told to attach a spreadsheet instead
        results.append(BatchResult.failed(
            f"{source} (form)", str(Reason.TOO_LARGE),
            f"The message body is too large ({body_bytes:,} bytes; the limit is "
            f"{settings.max_body_bytes:,} bytes) and was not read. Please send the claims as "
            "an attached spreadsheet (.xlsx, .xlsm or .csv).", account))
    else:
        form_hash = hashlib.sha256(f"form\n{msg.message_id}\n{msg.body}".encode()).hexdigest()
        form = form_sheet(msg.body, source=Path(f"{_safe(msg.message_id)}.form"),
                          sha256=form_hash)
    if form is not None:
        results.append(ingest_sheet(form, Origin(account, f"{source} (form)"), engine,
                                    settings, reports_dir, now,
                                    extra_issues=_ignored_warnings(ignored) if ignored else None))
    for attachment in msg.attachments:  # read from their bytes: nothing is written to disk
        if _is_claim_file(attachment.filename):
            results.append(ingest_payload(
                attachment.data, attachment.filename,  # a safe basename already
                Origin(account, f"{source}/{attachment.filename}"), engine, settings,
                reports_dir, now))
    if not results:
        results.append(BatchResult.failed(
            source, str(Reason.EMPTY_BATCH),
            "The e-mail holds no claim form (Label: value lines) and no claim spreadsheet "
            "(.xlsx, .xlsm or .csv).", account))
    return results, ignored


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text.strip("<>"))[:80]

"""One raw e-mail (RFC 5322 bytes) read into what the intake needs: sender, ids, body, files.

Untrusted input, read defensively, in these steps:

* the headers (``rma.adapters.mail.headers``): Message-ID, date, threading ids, and the one
  sender the From header names beyond doubt (``sender`` is ``""`` and ``sender_problem``
  says why otherwise);
* the MIME tree (``rma.adapters.mail.mime``): which part is the body, which are attachments,
  what becomes of forwarded messages, how broken multiparts are repaired;
* each part (``rma.adapters.mail.parts``): charsets, HTML as text, safe file names.

What is not an e-mail at all (empty input, no header) raises ``BatchError("UNREADABLE_FILE",
...)``, and so does any failure of the parser itself: no traceback reaches the caller.

``content_sha256`` (``content_hash``) is a digest of what the submitter sent, not of how it
travelled: a re-delivered copy under a new Message-ID, Date or Received header has the same one
(``rma.service.mail`` answers it once).
"""

from __future__ import annotations

import email
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy

from rma.adapters.mail.headers import (
    collapse_space,
    header_value,
    joined_values,
    read_date,
    read_message_id,
    read_references,
    read_sender,
)
from rma.adapters.mail.mime import MimeReader
from rma.adapters.mail.parts import Attachment
from rma.errors import BatchError


@dataclass(frozen=True)
class MailMessage:
    message_id: str
    sender: str
    subject: str
    date: datetime | None
    references: list[str]
    authentication_results: str | None
    body: str
    attachments: list[Attachment]
    sha256: str
    oversized: list[str] = field(default_factory=list)
    sender_problem: str = ""  # why ``sender`` is "" (a From header that names no one mailbox)
    content_sha256: str = ""  # ``content_hash`` of what was sent (the same for a re-delivery)


#: Bump when what ``content_hash`` covers changes: old and new digests then never match, so
#: a re-delivery across the change is processed once more rather than missed silently.
CONTENT_HASH_VERSION = "rma-mail-content-1"


def content_hash(sender: str, subject: str, body: str, attachments: list[Attachment],
                 oversized: Sequence[str] = ()) -> str:
    """SHA-256 of what the submitter sent: the sender address (case and surrounding space
    ignored), the subject with its white space collapsed, the body text as parsed, and each
    attachment's file name and the SHA-256 of its bytes, in order (an attachment over the size
    limit by its name only: its bytes were not kept).

    Transport headers (Message-ID, Date, Received, Return-Path, DKIM signatures …) and the MIME
    layout (boundaries, transfer encodings, line endings) are left out: a mail system that
    delivers a message again changes those, never what was written. The parts are encoded as
    one JSON array (ASCII, so no text can fail to encode), which keeps their boundaries
    unambiguous: a body ending in a file name is not the same as that file attached.
    """
    parts = [CONTENT_HASH_VERSION, sender.strip().lower(), collapse_space(subject), body,
             [[a.filename, hashlib.sha256(a.data).hexdigest()] for a in attachments],
             list(oversized)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode("ascii")).hexdigest()


def parse_message(raw: bytes, *, max_attachment_bytes: int = 25 * 1024 * 1024,
                  name: str = "message") -> MailMessage:
    """Read one e-mail; raises ``BatchError(UNREADABLE_FILE)`` for what is no e-mail at all."""
    raw = bytes(raw)
    sha256 = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise BatchError("UNREADABLE_FILE", f"{name}: the message could not be read (it is empty)")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        if not list(msg.raw_items()):
            raise BatchError("UNREADABLE_FILE",
                             f"{name}: the message could not be read (no mail header found)")
        reader = MimeReader(max_attachment_bytes)
        body = reader.read(msg)
        message_id = read_message_id(msg) or f"<{sha256}@rma.invalid>"
        sender, sender_problem = read_sender(msg)
        subject = collapse_space(header_value(msg, "Subject") or "")
        return MailMessage(
            message_id=message_id,
            sender=sender,
            subject=subject,
            date=read_date(msg),
            references=read_references(msg),
            authentication_results=joined_values(msg, "Authentication-Results"),
            body=body,
            attachments=reader.attachments,
            sha256=sha256,
            oversized=reader.oversized,
            sender_problem=sender_problem,
            content_sha256=content_hash(sender, subject, body, reader.attachments,
                                        reader.oversized),
        )
    except BatchError:
        raise
    except Exception as exc:  # untrusted bytes: the parser's own failures are a batch error
        raise BatchError("UNREADABLE_FILE",
                         f"{name}: the message could not be read ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from exc

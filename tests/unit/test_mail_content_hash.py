"""``content_hash``: what the submitter sent changes it, how the message travelled does not.

A re-delivery (new Message-ID, Date, Received headers, another MIME encoding) must hash alike,
or it is answered twice; any change a person makes (sender, subject, body, an attachment's
name or bytes, their order) must hash differently, or a corrected resend is swallowed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rma.adapters.mail.message import content_hash, parse_message
from rma.adapters.mail.parts import Attachment
from tests.mailfactory import mail

BODY = "Serial number: SN100001\nFault description: Display stays dark\n"
SHEET = Attachment("claims.csv", "text/csv", b"serial_number\r\nSN100001\r\n")
PHOTO = Attachment("photo.pdf", "application/pdf", b"%PDF-1.4")


def _hash(**changes: object) -> str:
    parts: dict[str, object] = {"sender": "claims@dist.example", "subject": "Claims",
                                "body": BODY, "attachments": [SHEET, PHOTO], "oversized": []}
    parts.update(changes)
    return content_hash(**parts)  # type: ignore[arg-type]


BASE = _hash()


@pytest.mark.parametrize("changes", [
    {"sender": "  CLAIMS@Dist.Example "},  # addresses compare case-insensitively
    {"subject": "  Claims "},
    {"attachments": [Attachment("claims.csv", "application/octet-stream", SHEET.data), PHOTO]},
], ids=["sender-case", "subject-space", "content-type"])
def test_what_does_not_change_the_content_hash(changes):
    assert _hash(**changes) == BASE


@pytest.mark.parametrize("changes", [
    {"sender": "other@dist.example"},
    {"subject": "Claims (corrected)"},
    {"body": BODY.replace("SN100001", "SN100002")},
    {"body": BODY + "\n"},
    {"attachments": [Attachment("claims.csv", "text/csv", SHEET.data + b"SN100003\r\n"),
                     PHOTO]},
    {"attachments": [Attachment("claims-2.csv", "text/csv", SHEET.data), PHOTO]},
    {"attachments": [PHOTO, SHEET]},
    {"attachments": [SHEET]},
    {"oversized": ["big.xlsx"]},
    # the parts keep their boundaries: text moved from the body into the subject differs
    {"subject": "Claims" + BODY, "body": ""},
], ids=["sender", "subject", "body", "body-newline", "attachment-bytes", "attachment-name",
        "attachment-order", "attachment-dropped", "oversized", "moved-text"])
def test_what_changes_the_content_hash(changes):
    assert _hash(**changes) != BASE


def _mail(**kwargs: object) -> bytes:
    defaults: dict[str, object] = {
        "sender": "Anna <claims@dist.example>", "subject": "Claims", "body": BODY,
        "attachments": [(SHEET.filename, SHEET.data, "text/csv")],
        "message_id": "<first@dist.example>"}
    defaults.update(kwargs)
    return mail(**defaults)  # type: ignore[arg-type]


def test_a_re_delivered_message_has_the_same_content_hash_and_other_bytes():
    first = parse_message(_mail())
    again = parse_message(
        b"Received: from relay2.example by mx.example; Fri, 4 Dec 2026 01:00:00 +0000\r\n"
        + _mail(message_id="<second@relay.example>", date=datetime(2026, 12, 4, tzinfo=UTC),
                sender="Anna Schmidt <Claims@Dist.Example>",  # another display name
                extra_headers={"Return-Path": "<bounce@relay.example>"}))
    assert first.content_sha256 and len(first.content_sha256) == 64
    assert again.content_sha256 == first.content_sha256
    assert (again.message_id, again.sha256) != (first.message_id, first.sha256)
    assert first.content_sha256 == content_hash(first.sender, first.subject, first.body,
                                                first.attachments, first.oversized)


def test_another_attachment_content_gives_another_content_hash():
    first = parse_message(_mail())
    other = parse_message(_mail(attachments=[(SHEET.filename, SHEET.data + b"SN100003\r\n",
                                              "text/csv")]))
    assert other.body == first.body and other.content_sha256 != first.content_sha256

"""E-mail intake end to end: real RFC 5322 messages in a Maildir and as loose .eml files,
through `rma run-inbox`, with replies in outbox/ and sent through a real local SMTP server."""

from __future__ import annotations

import email
import io
import mailbox
import socket
from email import policy
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from tests.factories import valid_claim, write_xlsx
from tests.mailfactory import form_body, mail

pytestmark = pytest.mark.prefect

DIST = "claims@dist.example"   # registered to D-001 in tests/e2e/conftest.py


def _form(**fields: object) -> dict[str, str]:
    claim = valid_claim(**fields)
    return {k: str(v) for k, v in claim.items() if v is not None}


def _xlsx_bytes(tmp: Path, rows: list[dict]) -> bytes:
    return write_xlsx(tmp / "attachment.xlsx", rows).read_bytes()


def _deliver(inbox: Path, raw: bytes) -> None:
    box = mailbox.Maildir(inbox / "mail", create=True)
    box.add(mailbox.MaildirMessage(raw))


def _outbox(workdir: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((workdir / "outbox").glob("*.eml"))]


def _messages(db_url: str) -> list[dict]:
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t.mail_messages))]
    engine.dispose()
    return rows


def test_a_form_and_an_attached_sheet_become_batches_and_the_sender_gets_one_reply(
        cli, workdir, db_url):
    inbox = workdir / "inbox"
    body = "Hello, our claims:\n\n" + form_body(
        _form(claim_ref="M-1"), _form(claim_ref="M-2", serial_number="S#1")) + "\n-- \nAnna\n"
    sheet = _xlsx_bytes(workdir, [valid_claim(claim_ref="X-1")])
    raw = mail(sender=f"Anna <{DIST.upper()}>", subject="RMA claims", body=body,
               attachments=[("claims.xlsx", sheet, "application/vnd.openxmlformats-"
                             "officedocument.spreadsheetml.sheet"),
                            ("photo.pdf", b"%PDF-1.4", "application/pdf")],
               message_id="<m1@dist.example>")
    _deliver(inbox, raw)
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    batches = run.json()["batches"]
    assert len(batches) == 2
    form, attached = batches
    assert form["account_id"] == "D-001" and form["status"] == "posted"
    assert (form["claims_accepted"], form["claims_rejected"]) == (1, 1)
    assert [r["row"] for r in form["rejections"]] == [2]   # the second claim of the form
    assert any(w["code"] == "IGNORED_ATTACHMENT" for w in form["warnings"])
    assert attached["claims_accepted"] == 1 and attached["source"].endswith("claims.xlsx")

    [reply] = _outbox(workdir)
    assert reply["To"] == DIST and reply["In-Reply-To"] == "<m1@dist.example>"
    assert reply["Subject"] == "Re: RMA claims"
    text = reply.get_body(("plain",)).get_content()
    assert form["claim_ids"][0] in text and "photo.pdf" in text
    [report] = [p for p in reply.iter_attachments()]
    book = openpyxl.load_workbook(io.BytesIO(report.get_content()))
    assert "Rejections" in book.sheetnames

    assert not list((inbox / "mail" / "new").iterdir())
    assert len(list((workdir / "archive").rglob("*.eml"))) == 1
    [record] = _messages(db_url)
    assert record["message_id"] == "<m1@dist.example>" and record["account_id"] == "D-001"


def test_an_unknown_sender_is_quarantined_counted_and_never_answered(cli, workdir):
    raw = mail(sender="stranger@evil.example", body=form_body(_form()),
               message_id="<x1@evil.example>")
    (workdir / "inbox" / "mail").mkdir()
    (workdir / "inbox" / "mail" / "stranger.eml").write_bytes(raw)
    run = cli("run-inbox", "--json")
    assert run.code == 1
    [batch] = run.json()["batches"]
    assert batch["status"] == "failed" and batch["error"]["code"] == "UNKNOWN_SENDER"
    assert not list((workdir / "outbox").glob("*.eml")) if (workdir / "outbox").exists() \
        else True
    assert (workdir / "quarantine" / "mail" / "stranger.eml").exists()
    assert cli("claims", "list", "--json").json()["claims"] == []


def test_a_redelivered_copy_is_a_duplicate_with_no_second_reply(cli, workdir):
    raw = mail(sender=DIST, body=form_body(_form()), message_id="<dup@dist.example>")
    _deliver(workdir / "inbox", raw)
    assert cli("run-inbox", "--json").code == 0
    copy = b"Received: from relay2.example by mx.example; Thu, 26 Nov 2026 01:00:00 +0000\r\n"
    (workdir / "inbox" / "mail" / "again.eml").write_bytes(copy + raw)
    run = cli("run-inbox", "--json")
    assert run.code == 0 and run.json()["batches"] == []
    assert len(_outbox(workdir)) == 1
    assert len(cli("claims", "list", "--json").json()["claims"]) == 1
    assert len(list((workdir / "archive").rglob("*.eml"))) == 2


def test_an_attachment_named_with_dot_dot_is_read_without_escaping_the_project(
        cli, workdir):
    sheet = _xlsx_bytes(workdir, [valid_claim()])
    raw = mail(sender=DIST, body="see attachment",
               attachments=[("../../evil.xlsx", sheet, "application/octet-stream")])
    _deliver(workdir / "inbox", raw)
    run = cli("run-inbox", "--json")
    [batch] = run.json()["batches"]
    assert batch["status"] == "posted" and batch["claims_accepted"] == 1
    assert not (workdir.parent / "evil.xlsx").exists() and not (workdir / "evil.xlsx").exists()


def test_a_broken_message_is_quarantined_and_the_rest_of_the_run_goes_on(cli, workdir):
    folder = workdir / "inbox" / "mail"
    folder.mkdir()
    (folder / "broken.eml").write_bytes(
        b"From: claims@dist.example\r\nContent-Type: multipart/mixed\r\n\r\n\x00\xff\xfe garbage")
    (folder / "good.eml").write_bytes(mail(sender=DIST, body=form_body(_form())))
    run = cli("run-inbox", "--json")
    statuses = sorted(b["status"] for b in run.json()["batches"])
    assert "posted" in statuses
    assert len(cli("claims", "list", "--json").json()["claims"]) == 1
    assert not (folder / "good.eml").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_replies_go_out_through_smtp_and_a_failed_send_goes_out_once_on_the_next_run(
        cli, workdir, monkeypatch):
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            received.append(envelope.content)
            return "250 OK"

    port = _free_port()
    monkeypatch.setenv("RMA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    _deliver(workdir / "inbox", mail(sender=DIST, body=form_body(_form()),
                                     message_id="<smtp1@dist.example>"))
    assert cli("run-inbox", "--json").code == 0             # nobody listens: reply waits
    assert len(list((workdir / "outbox").glob("*.eml"))) == 1 and received == []

    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert cli("run-inbox", "--json").code == 0
        assert cli("run-inbox", "--json").code == 0         # nothing left: never twice
    finally:
        controller.stop()
    assert len(received) == 1
    reply = email.message_from_bytes(received[0], policy=policy.default)
    assert reply["In-Reply-To"] == "<smtp1@dist.example>"
    assert not list((workdir / "outbox").glob("*.eml"))

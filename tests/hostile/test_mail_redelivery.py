"""A mail system re-delivers a message under a new Message-ID (new Date, another Received
header: other bytes): it is answered once. What counts is what the submitter sent (sender,
subject, body, attachments: ``MailMessage.content_sha256``), within RMA_REDELIVERY_DAYS of the
answered copy; another attachment, or the same content sent after the window, is read again.

Through the real Maildir intake (``rma run-inbox``) on SQLite and PostgreSQL, and the outcome
of ``ingest_message`` itself for what the record says."""

from __future__ import annotations

import datetime as dt
import email
import mailbox
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine
from rma.config import load_settings
from rma.service.mail import ingest_message
from tests.factories import valid_claim, write_xlsx
from tests.mailfactory import XLSX_TYPE, form_body, mail

DIST = "claims@dist.example"  # D-001's registered address (tests/e2e/conftest.py)
FIRST_DATE = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)
RELAY = (b"Received: from relay2.example (relay2.example [192.0.2.7]) by mx.example "
         b"with ESMTPS id 4Xy7; Wed, 4 Nov 2026 01:12:09 +0000\r\n")


def _form() -> str:
    """The same form every time (valid_claim alone gives each call a new SN)."""
    claim = valid_claim(claim_ref="RD-1", serial_number="SN24000100")
    return form_body({k: str(v) for k, v in claim.items() if v is not None})


def _sheet(folder: Path, serial: str) -> bytes:
    return write_xlsx(folder / f"{serial}.xlsx",
                      [valid_claim(claim_ref=f"X-{serial}", serial_number=serial)]).read_bytes()


def _original(sheet: bytes) -> bytes:
    return mail(sender=f"Anna <{DIST}>", subject="RMA claims", body=_form(),
                attachments=[("claims.xlsx", sheet, XLSX_TYPE)],
                message_id="<original@dist.example>", date=FIRST_DATE)


def _redelivered(sheet: bytes) -> bytes:
    """The same message as the mail system hands it over again: a new Message-ID and Date,
    one more Received header, so neither the id nor the bytes match."""
    return RELAY + mail(sender=f"Anna <{DIST}>", subject="RMA claims", body=_form(),
                        attachments=[("claims.xlsx", sheet, XLSX_TYPE)],
                        message_id="<redelivered.4Xy7@relay2.example>",
                        date=FIRST_DATE + dt.timedelta(hours=15, minutes=42))


def _deliver(workdir: Path, raw: bytes) -> None:
    mailbox.Maildir(workdir / "inbox" / "mail", create=True).add(mailbox.MaildirMessage(raw))


def _replies(workdir: Path) -> list[email.message.EmailMessage]:
    outbox = workdir / "outbox"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(outbox.glob("*.eml"))] if outbox.exists() else []


def _claims(cli) -> list[dict]:
    return cli("claims", "list", "--json").json()["claims"]


def _age_records(db_url: str, days: int) -> None:
    """The recorded messages were taken in ``days`` earlier (as if the run had been then)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for message_id, received in conn.execute(
                    sa.select(t.mail_messages.c.message_id, t.mail_messages.c.received_at)).all():
                conn.execute(t.mail_messages.update()
                             .where(t.mail_messages.c.message_id == message_id)
                             .values(received_at=received - dt.timedelta(days=days)))
    finally:
        engine.dispose()


def _records(db_url: str) -> list[dict]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(t.mail_messages).order_by(t.mail_messages.c.received_at))]
    finally:
        engine.dispose()


# ------------------------------------------------------------------ the real Maildir intake


@pytest.mark.prefect
def test_a_re_delivery_in_a_later_run_is_answered_once(cli, workdir, db_url):
    sheet = _sheet(workdir, "SN24000001")
    _deliver(workdir, _original(sheet))
    first = cli("run-inbox", "--json")
    assert first.code == 0, first.err
    assert [b["status"] for b in first.json()["batches"]] == ["posted", "posted"]

    _deliver(workdir, _redelivered(sheet))
    again = cli("run-inbox", "--json")
    assert again.code == 0, again.err
    assert again.json()["batches"] == []  # a duplicate message adds no batch (as before)
    assert "Traceback" not in again.out + again.err
    [reply] = _replies(workdir)
    assert reply["In-Reply-To"] == "<original@dist.example>"
    assert len(_claims(cli)) == 2
    assert not list((workdir / "inbox" / "mail" / "new").iterdir())
    assert len(list((workdir / "archive").rglob("*.eml"))) == 2  # both kept, nothing deleted
    [record] = _records(db_url)
    assert record["message_id"] == "<original@dist.example>" and record["content_sha256"]


@pytest.mark.prefect
def test_an_original_and_its_re_delivery_waiting_in_one_run_are_answered_once(
        cli, workdir, db_url):
    # the usual case: both copies arrive before the nightly run, whose mail tasks run at once
    sheet = _sheet(workdir, "SN24000001")
    _deliver(workdir, _original(sheet))
    _deliver(workdir, _redelivered(sheet))
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    assert [b["status"] for b in run.json()["batches"]] == ["posted", "posted"]
    assert len(_replies(workdir)) == 1
    assert len(_claims(cli)) == 2
    assert len(_records(db_url)) == 1
    assert len(list((workdir / "archive").rglob("*.eml"))) == 2


@pytest.mark.prefect
def test_the_same_body_with_another_attachment_content_is_processed(cli, workdir, db_url):
    _deliver(workdir, _original(_sheet(workdir, "SN24000001")))
    assert cli("run-inbox", "--json").code == 0
    _deliver(workdir, _redelivered(_sheet(workdir, "SN24000002")))
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    form, attached = run.json()["batches"]
    assert attached["status"] == "posted" and attached["claims_accepted"] == 1  # the new sheet
    # the form is read again: its claim is already open, which the reply says
    assert (form["claims_accepted"], form["claims_rejected"]) == (0, 1), form
    assert len(_replies(workdir)) == 2
    posted = {sn for c in _claims(cli) for sn in c["serial_numbers"]}
    assert posted == {"SN24000100", "SN24000001", "SN24000002"}
    assert len(_records(db_url)) == 2


@pytest.mark.prefect
def test_the_same_content_after_the_window_is_processed_again(cli, workdir, db_url,
                                                             monkeypatch):
    sheet = _sheet(workdir, "SN24000001")
    _deliver(workdir, _original(sheet))
    assert cli("run-inbox", "--json").code == 0
    _age_records(db_url, 8)  # the answer went out 8 days ago: past the default 7

    monkeypatch.setenv("RMA_REDELIVERY_DAYS", "10")  # a longer window: still a re-delivery
    _deliver(workdir, _redelivered(sheet))
    assert cli("run-inbox", "--json").json()["batches"] == []
    assert len(_replies(workdir)) == 1

    monkeypatch.delenv("RMA_REDELIVERY_DAYS")
    _deliver(workdir, _redelivered(sheet))
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    statuses = [b["status"] for b in run.json()["batches"]]
    # read again and answered: the form's claim is still open, the sheet is the same file
    assert len(statuses) == 2 and statuses[1] == "duplicate", statuses
    assert len(_replies(workdir)) == 2
    assert len(_claims(cli)) == 2  # nothing posted twice
    assert [r["message_id"] for r in _records(db_url)] == [
        "<original@dist.example>", "<redelivered.4Xy7@relay2.example>"]


# ------------------------------------------------------------------ the outcome and its line


def _ingest(hostile, raw: bytes, name: str, now: dt.datetime, **env: str):
    path = hostile.folder / name
    path.write_bytes(raw)
    engine = make_engine(hostile.url)
    try:
        return ingest_message(raw, str(path), engine, load_settings({**env}),
                              hostile.reports, hostile.folder / "outbox", now=now)
    finally:
        engine.dispose()


def test_the_duplicate_outcome_names_the_message_it_repeats(hostile, tmp_path):
    sheet = _sheet(tmp_path, "SN24000001")
    now = dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC)
    first = _ingest(hostile, _original(sheet), "first.eml", now)
    assert first.status == "processed" and first.to_json()["duplicate_of"] is None

    again = _ingest(hostile, _redelivered(sheet), "again.eml", now + dt.timedelta(days=6))
    assert (again.status, again.reply, again.batches) == ("duplicate", None, [])
    payload = again.to_json()
    assert payload["duplicate_of"] == "<original@dist.example>"
    assert payload["message_id"] == "<redelivered.4Xy7@relay2.example>"
    # only added: every key the outcome had before is still there
    assert {"source", "message_id", "sender", "account_id", "status", "batches",
            "ignored_attachments", "reply", "error"} < set(payload)
    line = again.line()
    assert "duplicate of <original@dist.example>" in line and "no reply" in line
    assert "\n" not in line

    later = _ingest(hostile, _redelivered(sheet), "later.eml", now + dt.timedelta(days=7, hours=1))
    assert later.status == "processed" and later.reply is not None

    off = _ingest(hostile, _redelivered(sheet).replace(b"4Xy7@", b"off@"), "off.eml",
                  now + dt.timedelta(days=7, hours=2), RMA_REDELIVERY_DAYS="0")
    assert off.status == "processed", "RMA_REDELIVERY_DAYS=0 compares no content"


def test_an_unanswered_message_from_an_unknown_sender_does_not_hide_a_later_copy(hostile):
    """A message that got no reply (the address was not registered yet) is no reason to
    swallow the same content later: once the address is registered it is read."""
    now = dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC)
    raw = mail(sender="new-desk@dist.example", body=_form(), message_id="<u1@dist.example>")
    first = _ingest(hostile, raw, "u1.eml", now)
    assert first.status == "unknown_sender"
    engine = make_engine(hostile.url)
    with engine.begin() as conn:
        conn.execute(t.accounts.update().where(t.accounts.c.account_id == "D-001")
                     .values(emails=f"{DIST};new-desk@dist.example"))
    engine.dispose()
    again = _ingest(hostile, raw.replace(b"<u1@", b"<u2@"), "u2.eml", now + dt.timedelta(hours=2))
    assert again.status == "processed" and again.account_id == "D-001", again

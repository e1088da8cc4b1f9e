"""Replies the SMTP server refuses, against a real local server (aiosmtpd, ``smtp_server`` in
tests/smtpserver.py): a permanent refusal (5xx to RCPT TO or DATA) is set aside in
``outbox/refused/`` with a note and never tried again; a temporary one (4xx) waits in
``outbox/``; a 5xx about our session or configuration keeps every reply waiting and says what
to fix (the rules: the docstring of rma/adapters/mail/refusals.py)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from rma.adapters.mail.outbox import pending, write_to_outbox
from rma.adapters.mail.sending import send_pending

GOOD = "installer@good.example"
GONE = "gone@dist.example"        # 550 to RCPT TO
SPAM = "filtered@dist.example"    # 554 after DATA
LATER = "greylist@dist.example"   # 451 to RCPT TO
PASSWORD = "s3cr:t@"              # the authenticator's in tests/smtpserver.py
AUTH_URL = "smtp://user:s3cr%3At%40@127.0.0.1:{port}"

auth_without_tls = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Refusing:
    """Answers 550 to RCPT for GONE, 451 for LATER, 554 to the DATA of a message to SPAM;
    ``mail`` answers MAIL FROM instead of 250 when set, ``rcpt`` every RCPT TO. Every RCPT
    is recorded, so a second attempt shows."""

    def __init__(self, mail: str | None = None, rcpt: str | None = None) -> None:
        self.mail, self.rcpt = mail, rcpt
        self.mails: list[str] = []
        self.rcpts: list[str] = []
        self.received: list[list[str]] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.mails.append(address)
        if self.mail:
            return self.mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpts.append(address)
        answer = self.rcpt or {GONE: f"550 5.1.1 <{GONE}>: mailbox unavailable",
                               LATER: "451 4.7.1 greylisted, try again later"}.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        if SPAM in envelope.rcpt_tos:
            return "554 5.6.0 message content rejected as spam"
        self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


def _reply(outbox: Path, to: str, cc: str | None = None) -> Path:
    msg = EmailMessage()
    msg["From"] = "rma@vendor.example"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = f"Re: claims of {to}"
    msg["Message-ID"] = f"<reply.{to}>"
    msg.set_content("Your claims were received.\n")
    return write_to_outbox(msg, outbox)


def _four(outbox: Path) -> dict[str, Path]:
    return {to: _reply(outbox, to) for to in (GOOD, GONE, SPAM, LATER)}


def _sent(outbox: Path) -> list[str]:
    return sorted(p.name for p in (outbox / "sent").rglob("*.eml"))


@auth_without_tls
def test_5xx_goes_to_refused_with_a_note_4xx_waits_and_nothing_is_tried_twice(
        tmp_path, smtp_server):
    handler, port = smtp_server(auth=True, handler=Refusing())
    outbox = tmp_path / "outbox"
    files = _four(outbox)

    report = send_pending(outbox, AUTH_URL.format(port=port))

    refused = outbox / "refused"
    assert _sent(outbox) == [files[GOOD].name]
    assert {p for p, _ in report.refused} == {refused / files[GONE].name,
                                              refused / files[SPAM].name}
    assert sorted(p.name for p in refused.iterdir()) == sorted(
        [files[GONE].name, files[GONE].name + ".error.txt",
         files[SPAM].name, files[SPAM].name + ".error.txt"])
    assert pending(outbox) == [files[LATER]]  # 451: retried on the next run
    assert [p for p, _ in report.failed] == [files[LATER]] and "451" in report.failed[0][1]
    assert report.error is None and not report.ok
    assert "2 refused permanently, moved to outbox/refused/" in report.line()
    assert not list(outbox.glob("*.sending"))

    gone = (refused / (files[GONE].name + ".error.txt")).read_text(encoding="utf-8")
    lines = gone.splitlines()
    assert len(lines) == 2
    assert f"smtp://user@127.0.0.1:{port}" in lines[0]  # SmtpTarget.describe()
    assert "RCPT TO" in lines[0] and "550 5.1.1" in lines[0] and GONE in lines[0]
    assert lines[0][:4].isdigit() and "T" in lines[0].split()[0]  # when (ISO, UTC)
    assert "rma accounts import" in lines[1] and "back into outbox/" in lines[1]
    spam = (refused / (files[SPAM].name + ".error.txt")).read_text(encoding="utf-8")
    assert "DATA" in spam and "554 5.6.0 message content rejected as spam" in spam
    assert "back into outbox/" in spam
    assert PASSWORD not in gone + spam and "s3cr" not in gone + spam

    again = send_pending(outbox, AUTH_URL.format(port=port))

    assert again.refused == [] and again.sent == []
    assert [p for p, _ in again.failed] == [files[LATER]]
    # the server saw the refused replies once, the greylisted one twice
    assert handler.rcpts.count(GONE) == 1
    assert handler.rcpts.count(SPAM) == 1
    assert handler.rcpts.count(LATER) == 2
    assert handler.received == [[GOOD]]


def test_a_reply_moved_back_from_refused_is_sent_again(tmp_path, smtp_server):
    """What the note tells a person to do works: the .eml back in outbox/ goes out."""
    handler, port = smtp_server(handler=Refusing())
    outbox = tmp_path / "outbox"
    spam = _reply(outbox, SPAM)
    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")
    (refused, _), = report.refused

    handler_ok, port_ok = smtp_server()  # e.g. the filter was fixed
    refused.rename(outbox / refused.name)
    resent = send_pending(outbox, f"smtp://127.0.0.1:{port_ok}")

    assert [p.name for p in resent.sent] == [spam.name] and resent.ok
    assert len(handler_ok.received) == 1


@pytest.mark.parametrize(("mail", "rcpt", "words"), [
    ("530 5.7.0 Authentication required", None, ["530", "RMA_SMTP_URL"]),
    (None, "530 5.7.0 Authentication required", ["530", "RMA_SMTP_URL"]),
    (None, "535 5.7.8 Authentication credentials invalid", ["535", "RMA_SMTP_URL"]),
    (None, "554 5.7.1 <x@dist.example>: Relay access denied", ["relay", "RMA_SMTP_URL"]),
    (None, "550 5.7.1 Unable to relay", ["relay", "RMA_SMTP_URL"]),
    ("553 5.7.1 Sender address rejected: not owned by user", None,
     ["553", "RMA_MAIL_FROM", "rma@vendor.example"]),
    ("550 5.7.26 SPF check failed", None, ["550", "RMA_MAIL_FROM"]),
    ("502 5.5.2 Command not recognized", None, ["502", "RMA_SMTP_URL"]),
])
def test_a_5xx_about_our_configuration_keeps_every_reply_waiting(tmp_path, smtp_server, mail,
                                                                 rcpt, words):
    handler, port = smtp_server(handler=Refusing(mail=mail, rcpt=rcpt))
    outbox = tmp_path / "outbox"
    first, second = _reply(outbox, GOOD), _reply(outbox, "other@good.example")

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert report.refused == [] and report.sent == [] and not report.ok
    assert pending(outbox) == [first, second]
    assert not (outbox / "refused").exists()
    assert [p for p, _ in report.failed] == [first, second]
    assert report.failed[1][1].startswith("not tried: ")
    assert report.error and f"127.0.0.1:{port}" in report.error
    for word in words:
        assert word in report.error
    assert len(handler.mails) == 1  # the run stopped at the first: the same answer for all


def test_552_to_mail_from_is_the_size_of_this_reply_set_aside(tmp_path, smtp_server):
    handler, port = smtp_server(handler=Refusing(
        mail="552 5.3.4 Message size exceeds fixed limit"))
    outbox = tmp_path / "outbox"
    big = _reply(outbox, GOOD)

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert [p for p, _ in report.refused] == [outbox / "refused" / big.name]
    assert "MAIL FROM" in report.refused[0][1] and "552" in report.refused[0][1]
    assert pending(outbox) == []


def test_421_keeps_this_and_the_rest_waiting(tmp_path, smtp_server):
    handler, port = smtp_server(handler=Refusing(rcpt="421 4.3.2 shutting down"))
    outbox = tmp_path / "outbox"
    first, second = _reply(outbox, GOOD), _reply(outbox, GONE)

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert report.refused == [] and pending(outbox) == [first, second]
    assert report.error and "connection" in report.error and "421" in report.error
    assert len(handler.rcpts) == 1


def test_recipients_refused_partly_for_now_is_temporary(tmp_path, smtp_server):
    """Every recipient refused, one 5xx and one 4xx: tried again, not set aside."""
    handler, port = smtp_server(handler=Refusing())
    outbox = tmp_path / "outbox"
    mixed = _reply(outbox, GONE, cc=LATER)
    partly = _reply(outbox, GOOD, cc=GONE)  # one recipient accepted: it went out

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert pending(outbox) == [mixed] and report.refused == []
    assert [p.name for p in report.sent] == [partly.name]
    assert handler.received == [[GOOD]]


# -- the command that sends the outbox: `rma run-inbox` (and `rma status`) -------------------

@pytest.mark.prefect
def test_run_inbox_and_status_report_the_refused_replies(cli, workdir, smtp_server,
                                                         monkeypatch):
    handler, port = smtp_server(handler=Refusing())
    monkeypatch.setenv("RMA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    outbox = workdir / "outbox"  # beside the inbox; replies of earlier runs wait there
    files = _four(outbox)

    plain = cli("run-inbox")

    assert plain.code == 0, plain.err  # every batch processed (there were none)
    assert "2 e-mail repl(y/ies) refused permanently by the SMTP server" in plain.out
    assert str(outbox / "refused") in plain.out and ".error.txt" in plain.out
    assert "1 e-mail repl(y/ies) waiting" in plain.out  # the 451 one
    assert _sent(outbox) == [files[GOOD].name]

    as_json = cli("run-inbox", "--json")

    assert as_json.code == 0, as_json.err
    document = json.loads(as_json.out)
    assert document["batches"] == []
    refused = {Path(r["path"]).name: r for r in document["outbox_refused"]}
    assert set(refused) == {files[GONE].name, files[SPAM].name}
    assert "550 5.1.1" in refused[files[GONE].name]["reason"]
    assert "rma accounts import" in refused[files[GONE].name]["action"]
    assert "554 5.6.0" in refused[files[SPAM].name]["reason"]
    assert handler.rcpts.count(GONE) == 1 and handler.rcpts.count(SPAM) == 1

    status = cli("status", "--json")
    assert status.code == 0, status.err
    assert {Path(r["path"]).name for r in json.loads(status.out)["outbox_refused"]} == set(
        refused)
    text = cli("status").out
    assert "Replies refused by the SMTP server (outbox/refused/): 2." in text
    assert "550 5.1.1" in text and "to do:" in text

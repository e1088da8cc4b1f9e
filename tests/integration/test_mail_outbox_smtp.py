"""Replies through the outbox to a real SMTP server (aiosmtpd on 127.0.0.1), never twice."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from rma.adapters.mail.outbox import pending, write_to_outbox
from rma.adapters.mail.reply import build_reply
from rma.adapters.mail.sending import send_pending
from rma.adapters.mail.smtp import SmtpTarget
from rma.domain.vocabulary.results import BatchResult
from rma.errors import ConfigError
from tests.smtpserver import free_port

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Claims"
    wb.active["A1"] = "Errors"
    path = tmp_path / "claims.1234.rejections.xlsx"
    wb.save(path)
    return str(path)


def _reply(tmp_path, to="installer@example.com", subject="March claims"):
    result = BatchResult(
        source="inbox/m1.eml/claims.xlsx", status="posted", account_id="D-001",
        batch_id="B-1", claims_accepted=1, claims_rejected=1, claim_ids=["RMA-2026-000001"],
        rejections=[{"sheet": "Claims", "row": 3, "claim_ref": "C-9",
                     "serial_number": "SN123456", "column": "rma_code",
                     "code": "CODE_INVALID",
                     "message": "The RMA code is not valid for this account."}],
        reports={"xlsx": _report(tmp_path)})
    return build_reply(to=to, original_subject=subject,
                       original_message_id="<orig-1@mail.example.com>",
                       original_references=["<root@mail.example.com>"], results=[result],
                       from_address="rma@vendor.example",
                       ignored_attachments=["photo.jpg"],
                       now=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC))


def _sent_files(outbox):
    return sorted((outbox / "sent").rglob("*.eml")) if (outbox / "sent").exists() else []


def test_reply_is_written_atomically(tmp_path):
    outbox = tmp_path / "outbox"
    path = write_to_outbox(_reply(tmp_path), outbox)
    assert path.parent == outbox and path.suffix == ".eml"
    assert "vendor.example" in path.name
    assert [p.name for p in outbox.iterdir()] == [path.name]  # no temp file left
    assert pending(outbox) == [path]
    second = write_to_outbox(_reply(tmp_path), outbox)
    assert pending(outbox) == [path, second]  # oldest first


def test_reply_arrives_once_with_headers_and_report(tmp_path, smtp_server):
    handler, port = smtp_server()
    outbox = tmp_path / "outbox"
    reply = _reply(tmp_path)
    path = write_to_outbox(reply, outbox)

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert report.failed == [] and report.error is None
    assert len(report.sent) == 1
    assert len(handler.received) == 1
    envelope = handler.received[0]
    assert envelope["mail_from"] == "rma@vendor.example"
    assert envelope["rcpt_tos"] == ["installer@example.com"]
    msg = handler.messages()[0]
    assert msg["Subject"] == "Re: March claims"
    assert msg["To"] == "installer@example.com"
    assert msg["In-Reply-To"] == "<orig-1@mail.example.com>"
    assert msg["References"] == "<root@mail.example.com> <orig-1@mail.example.com>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"] == reply["Message-ID"]
    body = msg.get_body(("plain",)).get_content()
    assert "Row 3 (claim C-9, SN SN123456): RMA code: The RMA code is not valid" in body
    assert "ignored: photo.jpg" in body
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "claims-rejections.xlsx"
    assert attachment.get_content_type() == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert wb["Claims"]["A1"].value == "Errors"

    # moved to sent/<date>/, nothing left pending; a second run sends nothing
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert report.sent == [outbox / "sent" / day / path.name]
    assert not path.exists() and report.sent[0].exists()
    assert pending(outbox) == []
    again = send_pending(outbox, f"smtp://127.0.0.1:{port}")
    assert again.sent == [] and again.failed == []
    assert len(handler.received) == 1


def test_no_smtp_configured_keeps_replies_waiting(tmp_path):
    outbox = tmp_path / "outbox"
    path = write_to_outbox(_reply(tmp_path), outbox)
    report = send_pending(outbox, None)
    assert report.skipped_no_smtp == 1 and report.sent == [] and report.failed == []
    assert pending(outbox) == [path]


def test_server_down_then_up_sends_once(tmp_path, smtp_server):
    port = free_port()  # nothing listens here yet
    outbox = tmp_path / "outbox"
    path = write_to_outbox(_reply(tmp_path), outbox)

    down = send_pending(outbox, f"smtp://127.0.0.1:{port}", timeout=5)

    assert down.sent == []
    assert [p for p, _ in down.failed] == [path]
    assert down.error and "127.0.0.1" in down.error
    assert pending(outbox) == [path]
    assert not list(outbox.glob("*.sending"))

    handler, _ = smtp_server(port=port)
    up = send_pending(outbox, f"smtp://127.0.0.1:{port}")
    assert len(up.sent) == 1 and up.failed == []
    assert send_pending(outbox, f"smtp://127.0.0.1:{port}").sent == []
    assert len(handler.received) == 1
    assert _sent_files(outbox) == up.sent


def test_interrupted_send_goes_to_unsure_not_resent(tmp_path, smtp_server):
    handler, port = smtp_server()
    outbox = tmp_path / "outbox"
    crashed_msg = _reply(tmp_path, subject="crashed")
    crashed = write_to_outbox(crashed_msg, outbox)
    leftover = crashed.rename(crashed.with_name(crashed.name + ".sending"))
    fine = write_to_outbox(_reply(tmp_path, subject="fine"), outbox)

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert report.unsure == [outbox / "unsure" / leftover.name]
    assert report.unsure[0].exists() and not leftover.exists()
    assert [p.name for p in report.sent] == [fine.name]
    assert [m["Subject"] for m in handler.messages()] == ["Re: fine"]
    again = send_pending(outbox, f"smtp://127.0.0.1:{port}")
    assert again.sent == [] and again.unsure == []
    assert len(handler.received) == 1


def test_refused_recipient_is_set_aside_others_go(tmp_path, smtp_server):
    # the 4xx/5xx rules in detail: tests/faults/test_smtp_refusals.py
    handler, port = smtp_server(refuse=("nobody@example.com",))
    outbox = tmp_path / "outbox"
    bad = write_to_outbox(_reply(tmp_path, to="nobody@example.com"), outbox)
    good = write_to_outbox(_reply(tmp_path), outbox)

    report = send_pending(outbox, f"smtp://127.0.0.1:{port}")

    assert [p.name for p in report.sent] == [good.name]
    assert report.failed == []
    assert [p for p, _ in report.refused] == [outbox / "refused" / bad.name]
    assert "550" in report.refused[0][1]
    assert pending(outbox) == []
    assert len(handler.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_user_and_password(tmp_path, smtp_server):
    handler, port = smtp_server(auth=True)
    outbox = tmp_path / "outbox"
    write_to_outbox(_reply(tmp_path), outbox)

    wrong = send_pending(outbox, f"smtp://user:wrong@127.0.0.1:{port}")
    assert wrong.sent == [] and len(wrong.failed) == 1
    assert "535" in wrong.error and "wrong" not in wrong.error
    assert handler.received == []

    # the password holds ':' and '@', percent-encoded in the URL
    ok = send_pending(outbox, f"smtp://user:s3cr%3At%40@127.0.0.1:{port}")
    assert len(ok.sent) == 1 and ok.failed == []
    assert handler.received[0]["login"] == "user"
    assert pending(outbox) == []


# -- URL parsing -----------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.com", ("mail.example.com", 25, False, False, None, None)),
    ("smtp://mail.example.com:587?starttls=true",
     ("mail.example.com", 587, False, True, None, None)),
    ("smtp://mail.example.com:2525?starttls=false",
     ("mail.example.com", 2525, False, False, None, None)),
    ("smtps://u%40corp:p%3Aw%40d@mail.example.com",
     ("mail.example.com", 465, True, False, "u@corp", "p:w@d")),
    ("SMTPS://relay:1465", ("relay", 1465, True, False, None, None)),
    ("smtp://bob@relay", ("relay", 25, False, False, "bob", None)),
])
def test_smtp_url_parsing(url, expected):
    t = SmtpTarget.from_url(url)
    assert (t.host, t.port, t.implicit_tls, t.starttls, t.user, t.password) == expected


@pytest.mark.parametrize("url", [
    "", "http://u:hunter2@mail.example.com", "smtp://u:hunter2@", "smtp://u:hunter2@host:99999",
    "smtp://u:hunter2@host:abc", "smtp://u:hunter2@host?starttls=maybe",
    "smtps://u:hunter2@host?starttls=true", "smtp://u:hunter2@host/path",
    "smtp://u:hunter2@host?tls=1",
])
def test_bad_smtp_url_is_a_config_error_without_the_password(url):
    with pytest.raises(ConfigError) as info:
        SmtpTarget.from_url(url)
    text = str(info.value)
    assert "hunter2" not in text and "\n" not in text


def test_target_repr_hides_the_password():
    t = SmtpTarget.from_url("smtp://u:hunter2@host")
    assert "hunter2" not in repr(t) and "hunter2" not in t.describe()

"""Forged senders (issue 12, item 2): a From header that does not name exactly one trustworthy
mailbox is UNKNOWN_SENDER. The registered account never gets the claims or a reply, the message
is quarantined, and the run's JSON says why. DMARC at the mail server checks the *other*
address in each of these, so the attacker's domain passes."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from rma.adapters.mail.message import parse_message
from tests.factories import valid_claim
from tests.mailfactory import form_body, mail, raw_mail

REGISTERED = "claims@dist.example"  # D-001's registered address (tests/e2e/conftest.py)

#: file name -> a From header value that names the registered address to a reader while the
#: mailbox the message really comes from (or is answered to) is the attacker's
FORGED_FROM = {
    "unquoted.eml": f"{REGISTERED} <evil@attacker.example>",
    "quoted.eml": f'"{REGISTERED}" <evil@attacker.example>',
    "encoded.eml": "=?utf-8?q?claims=40dist=2Eexample?= <evil@attacker.example>",
    "fullwidth.eml": "=?utf-8?q?claims=EF=BC=A0dist=2Eexample?= <evil@attacker.example>",
    "several.eml": f"{REGISTERED}, evil@attacker.example",
    "group.eml": f"Claims: {REGISTERED};",
    "unclosed.eml": f"Claims <{REGISTERED}",
}


def _form() -> str:
    return form_body({k: str(v) for k, v in valid_claim().items() if v is not None})


def _forged(value: str, n: int) -> bytes:
    # written by hand: the email package would quote or refuse these values
    return raw_mail([("From", value), ("To", "rma@maker.example"), ("Subject", "Claims"),
                     ("Message-ID", f"<forged{n}@attacker.example>"),
                     ("Content-Type", "text/plain; charset=utf-8")],
                    _form().replace("\n", "\r\n").encode())


def _two_from_headers() -> bytes:
    return raw_mail([("From", REGISTERED), ("From", "evil@attacker.example"),
                     ("Subject", "Claims"), ("Message-ID", "<twofrom@attacker.example>")],
                    _form().encode())


@pytest.mark.parametrize("name", sorted(FORGED_FROM))
def test_a_forged_from_header_names_no_sender(name):
    msg = parse_message(_forged(FORGED_FROM[name], 0))
    assert msg.sender == "" and msg.sender_problem, msg
    assert "\n" not in msg.sender_problem


def test_two_from_headers_name_no_sender():
    msg = parse_message(_two_from_headers())
    assert msg.sender == "" and "2 From headers" in msg.sender_problem


@pytest.mark.parametrize("value", [
    f"Anna <{REGISTERED.upper()}>", REGISTERED, f"<{REGISTERED}>",
    f'"{REGISTERED}" <{REGISTERED}>',   # what many mailers write when no name is set
    f'"Anna, Sales" <{REGISTERED}>', f"Anna\r\n <{REGISTERED}>",
])
def test_an_honest_from_header_still_names_its_sender(value):
    assert parse_message(raw_mail([("From", value)], b"hi")).sender == REGISTERED


def test_raw_utf8_display_names_are_not_defects():
    raw = f"From: Jürgen Müller <{REGISTERED}>\r\n\r\nhi".encode()
    assert parse_message(raw).sender == REGISTERED


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the headers are what is hostile
def test_forged_senders_are_quarantined_unanswered_and_never_post_as_the_account(cli, workdir):
    folder = workdir / "inbox" / "mail"
    folder.mkdir()
    for n, (name, value) in enumerate(sorted(FORGED_FROM.items())):
        (folder / name).write_bytes(_forged(value, n))
    (folder / "twofrom.eml").write_bytes(_two_from_headers())
    expected = {*FORGED_FROM, "twofrom.eml"}

    run = cli("run-inbox", "--json")
    assert run.code == 1, run.err
    assert "Traceback" not in run.out + run.err
    got = {Path(b["source"]).name: b for b in run.json()["batches"]}
    assert set(got) == expected
    for batch in got.values():
        assert batch["status"] == "failed", batch
        assert batch["error"]["code"] == "UNKNOWN_SENDER", batch
        assert batch["account_id"] is None, batch
        assert "\n" not in batch["error"]["message"]

    assert cli("claims", "list", "--json").json()["claims"] == []
    outbox = workdir / "outbox"
    assert not outbox.exists() or not list(outbox.rglob("*.eml"))
    quarantined = workdir / "quarantine" / "mail"
    assert {p.name for p in quarantined.glob("*.eml")} == expected
    for name in expected:
        note = (quarantined / f"{name}.error.txt").read_text(encoding="utf-8")
        assert note.startswith("UNKNOWN_SENDER: ") and note.count("\n") == 1, note


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_honest_message_from_the_same_account_is_still_answered(cli, workdir):
    # the control: the protection does not turn away the account's real mail
    (workdir / "inbox" / "mail").mkdir()
    (workdir / "inbox" / "mail" / "real.eml").write_bytes(
        mail(sender=f"Anna <{REGISTERED}>", body=_form()))
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert (batch["status"], batch["account_id"]) == ("posted", "D-001")
    [reply] = (workdir / "outbox").glob("*.eml")
    assert email.message_from_bytes(reply.read_bytes(), policy=policy.default)["To"] == REGISTERED

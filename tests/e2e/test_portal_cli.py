"""The commands of SPEC §9 that need no server: `rma users add` prints a one-time sign-in link
and queues it in the outbox, `rma tokens create` prints a token once, `rma tokens revoke`;
each with --json, one-line errors and the exit statuses of SPEC §7."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from rma.adapters.db.engine import make_engine
from rma.service.identity import token_account
from tests.e2e.conftest import Cli

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def rma(capsys: pytest.CaptureFixture[str], workdir: Path) -> Cli:
    return Cli(capsys)


@SQLITE_ONLY
def test_users_add_prints_a_sign_in_link_and_queues_it_as_a_mail(rma, workdir, monkeypatch):
    monkeypatch.setenv("RMA_PORTAL_URL", "https://claims.maker.example")
    run = rma("users", "add", "--account", "D-001", "--email", "Anna@Dist.Example")
    assert run.code == 0, run.err
    first, link = run.out.strip().splitlines()
    assert first.startswith("anna@dist.example (partner of D-001): added.")
    assert link.startswith("https://claims.maker.example/signin/")
    [mail] = (workdir / "outbox").glob("*.eml")
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"] == "anna@dist.example"
    assert link in message.get_body(("plain",)).get_content()

    document = rma("users", "add", "--account", "D-001", "--email", "anna@dist.example",
                   "--role", "staff", "--json").json()
    assert document["user"] == {"user_id": 1, "account_id": "D-001",
                                "email": "anna@dist.example", "role": "staff"}
    assert document["created"] is False and document["mail_sent"] is False
    assert document["signin_url"] != link and Path(document["mail"]).is_file()


@SQLITE_ONLY
def test_users_add_errors_are_one_line_with_the_json_document(rma):
    run = rma("users", "add", "--account", "NOPE", "--email", "a@b.example", "--json")
    assert run.code == 1 and run.err.strip() == "rma: unknown account 'NOPE'; no user added"
    assert run.json() == {"user": None, "error": {
        "code": "ERROR", "message": "unknown account 'NOPE'; no user added"}}
    run = rma("users", "add", "--account", "D-001", "--email", "not-an-address")
    assert run.code == 2 and "--email" in run.err and "Traceback" not in run.err
    run = rma("users", "add", "--account", "D-001", "--email", "a@b.example", "--role", "boss")
    assert run.code == 2


@SQLITE_ONLY
def test_tokens_are_created_once_printed_and_revoked(rma, workdir):
    run = rma("tokens", "create", "--account", "D-001", "--name", "erp")
    assert run.code == 0, run.err
    token = run.out.strip()
    engine = make_engine(f"sqlite:///{workdir / 'claims.db'}")
    try:
        assert token_account(engine, token) == "D-001"
        again = rma("tokens", "create", "--account", "D-001", "--name", "erp", "--json")
        assert again.code == 1 and again.json()["token"] is None
        made = rma("tokens", "create", "--account", "D-002", "--name", "erp", "--json").json()
        assert made["token"]["account_id"] == "D-002" and made["token"]["name"] == "erp"
        assert token_account(engine, made["token"]["token"]) == "D-002"
        revoked = rma("tokens", "revoke", "--account", "D-001", "--name", "erp", "--json")
        assert revoked.code == 0 and json.loads(revoked.out) == {
            "token": {"account_id": "D-001", "name": "erp", "revoked": True}}
        assert token_account(engine, token) is None
        assert rma("tokens", "revoke", "--account", "D-001", "--name", "erp").code == 1
    finally:
        engine.dispose()

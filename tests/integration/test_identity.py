"""Identity in the claims database (SPEC §9), on SQLite and PostgreSQL: users and one-time
sign-in links, sessions, CSRF tokens, API tokens, rate-limit counters shared across
processes, and migration 0009 up and down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import identity as store
from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, upgrade
from rma.config import Settings, load_settings
from rma.config.declare import Rate
from rma.errors import ConfigError, RmaError
from rma.service.identity import (
    add_user,
    create_token,
    csrf_token,
    csrf_valid,
    rate_limited,
    revoke_token,
    send_signin_link,
    session_user,
    sign_in,
    sign_out,
    token_account,
)
from tests.e2e.conftest import seed_database
from tests.integration.test_db_repository import _downgrade, posted_batch_with_claim

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[sa.Engine]:
    seed_database(db_url, tmp_path)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"RMA_INBOX": str(tmp_path / "inbox"),
                          "RMA_PORTAL_URL": "https://portal.example/"})


def test_a_user_gets_a_link_that_works_once_and_a_session_that_ends(engine, settings,
                                                                    tmp_path):
    invitation = add_user(engine, settings, "D-001", " Anna@Dist.Example ", now=NOW)
    assert invitation.created and invitation.user.email == "anna@dist.example"
    assert invitation.user.role == "partner"
    assert invitation.url.startswith("https://portal.example/signin/")
    assert invitation.expires_at == NOW + dt.timedelta(hours=72)
    token = invitation.url.rsplit("/", 1)[1]
    with engine.connect() as conn:  # only the digest is stored
        stored = conn.execute(sa.select(store.signin_links.c.token_digest)).scalars().all()
    assert stored == [store.secret_digest("link", token)] and token not in stored[0]
    mail = message_from_bytes(invitation.mail.read_bytes(), policy=policy.default)
    assert mail["To"] == "anna@dist.example" and invitation.mail.parent == tmp_path / "outbox"
    assert invitation.url in mail.get_body(("plain",)).get_content()

    signed = sign_in(engine, settings, token, now=NOW + dt.timedelta(minutes=5))
    assert signed is not None and signed.user == invitation.user
    assert sign_in(engine, settings, token, now=NOW + dt.timedelta(minutes=6)) is None  # once
    assert session_user(engine, signed.token, NOW + dt.timedelta(hours=1)) == invitation.user
    assert session_user(engine, signed.token, signed.expires_at) is None  # expired
    assert session_user(engine, "forged", NOW) is None
    sign_out(engine, signed.token, NOW + dt.timedelta(hours=2))
    assert session_user(engine, signed.token, NOW + dt.timedelta(hours=2)) is None
    assert csrf_valid(signed.token, csrf_token(signed.token))
    assert not csrf_valid(signed.token, csrf_token("another session")) and \
        not csrf_valid(signed.token, "")


def test_a_link_expires_and_a_session_of_a_deactivated_account_opens_nothing(engine, settings):
    late = add_user(engine, settings, "D-001", "late@dist.example", now=NOW)
    assert sign_in(engine, settings, late.url.rsplit("/", 1)[1],
                   now=late.expires_at + dt.timedelta(seconds=1)) is None
    fresh = add_user(engine, settings, "D-001", "late@dist.example", now=NOW)
    assert not fresh.created and fresh.url != late.url
    signed = sign_in(engine, settings, fresh.url.rsplit("/", 1)[1], now=NOW)
    assert signed is not None
    with engine.begin() as conn:
        conn.execute(sa.update(t.accounts).where(t.accounts.c.account_id == "D-001")
                     .values(active=False))
    assert session_user(engine, signed.token, NOW) is None


def test_a_link_asked_for_by_address_goes_only_to_a_user_and_lasts_minutes(engine, settings,
                                                                           tmp_path):
    add_user(engine, settings, "D-001", "anna@dist.example", now=NOW)
    before = set((tmp_path / "outbox").glob("*.eml"))
    for stranger in ("nobody@dist.example", "not an address", ""):
        assert send_signin_link(engine, settings, stranger, now=NOW) is False
    assert set((tmp_path / "outbox").glob("*.eml")) == before  # no mail to a stranger
    assert send_signin_link(engine, settings, "ANNA@dist.example", now=NOW) is True
    [mail] = set((tmp_path / "outbox").glob("*.eml")) - before
    body = message_from_bytes(mail.read_bytes(), policy=policy.default)
    url = next(w for w in body.get_body(("plain",)).get_content().split()
               if w.startswith("https://"))
    token = url.rsplit("/", 1)[1]
    assert sign_in(engine, settings, token, now=NOW + dt.timedelta(minutes=31)) is None
    assert send_signin_link(engine, settings, "anna@dist.example", now=NOW)
    with engine.begin() as conn:
        conn.execute(sa.update(t.accounts).where(t.accounts.c.account_id == "D-001")
                     .values(active=False))
    assert send_signin_link(engine, settings, "anna@dist.example", now=NOW) is False


def test_an_address_is_a_user_of_one_account_and_roles_change_only_when_asked(engine, settings):
    add_user(engine, settings, "D-001", "ops@dist.example", role="staff", now=NOW)
    with pytest.raises(RmaError, match="already a user of account D-001"):
        add_user(engine, settings, "D-002", "ops@dist.example", now=NOW)
    assert add_user(engine, settings, "D-001", "ops@dist.example", now=NOW).user.role == "staff"
    assert add_user(engine, settings, "D-001", "ops@dist.example", role="partner",
                    now=NOW).user.role == "partner"
    with pytest.raises(RmaError, match="unknown account"):
        add_user(engine, settings, "NOPE", "x@y.example", now=NOW)
    with pytest.raises(RmaError, match="not active"):
        add_user(engine, settings, "X-OFF", "x@y.example", now=NOW)
    for bad in ("not an address", "a@b.example;c@d.example", ""):
        with pytest.raises(ConfigError):
            add_user(engine, settings, "D-001", bad, now=NOW)


def test_api_tokens_are_shown_once_kept_hashed_named_per_account_and_revocable(engine):
    token = create_token(engine, "D-001", "erp", now=NOW)
    assert token.startswith("rma_") and len(token) > 40
    assert token_account(engine, token) == "D-001"
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.api_tokens.c.token_digest)).scalar_one() \
            == store.secret_digest("token", token)
    with pytest.raises(RmaError, match="already has a token named 'erp'"):
        create_token(engine, "D-001", "erp", now=NOW)
    other = create_token(engine, "D-002", "erp", now=NOW)  # a name is per account
    assert token_account(engine, other) == "D-002"
    revoke_token(engine, "D-001", "erp", now=NOW)
    assert token_account(engine, token) is None
    with pytest.raises(RmaError, match="no live token named 'erp'"):
        revoke_token(engine, "D-001", "erp", now=NOW)
    again = create_token(engine, "D-001", "erp", now=NOW)  # a revoked token frees its name
    assert token_account(engine, again) == "D-001" and token_account(engine, token) is None
    # a session's secret or a link's is no token, even with the prefix
    assert token_account(engine, "rma_" + "x" * 43) is None


def test_rate_limits_count_in_fixed_windows_shared_by_every_process(engine, db_url):
    rate = Rate(3, 60)
    second = make_engine(db_url)  # another worker process's pool
    try:
        counted = [rate_limited(e, "codes", "D-001", rate, NOW + dt.timedelta(seconds=s))
                   for e, s in ((engine, 0), (second, 10), (engine, 20), (second, 30))]
        assert counted == [None, None, None, 30]  # the 4th waits until the window ends
        assert rate_limited(engine, "codes", "D-002", rate, NOW) is None  # per key
        assert rate_limited(engine, "uploads", "D-001", rate, NOW) is None  # per bucket
        assert rate_limited(second, "codes", "D-001", rate, NOW + dt.timedelta(seconds=60)) \
            is None  # a new window
    finally:
        second.dispose()
    # a hit stamped with the window before (a worker whose clock is behind) counts in the
    # current one, which is not started again
    assert rate_limited(engine, "codes", "D-001", rate, NOW + dt.timedelta(seconds=59)) is None
    with engine.connect() as conn:  # one row a key: nothing to delete, ever
        rows = conn.execute(sa.select(store.rate_limits.c.window_start,
                                      store.rate_limits.c.hits).where(
            store.rate_limits.c.bucket == "codes",
            store.rate_limits.c.key == "D-001")).all()
    assert rows == [(NOW + dt.timedelta(seconds=60), 2)]


def test_users_add_sends_the_link_at_once_when_smtp_is_configured(engine, tmp_path,
                                                                   smtp_server):
    recorder, port = smtp_server()
    settings = load_settings({"RMA_INBOX": str(tmp_path / "inbox"),
                              "RMA_SMTP_URL": f"smtp://127.0.0.1:{port}",
                              "RMA_MAIL_FROM": "rma@maker.example"})
    invitation = add_user(engine, settings, "D-001", "anna@dist.example", now=NOW)
    assert invitation.mail_sent
    [mail] = recorder.messages()
    assert mail["To"] == "anna@dist.example" and mail["From"] == "rma@maker.example"
    assert invitation.url in mail.get_body(("plain",)).get_content()
    assert invitation.url.startswith("http://127.0.0.1:8000/signin/")  # RMA_PORTAL_URL unset


def _tables(url: str) -> set[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        eng.dispose()


def test_0009_adds_the_portal_tables_and_batches_reports_and_downgrades(db_url, tmp_path):
    """With a claim of a posted batch in place (a rebuild of batches would trip its foreign
    key on SQLite), up and down and up again."""
    upgrade(db_url, revision="0008")
    posted_batch_with_claim(db_url, NOW)
    upgrade(db_url)
    portal = {"checks", "users", "signin_links", "sessions", "api_tokens", "rate_limits"}
    assert portal <= _tables(db_url)
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(sa.select(t.batches.c.batch_id, t.batches.c.reports)).all() \
                == [("B-1", None)]
    finally:
        eng.dispose()
    _downgrade(db_url, "0008")
    assert not portal & _tables(db_url)
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("batches")}
            assert "reports" not in columns
            assert conn.execute(sa.text("SELECT batch_id FROM batches")).scalars().all() \
                == ["B-1"]
    finally:
        eng.dispose()
    upgrade(db_url)
    assert portal <= _tables(db_url)

"""The portal's identity and its counters need no DDL rights nor DELETE either (docs/security.md,
"Database roles"): users, sign-in links, sessions, API tokens, rate limits and code look-ups
work with a PostgreSQL role that has SELECT, INSERT and UPDATE only."""

from __future__ import annotations

import pytest

from rma.adapters.db.engine import make_engine, posting_transaction
from rma.adapters.db.reference_accounts import import_accounts
from rma.adapters.db.reference_codes import import_codes
from rma.config import load_settings
from rma.config.declare import Rate
from rma.service.code_lookup import look_up_code
from rma.service.identity import (
    add_user,
    create_token,
    rate_limited,
    revoke_token,
    session_user,
    sign_in,
    sign_out,
    token_account,
)
from tests.e2e.conftest import write_reference
from tests.hostile.test_database_role import app_role  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.postgres]


def test_identity_and_rate_limits_run_with_a_role_that_has_no_ddl_nor_delete(
        app_role, pg_url, tmp_path):  # noqa: F811
    owner = make_engine(pg_url)
    accounts, codes = write_reference(tmp_path)
    with posting_transaction(owner) as conn:
        import_accounts(conn, accounts)
        import_codes(conn, codes)
    owner.dispose()
    engine = make_engine(app_role)
    settings = load_settings({"RMA_INBOX": str(tmp_path / "inbox")})
    try:
        invitation = add_user(engine, settings, "D-001", "anna@dist.example")
        signed = sign_in(engine, settings, invitation.url.rsplit("/", 1)[1])
        assert signed is not None and session_user(engine, signed.token) == invitation.user
        sign_out(engine, signed.token)
        token = create_token(engine, "D-001", "erp")
        assert token_account(engine, token) == "D-001"
        revoke_token(engine, "D-001", "erp")
        assert [rate_limited(engine, "codes", "D-001", Rate(1, 3600)) is None
                for _ in range(2)] == [True, False]
        assert look_up_code(engine, settings, "D-001", "GUESS-0000").outcome == "CODE_INVALID"
    finally:
        engine.dispose()

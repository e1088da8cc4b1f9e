"""What Customer Service does with RMA codes by hand (SPEC §2, §4): issue one to an account
with the fields it registered, and lift an account's lock-out. ``rma codes issue`` /
``rma codes unlock`` and the portal's staff pages both call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.engine import posting_transaction
from rma.adapters.db.reference_codes import issue_code as store_code
from rma.adapters.db.reference_codes import locked_accounts, unlock_codes
from rma.config import Settings


def issue_code(engine: sa.Engine, settings: Settings, account_id: str,
               serial_numbers: list[str], fields: Mapping[str, str],
               valid_days: int | None = None) -> str:
    """A new code for an active account (the SNs it covers, none: any SN of the account;
    the CS-registered ``fields``, blank ones left out), valid ``valid_days`` or
    RMA_CODE_VALIDITY_DAYS; ``RmaError`` with the reason when none can be issued."""
    prefill = {name: value for name, value in fields.items() if value}
    with posting_transaction(engine) as conn:
        return store_code(conn, account_id, serial_numbers, prefill,
                          valid_days or settings.code_validity_days)


def unlock(engine: sa.Engine, account_id: str) -> None:
    """Lift the account's code lock-out (``RmaError`` for an unknown account)."""
    with posting_transaction(engine) as conn:
        unlock_codes(conn, account_id)


def locked_out(engine: sa.Engine) -> list[dict[str, Any]]:
    """The accounts locked out of codes now, the most recently locked first."""
    with engine.connect() as conn:
        return locked_accounts(conn)

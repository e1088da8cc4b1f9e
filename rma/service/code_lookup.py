"""Looking up an RMA code before filing (SPEC §9, ``GET /api/v1/codes/{code}``, the SolaX
SOP: an installer enters the code and sees what Customer Service registered).

It answers exactly what a claim giving the code would meet (``code_outcomes``, step 4): a
code of another account, or none at all, is ``CODE_INVALID`` (one answer for both, the code's
existence is never revealed) and counts towards the lock-out like an invalid code in a
batch; a locked-out account learns nothing about any code. The look-up is serialised with the
postings (``posting_transaction``) so that the count it adds to and the lock it may set are
the ones a concurrent posting sees.

The API (``GET /api/v1/codes/{code}``) and the portal's claim page both ask
``look_up_code_within_rate``: the same rate (RMA_RATE_CODE_LOOKUPS, per account), the same
lock-out, the same count.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rma.adapters.db.codes import normalise_code, split_serials
from rma.adapters.db.engine import posting_transaction
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.db.tables import ID_LEN
from rma.config import Settings
from rma.domain.rules.codes import code_outcomes, guessing_report, reaching_lockout
from rma.domain.vocabulary.columns import CS_FIELDS
from rma.domain.vocabulary.reasons import Reason
from rma.service.identity import rate_limited

#: the outcome of a look-up over the account's rate (``look_up_code_within_rate``)
RATE_LIMITED = "RATE_LIMITED"

security_log = logging.getLogger("rma.security")


@dataclass(frozen=True)
class CodeLookup:
    """``outcome``: None (the code may be used), a reason of step 4, or CODE_INVALID /
    CODE_LOCKED (the caller answers those without a word about the code)."""

    outcome: str | None
    code: dict[str, Any] | None = None
    message: str = ""
    #: RATE_LIMITED: the seconds until the account may look a code up again
    retry_after: int | None = None

    @property
    def found(self) -> bool:
        return self.code is not None


def look_up_code_within_rate(engine: sa.Engine, settings: Settings, account_id: str,
                             given: str, now: dt.datetime | None = None) -> CodeLookup:
    """``look_up_code`` once the account is within its rate of look-ups
    (RMA_RATE_CODE_LOOKUPS); over it, RATE_LIMITED with the seconds to wait, the code not
    looked at."""
    rate = settings.portal.code_lookup_rate
    wait = rate_limited(engine, "codes", account_id, rate, now)
    if wait is not None:
        return CodeLookup(RATE_LIMITED, message=f"Too many requests of this kind ({rate}); "
                          f"try again in {wait} s.", retry_after=wait)
    return look_up_code(engine, settings, account_id, given, now)


def look_up_code(engine: sa.Engine, settings: Settings, account_id: str, given: str,
                 now: dt.datetime | None = None) -> CodeLookup:
    """What the account may learn of the code ``given`` (module docstring)."""
    now = now or dt.datetime.now(dt.UTC)
    key = normalise_code(given)[:ID_LEN]  # a longer one matches no code anyway
    with posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)
        prior = repo.invalid_attempts([account_id],
                                      now - dt.timedelta(hours=settings.lockout_hours))
        locked = repo.code_locked([account_id])
        codes = repo.codes([key] if key else [])
        claim = pd.DataFrame({"claim_key": [0], "first_row": [1], "account": [account_id],
                              "code_key": [key or None]})
        [verdict] = code_outcomes(claim, codes, prior, settings.lockout_attempts, now,
                                  locked).to_dict("records")
        outcome = verdict["outcome"] if isinstance(verdict["outcome"], str) else None
        newly_locked: list[str] = []
        if outcome in (Reason.CODE_INVALID, Reason.CODE_LOCKED):
            attempt = pd.DataFrame({"account_id": [account_id], "code_key": [key],
                                    "outcome": [outcome], "attempted_at": [now]})
            repo.insert_attempts(attempt)
            newly_locked = reaching_lockout(attempt, prior, locked, settings.lockout_attempts)
            repo.lock_codes(newly_locked, now)
    source = f"a code look-up by {account_id}"
    if outcome in (Reason.CODE_INVALID, Reason.CODE_LOCKED):
        for line in guessing_report(pd.DataFrame({"account_id": [account_id],
                                                  "outcome": [outcome]}),
                                    source, newly_locked):
            security_log.warning(line)
        return CodeLookup(outcome, message=settings.terms.message(Reason(outcome)))
    [record] = codes.to_dict("records")
    row = {str(key): value for key, value in record.items()}
    return CodeLookup(outcome, _code_document(row, outcome, settings),
                      settings.terms.message(Reason(outcome)) if outcome else "")


def _code_document(row: dict[str, Any], outcome: str | None, settings: Settings
                   ) -> dict[str, Any]:
    """A code as its own account sees it: whether a claim may use it and why not, which SNs
    it covers, and the fields Customer Service registered (what a claim gets prefilled)."""
    expires = row["expires_at"]
    return {
        "code": row["code"],
        "account_id": row["account_id"],
        "usable": outcome is None,
        "reason": None if outcome is None else {
            "code": outcome, "message": settings.terms.message(Reason(outcome))},
        "expires_at": None if pd.isna(expires) else pd.Timestamp(expires).isoformat(),
        "serial_numbers": split_serials(row["serial_numbers"] or ""),
        "prefill": {field: _plain(row[field]) for field in CS_FIELDS
                    if _plain(row[field]) is not None},
    }


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.isoformat() if isinstance(value, dt.date) else value

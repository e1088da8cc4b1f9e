"""RMA codes as reference data (SPEC §2): Customer Service's code file imported (validated
whole, upserted by code_key), a code issued by hand, an account's lock-out lifted. Files are
read by ``reference_files``, their cells parsed by ``reference_cells``; what imports share is
``reference_import``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.bulk import dialect_insert, upsert_rows
from rma.adapters.db.codes import CODE_KEY_PATTERN, generate_code, join_serials, normalise_code
from rma.adapters.db.reference_cells import (
    cell_text,
    optional,
    parse_date,
    parse_serials,
    parse_timestamp,
)
from rma.adapters.db.reference_files import read_reference_file
from rma.adapters.db.reference_import import (
    ImportErrors,
    ImportResult,
    check_unique,
    existing_keys,
    utc_now,
)
from rma.adapters.db.tables import CODE_STATUSES, accounts, rma_codes
from rma.domain.vocabulary.columns import CS_FIELDS, DATE_COLUMNS
from rma.errors import RmaError, RowError

CODE_COLUMNS = ("code", "account_id", "serial_numbers", "issued_at", "expires_at", "status",
                *CS_FIELDS)
CODE_REQUIRED = ("code", "account_id")
CODE_ALIASES = {"rmacode": "code", "account": "account_id", "serialnumber": "serial_numbers",
                "serials": "serial_numbers", "sn": "serial_numbers", "sns": "serial_numbers",
                "issued": "issued_at", "expires": "expires_at", "validuntil": "expires_at"}


def _prefill(row: int, get: Callable[[str], Any], errors: ImportErrors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CS_FIELDS:
        value = get(name)
        if name in DATE_COLUMNS:
            out[name] = errors.cell(row, name, partial(parse_date, value))
        else:
            out[name] = optional(value)
    return out


def _validate_code(row: int, cells: dict[str, Any], errors: ImportErrors, now: datetime,
                   validity_days: int) -> dict[str, Any]:
    code = cell_text(cells.get("code"))
    key = normalise_code(code)
    if not CODE_KEY_PATTERN.match(key):
        errors.add(row, "code", f"must be 4-64 letters and digits (spaces and dashes allowed), "
                                f"got {code!r}")
    account_id = cell_text(cells.get("account_id"))
    if not account_id:
        errors.add(row, "account_id", "is required")
    serials = errors.cell(row, "serial_numbers", lambda: parse_serials(cells.get("serial_numbers")))
    issued = errors.cell(row, "issued_at", lambda: parse_timestamp(cells.get("issued_at")))
    expires = errors.cell(row, "expires_at",
                          lambda: parse_timestamp(cells.get("expires_at"), end_of_day=True))
    issued = issued or now
    expires = expires or issued + timedelta(days=validity_days)
    if expires <= issued:
        errors.add(row, "expires_at", "must be after issued_at")
    status = cell_text(cells.get("status")).lower() or "issued"
    if status not in CODE_STATUSES:
        errors.add(row, "status", f"must be one of {', '.join(CODE_STATUSES)}, got {status!r}")
    record = {"code_key": key, "code": code, "account_id": account_id,
              "serial_numbers": join_serials(serials or []), "issued_at": issued,
              "expires_at": expires, "status": status}
    record.update(_prefill(row, cells.get, errors))
    return record


def import_codes(conn: sa.Connection, path: Path, now: datetime | None = None,
                 validity_days: int = 90) -> ImportResult:
    """Upsert the RMA codes of a CSV/XLSX file by code_key; nothing if any row is invalid.

    Blank issued_at means now; blank expires_at means issued_at + ``validity_days``. A code
    that this system has already redeemed stays redeemed whatever the file says.
    """
    now = utc_now(now)
    table = read_reference_file(path, CODE_COLUMNS, CODE_ALIASES, CODE_REQUIRED)
    errors = ImportErrors(table.path)
    rows = [_validate_code(n, cells, errors, now, validity_days) for n, cells in table.rows]
    numbered = [(n, r) for (n, _), r in zip(table.rows, rows, strict=True)]
    check_unique(errors, "code", [(n, r["code_key"]) for n, r in numbered if r["code_key"]])
    known = existing_keys(conn, accounts.c.account_id,
                          sorted({r["account_id"] for r in rows if r["account_id"]}))
    for n, r in numbered:
        if r["account_id"] and r["account_id"] not in known:
            errors.add(n, "account_id", f"unknown account {r['account_id']!r}")
    if not rows:
        errors.add(1, "code", "the file holds no codes")
    errors.raise_if_any()
    existing = existing_keys(conn, rma_codes.c.code_key, [r["code_key"] for r in rows])
    upsert_rows(conn, rma_codes, rows, _keep_redeemed)
    inserted = sum(1 for r in rows if r["code_key"] not in existing)
    return ImportResult(inserted, len(rows) - inserted, table.ignored)


def _keep_redeemed(ins: Any) -> dict[str, Any]:
    """A code redeemed by a posted claim is never reset by a re-imported CS sheet."""
    redeemed_here = sa.and_(rma_codes.c.status == "redeemed",
                            rma_codes.c.redeemed_claim_id.is_not(None))
    return {"status": sa.case((redeemed_here, rma_codes.c.status), else_=ins.excluded.status)}


def issue_code(conn: sa.Connection, account_id: str, serial_numbers: list[str],
               fields: dict[str, str], validity_days: int,
               now: datetime | None = None) -> str:
    """Issue a new code to an account (CS after a preliminary assessment); returns it.

    ``serial_numbers`` may be empty (any SN of the account); ``fields`` are CS_FIELDS. An
    unknown or inactive account gets none: every claim with it would be rejected anyway.
    """
    now = utc_now(now)
    active = conn.execute(
        sa.select(accounts.c.active).where(accounts.c.account_id == account_id)
    ).scalar_one_or_none()
    if active is None:
        raise RmaError(f"unknown account {account_id!r}; no RMA code issued")
    if not active:
        raise RmaError(f"account {account_id!r} is not active; no RMA code issued")
    if validity_days <= 0:
        raise RmaError(f"the validity must be at least one day, got {validity_days}")
    serials: list[str] = []
    for item in serial_numbers:
        try:
            serials.extend(s for s in parse_serials(item) if s not in serials)
        except RowError as exc:
            raise RmaError(f"--sn: {exc}") from None
    unknown = [name for name in fields if name not in CS_FIELDS]
    if unknown:
        raise RmaError(f"unknown field {unknown[0]!r}; allowed: {', '.join(CS_FIELDS)}")
    errors = ImportErrors(Path("rma codes issue"))
    prefill = _prefill(0, fields.get, errors)
    if errors.items:
        raise RmaError(errors.items[0].removeprefix("row 0, column "))
    record = {"account_id": account_id, "serial_numbers": join_serials(serials),
              "issued_at": now, "expires_at": now + timedelta(days=validity_days),
              "status": "issued", **prefill}
    ins = dialect_insert(conn, rma_codes)
    for _ in range(10):  # a collision of 50-bit codes is astronomically unlikely
        code = generate_code()
        stmt = (ins.values(code_key=normalise_code(code), code=code, **record)
                .on_conflict_do_nothing(index_elements=[rma_codes.c.code_key])
                .returning(rma_codes.c.code_key))
        if conn.execute(stmt).first() is not None:
            return code
    raise RmaError("could not generate an unused RMA code; try again")


def unlock_codes(conn: sa.Connection, account_id: str, now: datetime | None = None) -> None:
    """Lift a code lock-out: the account is no longer locked, and CODE_INVALID attempts
    before now no longer count towards the next one."""
    result = conn.execute(
        sa.update(accounts).where(accounts.c.account_id == account_id)
        .values(code_locked_at=None, code_lock_reset_at=utc_now(now))
    )
    if result.rowcount != 1:
        raise RmaError(f"unknown account {account_id!r}")


def locked_accounts(conn: sa.Connection) -> list[dict[str, Any]]:
    """The accounts locked out of codes (``account_id``, ``name``, ``code_locked_at``), the
    most recently locked first: what Customer Service may lift."""
    rows = conn.execute(sa.select(accounts.c.account_id, accounts.c.name,
                                  accounts.c.code_locked_at)
                        .where(accounts.c.code_locked_at.is_not(None))
                        .order_by(accounts.c.code_locked_at.desc(), accounts.c.account_id))
    return [dict(row._mapping) for row in rows]

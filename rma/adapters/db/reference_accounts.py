"""The accounts reference file (SPEC §2): read, validated whole, upserted by account_id in one
set-based statement per chunk (``bulk.upsert_rows``). Files are read by ``reference_files``,
their cells parsed by ``reference_cells``; what imports share is ``reference_import``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.bulk import upsert_rows
from rma.adapters.db.reference_cells import cell_text, parse_bool, parse_country, parse_emails
from rma.adapters.db.reference_files import read_reference_file
from rma.adapters.db.reference_import import (
    ImportErrors,
    ImportResult,
    check_unique,
    existing_keys,
    utc_now,
)
from rma.adapters.db.tables import accounts
from rma.domain.vocabulary.levels import ACCOUNT_KINDS, LEVELS

ACCOUNT_COLUMNS = ("account_id", "name", "kind", "partner_level", "emails", "country", "active",
                   "report_mail")
ACCOUNT_REQUIRED = ("account_id", "name", "kind")
ACCOUNT_ALIASES = {"account": "account_id", "accountno": "account_id", "type": "kind",
                   "level": "partner_level", "partnerlevel": "partner_level",
                   "email": "emails", "emailaddresses": "emails"}


def _validate_account(row: int, cells: dict[str, Any], errors: ImportErrors,
                      now: datetime) -> dict[str, Any]:
    account_id = cell_text(cells.get("account_id"))
    if not account_id:
        errors.add(row, "account_id", "is required")
    elif len(account_id) > 64:
        errors.add(row, "account_id", "is longer than 64 characters")
    name = cell_text(cells.get("name"))
    if not name:
        errors.add(row, "name", "is required")
    kind = cell_text(cells.get("kind")).lower()
    if kind not in ACCOUNT_KINDS:
        errors.add(row, "kind", f"must be distributor or installer, got {kind!r}")
    level: str | None = cell_text(cells.get("partner_level")).lower() or None
    if level is None:
        level = "none" if kind == "installer" else None
    elif level not in LEVELS:
        errors.add(row, "partner_level", f"must be blank or one of {', '.join(LEVELS)}, "
                                         f"got {level!r}")
    emails = errors.cell(row, "emails", lambda: parse_emails(cells.get("emails")))
    country = errors.cell(row, "country", lambda: parse_country(cells.get("country")))
    active = True
    if "active" in cells:
        active = errors.cell(row, "active", lambda: parse_bool(cells.get("active")))
    record = {"account_id": account_id, "name": name, "kind": kind, "partner_level": level,
              "emails": emails or "", "country": country, "active": active, "updated_at": now}
    if "report_mail" in cells:  # absent: an import leaves each account's choice as it was
        record["report_mail"] = errors.cell(row, "report_mail",
                                            lambda: parse_bool(cells.get("report_mail")))
    return record


def import_accounts(conn: sa.Connection, path: Path, now: datetime | None = None) -> ImportResult:
    """Upsert the accounts of a CSV/XLSX file by account_id; nothing if any row is invalid."""
    now = utc_now(now)
    table = read_reference_file(path, ACCOUNT_COLUMNS, ACCOUNT_ALIASES, ACCOUNT_REQUIRED)
    errors = ImportErrors(table.path)
    rows = [_validate_account(n, cells, errors, now) for n, cells in table.rows]
    check_unique(errors, "account_id",
                 [(n, r["account_id"]) for (n, _), r in zip(table.rows, rows, strict=True)
                  if r["account_id"]])
    if not rows:
        errors.add(1, "account_id", "the file holds no accounts")
    errors.raise_if_any()
    existing = existing_keys(conn, accounts.c.account_id, [r["account_id"] for r in rows])
    upsert_rows(conn, accounts, rows)
    inserted = sum(1 for r in rows if r["account_id"] not in existing)
    return ImportResult(inserted, len(rows) - inserted, table.ignored)

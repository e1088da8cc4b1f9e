"""An account's claims and batches a page at a time (the portal's claims and batches pages,
SPEC §9): one statement for the page's rows, one for their SN lines, one to count; each served
by an index of revision 0011 (claims by account and claim_id, SN lines by SN, batches and
checks by account and time), so a page costs the same at the 50th page as at the first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from rma.adapters.db.checks import checks
from rma.adapters.db.keys import in_chunks
from rma.adapters.db.repository import _iso, claim_conditions
from rma.adapters.db.tables import CLAIM_DATA_COLUMNS, batches, claim_lines, claims

CLAIM_COLUMNS = ("claim_id", "account_id", "claim_ref", "status", "batch_id", "submitted_at",
                 "rma_code", *CLAIM_DATA_COLUMNS)


def claims_page(conn: sa.Connection, account_id: str, *, serial_number: str | None = None,
                claim_ref: str | None = None, status: str | None = None, limit: int = 50,
                offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The account's claims ``offset`` to ``offset + limit`` in claim_id order, as
    ``ClaimsRepository.list_claims`` gives them (same filters, same dicts), and how many
    claims match in all."""
    conditions = claim_conditions(account_id, serial_number, claim_ref, status)
    total = conn.execute(sa.select(sa.func.count()).select_from(claims).where(*conditions)
                         ).scalar_one()
    rows = conn.execute(sa.select(*[claims.c[c] for c in CLAIM_COLUMNS]).where(*conditions)
                        .order_by(claims.c.claim_id).limit(limit).offset(offset)).mappings().all()
    serials: dict[str, list[str]] = {}
    for condition in in_chunks(conn, claim_lines.c.claim_id, [r["claim_id"] for r in rows]):
        for claim_id, serial in conn.execute(
                sa.select(claim_lines.c.claim_id, claim_lines.c.serial_number).where(condition)
                .order_by(claim_lines.c.claim_id, claim_lines.c.sheet_row, claim_lines.c.id)):
            serials.setdefault(claim_id, []).append(serial)
    out = []
    for row in rows:
        item = {c: _iso(row[c]) for c in CLAIM_COLUMNS[:7]}
        item["serial_numbers"] = serials.get(row["claim_id"], [])
        item.update({c: _iso(row[c]) for c in CLAIM_DATA_COLUMNS})
        out.append(item)
    return out, int(total)


def batches_page(conn: sa.Connection, account_id: str, *, limit: int = 50, offset: int = 0
                 ) -> tuple[list[dict[str, Any]], int]:
    """The account's batches, posted and checked, newest first, ``offset`` to ``offset +
    limit``: batch_id, source, status, when (received or checked), claims_accepted,
    claims_rejected; and how many it has in all. Each side is cut to ``offset + limit`` rows
    by its own index before the two are merged."""
    wanted = offset + limit
    posted = (sa.select(batches.c.batch_id, batches.c.source, batches.c.status,
                        batches.c.received_at.label("at"), batches.c.claims_accepted,
                        batches.c.claims_rejected).where(batches.c.account_id == account_id)
              .order_by(batches.c.received_at.desc(), batches.c.batch_id.desc()).limit(wanted))
    checked = (sa.select(checks.c.batch_id, checks.c.source, sa.literal("checked"),
                         checks.c.checked_at, checks.c.claims_accepted, checks.c.claims_rejected)
               .where(checks.c.account_id == account_id)
               .order_by(checks.c.checked_at.desc(), checks.c.batch_id.desc()).limit(wanted))
    both = sa.union_all(posted.subquery().select(), checked.subquery().select()).subquery()
    rows = conn.execute(sa.select(both).order_by(both.c.at.desc(), both.c.batch_id.desc())
                        .limit(limit).offset(offset)).mappings()
    listed = [dict(row) for row in rows]
    total = sum(conn.execute(sa.select(sa.func.count()).select_from(table)
                             .where(table.c.account_id == account_id)).scalar_one()
                for table in (batches, checks))
    return listed, int(total)

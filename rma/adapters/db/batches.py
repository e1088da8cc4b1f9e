"""Posted batches read back: what the fan-out parent summarises a night from (the claims
database is the record of what its child runs posted). One statement per kind per chunk of
keys (``keys.in_chunks``), never one per file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.keys import in_chunks
from rma.adapters.db.tables import batch_issues, batches, claims


def batches_by_sha(engine: sa.Engine, shas: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The batch row (as a dict) posted from each of these contents, by SHA-256."""
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for condition in in_chunks(conn, batches.c.sha256, shas):
            rows = conn.execute(sa.select(batches).where(condition))
            found.update({row.sha256: dict(row._mapping) for row in rows})
    return found


def batch_details(engine: sa.Engine, batch_ids: Sequence[str]
                  ) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """Per batch: its claim ids (in order) and its issue rows as dicts (in the order stored)."""
    claim_ids: dict[str, list[str]] = {b: [] for b in batch_ids}
    issues: dict[str, list[dict[str, Any]]] = {b: [] for b in batch_ids}
    with engine.connect() as conn:
        for condition in in_chunks(conn, claims.c.batch_id, batch_ids):
            for row in conn.execute(sa.select(claims.c.batch_id, claims.c.claim_id)
                                    .where(condition).order_by(claims.c.claim_id)):
                claim_ids[row.batch_id].append(row.claim_id)
        for condition in in_chunks(conn, batch_issues.c.batch_id, batch_ids):
            for row in conn.execute(sa.select(batch_issues).where(condition)
                                    .order_by(batch_issues.c.id)):
                issues[row.batch_id].append(dict(row._mapping))
    return {b: (claim_ids[b], issues[b]) for b in batch_ids}


def find_batch(engine: sa.Engine, batch_id: str) -> dict[str, Any] | None:
    """One posted batch's row (as a dict), or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id)).first()
    return None if row is None else dict(row._mapping)


def correcting_batches(engine: sa.Engine, batch_id: str, account_id: str) -> list[str]:
    """The account's batches that correct this one (``corrects_batch_id``), oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(batches.c.batch_id)
            .where(batches.c.corrects_batch_id == batch_id, batches.c.account_id == account_id)
            .order_by(batches.c.received_at, batches.c.batch_id)).scalars())


def record_file(engine: sa.Engine, batch_id: str, path: str) -> None:
    """Where a posted batch's file is kept now that it has moved (``batches.file``)."""
    with engine.begin() as conn:
        conn.execute(sa.update(batches).where(batches.c.batch_id == batch_id)
                     .values(file=path))

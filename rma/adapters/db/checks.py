"""Checked batches (SPEC §9, ``rma ingest --check``, ``check=true``): decided and reported,
never posted. A check is kept apart from ``batches``, whose ``sha256`` is the unique key of
``DUPLICATE_BATCH``: a check must not make the real ingest of the same content a duplicate,
and the same content may be checked any number of times. Its batch object (the JSON of SPEC
§7, status ``checked``) is kept whole, so a check can be read back as it was answered."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.column_types import UTCDateTime
from rma.adapters.db.tables import ID_LEN, metadata

checks = sa.Table(
    "checks",
    metadata,
    sa.Column("batch_id", sa.String(32), primary_key=True),
    # not unique: the same content may be checked again (say after a fix in the registry)
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("account_id", sa.String(ID_LEN), nullable=True, index=True),
    sa.Column("checked_at", UTCDateTime, nullable=False),
    sa.Column("claims_accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claims_rejected", sa.Integer, nullable=False, server_default="0"),
    #: where the checked content is kept (an upload), so it can be submitted without sending
    #: it again; NULL for a file checked where it lies (``rma ingest --check``)
    sa.Column("file", sa.Text, nullable=True),
    #: the batch object as it was answered (JSON)
    sa.Column("document", sa.Text, nullable=False),
)


def insert_check(conn: sa.Connection, document: dict[str, Any], sha256: str,
                 checked_at: datetime, file: str | None = None) -> None:
    """Record a checked batch (``document``: ``BatchResult.to_json()`` of the check)."""
    conn.execute(sa.insert(checks).values(
        batch_id=document["batch_id"], sha256=sha256, source=document["source"],
        account_id=document["account_id"], checked_at=checked_at,
        claims_accepted=document["claims_accepted"], claims_rejected=document["claims_rejected"],
        file=file, document=json.dumps(document, default=str)))


def find_check(conn: sa.Connection, batch_id: str) -> dict[str, Any] | None:
    """A checked batch's record (its ``document`` parsed), or None."""
    row = conn.execute(sa.select(checks).where(checks.c.batch_id == batch_id)).mappings().first()
    if row is None:
        return None
    return {**row, "document": json.loads(row["document"])}


# An account's checks newest first, a page at a time (``listing``, revision 0011).
sa.Index("ix_checks_account_id_checked_at", checks.c.account_id, checks.c.checked_at)

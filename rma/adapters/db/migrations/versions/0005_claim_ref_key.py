"""claim refs compared as a person reads them (claims.claim_ref_key)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00

Back-fills the key of every posted ref with ``rma.domain.rules.claims.claim_ref_key`` (the function
this code ships with: a later change to it needs a migration that computes the column again).
Before this revision ``CB-1`` and ``cb-1`` could both be posted by one account; of such a
group the oldest claim gets the key and the others keep NULL, so the unique index can be
made and a new ``cb-1`` is still found as a duplicate of the oldest. Their refs stay as posted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rma.domain.rules.claims import claim_ref_key

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Claims read and updated at a time (the back-fill never holds the whole table).
CHUNK = 10_000

log = logging.getLogger("rma.adapters.db.migrations")

claims = sa.table("claims", sa.column("claim_id", sa.String), sa.column("account_id", sa.String),
                  sa.column("claim_ref", sa.String), sa.column("submitted_at", sa.DateTime),
                  sa.column("claim_ref_key", sa.Text))


def upgrade() -> None:
    op.add_column("claims", sa.Column("claim_ref_key", sa.Text(), nullable=True))
    conn = op.get_bind()
    _backfill(conn)
    shadowed = _unshadow(conn)
    if shadowed:
        log.info("claim_ref_key: %d claims share their reference with an older claim of their "
                 "account once compared as written alike; only the oldest has the key",
                 shadowed)
    op.create_index("uq_claims_account_id_claim_ref_key", "claims",
                    ["account_id", "claim_ref_key"], unique=True)


def _backfill(conn: sa.Connection) -> None:
    """claim_ref_key of every claim with a ref, a page of claim ids at a time."""
    update = (claims.update().where(claims.c.claim_id == sa.bindparam("id"))
              .values(claim_ref_key=sa.bindparam("key")))
    last = ""
    while True:
        page = conn.execute(sa.select(claims.c.claim_id, claims.c.claim_ref)
                            .where(claims.c.claim_ref.is_not(None), claims.c.claim_id > last)
                            .order_by(claims.c.claim_id).limit(CHUNK)).all()
        if not page:
            return
        conn.execute(update, [{"id": claim_id, "key": claim_ref_key(ref) or None}
                              for claim_id, ref in page])
        last = page[-1][0]


def _unshadow(conn: sa.Connection) -> int:
    """Where claims of one account now share a key, all but the oldest go back to NULL;
    returns how many. Only such groups are read (in a real database: few or none)."""
    shared = (sa.select(claims.c.account_id, claims.c.claim_ref_key)
              .where(claims.c.claim_ref_key.is_not(None))
              .group_by(claims.c.account_id, claims.c.claim_ref_key)
              .having(sa.func.count() > 1).subquery())
    rows = conn.execute(
        sa.select(claims.c.claim_id, claims.c.account_id, claims.c.claim_ref_key)
        .join(shared, sa.and_(shared.c.account_id == claims.c.account_id,
                              shared.c.claim_ref_key == claims.c.claim_ref_key))
        .order_by(claims.c.account_id, claims.c.claim_ref_key, claims.c.submitted_at,
                  claims.c.claim_id)).all()
    newer, group = [], None
    for claim_id, account_id, key in rows:
        if (account_id, key) == group:
            newer.append({"id": claim_id})
        group = (account_id, key)
    for start in range(0, len(newer), CHUNK):
        conn.execute(claims.update().where(claims.c.claim_id == sa.bindparam("id"))
                     .values(claim_ref_key=None), newer[start:start + CHUNK])
    return len(newer)


def downgrade() -> None:
    op.drop_index("uq_claims_account_id_claim_ref_key", table_name="claims")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("claim_ref_key")

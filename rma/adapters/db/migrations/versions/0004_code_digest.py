"""RMA codes looked up by digest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rma.adapters.db.codes import code_digest

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rma_codes", sa.Column("code_digest", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    codes = sa.table("rma_codes", sa.column("code_key", sa.String),
                     sa.column("code_digest", sa.String))
    keys = conn.execute(sa.select(codes.c.code_key)).scalars().all()
    if keys:
        conn.execute(codes.update().where(codes.c.code_key == sa.bindparam("k"))
                     .values(code_digest=sa.bindparam("d")),
                     [{"k": key, "d": code_digest(key)} for key in keys])
    with op.batch_alter_table("rma_codes") as batch:
        batch.alter_column("code_digest", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_rma_codes_code_digest"), ["code_digest"])


def downgrade() -> None:
    with op.batch_alter_table("rma_codes") as batch:
        batch.drop_constraint(op.f("uq_rma_codes_code_digest"), type_="unique")
        batch.drop_column("code_digest")

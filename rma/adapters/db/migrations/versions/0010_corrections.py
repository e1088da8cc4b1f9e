"""batches.corrects_batch_id: a batch corrected in the portal names the batch it corrects;
batches.file: where the file of a batch posted from the portal or the API is kept

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 20:15:00

One new nullable column and its index, no table rebuilt (on SQLite a rebuild of ``batches``
would trip the foreign keys of its claims). Not a foreign key: the batch corrected may be a
checked one (``checks``), which is not in ``batches``. Batches posted before this revision,
and every batch not sent as a correction, keep NULL. ``file`` is NULL for batches posted
before, and for drop-folder and e-mailed batches (their files are found in the archive by
name and date, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_batches_corrects_batch_id"


def upgrade() -> None:
    op.add_column("batches", sa.Column("corrects_batch_id", sa.String(length=32), nullable=True))
    op.create_index(_INDEX, "batches", ["corrects_batch_id"])
    op.add_column("batches", sa.Column("file", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="batches")
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), as 0009's downgrade
    op.drop_column("batches", "file")
    op.drop_column("batches", "corrects_batch_id")

"""mail_messages.content_sha256: a re-delivery under a new Message-ID is answered once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00

Messages taken in before this revision keep NULL: their content was not kept (only the raw
message, in archive/), so nothing can be back-filled, and a NULL matches no new message. A
re-delivery of such a message is still found by its Message-ID or its bytes, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_messages") as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
        batch.create_index("ix_mail_messages_content_sha256", ["content_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("mail_messages") as batch:
        batch.drop_index("ix_mail_messages_content_sha256")
        batch.drop_column("content_sha256")

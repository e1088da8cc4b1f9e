"""accounts.code_locked_at: a code lock-out lasts until `rma codes unlock`

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:00:00

Before this revision the lock-out was derived from the invalid attempts of the last
RMA_LOCKOUT_HOURS, so it lifted itself. Accounts that reached RMA_LOCKOUT_ATTEMPTS invalid
attempts within RMA_LOCKOUT_HOURS since their last unlock are locked here, as of the attempt
that reached the limit (the settings are read from the environment, as `rma db upgrade`
does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rma.config import load_settings

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("code_locked_at", sa.DateTime(timezone=True), nullable=True))
    settings = load_settings()
    locked = _reached_limit(op.get_bind(), settings.lockout_attempts,
                            dt.timedelta(hours=settings.lockout_hours))
    if locked:
        accounts = sa.table("accounts", sa.column("account_id", sa.String),
                            sa.column("code_locked_at", sa.DateTime(timezone=True)))
        op.get_bind().execute(
            accounts.update().where(accounts.c.account_id == sa.bindparam("a"))
            .values(code_locked_at=sa.bindparam("at")),
            [{"a": account, "at": at} for account, at in locked.items()])


def _reached_limit(conn: sa.Connection, limit: int, window: dt.timedelta
                   ) -> dict[str, dt.datetime]:
    """Per account, the first CODE_INVALID attempt since its last unlock that made ``limit``
    attempts within ``window`` (one pass over the attempts, oldest first)."""
    attempts = sa.table("code_attempts", sa.column("account_id", sa.String),
                        sa.column("attempted_at", sa.DateTime(timezone=True)),
                        sa.column("outcome", sa.String))
    accounts = sa.table("accounts", sa.column("account_id", sa.String),
                        sa.column("code_lock_reset_at", sa.DateTime(timezone=True)))
    rows = conn.execute(
        sa.select(attempts.c.account_id, attempts.c.attempted_at)
        .join(accounts, accounts.c.account_id == attempts.c.account_id)
        .where(attempts.c.outcome == "CODE_INVALID",
               sa.or_(accounts.c.code_lock_reset_at.is_(None),
                      attempts.c.attempted_at >= accounts.c.code_lock_reset_at))
        .order_by(attempts.c.account_id, attempts.c.attempted_at)
    )
    locked: dict[str, dt.datetime] = {}
    recent: list[dt.datetime] = []
    current = None
    for account, at in rows:
        if account != current:
            current, recent = account, []
        if account in locked:
            continue
        recent.append(at)
        if len(recent) >= limit and at - recent[-limit] <= window:
            locked[account] = at
    return locked


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("code_locked_at")

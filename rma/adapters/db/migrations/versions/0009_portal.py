"""The portal and the API (SPEC §9): checked batches, users, sign-in links, sessions, API
tokens, rate-limit counters; where a batch's reports were written

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:30:00

Only new tables and one new nullable column: no table is rebuilt (on SQLite a rebuild of
``batches`` would trip the foreign keys of its claims). Batches posted before this revision
keep ``reports`` NULL: their reports are still in reports/, but where is not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)
_ACTIVE = "revoked_at IS NULL"


def upgrade() -> None:
    """The check and identity tables: a statement per table and index, hence its length.

    Kept whole: a migration is a frozen record of what every database upgraded through this
    revision received (see 0001).
    """
    op.add_column("batches", sa.Column("reports", sa.Text(), nullable=True))
    op.create_table(
        "checks",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("checked_at", _WHEN, nullable=False),
        sa.Column("claims_accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claims_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_checks")),
    )
    op.create_index(op.f("ix_checks_account_id"), "checks", ["account_id"])
    op.create_index(op.f("ix_checks_sha256"), "checks", ["sha256"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="partner", nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_signed_in_at", _WHEN, nullable=True),
        sa.CheckConstraint("role IN ('partner', 'staff')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name=op.f("fk_users_account_id_accounts")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_account_id"), "users", ["account_id"])
    for name in ("signin_links", "sessions"):
        op.create_table(
            name,
            sa.Column("token_digest", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("created_at", _WHEN, nullable=False),
            sa.Column("expires_at", _WHEN, nullable=False),
            sa.Column("used_at" if name == "signin_links" else "ended_at", _WHEN, nullable=True),
            sa.ForeignKeyConstraint(["user_id"], ["users.user_id"],
                                    name=op.f(f"fk_{name}_user_id_users")),
            sa.PrimaryKeyConstraint("token_digest", name=op.f(f"pk_{name}")),
        )
        op.create_index(op.f(f"ix_{name}_user_id"), name, ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name=op.f("fk_api_tokens_account_id_accounts")),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_api_tokens_token_digest")),
    )
    op.create_index("uq_api_tokens_account_id_name_active", "api_tokens",
                    ["account_id", "name"], unique=True,
                    postgresql_where=sa.text(_ACTIVE), sqlite_where=sa.text(_ACTIVE))
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("window_start", _WHEN, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    for name in ("rate_limits", "api_tokens", "sessions", "signin_links", "users", "checks"):
        op.drop_table(name)  # their indexes go with them
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a rebuild of batches would trip
    # the foreign keys of its claims
    op.drop_column("batches", "reports")

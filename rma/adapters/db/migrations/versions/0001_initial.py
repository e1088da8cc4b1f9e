"""initial schema: accounts, RMA codes, batches, claims, SN lines, issues, code attempts.

The project types ``UTCDateTime`` / ``ISODate`` (rma/adapters/db/column_types.py) are plain
``DateTime(timezone=True)`` / ``Date`` in the database; the partial unique index
``uq_claim_lines_open_serial`` is what forbids two open claims on one SN.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the first schema: a statement per table and index, hence its length.

    Kept whole rather than split into helpers: a migration is a frozen record of what every
    database upgraded through this revision received, so its body does not change once
    released.
    """
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("partner_level", sa.String(length=16), nullable=True),
        sa.Column("emails", sa.Text(), server_default="", nullable=False),
        sa.Column("country", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("code_lock_reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('distributor', 'installer')", name=op.f("ck_accounts_kind")),
        sa.CheckConstraint(
            "partner_level IN ('none', 'bronze', 'silver', 'gold', 'platinum')",
            name=op.f("ck_accounts_partner_level"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("file_format", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claims_accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claims_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="posted", nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
        sa.UniqueConstraint("sha256", name=op.f("uq_batches_sha256")),
    )
    op.create_table(
        "claim_id_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_claim_id_counters")),
    )
    op.create_table(
        "code_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_attempts")),
    )
    with op.batch_alter_table("code_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_code_attempts_account_id_attempted_at", ["account_id", "attempted_at"], unique=False
        )

    op.create_table(
        "batch_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("claim_ref", sa.String(length=64), nullable=True),
        sa.Column("serial_number", sa.Text(), nullable=True),
        sa.Column("column", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "severity IN ('error', 'warning')", name=op.f("ck_batch_issues_severity")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_batch_issues_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_issues")),
    )
    with op.batch_alter_table("batch_issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_issues_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("claim_ref", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="submitted", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rma_code", sa.String(length=64), nullable=True),
        sa.Column("first_row", sa.Integer(), nullable=True),
        sa.Column("product_model", sa.Text(), nullable=True),
        sa.Column("fault_description", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("installation_date", sa.Date(), nullable=True),
        sa.Column("fault_date", sa.Date(), nullable=True),
        sa.Column("recipient_name", sa.Text(), nullable=True),
        sa.Column("recipient_company", sa.Text(), nullable=True),
        sa.Column("recipient_phone", sa.Text(), nullable=True),
        sa.Column("recipient_email", sa.Text(), nullable=True),
        sa.Column("recipient_address", sa.Text(), nullable=True),
        sa.Column("recipient_city", sa.Text(), nullable=True),
        sa.Column("recipient_postcode", sa.Text(), nullable=True),
        sa.Column("recipient_country", sa.Text(), nullable=True),
        sa.Column("site_address", sa.Text(), nullable=True),
        sa.Column("site_city", sa.Text(), nullable=True),
        sa.Column("site_postcode", sa.Text(), nullable=True),
        sa.Column("site_country", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_claims_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_claims_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
        sa.UniqueConstraint("account_id", "claim_ref", name=op.f("uq_claims_account_id_claim_ref")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "rma_codes",
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("serial_numbers", sa.Text(), server_default="", nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="issued", nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_claim_id", sa.String(length=32), nullable=True),
        sa.Column("recipient_name", sa.Text(), nullable=True),
        sa.Column("recipient_company", sa.Text(), nullable=True),
        sa.Column("recipient_phone", sa.Text(), nullable=True),
        sa.Column("recipient_email", sa.Text(), nullable=True),
        sa.Column("recipient_address", sa.Text(), nullable=True),
        sa.Column("recipient_city", sa.Text(), nullable=True),
        sa.Column("recipient_postcode", sa.Text(), nullable=True),
        sa.Column("recipient_country", sa.Text(), nullable=True),
        sa.Column("site_address", sa.Text(), nullable=True),
        sa.Column("site_city", sa.Text(), nullable=True),
        sa.Column("site_postcode", sa.Text(), nullable=True),
        sa.Column("site_country", sa.Text(), nullable=True),
        sa.Column("product_model", sa.Text(), nullable=True),
        sa.Column("fault_description", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("installation_date", sa.Date(), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('issued', 'redeemed', 'revoked')", name=op.f("ck_rma_codes_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_rma_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("code_key", name=op.f("pk_rma_codes")),
    )
    with op.batch_alter_table("rma_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rma_codes_account_id"), ["account_id"], unique=False)

    op.create_table(
        "claim_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=32), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("sheet_row", sa.Integer(), nullable=True),
        sa.Column("is_open", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_claim_lines_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
    )
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_lines_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            "uq_claim_lines_open_serial",
            ["serial_number"],
            unique=True,
            postgresql_where=sa.text("is_open"),
            sqlite_where=sa.text("is_open"),
        )


def downgrade() -> None:

    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_claim_lines_open_serial",
            postgresql_where=sa.text("is_open"),
            sqlite_where=sa.text("is_open"),
        )
        batch_op.drop_index(batch_op.f("ix_claim_lines_claim_id"))

    op.drop_table("claim_lines")
    with op.batch_alter_table("rma_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rma_codes_account_id"))

    op.drop_table("rma_codes")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_batch_id"))

    op.drop_table("claims")
    with op.batch_alter_table("batch_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_issues_batch_id"))

    op.drop_table("batch_issues")
    with op.batch_alter_table("code_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_code_attempts_account_id_attempted_at")

    op.drop_table("code_attempts")
    op.drop_table("claim_id_counters")
    op.drop_table("batches")
    op.drop_table("accounts")

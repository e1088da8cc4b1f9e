"""Indexes for the portal's pages of an account's claims and batches, a page at a time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:30:00

claims (account_id, claim_id): a page of an account's claims in claim_id order is read from
the index, not sorted from all of them. claim_lines (serial_number): the search by SN finds
closed lines too (uq_claim_lines_open_serial holds only open ones). batches (account_id,
received_at) and checks (account_id, checked_at): the batches page, newest first. Indexes
only: no table rebuilt, no row changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_claims_account_id_claim_id", "claims", ["account_id", "claim_id"]),
    ("ix_claim_lines_serial_number", "claim_lines", ["serial_number"]),
    ("ix_batches_account_id_received_at", "batches", ["account_id", "received_at"]),
    ("ix_checks_account_id_checked_at", "checks", ["account_id", "checked_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

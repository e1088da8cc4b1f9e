"""Migration 0011: the indexes of the portal's claims and batches pages, added over a posted
batch with a claim in place, and dropped again on the way down."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from rma.adapters.db.engine import make_engine, upgrade
from tests.integration.test_db_repository import _downgrade, posted_batch_with_claim

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
ADDED = {("claims", "ix_claims_account_id_claim_id"),
         ("claim_lines", "ix_claim_lines_serial_number"),
         ("batches", "ix_batches_account_id_received_at"),
         ("checks", "ix_checks_account_id_checked_at")}


def _indexes(url: str) -> set[tuple[str, str]]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            inspector = sa.inspect(conn)
            return {(table, index["name"]) for table in ("claims", "claim_lines", "batches",
                                                         "checks")
                    for index in inspector.get_indexes(table)}
    finally:
        eng.dispose()


def test_0011_adds_the_listing_indexes_over_a_posted_batch_and_drops_them(db_url):
    upgrade(db_url, revision="0010")
    assert not ADDED & _indexes(db_url)
    posted_batch_with_claim(db_url, NOW)
    upgrade(db_url)
    assert _indexes(db_url) >= ADDED
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(sa.text("SELECT claim_id FROM claims")).scalars().all() == [
                "RMA-2026-000001"]
    finally:
        eng.dispose()
    _downgrade(db_url, "0010")
    assert not ADDED & _indexes(db_url)
    upgrade(db_url)
    assert _indexes(db_url) >= ADDED

"""Migration 0010: ``batches.corrects_batch_id`` (SPEC §9, a batch corrected in the portal
names the one it corrects) and ``batches.file`` (where a posted upload's file is kept), added
with a claim of a posted batch in place (a rebuild of batches would trip its foreign key on
SQLite), NULL for the batches before, and down again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from tests.integration.test_db_repository import _downgrade

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _columns(url: str) -> set[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns("batches")}
    finally:
        eng.dispose()


def test_0010_adds_corrects_batch_id_null_for_earlier_batches_and_downgrades(db_url):
    upgrade(db_url, revision="0009")
    assert "corrects_batch_id" not in _columns(db_url)
    old = sa.table("batches", *(sa.column(c) for c in (
        "batch_id", "sha256", "source", "claims_accepted", "claims_rejected", "status")),
        sa.column("received_at", sa.DateTime(timezone=True)))
    eng = make_engine(db_url)
    with posting_transaction(eng) as conn:
        conn.execute(sa.insert(old), [{"batch_id": "B-1", "sha256": "a" * 64, "source": "x",
                                       "claims_accepted": 0, "claims_rejected": 0,
                                       "status": "posted", "received_at": NOW}])
        conn.execute(sa.text("INSERT INTO accounts (account_id, name, kind, emails, active, "
                             "updated_at) VALUES ('D-1', 'D', 'distributor', '', true, :at)"),
                     {"at": NOW})
        conn.execute(sa.text("INSERT INTO claims (claim_id, batch_id, account_id, status, "
                             "submitted_at) VALUES ('RMA-2026-000001', 'B-1', 'D-1', "
                             "'submitted', :at)"), {"at": NOW})
    eng.dispose()
    upgrade(db_url)
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(sa.select(t.batches.c.batch_id, t.batches.c.corrects_batch_id,
                                          t.batches.c.file)).all() == [("B-1", None, None)]
    finally:
        eng.dispose()
    _downgrade(db_url, "0009")
    assert not {"corrects_batch_id", "file"} & _columns(db_url)
    upgrade(db_url)
    assert {"corrects_batch_id", "file"} <= _columns(db_url)

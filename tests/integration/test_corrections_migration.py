"""Migration 0010: ``batches.corrects_batch_id`` (SPEC §9, a batch corrected in the portal
names the one it corrects) and ``batches.file`` (where a posted upload's file is kept), added
with a claim of a posted batch in place (a rebuild of batches would trip its foreign key on
SQLite), NULL for the batches before, and down again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, upgrade
from tests.integration.test_db_repository import _downgrade, posted_batch_with_claim

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
    posted_batch_with_claim(db_url, NOW)
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

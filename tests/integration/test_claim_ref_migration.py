"""Revision 0005 on real databases: claims posted before it get their claim_ref_key, so a new
``cb-1`` is a duplicate of a ``CB-1`` posted long ago; where an account posted ``CB-1`` and
``cb-1`` while that was allowed, the oldest keeps the key and the upgrade still succeeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import PostingConflict

START = datetime(2025, 1, 1, tzinfo=UTC)
#: More claims than the back-fill reads in one page (its CHUNK), so paging is exercised too.
MANY = 10_005


def _old_schema_with_claims(url: str) -> None:
    """A database at revision 0004 holding claims as the code of that time posted them."""
    upgrade(url, revision="0004")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            meta = sa.MetaData()
            accounts, batches, claims = (sa.Table(name, meta, autoload_with=conn)
                                         for name in ("accounts", "batches", "claims"))
            conn.execute(sa.insert(accounts), [
                {"account_id": a, "name": a, "kind": "distributor", "emails": "",
                 "active": True, "updated_at": START} for a in ("D-001", "D-002")])
            conn.execute(sa.insert(batches), [{
                "batch_id": "B-1", "sha256": "a" * 64, "source": "x", "received_at": START,
                "claims_accepted": 0, "claims_rejected": 0, "status": "posted"}])
            rows = [
                ("RMA-2025-000001", "D-001", "cb-1", 0),  # the oldest of its spellings
                ("RMA-2025-000002", "D-001", "CB-1", 5),
                ("RMA-2025-000003", "D-001", "\uff23\uff22\u20101", 9),
                ("RMA-2025-000004", "D-001", "\uff38\uff39-9", 1),
                ("RMA-2025-000005", "D-001", None, 1),
                ("RMA-2025-000006", "D-002", "CB-1", 1),  # another account's own CB-1
                *((f"RMA-2025-{n:06d}", "D-002", f"bulk-{n}", 2)
                  for n in range(7, MANY + 7)),
            ]
            conn.execute(sa.insert(claims), [
                {"claim_id": claim_id, "batch_id": "B-1", "account_id": account,
                 "claim_ref": ref, "status": "submitted",
                 "submitted_at": START + timedelta(days=days)}
                for claim_id, account, ref, days in rows])
    finally:
        engine.dispose()


def _keys(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT claim_id, claim_ref_key FROM claims")).all())
    finally:
        engine.dispose()


def test_the_upgrade_back_fills_the_key_of_every_posted_claim_ref(db_url):
    _old_schema_with_claims(db_url)
    upgrade(db_url)
    keys = _keys(db_url)
    assert {claim_id: keys[claim_id] for claim_id in sorted(keys)[:6]} == {
        "RMA-2025-000001": "CB-1",
        "RMA-2025-000002": None,  # posted after cb-1: shadowed, its ref kept as posted
        "RMA-2025-000003": None,
        "RMA-2025-000004": "XY-9",
        "RMA-2025-000005": None,
        "RMA-2025-000006": "CB-1",
    }
    assert keys[f"RMA-2025-{MANY + 6:06d}"] == f"BULK-{MANY + 6}"
    assert sum(key is not None for key in keys.values()) == MANY + 3


def test_after_the_upgrade_old_refs_are_found_and_guarded_in_any_spelling(db_url):
    _old_schema_with_claims(db_url)
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with posting_transaction(engine) as conn:
            found = ClaimsRepository(conn).posted_claim_refs(["D-001"], ["CB-1", "XY-9"])
        assert sorted(found["claim_id"]) == ["RMA-2025-000001", "RMA-2025-000004"]
        with pytest.raises(PostingConflict), posting_transaction(engine) as conn:
            ClaimsRepository(conn).insert_claims([{
                "claim_id": "RMA-2026-000001", "batch_id": "B-1", "account_id": "D-001",
                "claim_ref": "xy-9", "status": "submitted", "submitted_at": START}])
    finally:
        engine.dispose()

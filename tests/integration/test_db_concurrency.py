"""Two postings at once (SPEC §5): the database, not only Python, prevents double posting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import PostingConflict

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOLD = 1.0  # seconds the first transaction keeps its lock


@pytest.fixture
def pg_engine(pg_url) -> Iterator[sa.Engine]:
    upgrade(pg_url)
    eng = make_engine(pg_url)
    seed(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url) -> Iterator[sa.Engine]:
    upgrade(sqlite_url)
    eng = make_engine(sqlite_url)
    seed(eng)
    yield eng
    eng.dispose()


def seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(t.accounts), {"account_id": "I-001", "name": "Inst",
                                             "kind": "installer", "partner_level": "silver",
                                             "emails": "", "active": True, "updated_at": NOW})
        conn.execute(sa.insert(t.rma_codes), {"code_key": "K7QXP3MZ", "code": "K7QX-P3MZ",
                                              "account_id": "I-001", "issued_at": NOW,
                                              "expires_at": NOW + timedelta(days=90)})


def post_batch(conn: sa.Connection, n: int, serial: str = "SN000001",
               redeem: bool = True) -> None:
    """A minimal posting: batch, one claim, one SN line, the code redemption."""
    repo = ClaimsRepository(conn)
    claim_id = repo.allocate_claim_ids(2026, 1)[0]
    repo.insert_batch({"batch_id": f"B-{n}", "sha256": f"{n}" * 64, "source": f"file{n}",
                       "account_id": "I-001", "received_at": NOW, "claims_accepted": 1,
                       "claims_rejected": 0, "status": "posted"})
    repo.insert_claims([{"claim_id": claim_id, "batch_id": f"B-{n}", "account_id": "I-001",
                         "claim_ref": None, "status": "submitted", "submitted_at": NOW,
                         "rma_code": "K7QXP3MZ" if redeem else None}])
    repo.insert_claim_lines([{"claim_id": claim_id, "serial_number": serial, "sheet_row": 2}])
    if redeem:
        repo.redeem_codes([("K7QXP3MZ", claim_id)], NOW)


def run_two(first: Callable[[], object], second: Callable[[], object]) -> list[object]:
    """Start ``first``; once it holds its lock (it sets ``started``) start ``second``."""
    results: list[object] = [None, None]

    def wrap(i: int, fn: Callable[[], object]) -> None:
        try:
            results[i] = fn()
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    a = threading.Thread(target=wrap, args=(0, first))
    b = threading.Thread(target=wrap, args=(1, second))
    a.start()
    started.wait(10)
    b.start()
    a.join(30)
    b.join(30)
    return results


started = threading.Event()


@pytest.fixture(autouse=True)
def _reset_event() -> None:
    started.clear()


def timed_posting(engine: sa.Engine, n: int, hold: float, stamps: dict) -> str:
    """Post one batch inside posting_transaction, recording when the lock was held."""
    with posting_transaction(engine) as conn:
        stamps[f"acquired{n}"] = time.monotonic()
        started.set()
        post_batch(conn, n, serial=f"SN00000{n}")
        time.sleep(hold)
        stamps[f"before_commit{n}"] = time.monotonic()
    stamps[f"committed{n}"] = time.monotonic()
    return "posted"


def count_redemptions(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(sa.select(t.rma_codes.c.status, t.rma_codes.c.redeemed_claim_id)
                            ).all()


def assert_serialised(stamps: dict) -> None:
    # The second transaction only got its lock after the first had committed.
    assert stamps["acquired2"] >= stamps["before_commit1"]
    assert stamps["acquired2"] - stamps["acquired1"] >= HOLD * 0.9


@pytest.mark.postgres
def test_pg_same_code_two_postings_exactly_one_redemption(pg_engine):
    stamps: dict = {}
    results = run_two(lambda: timed_posting(pg_engine, 1, HOLD, stamps),
                      lambda: timed_posting(pg_engine, 2, 0.0, stamps))
    assert results[0] == "posted"
    assert isinstance(results[1], PostingConflict)
    assert_serialised(stamps)
    assert count_redemptions(pg_engine) == [("redeemed", "RMA-2026-000001")]
    with pg_engine.connect() as conn:  # the loser left no trace
        assert conn.execute(sa.select(t.batches.c.batch_id)).scalars().all() == ["B-1"]


@pytest.mark.postgres
def test_pg_advisory_lock_serialises_postings(pg_engine):
    def no_code(n: int, hold: float, stamps: dict) -> None:
        with posting_transaction(pg_engine) as conn:
            stamps[f"acquired{n}"] = time.monotonic()
            started.set()
            post_batch(conn, n, serial=f"SN00000{n}", redeem=False)
            time.sleep(hold)
            stamps[f"before_commit{n}"] = time.monotonic()

    stamps: dict = {}
    results = run_two(lambda: no_code(1, HOLD, stamps), lambda: no_code(2, 0.0, stamps))
    assert results == [None, None]  # both posted: disjoint work, one after the other
    assert_serialised(stamps)
    with pg_engine.connect() as conn:
        ids = conn.execute(sa.select(t.claims.c.claim_id).order_by(t.claims.c.claim_id))
        assert ids.scalars().all() == ["RMA-2026-000001", "RMA-2026-000002"]


@pytest.mark.postgres
def test_pg_without_advisory_lock_the_rows_and_constraints_still_decide(pg_engine):
    """Even a writer that skips posting_transaction cannot redeem twice or open an SN twice."""

    def plain(n: int, hold: float) -> str:
        with pg_engine.begin() as conn:
            post_batch(conn, n, serial="SN000001")
            started.set()
            time.sleep(hold)
        return "posted"

    results = run_two(lambda: plain(1, HOLD), lambda: plain(2, 0.0))
    assert results[0] == "posted"
    assert isinstance(results[1], PostingConflict)
    assert count_redemptions(pg_engine) == [("redeemed", "RMA-2026-000001")]
    with pg_engine.connect() as conn:
        lines = conn.execute(sa.select(t.claim_lines.c.serial_number)).scalars().all()
    assert lines == ["SN000001"]


def test_sqlite_begin_immediate_serialises_postings(sqlite_engine):
    stamps: dict = {}
    results = run_two(lambda: timed_posting(sqlite_engine, 1, HOLD, stamps),
                      lambda: timed_posting(sqlite_engine, 2, 0.0, stamps))
    assert results[0] == "posted"
    assert isinstance(results[1], PostingConflict)
    assert_serialised(stamps)
    assert count_redemptions(sqlite_engine) == [("redeemed", "RMA-2026-000001")]

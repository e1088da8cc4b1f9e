"""Code guessing (SPEC §4): five CODE_INVALID attempts within RMA_LOCKOUT_HOURS lock the
account out of RMA codes, and it stays locked however much time passes, until Customer Service
runs `rma codes unlock`; on SQLite and PostgreSQL, also with two postings at once, and for
accounts that reached the limit before the lock was stored (migration 0007)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.reference_codes import unlock_codes
from rma.adapters.db.repository import ClaimsRepository
from rma.config import Settings
from rma.domain.vocabulary.results import BatchResult
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests.e2e.conftest import seed_database
from tests.factories import valid_claim, write_csv

ACCOUNT = "I-SILVER"  # a silver installer: every claim needs a code
VALID = "SILV-0007"
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def engine(db_url: str, tmp_path: Path):
    seed_database(db_url, tmp_path)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def ingest(engine: sa.Engine, folder: Path, name: str, codes: list[str],
           now: dt.datetime) -> BatchResult:
    path = write_csv(folder / name, [valid_claim(rma_code=code) for code in codes])
    return ingest_file(path, Origin(ACCOUNT, str(path)), engine, Settings(),
                       folder / "reports", now=now)


def outcomes(result: BatchResult) -> list[str]:
    return [r["code"] for r in result.rejections if r["column"] == "rma_code"]


def locked_at(engine: sa.Engine, account: str = ACCOUNT) -> dt.datetime | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(t.accounts.c.code_locked_at)
                            .where(t.accounts.c.account_id == account)).scalar_one()


def invalid_attempts_stored(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.code_attempts).where(
            t.code_attempts.c.outcome == "CODE_INVALID")).scalar_one()


def test_five_invalid_codes_lock_the_account_until_unlock_however_much_time_passes(
        engine, tmp_path):
    guesses = ingest(engine, tmp_path, "guesses.csv", [f"GUES-{i:04d}" for i in range(5)], T0)
    assert outcomes(guesses) == ["CODE_INVALID"] * 5
    assert locked_at(engine) == T0  # stored with the batch that reached the limit

    later = ingest(engine, tmp_path, "later.csv", [VALID], T0 + dt.timedelta(hours=48))
    assert outcomes(later) == ["CODE_LOCKED"]  # the attempts are 48 h old: still locked
    assert later.claims_accepted == 0
    [refusal] = later.rejections
    assert "until Customer Service lifts the lock" in refusal["message"]
    assert "24 hours" not in refusal["message"]

    with posting_transaction(engine) as conn:
        unlock_codes(conn, ACCOUNT, now=T0 + dt.timedelta(hours=49))
    assert locked_at(engine) is None
    after = ingest(engine, tmp_path, "after.csv", [VALID], T0 + dt.timedelta(hours=50))
    assert after.claims_accepted == 1 and after.rejections == []


def test_the_window_only_counts_attempts_four_a_day_never_lock(engine, tmp_path):
    first = ingest(engine, tmp_path, "day1.csv", [f"DAYA-{i:04d}" for i in range(4)], T0)
    second = ingest(engine, tmp_path, "day2.csv", [f"DAYB-{i:04d}" for i in range(4)],
                    T0 + dt.timedelta(hours=25))
    assert outcomes(first) == outcomes(second) == ["CODE_INVALID"] * 4
    assert locked_at(engine) is None
    good = ingest(engine, tmp_path, "good.csv", [VALID], T0 + dt.timedelta(hours=26))
    assert good.claims_accepted == 1


def test_after_an_unlock_the_earlier_attempts_no_longer_count(engine, tmp_path):
    ingest(engine, tmp_path, "guesses.csv", [f"GUES-{i:04d}" for i in range(5)], T0)
    with posting_transaction(engine) as conn:
        unlock_codes(conn, ACCOUNT, now=T0 + dt.timedelta(minutes=1))
    one_more = ingest(engine, tmp_path, "one-more.csv", ["GUES-9999", VALID],
                      T0 + dt.timedelta(minutes=2))
    assert outcomes(one_more) == ["CODE_INVALID"]
    assert one_more.claims_accepted == 1
    assert locked_at(engine) is None


def test_a_lock_reached_by_two_postings_at_once_is_stored(engine, tmp_path, monkeypatch):
    """Three guesses each in two batches posted at the same time: the second posting must see
    the first's attempts (postings are serialised), so five count and the account locks. Each
    posting dawdles after reading the attempts, to give a race every chance to show."""
    read = ClaimsRepository.invalid_attempts

    def slow_read(self, account_ids, since):
        counts = read(self, account_ids, since)
        time.sleep(1.0)
        return counts

    monkeypatch.setattr(ClaimsRepository, "invalid_attempts", slow_read)
    results: dict[str, BatchResult] = {}

    def post(name: str) -> None:
        codes = [f"{name[:4].upper()}-{i:04d}" for i in range(3)]
        results[name] = ingest(engine, tmp_path, f"{name}.csv", codes, T0)

    threads = [threading.Thread(target=post, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes(results["left"]) + outcomes(results["right"])) == \
        ["CODE_INVALID"] * 5 + ["CODE_LOCKED"]
    assert invalid_attempts_stored(engine) == 5
    assert locked_at(engine) == T0


def test_a_posting_that_rolls_back_leaves_neither_attempts_nor_a_lock(engine, tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the report folder should be\n", encoding="utf-8")
    from rma.errors import ReportNotWritten

    with pytest.raises(ReportNotWritten):
        ingest(engine, tmp_path, "guesses.csv", [f"GUES-{i:04d}" for i in range(5)], T0)
    assert locked_at(engine) is None
    assert invalid_attempts_stored(engine) == 0


def test_the_migration_locks_accounts_that_had_reached_the_limit(db_url):
    """Upgrading from 0006: an account with five invalid attempts within 24 h since its last
    unlock is locked (as of the fifth), whatever their age; the others are not."""
    upgrade(db_url, revision="0006")
    engine = make_engine(db_url)
    day = dt.timedelta(days=1)
    start = T0 - 10 * day
    accounts = sa.table("accounts", sa.column("account_id"), sa.column("name"),
                        sa.column("kind"), sa.column("emails"), sa.column("active"),
                        sa.column("updated_at", sa.DateTime(timezone=True)),
                        sa.column("code_lock_reset_at", sa.DateTime(timezone=True)))
    attempts = sa.table("code_attempts", sa.column("account_id"), sa.column("code_key"),
                        sa.column("outcome"),
                        sa.column("attempted_at", sa.DateTime(timezone=True)))
    resets = {"A-RESET": start + dt.timedelta(hours=2)}
    tries = {
        "A-BURST": [start + dt.timedelta(minutes=m) for m in (0, 10, 20, 30, 40)],
        "A-SPREAD": [start + n * day for n in range(5)],  # one a day
        "A-RESET": [start + dt.timedelta(minutes=m) for m in (0, 10, 20, 30, 40)],
        "A-WINDOW": [start, start + 3 * day, *(start + 3 * day + dt.timedelta(hours=h)
                                               for h in (1, 2, 3, 23))],
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(accounts), [
            {"account_id": a, "name": a, "kind": "installer", "emails": "", "active": True,
             "updated_at": start, "code_lock_reset_at": resets.get(a)} for a in tries])
        conn.execute(sa.insert(attempts), [
            {"account_id": a, "code_key": f"X{n}", "outcome": "CODE_INVALID", "attempted_at": at}
            for a, times in tries.items() for n, at in enumerate(times)])
        conn.execute(sa.insert(attempts), [
            {"account_id": "A-SPREAD", "code_key": "E", "outcome": "CODE_EXPIRED",
             "attempted_at": start + dt.timedelta(minutes=m)} for m in range(5)])
    upgrade(db_url)
    with engine.connect() as conn:
        locks = dict(conn.execute(sa.select(t.accounts.c.account_id,
                                            t.accounts.c.code_locked_at)).all())
    engine.dispose()
    assert locks == {"A-BURST": tries["A-BURST"][4], "A-SPREAD": None, "A-RESET": None,
                     "A-WINDOW": tries["A-WINDOW"][5]}

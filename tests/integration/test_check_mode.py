"""A check (SPEC §9, ``check=True``): the whole decision against the database as it is and the
reports, recorded as checked; nothing posted, no code redeemed, no DUPLICATE_BATCH for the
content later; its CODE_INVALID attempts count towards the lock-out. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.checks import checks, find_check
from rma.adapters.db.engine import make_engine
from rma.config import Settings
from rma.domain.vocabulary.results import BatchResult
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests.e2e.conftest import seed_database
from tests.factories import valid_claim, write_csv

INSTALLER = "I-SILVER"  # every claim of a silver installer needs a code
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def engine(db_url: str, tmp_path: Path):
    seed_database(db_url, tmp_path)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def run(engine: sa.Engine, path: Path, account: str, *, check: bool,
        now: dt.datetime = NOW) -> BatchResult:
    return ingest_file(path, Origin(account, str(path)), engine, Settings(),
                       path.parent / "reports", now=now, check=check)


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def code_status(engine: sa.Engine, code_key: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(t.rma_codes.c.status)
                            .where(t.rma_codes.c.code_key == code_key)).scalar_one()


def test_a_check_decides_and_reports_but_posts_nothing_and_redeems_no_code(engine, tmp_path):
    path = write_csv(tmp_path / "claims.csv", [
        valid_claim(rma_code="SILV-0006"), valid_claim(rma_code="NOPE-9999")])
    result = run(engine, path, INSTALLER, check=True)

    assert result.status == "checked"
    assert (result.claims_accepted, result.claims_rejected) == (1, 1)
    assert result.claim_ids == []
    assert [r["code"] for r in result.rejections] == ["CODE_INVALID"]
    assert Path(result.reports["xlsx"]).parent == path.parent / "reports" / "checks" \
        / str(result.batch_id)
    assert "(checked only: nothing was posted)" in result.summary_markdown
    assert count(engine, t.batches) == count(engine, t.claims) == 0
    assert count(engine, t.claim_lines) == count(engine, t.batch_issues) == 0
    assert code_status(engine, "SILV0006") == "issued"
    with engine.connect() as conn:
        record = find_check(conn, str(result.batch_id))
    assert record is not None and record["document"] == result.to_json()
    assert record["account_id"] == INSTALLER and record["sha256"]


def test_a_check_then_the_real_ingest_posts_and_the_check_made_no_duplicate(engine, tmp_path):
    path = write_csv(tmp_path / "claims.csv", [valid_claim(rma_code="SILV-0006")])
    first = run(engine, path, INSTALLER, check=True)
    again = run(engine, path, INSTALLER, check=True)  # the same content, checked twice
    posted = run(engine, path, INSTALLER, check=False)

    assert first.status == again.status == "checked" and first.batch_id != again.batch_id
    assert posted.status == "posted" and posted.error is None
    assert posted.claims_accepted == 1 and len(posted.claim_ids) == 1
    assert code_status(engine, "SILV0006") == "redeemed"
    assert count(engine, checks) == 2 and count(engine, t.batches) == 1
    # once posted, a check of the same content says what a posting would: a duplicate
    late = run(engine, path, INSTALLER, check=True)
    assert late.status == "duplicate" and late.batch_id == posted.batch_id
    assert late.error is not None and late.error["code"] == "DUPLICATE_BATCH"


def test_a_check_sees_the_database_as_it_is(engine, tmp_path):
    """An SN already in an open claim and a used code are what a check reports too."""
    claim = valid_claim(rma_code="SILV-0006")
    run(engine, write_csv(tmp_path / "posted.csv", [claim]), INSTALLER, check=False)
    checked = run(engine, write_csv(tmp_path / "again.csv", [
        {**claim, "claim_ref": "OTHER-REF"}]), INSTALLER, check=True)
    assert checked.status == "checked" and checked.claims_rejected == 1
    assert {r["code"] for r in checked.rejections} == {"CODE_USED", "SN_OPEN_CLAIM"}


def test_invalid_codes_given_in_checks_count_towards_the_lock_out(engine, tmp_path):
    """A check is no free code oracle: five invalid codes in checks lock the account, and the
    real ingest of a valid code is then CODE_LOCKED."""
    for n in range(5):
        result = run(engine, write_csv(tmp_path / f"guess{n}.csv",
                                       [valid_claim(rma_code=f"GUES-{n:04d}")]),
                     INSTALLER, check=True)
        assert [r["code"] for r in result.rejections] == ["CODE_INVALID"]
    with engine.connect() as conn:
        locked = conn.execute(sa.select(t.accounts.c.code_locked_at)
                              .where(t.accounts.c.account_id == INSTALLER)).scalar_one()
    assert locked == NOW
    posted = run(engine, write_csv(tmp_path / "real.csv", [valid_claim(rma_code="SILV-0007")]),
                 INSTALLER, check=False)
    assert [r["code"] for r in posted.rejections] == ["CODE_LOCKED"]
    assert code_status(engine, "SILV0007") == "issued"

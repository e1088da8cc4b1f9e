"""DataFrames handed to the repository's ``insert_*`` (what posting does) store exactly what
the same rows as dicts store, and keep the constraint behaviour (both dialects)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.bulk import COPY_THRESHOLD, columns, records
from rma.adapters.db.engine import make_engine, upgrade
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import PostingConflict
from tests.integration.test_db_repository import NOW, add_accounts, add_batch, claim_row


@pytest.fixture
def engine(db_url) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def claims_frame(n: int) -> pd.DataFrame:
    frame = pd.DataFrame([claim_row(f"RMA-2026-{i:06d}", f"C-{i}") for i in range(1, n + 1)])
    frame["claim_ref"] = frame["claim_ref"].astype("str")
    frame.loc[2, "claim_ref"] = None
    frame["submitted_at"] = pd.Series(NOW, index=frame.index).astype("datetime64[us, UTC]")
    frame["installation_date"] = pd.Series("2024-05-01", index=frame.index, dtype="str")
    frame.loc[1, "installation_date"] = None
    frame["fault_date"] = pd.NaT
    frame.loc[0, "fault_date"] = pd.Timestamp("2025-01-31")
    frame["notes"] = pd.Series("x", index=frame.index, dtype=object)
    frame.loc[0, "notes"] = float("nan")
    frame.loc[1, "notes"] = "line one\nline\ttwo \\ back"
    frame["first_row"] = np.arange(2, n + 2, dtype=np.int64)
    return frame


def lines_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "claim_id": [f"RMA-2026-{i:06d}" for i in range(1, n + 1)],
        "serial_number": pd.Series([f"SN{i:06d}" for i in range(1, n + 1)], dtype="str"),
        "sheet_row": np.arange(2, n + 2, dtype=np.int64),
        "is_open": True,
    })


def issues_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "batch_id": "B-1", "sheet": "Claims", "row": np.arange(2, n + 2, dtype=np.int64),
        "claim_ref": pd.Series([None if i % 3 else f"C-{i}" for i in range(n)], dtype="str"),
        "serial_number": None, "column": "fault_date", "code": "DATE_INVALID",
        "message": "bad", "value": [None if i % 2 else str(i) for i in range(n)],
        "severity": "error",
    })


def stored(conn: sa.Connection) -> dict[str, list[tuple]]:
    """Every row as the driver hands it back (SQLite: the stored text), ids left out."""
    out = {}
    for table, order in [(t.claims, "claim_id"), (t.claim_lines, "serial_number"),
                         (t.batch_issues, "row"), (t.code_attempts, "code_key")]:
        names = [c.name for c in table.c if c.name != "id"]
        cols = ", ".join(f'"{n}"' for n in names)
        out[table.name] = conn.exec_driver_sql(
            f"SELECT {cols} FROM {table.name} ORDER BY {order}").all()
    return out


def test_columns_hold_what_records_holds():
    frame = claims_frame(5)
    frame["flag"] = [True, False, True, True, False]
    frame["maybe"] = pd.array([1, None, 3, 4, 5], dtype="Int64")
    frame["mixed"] = pd.Series([np.int64(3), np.float64(1.5), None, pd.NaT, "x"], dtype=object)
    by_column = list(zip(*columns(frame).values(), strict=True))
    by_row = [tuple(r.values()) for r in records(frame)]
    assert [[type(v) for v in r] for r in by_column] == [[type(v) for v in r] for r in by_row]
    assert by_column == by_row


@pytest.mark.parametrize("n", [4, COPY_THRESHOLD + 5])
def test_frames_store_exactly_what_dicts_store(engine, n):
    attempts = pd.DataFrame({"account_id": "D-001",
                             "code_key": [f"K{i:04d}" for i in range(n)],
                             "outcome": "CODE_INVALID"}).assign(attempted_at=NOW)
    results = []
    for as_frames in (False, True):
        with engine.connect() as conn, conn.begin() as tx:
            add_accounts(conn)
            repo = ClaimsRepository(conn)
            add_batch(repo)
            frames = [claims_frame(n), lines_frame(n), issues_frame(n), attempts]
            if not as_frames:
                frames = [records(f) for f in frames]
            repo.insert_claims(frames[0])
            repo.insert_claim_lines(frames[1])
            repo.insert_issues(frames[2])
            repo.insert_attempts(frames[3])
            results.append((stored(conn), repo.list_claims()))
            tx.rollback()
    assert results[0] == results[1]
    rows, listed = results[1]
    assert len(rows["claims"]) == len(listed) == n
    assert listed[0]["fault_date"] == "2025-01-31" and listed[0]["notes"] is None
    assert listed[1]["installation_date"] is None
    assert listed[1]["notes"] == "line one\nline\ttwo \\ back"
    assert listed[2]["claim_ref"] is None and listed[3]["installation_date"] == "2024-05-01"
    assert listed[0]["submitted_at"] == "2026-03-10T12:00:00+00:00"
    assert listed[-1]["serial_numbers"] == [f"SN{n:06d}"]
    if engine.dialect.name == "sqlite":  # the storage format of SQLAlchemy's types
        claim = dict(zip([c.name for c in t.claims.c], rows["claims"][0], strict=True))
        assert claim["submitted_at"] == "2026-03-10 12:00:00.000000"
        assert claim["installation_date"] == "2024-05-01"
        assert rows["claim_lines"][0][-1] == 1


@pytest.mark.parametrize("n", [3, COPY_THRESHOLD + 5])
def test_frame_inserts_keep_conflicts_and_foreign_keys(engine, n):
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims(claims_frame(n))
        repo.insert_claim_lines(lines_frame(n))
    taken = lines_frame(n).assign(serial_number=[f"SX{i:06d}" for i in range(n)])
    taken.loc[n - 1, "serial_number"] = "SN000001"  # already open
    with pytest.raises(PostingConflict), engine.begin() as conn:
        ClaimsRepository(conn).insert_claim_lines(taken)
    same_ref = claims_frame(n).assign(claim_id=[f"RMA-2027-{i:06d}" for i in range(n)])
    with pytest.raises(PostingConflict), engine.begin() as conn:
        ClaimsRepository(conn).insert_claims(same_ref)
    bad_fk = lines_frame(n).assign(claim_id="RMA-2099-000001",
                                   serial_number=[f"SY{i:06d}" for i in range(n)])
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        ClaimsRepository(conn).insert_claim_lines(bad_fk)
    assert not isinstance(info.value, PostingConflict)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t.claim_lines)).scalar()
    assert total == n


def test_a_bad_date_in_a_frame_fails_as_in_sqlalchemy(sqlite_url):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        for rows in (records(claims_frame(4)), claims_frame(4)):
            if isinstance(rows, pd.DataFrame):
                rows.loc[1, "installation_date"] = "2024-13-45"
            else:
                rows[1]["installation_date"] = "2024-13-45"
            with pytest.raises(sa.exc.StatementError, match="month must be in 1..12"), \
                    engine.begin() as conn:
                add_accounts(conn)
                repo = ClaimsRepository(conn)
                add_batch(repo)
                repo.insert_claims(rows)
    finally:
        engine.dispose()

"""Schema, migrations and the repository on real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rma.adapters.db import tables as t
from rma.adapters.db.bulk import COPY_THRESHOLD, is_conflict, records
from rma.adapters.db.engine import (
    ensure_ready,
    head_revision,
    make_engine,
    normalise_url,
    posting_transaction,
    upgrade,
)
from rma.adapters.db.mail_records import MailRecords
from rma.adapters.db.repository import ClaimsRepository
from rma.domain.vocabulary.columns import CANONICAL, CS_FIELDS
from rma.errors import DatabaseNotReady, PostingConflict

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def add_accounts(conn: sa.Connection) -> None:
    conn.execute(sa.insert(t.accounts), [
        {"account_id": "D-001", "name": "Dist", "kind": "distributor", "partner_level": None,
         "emails": "ops@dist.example;claims_desk@dist.example", "country": "DE",
         "active": True, "updated_at": NOW},
        {"account_id": "I-001", "name": "Inst", "kind": "installer", "partner_level": "silver",
         "emails": "me@inst.example", "country": "AT", "active": True, "updated_at": NOW},
        {"account_id": "I-002", "name": "Gone", "kind": "installer", "partner_level": "gold",
         "emails": "old@inst.example", "country": "AT", "active": False, "updated_at": NOW},
    ])


def add_batch(repo: ClaimsRepository, batch_id: str = "B-1", sha: str = "a" * 64) -> None:
    repo.insert_batch({"batch_id": batch_id, "sha256": sha, "source": "inbox/D-001/x.xlsx",
                       "account_id": "D-001", "sheet": "Claims", "file_format": "xlsx",
                       "received_at": NOW, "claims_accepted": 0, "claims_rejected": 0,
                       "status": "posted"})


def claim_row(claim_id: str, ref: str | None, account: str = "D-001",
              batch: str = "B-1") -> dict:
    return {"claim_id": claim_id, "batch_id": batch, "account_id": account, "claim_ref": ref,
            "status": "submitted", "submitted_at": NOW, "rma_code": None, "first_row": 2,
            "fault_description": "it broke", "installation_date": date(2024, 5, 1),
            "recipient_phone": "+4930123456"}


# ------------------------------------------------------------------ migrations


def test_upgrade_creates_schema_without_autogenerate_diff(engine):
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "render_as_batch": True})
        diff = compare_metadata(ctx, t.metadata)
    assert tables == set(t.metadata.tables) | {"alembic_version"}
    assert diff == []


def test_autogenerate_would_notice_a_missing_index(engine):
    """The no-diff test above is meaningful: a dropped partial index is detected."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX uq_claim_lines_open_serial")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert [d[0] for d in diff] == ["add_index"]


def test_ensure_ready_before_and_after_upgrade_and_upgrade_twice(db_url):
    eng = make_engine(db_url)
    try:
        # SQLite: no file yet (tests/faults/test_cli_database.py); PostgreSQL: no tables
        with pytest.raises(DatabaseNotReady,
                           match="(has no tables yet|no claims database at .*); run `rma db "
                                 "upgrade`"):
            ensure_ready(eng)
        upgrade(db_url)
        ensure_ready(eng)
        upgrade(db_url)  # a no-op
        ensure_ready(eng)
        with eng.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert version == [(head_revision(),)]
    finally:
        eng.dispose()


def test_upgrade_is_quiet(db_url, capfd):
    upgrade(db_url)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_normalise_url():
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_engine_pragmas(sqlite_url):
    upgrade(sqlite_url)  # only migrations create the file
    eng = make_engine(sqlite_url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    eng.dispose()


# ------------------------------------------------------------------ types


def test_timestamps_come_back_aware_utc(engine):
    cet = timezone(timedelta(hours=1))
    with engine.begin() as conn:
        add_accounts(conn)
        conn.execute(sa.update(t.accounts).where(t.accounts.c.account_id == "D-001")
                     .values(code_lock_reset_at=datetime(2026, 1, 1, 13, 0, tzinfo=cet)))
        value = conn.execute(sa.select(t.accounts.c.code_lock_reset_at)
                             .where(t.accounts.c.account_id == "D-001")).scalar_one()
    assert value == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert value.tzinfo is UTC


# ------------------------------------------------------------------ reads


def test_accounts_frame_and_email_lookup(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        frame = repo.accounts(["I-001", "D-001", "NOPE", None])
        empty = repo.accounts([])
        assert repo.account_by_email("  Claims_Desk@Dist.EXAMPLE ") == "D-001"
        assert repo.account_by_email("claimsXdesk@dist.example") is None  # _ is not a wildcard
        assert repo.account_by_email("desk@dist.example") is None  # no substring matches
        assert repo.account_by_email("old@inst.example") is None  # inactive
        assert repo.account_by_email("") is None
    assert list(frame.columns) == ["account_id", "name", "kind", "partner_level", "active",
                                   "emails"]
    frame = frame.set_index("account_id")
    assert sorted(frame.index) == ["D-001", "I-001"]
    assert frame.loc["D-001", "partner_level"] is None
    assert frame.loc["I-001", "partner_level"] == "silver"
    assert frame["active"].dtype == bool
    assert list(empty.columns) == ["account_id", "name", "kind", "partner_level", "active",
                                   "emails"]
    assert empty.empty


def test_submitted_codes_reach_the_database_only_as_digests(engine, monkeypatch):
    """A guessed code is never compared with stored codes character by character: the SQL
    sees its SHA-256 digest, and Python's final check is hmac.compare_digest."""
    import hmac

    from rma.adapters.db.codes import code_digest

    with engine.begin() as conn:
        add_accounts(conn)
        conn.execute(sa.insert(t.rma_codes), [{
            "code_key": "K7QXP3MZ", "code": "K7QX-P3MZ", "account_id": "I-001",
            "issued_at": NOW, "expires_at": NOW + timedelta(days=90)}])
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, params, _ctx, _many:
                    seen.append(f"{statement} {params}"))
    compared: list[bytes] = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest",
                        lambda a, b: compared.append(b) or real(a, b))
    with engine.connect() as conn:
        found = ClaimsRepository(conn).codes(["K7QXP3MZ", "K7QXP3MA"])
    assert list(found["code_key"]) == ["K7QXP3MZ"]
    [sql] = [s for s in seen if "rma_codes" in s]
    assert "K7QXP3M" not in sql and code_digest("K7QXP3MA") in sql
    assert compared == [b"K7QXP3MZ"]


def test_upgrade_gives_existing_codes_their_digest(db_url):
    from rma.adapters.db.codes import code_digest

    upgrade(db_url, revision="0003")
    eng = make_engine(db_url)
    with eng.begin() as conn:
        add_accounts(conn)
        conn.execute(sa.text(
            "INSERT INTO rma_codes (code_key, code, account_id, serial_numbers, issued_at, "
            "expires_at, status) VALUES ('OLDCODE1', 'OLD-CODE1', 'I-001', '', :now, :now, "
            "'issued')"), {"now": NOW})
    upgrade(db_url)
    with eng.connect() as conn:
        digest = conn.execute(sa.select(t.rma_codes.c.code_digest)).scalar_one()
        assert not ClaimsRepository(conn).codes(["OLDCODE1"]).empty
    eng.dispose()
    assert digest == code_digest("OLDCODE1")


def _mail_record(n: int, received_at: datetime, **values: object) -> dict:
    return {"message_id": f"<m{n}@dist.example>", "sha256": f"{n:064x}",
            "sender": "claims@dist.example", "account_id": "D-001", "subject": "Claims",
            "received_at": received_at, "status": "processed", "batch_ids": "B-1", **values}


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from rma.adapters.db.engine import alembic_config

    cfg = alembic_config(url)
    eng = make_engine(url)
    try:
        with eng.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        eng.dispose()


def posted_batch_with_claim(url: str, at: datetime) -> None:
    """Batch B-1 with claim RMA-2026-000001 of account D-1, in only the columns every
    revision has: a migration that rebuilt ``batches`` would trip the claim's foreign key
    on SQLite."""
    old = sa.table("batches", *(sa.column(c) for c in (
        "batch_id", "sha256", "source", "claims_accepted", "claims_rejected", "status")),
        sa.column("received_at", sa.DateTime(timezone=True)))
    eng = make_engine(url)
    try:
        with posting_transaction(eng) as conn:
            conn.execute(sa.insert(old), [{"batch_id": "B-1", "sha256": "a" * 64,
                                           "source": "x", "claims_accepted": 0,
                                           "claims_rejected": 0, "status": "posted",
                                           "received_at": at}])
            conn.execute(sa.text("INSERT INTO accounts (account_id, name, kind, emails, "
                                 "active, updated_at) VALUES ('D-1', 'D', 'distributor', '', "
                                 "true, :at)"), {"at": at})
            conn.execute(sa.text("INSERT INTO claims (claim_id, batch_id, account_id, status, "
                                 "submitted_at) VALUES ('RMA-2026-000001', 'B-1', 'D-1', "
                                 "'submitted', :at)"), {"at": at})
    finally:
        eng.dispose()


def _mail_schema(url: str) -> tuple[set[str], set[str], list[tuple]]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            inspector = sa.inspect(conn)
            columns = {c["name"] for c in inspector.get_columns("mail_messages")}
            indexes = {i["name"] for i in inspector.get_indexes("mail_messages")}
            rows = conn.execute(sa.text("SELECT message_id, sha256, status FROM mail_messages "
                                        "ORDER BY message_id")).all()
    finally:
        eng.dispose()
    return columns, indexes, [tuple(r) for r in rows]


def test_0008_adds_the_content_hash_to_recorded_mail_and_downgrades(db_url):
    """From 0007 with messages recorded: they keep their rows with no content hash (their
    content was never kept), are still found by Message-ID and bytes, and match no content;
    the downgrade drops the column and its index and keeps the rows."""
    upgrade(db_url, revision="0007")
    old = sa.table("mail_messages", *(sa.column(c) for c in (
        "message_id", "sha256", "sender", "account_id", "subject", "status", "batch_ids")),
        sa.column("received_at", sa.DateTime(timezone=True)))
    eng = make_engine(db_url)
    with eng.begin() as conn:
        conn.execute(sa.insert(old), [_mail_record(1, NOW), _mail_record(2, NOW)])
    eng.dispose()
    before = _mail_schema(db_url)
    assert "content_sha256" not in before[0]

    upgrade(db_url)
    columns, indexes, rows = _mail_schema(db_url)
    assert "content_sha256" in columns and "ix_mail_messages_content_sha256" in indexes
    assert rows == before[2]
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            assert conn.execute(sa.select(t.mail_messages.c.content_sha256)).scalars().all() \
                == [None, None]
            mail = MailRecords(conn)
            since = NOW - timedelta(days=7)
            assert mail.find_message("<m1@dist.example>", "f" * 64, "c" * 64, since) \
                == "<m1@dist.example>"
            assert mail.find_message("<new@x>", f"{2:064x}", "c" * 64, since) \
                == "<m2@dist.example>"
            assert mail.find_message("<new@x>", "f" * 64, "c" * 64, since) is None
            mail.insert_message(_mail_record(3, NOW, content_sha256="c" * 64))
    finally:
        eng.dispose()

    _downgrade(db_url, "0007")
    columns, indexes, rows = _mail_schema(db_url)
    assert columns == before[0] and indexes == before[1]
    assert [r[0] for r in rows] == ["<m1@dist.example>", "<m2@dist.example>",
                                    "<m3@dist.example>"]
    upgrade(db_url)  # and up again
    assert "content_sha256" in _mail_schema(db_url)[0]


def test_find_message_matches_answered_content_within_the_window(engine):
    content = "c" * 64
    with engine.begin() as conn:
        mail = MailRecords(conn)
        mail.insert_message(_mail_record(1, NOW - timedelta(days=10), content_sha256=content))
        mail.insert_message(_mail_record(2, NOW - timedelta(days=3), content_sha256=content))
        mail.insert_message(_mail_record(3, NOW - timedelta(days=1), content_sha256="d" * 64,
                                         status="unknown_sender", account_id=None))

        def find(content_sha256: str, days: int | None = 7, message_id: str = "<new@x>",
                 sha: str = "f" * 64) -> str | None:
            since = None if days is None else NOW - timedelta(days=days)
            return mail.find_message(message_id, sha, content_sha256, since)

        assert find(content) == "<m2@dist.example>"      # the latest answered copy
        assert find(content, days=2) is None              # outside the window
        assert find(content, days=30) == "<m2@dist.example>"
        assert find(content, days=None) is None           # content not compared
        assert find("d" * 64) is None                     # never answered: read again
        assert find("e" * 64) is None
        # an exact match is named before a content match
        assert find(content, sha=f"{1:064x}") == "<m1@dist.example>"
        assert find("", message_id="<m3@dist.example>") == "<m3@dist.example>"


def test_codes_frame(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        conn.execute(sa.insert(t.rma_codes), [{
            "code_key": "K7QXP3MZ", "code": "K7QX-P3MZ", "account_id": "I-001",
            "serial_numbers": "SN000001;SN000002", "issued_at": NOW,
            "expires_at": NOW + timedelta(days=90), "recipient_name": "Ann",
            "installation_date": date(2024, 1, 2)}])
        repo = ClaimsRepository(conn)
        frame = repo.codes(["K7QXP3MZ", "UNKNOWN"])
        empty = repo.codes([])
    expected = ["code_key", "code", "account_id", "serial_numbers", "issued_at", "expires_at",
                "status", *CS_FIELDS]
    assert list(frame.columns) == expected == list(empty.columns)
    row = frame.iloc[0]
    assert row["status"] == "issued"
    assert row["expires_at"] == pd.Timestamp(NOW + timedelta(days=90))
    assert str(frame["expires_at"].dtype) == "datetime64[us, UTC]"
    assert str(empty["expires_at"].dtype) == "datetime64[us, UTC]"
    assert row["installation_date"] == date(2024, 1, 2)
    assert row["site_city"] is None


def test_open_serials_and_partial_unique_index(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims([claim_row("RMA-2026-000001", "C-1"),
                            claim_row("RMA-2026-000002", "C-2")])
        repo.insert_claim_lines([
            {"claim_id": "RMA-2026-000001", "serial_number": "SN000001", "sheet_row": 2},
            {"claim_id": "RMA-2026-000001", "serial_number": "SN000002", "sheet_row": 3},
        ])
    with engine.connect() as conn:
        frame = ClaimsRepository(conn).open_serials(["SN000002", "SN000009"])
    assert frame.to_dict("records") == [{"serial_number": "SN000002",
                                         "claim_id": "RMA-2026-000001"}]

    # a second open line for the same SN: the database refuses it
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(sa.insert(t.claim_lines), {"claim_id": "RMA-2026-000002",
                                                "serial_number": "SN000001", "sheet_row": 2})
    assert is_conflict(info.value)
    # ... and the repository maps it to PostingConflict
    with pytest.raises(PostingConflict), engine.begin() as conn:
        ClaimsRepository(conn).insert_claim_lines(
            [{"claim_id": "RMA-2026-000002", "serial_number": "SN000001", "sheet_row": 2}])

    # once the first claim's line is closed, a new open line is allowed
    with engine.begin() as conn:
        conn.execute(sa.update(t.claim_lines).where(t.claim_lines.c.serial_number == "SN000001")
                     .values(is_open=False))
        ClaimsRepository(conn).insert_claim_lines(
            [{"claim_id": "RMA-2026-000002", "serial_number": "SN000001", "sheet_row": 2}])
        frame = ClaimsRepository(conn).open_serials(["SN000001"])
    assert frame["claim_id"].tolist() == ["RMA-2026-000002"]


def test_open_serials_uses_the_partial_index_on_sqlite(sqlite_url):
    upgrade(sqlite_url)
    eng = make_engine(sqlite_url)
    with eng.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT serial_number, claim_id FROM claim_lines "
            "WHERE serial_number IN ('A', 'B') AND claim_lines.is_open").all()
    eng.dispose()
    assert "uq_claim_lines_open_serial" in " ".join(str(r) for r in plan)


def test_open_serials_chunks_large_in_lists(engine):
    sns = [f"SN{i:08d}" for i in range(12_001)]
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims([claim_row("RMA-2026-000001", None)])
        repo.insert_claim_lines([{"claim_id": "RMA-2026-000001", "serial_number": sn,
                                  "sheet_row": i} for i, sn in enumerate(sns[::2])])
        frame = repo.open_serials(sns)
    assert len(frame) == len(sns[::2])


def test_claim_ref_unique_per_account_and_posted_claim_refs(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims([
            claim_row("RMA-2026-000001", "C-1"),
            claim_row("RMA-2026-000002", None),
            claim_row("RMA-2026-000003", None),  # NULL refs never collide
            claim_row("RMA-2026-000004", "C-1", account="I-001"),  # other account
        ])
        frame = repo.posted_claim_refs(["D-001"], ["C-1", "C-2", None])
        assert repo.posted_claim_refs([], ["C-1"]).empty
    assert frame.to_dict("records") == [{"account_id": "D-001", "claim_ref": "C-1",
                                         "claim_id": "RMA-2026-000001"}]
    with pytest.raises(PostingConflict), engine.begin() as conn:
        ClaimsRepository(conn).insert_claims([claim_row("RMA-2026-000009", "C-1")])


def test_duplicate_batch_sha_is_a_conflict_but_fk_errors_are_not(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        add_batch(ClaimsRepository(conn))
        assert ClaimsRepository(conn).find_batch_by_sha("a" * 64) == "B-1"
        assert ClaimsRepository(conn).find_batch_by_sha("b" * 64) is None
    with pytest.raises(PostingConflict), engine.begin() as conn:
        add_batch(ClaimsRepository(conn), batch_id="B-2")
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        ClaimsRepository(conn).insert_claims([claim_row("RMA-2026-000001", "C", batch="B-X")])
    assert not is_conflict(info.value)


# ------------------------------------------------------------------ claim ids


def test_allocate_claim_ids_continuity_rollover_and_rollback(engine):
    with engine.begin() as conn:
        repo = ClaimsRepository(conn)
        assert repo.allocate_claim_ids(2026, 3) == [
            "RMA-2026-000001", "RMA-2026-000002", "RMA-2026-000003"]
        assert repo.allocate_claim_ids(2026, 3) == [
            "RMA-2026-000004", "RMA-2026-000005", "RMA-2026-000006"]
        assert repo.allocate_claim_ids(2026, 0) == []
        assert repo.allocate_claim_ids(2027, 2) == ["RMA-2027-000001", "RMA-2027-000002"]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert ClaimsRepository(conn).allocate_claim_ids(2026, 5)[0] == "RMA-2026-000007"
        raise RuntimeError("posting failed")
    with engine.begin() as conn:  # the rolled-back numbers are given out again
        assert ClaimsRepository(conn).allocate_claim_ids(2026, 1) == ["RMA-2026-000007"]


# ------------------------------------------------------------------ codes


def add_code(conn: sa.Connection, key: str = "K7QXP3MZ", account: str = "I-001") -> None:
    conn.execute(sa.insert(t.rma_codes), {
        "code_key": key, "code": key, "account_id": account, "serial_numbers": "",
        "issued_at": NOW, "expires_at": NOW + timedelta(days=90)})


def test_invalid_attempts_window_and_unlock(engine):
    def attempt(minutes_ago: int, outcome: str = "CODE_INVALID", account: str = "I-001"):
        return {"account_id": account, "code_key": "XXXX",
                "attempted_at": NOW - timedelta(minutes=minutes_ago), "outcome": outcome}

    since = NOW - timedelta(hours=24)
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        repo.insert_attempts([
            attempt(60 * 25),  # too old
            attempt(120), attempt(90), attempt(30), attempt(10),
            attempt(5, outcome="CODE_EXPIRED"),  # only CODE_INVALID counts
            attempt(5, account="D-001"),
        ])
        assert repo.invalid_attempts(["I-001", "D-001", "I-002"], since) == {
            "I-001": 4, "D-001": 1, "I-002": 0}
        conn.execute(sa.update(t.accounts).where(t.accounts.c.account_id == "I-001")
                     .values(code_lock_reset_at=NOW - timedelta(minutes=60)))
        assert repo.invalid_attempts(["I-001"], since) == {"I-001": 2}
        assert repo.invalid_attempts([], since) == {}


def test_redeem_codes_once(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        add_code(conn, "AAAA1111")
        add_code(conn, "BBBB2222")
        repo = ClaimsRepository(conn)
        repo.redeem_codes([("AAAA1111", "RMA-2026-000001"), ("BBBB2222", "RMA-2026-000002")],
                          NOW)
        frame = repo.codes(["AAAA1111"])
    assert frame.loc[0, "status"] == "redeemed"
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.rma_codes).where(t.rma_codes.c.code_key == "AAAA1111")
                           ).mappings().one()
    assert row["redeemed_claim_id"] == "RMA-2026-000001"
    assert row["redeemed_at"] == NOW
    with engine.begin() as conn:
        add_code(conn, "CCCC3333")
    with pytest.raises(PostingConflict, match="1 of 2"), engine.begin() as conn:
        ClaimsRepository(conn).redeem_codes(
            [("CCCC3333", "RMA-2026-000003"), ("AAAA1111", "RMA-2026-000003")], NOW)
    with engine.connect() as conn:  # the whole redemption was rolled back
        assert ClaimsRepository(conn).codes(["CCCC3333"]).loc[0, "status"] == "issued"


def test_posting_transaction_rolls_back_everything(engine):
    with engine.begin() as conn:
        add_accounts(conn)
    with pytest.raises(RuntimeError), posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims([claim_row("RMA-2026-000001", "C-1")])
        raise RuntimeError("crash mid-batch")
    with posting_transaction(engine) as conn:
        assert ClaimsRepository(conn).find_batch_by_sha("a" * 64) is None
        assert conn.execute(sa.select(sa.func.count()).select_from(t.claims)).scalar() == 0


# ------------------------------------------------------------------ listing


def test_list_claims_json_shape(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        frame = pd.DataFrame([claim_row("RMA-2026-000001", "C-1"),
                              claim_row("RMA-2026-000002", None, account="I-001")])
        frame.loc[1, "installation_date"] = None  # NaN/NaT-safe via records()
        repo.insert_claims(records(frame))
        repo.insert_claim_lines([
            {"claim_id": "RMA-2026-000001", "serial_number": "SN000003", "sheet_row": 4},
            {"claim_id": "RMA-2026-000001", "serial_number": "SN000001", "sheet_row": 2},
            {"claim_id": "RMA-2026-000002", "serial_number": "SN000009", "sheet_row": 5},
        ])
        everything = repo.list_claims(None)
        mine = repo.list_claims("D-001")
        assert repo.list_claims("NOPE") == []
    json.dumps(everything)
    assert [c["claim_id"] for c in everything] == ["RMA-2026-000001", "RMA-2026-000002"]
    first = mine[0]
    assert len(mine) == 1
    expected_keys = ["claim_id", "account_id", "claim_ref", "status", "batch_id",
                     "submitted_at", "rma_code", "serial_numbers",
                     *[c for c in CANONICAL if c not in
                       {"claim_ref", "account_id", "rma_code", "serial_number"}],
                     "assessment"]
    assert list(first) == expected_keys
    assert first["serial_numbers"] == ["SN000001", "SN000003"]  # sheet-row order
    assert first["submitted_at"] == "2026-03-10T12:00:00+00:00"
    assert first["installation_date"] == "2024-05-01"
    assert first["fault_date"] is None
    assert first["recipient_phone"] == "+4930123456"
    assert everything[1]["installation_date"] is None


# ------------------------------------------------------------------ large sets


def test_large_inserts_take_the_bulk_path_and_keep_types(engine):
    """>= COPY_THRESHOLD rows: COPY on PostgreSQL; NaN/NaT and dates handled as in INSERT."""
    n = COPY_THRESHOLD + 5
    frame = pd.DataFrame([claim_row(f"RMA-2026-{i:06d}", f"C-{i}") for i in range(1, n + 1)])
    frame["fault_date"] = pd.NaT
    frame["notes"] = pd.Series("x", index=frame.index, dtype=object)
    frame.loc[0, "notes"] = float("nan")
    frame.loc[1, "notes"] = "line one\nline\ttwo \\ back"
    with engine.begin() as conn:
        add_accounts(conn)
        repo = ClaimsRepository(conn)
        add_batch(repo)
        repo.insert_claims(records(frame))
        repo.insert_claim_lines([{"claim_id": f"RMA-2026-{i:06d}", "serial_number": f"SN{i:06d}",
                                  "sheet_row": i} for i in range(1, n + 1)])
        listed = repo.list_claims("D-001")
    assert len(listed) == n
    assert listed[0]["notes"] is None and listed[0]["fault_date"] is None
    assert listed[1]["notes"] == "line one\nline\ttwo \\ back"
    assert listed[0]["installation_date"] == "2024-05-01"
    assert listed[0]["submitted_at"] == "2026-03-10T12:00:00+00:00"
    assert listed[-1]["serial_numbers"] == [f"SN{n:06d}"]

    dup = [{"claim_id": "RMA-2026-000001", "serial_number": f"SX{i:06d}", "sheet_row": i}
           for i in range(n)] + [{"claim_id": "RMA-2026-000001", "serial_number": "SN000007"}]
    with pytest.raises(PostingConflict), engine.begin() as conn:
        ClaimsRepository(conn).insert_claim_lines(dup)
    bad_fk = [{"claim_id": "RMA-2099-000001", "serial_number": f"SY{i:06d}", "sheet_row": i}
              for i in range(n)]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        ClaimsRepository(conn).insert_claim_lines(bad_fk)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t.claim_lines)).scalar()
    assert total == n


def test_redeeming_one_code_twice_in_a_batch_is_a_bug_not_a_conflict(engine):
    with engine.begin() as conn:
        add_accounts(conn)
        add_code(conn, "AAAA1111")
        with pytest.raises(ValueError, match="twice"):
            ClaimsRepository(conn).redeem_codes([("AAAA1111", "RMA-1"), ("AAAA1111", "RMA-2")],
                                                NOW)

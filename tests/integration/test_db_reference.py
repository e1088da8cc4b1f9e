"""Reference data (SPEC §2): accounts and codes import, code issue and unlock."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.codes import ALPHABET
from rma.adapters.db.engine import make_engine, upgrade
from rma.adapters.db.reference_accounts import import_accounts
from rma.adapters.db.reference_cells import parse_timestamp
from rma.adapters.db.reference_codes import import_codes, issue_code, unlock_codes
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import RmaError

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

ACCOUNT_HEADER = ["Account ID", "Name", "Kind", "Partner Level", "E-mails", "Country", "Active"]
ACCOUNTS = [
    ["D-001", "Distrib GmbH", "distributor", "", "Ops@Dist.example; claims@dist.example",
     "Germany", "yes"],
    ["I-001", "Sparky", "Installer", "silver", "me@sparky.example", "AT", "1"],
    ["I-002", "Bolt", "installer", "", "", "", "false"],
]


@pytest.fixture
def engine(db_url) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",",
              encoding: str = "utf-8-sig") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], title_rows: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(title_rows):
        ws.append([])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def account_rows(conn: sa.Connection) -> dict[str, dict]:
    rows = conn.execute(sa.select(t.accounts)).mappings().all()
    return {r["account_id"]: dict(r) for r in rows}


# ------------------------------------------------------------------ accounts


def test_import_accounts_csv_semicolon_bom(engine, tmp_path):
    path = write_csv(tmp_path / "accounts.csv", [ACCOUNT_HEADER, *ACCOUNTS], delimiter=";")
    with engine.begin() as conn:
        result = import_accounts(conn, path, now=NOW)
        rows = account_rows(conn)
    assert (result.inserted, result.updated) == (3, 0)
    assert str(result) == "3 inserted, 0 updated"
    d, i1, i2 = rows["D-001"], rows["I-001"], rows["I-002"]
    assert d["kind"] == "distributor" and d["partner_level"] is None
    assert d["emails"] == "ops@dist.example;claims@dist.example"
    assert d["country"] == "DE" and d["active"] is True
    assert i1["kind"] == "installer" and i1["partner_level"] == "silver"
    assert i2["partner_level"] == "none" and i2["active"] is False and i2["country"] is None
    assert d["updated_at"] == NOW


def test_import_accounts_xlsx_then_upsert_updates(engine, tmp_path):
    first = write_xlsx(tmp_path / "accounts.xlsx", [ACCOUNT_HEADER, *ACCOUNTS])
    changed = [row[:] for row in ACCOUNTS[:2]]
    changed[1][3] = "GOLD"
    changed[1][1] = "Sparky & Sons"
    new = ["I-003", "Newcomer", "installer", "bronze", "n@new.example", "FR", True]
    second = write_xlsx(tmp_path / "accounts2.xlsx", [ACCOUNT_HEADER, *changed, new],
                        title_rows=1)
    with engine.begin() as conn:
        assert import_accounts(conn, first).inserted == 3
        unlock_codes(conn, "I-001", now=NOW)
        result = import_accounts(conn, second)
        rows = account_rows(conn)
    assert (result.inserted, result.updated) == (1, 2)
    assert rows["I-001"]["partner_level"] == "gold"
    assert rows["I-001"]["name"] == "Sparky & Sons"
    assert rows["I-001"]["code_lock_reset_at"] == NOW  # an import does not touch the lock
    assert rows["I-003"]["active"] is True
    assert len(rows) == 4


def test_import_accounts_cp1252_comma_csv(engine, tmp_path):
    rows = [["account_id", "name", "kind"], ["D-002", "Müller Großhandel", "distributor"]]
    path = write_csv(tmp_path / "a.csv", rows, encoding="cp1252")
    with engine.begin() as conn:
        import_accounts(conn, path)
        assert account_rows(conn)["D-002"]["name"] == "Müller Großhandel"
        assert account_rows(conn)["D-002"]["active"] is True  # no active column: active


def test_import_accounts_invalid_row_imports_nothing(engine, tmp_path):
    bad = [row[:] for row in ACCOUNTS]
    bad[1][2] = "reseller"          # row 3: kind
    bad[2][6] = "maybe"             # row 4: active
    bad[0][4] = "ops(at)dist"       # row 2: emails
    path = write_csv(tmp_path / "accounts.csv", [ACCOUNT_HEADER, *bad])
    with engine.begin() as conn, pytest.raises(RmaError) as info:
        import_accounts(conn, path)
    message = str(info.value)
    assert "accounts.csv" in message and "nothing imported" in message
    assert "row 3, column kind" in message
    assert "row 4, column active" in message
    assert "row 2, column emails" in message
    with engine.connect() as conn:
        assert account_rows(conn) == {}


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (["D-9", "X", "distributor", "diamond", "", "", "yes"], "partner_level"),
        (["", "X", "distributor", "", "", "", "yes"], "account_id"),
        (["D-9", "X", "distributor", "", "", "Atlantis", "yes"], "country"),
        (["D-001", "Again", "distributor", "", "", "", "yes"], "account_id"),  # repeated id
    ],
)
def test_import_accounts_each_rule(engine, tmp_path, row, column):
    path = write_xlsx(tmp_path / "a.xlsx", [ACCOUNT_HEADER, ACCOUNTS[0], row])
    with engine.begin() as conn, pytest.raises(RmaError, match=f"row 3, column {column}"):
        import_accounts(conn, path)


def test_import_rejects_missing_columns_and_formats(engine, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["account_id", "name"], ["D-1", "x"]])
    with engine.begin() as conn:
        with pytest.raises(RmaError, match="missing column.*kind"):
            import_accounts(conn, path)
        ods = tmp_path / "a.ods"
        ods.write_bytes(b"x")
        with pytest.raises(RmaError, match="only .csv, .xlsx"):
            import_accounts(conn, ods)
        with pytest.raises(RmaError, match="no such file"):
            import_accounts(conn, tmp_path / "missing.csv")


def test_unlock_unknown_account(engine):
    with engine.begin() as conn, pytest.raises(RmaError, match="unknown account"):
        unlock_codes(conn, "NOPE")


# ------------------------------------------------------------------ codes

CODE_HEADER = ["Code", "Account ID", "Serial Numbers", "Issued At", "Expires At", "Status",
               "Recipient Name", "Site City", "Installation Date"]


def seed_accounts(conn: sa.Connection, tmp_path: Path) -> None:
    import_accounts(conn, write_csv(tmp_path / "accounts.csv", [ACCOUNT_HEADER, *ACCOUNTS]))


def test_import_codes_csv(engine, tmp_path):
    rows = [
        CODE_HEADER,
        ["k7qx p3mz", "I-001", "sn000001; SN000002,sn000003", "2026-03-01", "2026-03-31",
         "", "Ann Smith", "Graz", "01.02.2024"],
        ["ABCD-2345", "I-001", "", "2026-03-01T08:30:00+01:00", "", "revoked", "", "", ""],
    ]
    path = write_csv(tmp_path / "codes.csv", rows)
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        result = import_codes(conn, path, now=NOW, validity_days=30)
        frame = ClaimsRepository(conn).codes(["K7QXP3MZ", "ABCD2345"]).set_index("code_key")
    assert (result.inserted, result.updated) == (2, 0)
    k = frame.loc["K7QXP3MZ"]
    assert k["code"] == "k7qx p3mz"
    assert k["serial_numbers"] == "SN000001;SN000002;SN000003"
    assert k["issued_at"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert k["expires_at"] == datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert k["status"] == "issued"
    assert k["recipient_name"] == "Ann Smith" and k["site_city"] == "Graz"
    assert k["installation_date"] == date(2024, 2, 1)
    assert k["fault_description"] is None
    a = frame.loc["ABCD2345"]
    assert a["issued_at"] == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert a["expires_at"] == datetime(2026, 3, 31, 7, 30, tzinfo=UTC)  # + validity_days
    assert a["status"] == "revoked" and a["serial_numbers"] == ""


def test_import_codes_xlsx_upsert_keeps_redemptions(engine, tmp_path):
    rows = [CODE_HEADER,
            ["K7QX-P3MZ", "I-001", "SN000001", date(2026, 3, 1), date(2026, 4, 1), "issued",
             "Ann", "", date(2024, 2, 1)],
            ["WXYZ-2345", "I-001", "", datetime(2026, 3, 1, 9), "", "", "", "", ""]]
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        import_codes(conn, write_xlsx(tmp_path / "codes.xlsx", rows), now=NOW)
        ClaimsRepository(conn).redeem_codes([("K7QXP3MZ", "RMA-2026-000001")], NOW)
        rows[1][6] = "Ann Smith"
        rows[2][5] = "revoked"
        result = import_codes(conn, write_xlsx(tmp_path / "codes2.xlsx", rows), now=NOW)
        frame = ClaimsRepository(conn).codes(["K7QXP3MZ", "WXYZ2345"]).set_index("code_key")
    assert (result.inserted, result.updated) == (0, 2)
    assert frame.loc["K7QXP3MZ", "status"] == "redeemed"  # not reset by the re-import
    assert frame.loc["K7QXP3MZ", "recipient_name"] == "Ann Smith"
    assert frame.loc["K7QXP3MZ", "expires_at"] == datetime(2026, 4, 1, 23, 59, 59, 999999,
                                                           tzinfo=UTC)
    assert frame.loc["WXYZ2345", "status"] == "revoked"
    assert frame.loc["WXYZ2345", "issued_at"] == datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_import_codes_invalid_rows_import_nothing(engine, tmp_path):
    rows = [CODE_HEADER,
            ["K7QX-P3MZ", "I-404", "", "", "", "", "", "", ""],            # row 2 account
            ["AB", "I-001", "", "", "", "", "", "", ""],                  # row 3 code
            ["GOOD-2345", "I-001", "SN1", "", "", "", "", "", ""],         # row 4 SN too short
            ["GOOD-3456", "I-001", "", "", "", "used", "", "", ""],        # row 5 status
            ["GOOD-4567", "I-001", "", "", "", "", "", "", "03/04/2025"],  # row 6 date
            ["GOOD-5678", "I-001", "", "2026-03-01", "2026-02-01", "", "", "", ""],  # row 7
            ["good 2345", "I-001", "", "", "", "", "", "", ""],            # row 8 repeats 4
            ]
    path = write_csv(tmp_path / "codes.csv", rows)
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        with pytest.raises(RmaError) as info:
            import_codes(conn, path, now=NOW)
        assert conn.execute(sa.select(sa.func.count()).select_from(t.rma_codes)).scalar() == 0
    message = str(info.value)
    for expected in ["row 2, column account_id", "row 3, column code",
                     "row 4, column serial_numbers", "row 5, column status",
                     "row 6, column installation_date", "row 7, column expires_at",
                     "row 8, column code"]:
        assert expected in message


def test_parse_timestamp():
    assert parse_timestamp("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_timestamp("01.03.2026", end_of_day=True) == datetime(
        2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_timestamp("2026-03-01 10:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_timestamp("2026-03-01T10:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_timestamp("") is None


# ------------------------------------------------------------------ issue


def test_issue_code(engine, tmp_path):
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        code = issue_code(conn, "I-001", ["sn000001;SN000002", "sn000003"],
                          {"recipient_name": "Ann", "installation_date": "2024-02-01",
                           "fault_description": "  no output  "},
                          validity_days=90, now=NOW)
        frame = ClaimsRepository(conn).codes([code.replace("-", "")])
    assert re.fullmatch(rf"[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}", code)
    row = frame.iloc[0]
    assert row["code"] == code and row["account_id"] == "I-001"
    assert row["serial_numbers"] == "SN000001;SN000002;SN000003"
    assert row["issued_at"] == NOW and row["expires_at"] == NOW + timedelta(days=90)
    assert row["status"] == "issued"
    assert row["installation_date"] == date(2024, 2, 1)
    assert row["fault_description"] == "no output"


@pytest.mark.parametrize(
    ("account", "sns", "fields", "match"),
    [
        ("NOPE", [], {}, "unknown account"),
        ("I-001", [], {"claim_ref": "x"}, "unknown field 'claim_ref'"),
        ("I-001", ["x"], {}, "not a valid serial"),
        ("I-001", [], {"installation_date": "31/12/2024"}, "installation_date"),
    ],
)
def test_issue_code_rejects(engine, tmp_path, account, sns, fields, match):
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        with pytest.raises(RmaError, match=match):
            issue_code(conn, account, sns, fields, validity_days=90)


def test_unlock_codes_resets_the_count(engine, tmp_path):
    with engine.begin() as conn:
        seed_accounts(conn, tmp_path)
        repo = ClaimsRepository(conn)
        repo.insert_attempts([{"account_id": "I-001", "code_key": "X",
                               "attempted_at": NOW - timedelta(minutes=m),
                               "outcome": "CODE_INVALID"} for m in range(1, 6)])
        since = NOW - timedelta(hours=24)
        assert repo.invalid_attempts(["I-001"], since) == {"I-001": 5}
        unlock_codes(conn, "I-001", now=NOW)
        assert repo.invalid_attempts(["I-001"], since) == {"I-001": 0}

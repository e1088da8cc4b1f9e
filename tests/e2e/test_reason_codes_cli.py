"""Every reason code of SPEC §4, end to end: real files through `rma ingest`, on SQLite and on
PostgreSQL, with the JSON document of SPEC §7 checked along the way."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.factories import valid_claim, write_csv, write_xlsx

pytestmark = pytest.mark.prefect


def _codes_by_row(batch: dict) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for item in batch["rejections"] + batch["warnings"]:
        found.setdefault(item["row"], set()).add(item["code"])
    return found


def test_a_distributor_batch_gets_every_row_level_reason_and_posts_the_rest(cli, workdir):
    first = write_xlsx(workdir / "earlier.xlsx", [
        valid_claim(claim_ref="OLD-1", serial_number="SNOPEN0001"),
    ])
    assert cli("ingest", str(first), "--account", "D-001", "--json").code == 0

    rows = [
        valid_claim(claim_ref="OK-1"),                                     # row 2: accepted
        valid_claim(recipient_name=None),                                  # 3
        valid_claim(serial_number="S#1"),                                  # 4
        valid_claim(installation_date="03/04/2025"),                       # 5
        valid_claim(recipient_email="anna(at)example"),                    # 6
        valid_claim(recipient_phone="call me"),                            # 7
        valid_claim(recipient_country="Atlantis"),                         # 8
        valid_claim(fault_description="bad"),                              # 9
        valid_claim(account_id="D-002"),                                   # 10
        valid_claim(rma_code="NOPE-NOPE"),                                 # 11
        valid_claim(rma_code="old0 0002"),                                 # 12
        valid_claim(rma_code="REVK-0003"),                                 # 13
        valid_claim(rma_code="USED-0004"),                                 # 14
        valid_claim(rma_code="ONLY-0005", serial_number="SNNOTCOVERED"),   # 15
        valid_claim(serial_number="SNTWICE001"),                           # 16
        valid_claim(serial_number="SNTWICE001"),                           # 17
        valid_claim(serial_number="SNOPEN0001"),                           # 18
        valid_claim(claim_ref="OLD-1"),                                    # 19
        valid_claim(rma_code="good-0001", recipient_city="Berlin",
                    site_address=None, recipient_postcode=10115),          # 20: accepted
    ]
    path = write_xlsx(workdir / "batch.xlsx", rows,
                      headers=[*rows[0].keys(), "Internal memo"])
    run = cli("ingest", str(path), "--account", "D-001", "--json")
    assert run.code == 0, run.err
    batch = run.json()["batches"][0]
    assert batch["status"] == "posted" and batch["error"] is None
    assert batch["account_id"] == "D-001"
    got = _codes_by_row(batch)
    expected = {
        3: "MISSING_FIELD", 4: "INVALID_SERIAL_NUMBER", 5: "INVALID_DATE", 6: "INVALID_EMAIL",
        7: "INVALID_PHONE", 8: "INVALID_COUNTRY", 9: "INVALID_TEXT", 10: "ACCOUNT_MISMATCH",
        11: "CODE_INVALID", 12: "CODE_EXPIRED", 13: "CODE_REVOKED", 14: "CODE_USED",
        15: "CODE_SN_MISMATCH", 16: "DUPLICATE_SN_IN_BATCH", 17: "DUPLICATE_SN_IN_BATCH",
        18: "SN_OPEN_CLAIM", 19: "DUPLICATE_CLAIM_REF",
    }
    for row, code in expected.items():
        assert got.get(row) == {code}, (row, got.get(row))
    assert got[20] == {"PREFILL_CONFLICT", "VALUE_AS_TEXT"}
    assert 2 not in got
    assert {w["code"] for w in batch["warnings"] if w["row"] == 1} == {"UNKNOWN_COLUMN"}
    assert batch["claims_accepted"] == 2 and batch["claims_rejected"] == 17
    assert len(batch["claim_ids"]) == 2
    rejection = next(r for r in batch["rejections"] if r["row"] == 11)
    assert rejection == {"sheet": "Claims", "row": 11, "claim_ref": rows[9]["claim_ref"],
                         "serial_number": rows[9]["serial_number"], "column": "rma_code",
                         "code": "CODE_INVALID", "message": rejection["message"]}

    report = openpyxl.load_workbook(batch["reports"]["xlsx"])
    assert report.sheetnames[:2] == ["Rejections", "Summary"]
    assert Path(batch["reports"]["csv"]).read_text(encoding="utf-8-sig").startswith(
        "sheet,row,claim_ref,serial_number,column,value,code,message")

    listed = cli("claims", "list", "--account", "D-001", "--json").json()["claims"]
    prefilled = next(c for c in listed if c["claim_id"] == batch["claim_ids"][1])
    assert prefilled["recipient_city"] == "Munich"          # Customer Service wins
    assert prefilled["site_address"] == "CS Site 1"         # CS fills what was blank
    assert "Berlin" in prefilled["notes"]                   # the submitter's value is kept
    assert prefilled["rma_code"] == "GOOD0001"
    assert prefilled["recipient_phone"] == "+49301234567"


def test_account_and_eligibility_reasons_come_from_the_registry(cli, workdir):
    silver = write_csv(workdir / "silver.csv", [
        valid_claim(),                                   # no code: CODE_REQUIRED
        valid_claim(rma_code="SILV-0006"),               # a valid code: accepted
    ])
    gold = write_csv(workdir / "gold.csv", [valid_claim()])
    unknown = write_csv(workdir / "unknown.csv", [valid_claim()])
    inactive = write_csv(workdir / "inactive.csv", [valid_claim()])
    results = {}
    for path, account in ((silver, "I-SILVER"), (gold, "I-GOLD"), (unknown, "NOBODY"),
                          (inactive, "X-OFF")):
        run = cli("ingest", str(path), "--account", account, "--json")
        assert run.code == 0, run.err
        results[account] = run.json()["batches"][0]
    assert _codes_by_row(results["I-SILVER"]) == {2: {"CODE_REQUIRED"}}
    assert results["I-SILVER"]["claims_accepted"] == 1
    assert results["I-GOLD"]["claims_accepted"] == 1 and not results["I-GOLD"]["rejections"]
    assert _codes_by_row(results["NOBODY"]) == {2: {"UNKNOWN_ACCOUNT"}}
    assert _codes_by_row(results["X-OFF"]) == {2: {"ACCOUNT_INACTIVE"}}


def test_five_wrong_codes_lock_the_account_until_customer_service_unlocks_it(cli, workdir):
    guesses = [valid_claim(rma_code=f"GUES-{i:04d}") for i in range(5)]
    path = write_csv(workdir / "guesses.csv", [*guesses, valid_claim(rma_code="SILV-0007")])
    batch = cli("ingest", str(path), "--account", "I-SILVER", "--json").json()["batches"][0]
    got = _codes_by_row(batch)
    assert [got[r] for r in range(2, 7)] == [{"CODE_INVALID"}] * 5
    assert got[7] == {"CODE_LOCKED"}                       # even a valid code is locked

    again = write_csv(workdir / "again.csv", [valid_claim(rma_code="SILV-0007")])
    batch = cli("ingest", str(again), "--account", "I-SILVER", "--json").json()["batches"][0]
    assert _codes_by_row(batch) == {2: {"CODE_LOCKED"}}    # the lock-out is in the database

    assert cli("codes", "unlock", "I-SILVER").code == 0
    third = write_csv(workdir / "third.csv", [valid_claim(rma_code="SILV-0007")])
    batch = cli("ingest", str(third), "--account", "I-SILVER", "--json").json()["batches"][0]
    assert batch["claims_accepted"] == 1 and not batch["rejections"]


@pytest.mark.parametrize(("name", "content", "code"), [
    ("old.xls", b"\xd0\xcf\x11\xe0 not really", "UNSUPPORTED_FORMAT"),
    ("sheet.ods", b"PK\x03\x04", "UNSUPPORTED_FORMAT"),
    ("broken.xlsx", b"this is not a spreadsheet", "UNREADABLE_FILE"),
    ("title-only.csv", b"Claims of November\nplease call us\n", "NO_HEADER"),
    ("header-only.csv", b"serial_number,fault_description\n", "EMPTY_BATCH"),
])
def test_a_file_that_cannot_be_processed_fails_as_a_batch_with_exit_status_1(
        cli, workdir, name, content, code):
    path = workdir / name
    path.write_bytes(content)
    run = cli("ingest", str(path), "--account", "D-001", "--json")
    assert run.code == 1
    batch = run.json()["batches"][0]
    assert batch["status"] == "failed" and batch["error"]["code"] == code
    assert name in batch["error"]["message"]
    assert cli("claims", "list", "--json").json()["claims"] == []


def test_a_file_over_the_row_limit_is_too_large(cli, workdir, monkeypatch):
    monkeypatch.setenv("RMA_MAX_ROWS", "2")
    path = write_csv(workdir / "big.csv", [valid_claim() for _ in range(3)])
    batch = cli("ingest", str(path), "--account", "D-001", "--json").json()["batches"][0]
    assert batch["error"]["code"] == "TOO_LARGE"


def test_the_same_file_twice_is_a_duplicate_batch_pointing_at_the_first(cli, workdir):
    path = write_csv(workdir / "once.csv", [valid_claim(), valid_claim()])
    first = cli("ingest", str(path), "--account", "D-001", "--json").json()["batches"][0]
    second = cli("ingest", str(path), "--account", "D-001", "--json")
    assert second.code == 0
    again = second.json()["batches"][0]
    assert again["status"] == "duplicate" and again["batch_id"] == first["batch_id"]
    assert again["error"]["code"] == "DUPLICATE_BATCH" and again["claim_ids"] == []
    assert len(cli("claims", "list", "--json").json()["claims"]) == 2


def test_a_clean_batch_has_no_report_and_every_claim_is_listed(cli, workdir):
    rows = [valid_claim(claim_ref="MULTI", serial_number="SNMULTI001"),
            valid_claim(claim_ref="MULTI", serial_number="SNMULTI002, SNMULTI003"),
            valid_claim(claim_ref=None)]
    path = write_xlsx(workdir / "clean.xlsx", rows)
    batch = cli("ingest", str(path), "--account", "D-001", "--json").json()["batches"][0]
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (2, 0)
    assert batch["rejections"] == [] and batch["warnings"] == [] and batch["reports"] == {}
    claims = cli("claims", "list", "--json").json()["claims"]
    multi = next(c for c in claims if c["claim_ref"] == "MULTI")
    assert multi["serial_numbers"] == ["SNMULTI001", "SNMULTI002", "SNMULTI003"]
    assert multi["status"] == "submitted" and multi["claim_id"].startswith("RMA-")

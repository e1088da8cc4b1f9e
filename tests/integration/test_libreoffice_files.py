"""Claim sheets saved by a real office suite (issue 13, item 5): LibreOffice Calc opened one
CSV and saved it as .xlsx, as a partner does (tests/data/libreoffice/make_files.py made them;
LibreOffice is not needed here). What Calc did to the cells (postcodes and SNs made numbers,
dates made real dates) must come out as the claims the partner meant, or as a clear rejection.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.reference_accounts import import_accounts
from rma.adapters.db.reference_codes import import_codes
from rma.config import Settings
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests.e2e.conftest import write_reference

DATA = Path(__file__).resolve().parent.parent / "data" / "libreoffice"

#: claim_ref -> (recipient_postcode, site_postcode, installation_date, fault_date), as meant
MEANT = {
    "LO-1": ("01067", "04109", "2024-03-11", "2025-10-02"),
    "LO-2": ("1010", "1010", "2023-06-12", "2025-11-01"),
    "LO-3": ("02134", "02134", "2024-04-02", "2025-09-30"),
    "LO-4": ("10115", "10115", "2023-09-01", "2025-11-03"),
    "LO-5": ("00144", "00144", "2024-05-20", "2025-08-14"),
    "LO-7": ("SW1A 2AA", "1015 CJ", "2024-02-29", "2025-06-30"),
    "LO-8": ("08001", "123", "2024-06-01", "2025-05-15"),
}
SERIALS = {"HX5K2311042", "HX5K2311043", "HX5K2311044", "HX5K2311045", "HX5K2311046",
           "202311040001", "GB7K2401001", "202311040002", "202311040003"}
#: Row 7 (LO-6): 123456 is no German postcode, whatever the suite did to it
BAD_POSTCODE = (7, "recipient_postcode", "INVALID_TEXT",
                "The postcode '123456' is not valid for DE (expected 5 digits, e.g. 26133).")
RESTORED = {(2, "recipient_postcode"): "01067", (2, "site_postcode"): "04109",
            (4, "recipient_postcode"): "02134", (4, "site_postcode"): "02134",
            (6, "recipient_postcode"): "00144", (6, "site_postcode"): "00144",
            (9, "recipient_postcode"): "08001"}
#: numbers left as they are: they lost nothing (AT 1010, DE 10115, a 12-digit SN), have no
#: format to restore by (AE 123), or are rejected anyway (the 20-digit SN, DE 123456)
PLAIN_NUMBERS = {(3, "recipient_postcode"), (3, "site_postcode"), (5, "recipient_postcode"),
                 (5, "site_postcode"), (5, "serial_number"), (6, "serial_number"),
                 (7, "recipient_postcode"), (7, "site_postcode"), (9, "site_postcode")}


def _ingest(path: Path, url: str, tmp_path: Path) -> tuple[dict, dict, set[str]]:
    upgrade(url)
    engine = make_engine(url)
    try:
        accounts, codes = write_reference(tmp_path)
        with posting_transaction(engine) as conn:
            import_accounts(conn, accounts)
        with posting_transaction(engine) as conn:
            import_codes(conn, codes)
        result = ingest_file(path, Origin("D-001", str(path)), engine,
                             Settings(database_url=url), tmp_path / "reports").to_json()
        with engine.connect() as conn:
            claims = {r[0]: tuple(r[1:]) for r in conn.execute(sa.text(
                "SELECT claim_ref, recipient_postcode, site_postcode, installation_date, "
                "fault_date FROM claims"))}
            serials = set(conn.execute(sa.text(
                "SELECT serial_number FROM claim_lines")).scalars())
    finally:
        engine.dispose()
    return result, {ref: tuple(str(v) for v in values) for ref, values in claims.items()}, \
        serials


def _by_cell(issues: list[dict]) -> dict[tuple[int, str], tuple[str, str]]:
    return {(i["row"], i["column"]): (i["code"], i["message"]) for i in issues}


@pytest.mark.parametrize("name", ["claims-en.xlsx", "claims-de.xlsx"])
def test_a_sheet_saved_by_libreoffice_posts_what_the_partner_meant(name, db_url, tmp_path):
    """Default import (English, and German locale): Calc made numbers of the postcodes and
    SNs, real dates of the ISO (and, in German, of the DD.MM.YYYY) dates."""
    result, claims, serials = _ingest(DATA / name, db_url, tmp_path)
    assert result["status"] == "posted", result
    assert (result["claims_accepted"], result["claims_rejected"]) == (6, 2)
    assert claims == {ref: meant for ref, meant in MEANT.items() if ref != "LO-4"}
    # several SNs in a cell (';' and line breaks) stay several SNs; none lost a digit
    assert serials == SERIALS
    rejections = _by_cell(result["rejections"])
    assert rejections == {
        (5, "serial_number"): (
            "INVALID_SERIAL_NUMBER", "Excel stored this serial number as a number and "
            "digits were lost; format the column as text and enter it again."),
        BAD_POSTCODE[:2]: BAD_POSTCODE[2:],
    }
    warnings = _by_cell(result["warnings"])
    assert {cell for cell, (code, _) in warnings.items() if code == "VALUE_AS_TEXT"} == \
        set(RESTORED) | PLAIN_NUMBERS
    for cell, restored in RESTORED.items():
        assert f"restored as {restored}." in warnings[cell][1], (cell, warnings[cell])
    for cell in PLAIN_NUMBERS:
        assert "restored" not in warnings[cell][1], (cell, warnings[cell])
    assert {code for code, _ in warnings.values()} == {"VALUE_AS_TEXT"}


def test_a_sheet_whose_columns_were_imported_as_text_posts_every_character(db_url, tmp_path):
    """The careful partner set the SN and postcode columns to Text in Calc's import dialog:
    nothing to restore or warn about, and the 20-digit SN is posted whole."""
    result, claims, serials = _ingest(DATA / "claims-text-columns.xlsx", db_url, tmp_path)
    assert (result["claims_accepted"], result["claims_rejected"]) == (7, 1)
    assert claims == MEANT
    assert serials == SERIALS | {"12345678901234567890"}
    assert _by_cell(result["rejections"]) == {BAD_POSTCODE[:2]: BAD_POSTCODE[2:]}
    assert result["warnings"] == []


def test_the_committed_files_are_the_ones_the_script_describes():
    """The script's CSV and the three workbooks it makes are all there (CI has no
    LibreOffice to remake them)."""
    names = {p.name for p in DATA.iterdir()}
    assert {"make_files.py", "claims.csv", "claims-en.xlsx", "claims-de.xlsx",
            "claims-text-columns.xlsx"} <= names
    assert all((DATA / n).stat().st_size < 20_000 for n in names if n.endswith(".xlsx"))

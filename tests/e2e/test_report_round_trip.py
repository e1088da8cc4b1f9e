"""The rejection report as a distributor works with it: ingest a batch, open its
rejections.xlsx, correct the red cells, send the file back as a new batch of the same account,
and every claim in it is accepted — nothing warned about the report's own columns, nothing
filed twice, nothing the report escaped coming back changed."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from rma.adapters.readers import read_batch
from rma.adapters.reports.xlsx_cells import ERROR_COLOR
from rma.adapters.reports.xlsx_rows import REJECTIONS_SHEET, WARNINGS_SHEET
from tests.factories import valid_claim, write_xlsx

pytestmark = pytest.mark.prefect
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

HEADERS = ["Claim ref", "SN", "Model", "Fault description", "Installation date", "Fault date",
           "Recipient name", "Phone", "E-mail", "Address", "City", "Postcode", "Country",
           "Site address", "Site country"]
#: a title and a blank row above the header: the report's Row is the row the submitter sees
TITLE_ROWS = [["Solar Distribution — claims March"], []]
FIRST_ROW = len(TITLE_ROWS) + 2


def _batch() -> tuple[list[dict[str, object]], dict[tuple[int, str], object]]:
    """The claim rows as sent, and the right value of every cell that must come back red,
    keyed by (row in the file, header)."""
    rows = [
        valid_claim(claim_ref="OK-1"),                                   # accepted
        valid_claim(claim_ref="TWO", serial_number="SNTWO00001"),        # one claim of
        valid_claim(claim_ref="TWO", serial_number="SNTWO00002",         # two rows, one bad
                    recipient_email="two(at)example"),
        valid_claim(claim_ref="DATE", installation_date="03/04/2025"),   # ambiguous
        valid_claim(claim_ref="SN", serial_number="HX#1"),
        valid_claim(claim_ref="DUP-1", serial_number="SNDUPL0001"),      # the same SN twice
        valid_claim(claim_ref="DUP-2", serial_number="SNDUPL0001"),
        valid_claim(claim_ref="NAME", recipient_name=None,               # text the report
                    fault_description="- no output since the storm"),  # escapes: '-…
        valid_claim(claim_ref="WARN", recipient_postcode=10115),         # accepted, warned
    ]
    at = {row["claim_ref"]: FIRST_ROW + i for i, row in enumerate(rows)}  # TWO: its last row
    corrections: dict[tuple[int, str], object] = {
        (at["TWO"], "E-mail"): "two@example.com",
        (at["DATE"], "Installation date"): "2025-04-03",
        (at["SN"], "SN"): "SNFIXED001",
        (at["DUP-1"], "SN"): "SNDUPL0001",  # both are marked; the second gets its own SN
        (at["DUP-2"], "SN"): "SNDUPL0002",
        (at["NAME"], "Recipient name"): "Nina Name",
    }
    return rows, corrections


def _red_cells(sheet) -> dict[tuple[int, str], openpyxl.cell.Cell]:
    header = [c.value for c in sheet[1]]
    red = {}
    for cells in sheet.iter_rows(min_row=2):
        row = cells[0].value
        for name, cell in zip(header, cells, strict=True):
            if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(
                    ERROR_COLOR.lstrip("#")):
                red[(row, name)] = cell
    return red


@SQLITE_ONLY
def test_a_corrected_report_sent_back_is_accepted_whole_and_nothing_is_filed_twice(cli, workdir):
    rows, corrections = _batch()
    sent = write_xlsx(workdir / "march.xlsx", rows, headers=HEADERS, title_rows=TITLE_ROWS)
    first = cli("ingest", str(sent), "--account", "D-001", "--json")
    assert first.code == 0, first.err
    [batch] = first.json()["batches"]
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (2, 6), batch

    report = openpyxl.load_workbook(batch["reports"]["xlsx"])
    sheet = report[REJECTIONS_SHEET]
    assert [c.value for c in sheet[1]][:2] == ["Row", "Errors"]
    shown = [r[0].value for r in sheet.iter_rows(min_row=2)]
    accepted_rows = {FIRST_ROW, FIRST_ROW + len(rows) - 1}  # OK-1 and WARN
    assert not accepted_rows & set(shown), "an accepted claim is in the Rejections sheet"
    assert [r[0].value for r in report[WARNINGS_SHEET].iter_rows(min_row=2)] == \
        [FIRST_ROW + len(rows) - 1]

    red = _red_cells(sheet)
    assert set(red) == set(corrections), "the red cells are not the cells that are wrong"
    for where, value in corrections.items():
        red[where].value = value
    corrected = workdir / "march corrected.xlsx"
    report.save(corrected)

    second = cli("ingest", str(corrected), "--account", "D-001", "--json")
    assert second.code == 0, second.err
    [again] = second.json()["batches"]
    assert again["status"] == "posted", again
    assert again["rejections"] == [] and again["claims_rejected"] == 0, again["rejections"]
    assert again["claims_accepted"] == 6
    assert not [w for w in again["warnings"] if w["code"] == "UNKNOWN_COLUMN"], again["warnings"]
    assert again["warnings"] == [], again["warnings"]

    claims = cli("claims", "list", "--account", "D-001", "--json").json()["claims"]
    serials = [sn for c in claims for sn in c["serial_numbers"]]
    assert len(claims) == 8 and len(serials) == len(set(serials)) == 9
    by_ref = {c["claim_ref"]: c for c in claims}
    assert set(by_ref) == {"OK-1", "WARN", "TWO", "DATE", "SN", "DUP-1", "DUP-2", "NAME"}
    # what the report escaped against formulas comes back as the submitter wrote it
    assert by_ref["NAME"]["fault_description"] == "- no output since the storm"
    assert by_ref["NAME"]["recipient_name"] == "Nina Name"
    assert by_ref["TWO"]["recipient_phone"] == "+49301234567"
    assert by_ref["DATE"]["installation_date"] == "2025-04-03"
    assert sorted(by_ref["TWO"]["serial_numbers"]) == ["SNTWO00001", "SNTWO00002"]


@SQLITE_ONLY
def test_a_report_read_back_numbers_its_rows_by_their_place_in_the_report(cli, workdir):
    rows, _ = _batch()
    sent = write_xlsx(workdir / "march.xlsx", rows, headers=HEADERS, title_rows=TITLE_ROWS)
    [batch] = cli("ingest", str(sent), "--account", "D-001", "--json").json()["batches"]
    sheet = read_batch(Path(batch["reports"]["xlsx"]))
    assert sheet.sheet == REJECTIONS_SHEET and sheet.header_row == 1
    assert list(sheet.sent.columns) == HEADERS and sheet.unknown_columns == []
    assert list(sheet.sent.index) == list(range(2, 2 + 7))  # the 7 rows of rejected claims
    assert sheet.sent.loc[2, "Phone"] == "+49 30 1234567"  # the report wrote '+49 30 …

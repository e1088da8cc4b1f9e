"""A rejections.xlsx that comes back corrected is a claim file like any other, except for
what the report itself added: its Row and Errors columns are dropped without UNKNOWN_COLUMN,
the ``'`` it put before formula-like text is taken off again, and a row left with nothing but
those two columns is no claim. A submitter's own file is read exactly as before."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rma.adapters.readers import read_batch
from rma.adapters.reports import ReportInput, write_reports
from rma.errors import BatchError
from tests.factories import valid_claim, write_xlsx

HEADERS = ["Claim ref", "SN", "Fault description", "Recipient name", "Phone", "Country"]


def _returned_report(folder: Path) -> Path:
    """The report of a batch whose three claims are all rejected (a missing name each)."""
    rows = [valid_claim(claim_ref=f"R-{n}", recipient_name=None,
                        fault_description="-- no output after the storm") for n in range(3)]
    sheet = read_batch(write_xlsx(folder / "sent.xlsx", rows, headers=HEADERS))
    issues = pd.DataFrame({"row": list(sheet.sent.index), "column": "recipient_name",
                           "code": "MISSING_FIELD", "message": "Required.", "value": None})
    report = ReportInput(sheet=sheet, issues=issues, rejected_rows=list(sheet.sent.index),
                         claim_of_row={}, claims_accepted=0, claims_rejected=3, claim_ids=[],
                         batch_id="B-1", account_id="D-001")
    return write_reports(report, folder / "reports", "sent")["xlsx"]


def test_a_returned_report_drops_its_row_and_errors_columns_without_a_warning(tmp_path):
    back = read_batch(_returned_report(tmp_path))
    assert list(back.sent.columns) == HEADERS
    assert back.unknown_columns == []


def test_a_claim_file_with_a_row_column_of_its_own_keeps_it_and_is_warned_about(tmp_path):
    rows = [{"Row": 1, **valid_claim(claim_ref="OWN-1")}]
    sheet = read_batch(write_xlsx(tmp_path / "own.xlsx", rows, headers=["Row", *HEADERS]))
    assert list(sheet.sent.columns) == ["Row", *HEADERS]
    assert sheet.unknown_columns == ["Row"]


def test_the_reports_formula_escapes_are_taken_off_in_a_returned_report_only(tmp_path):
    report = _returned_report(tmp_path)
    shown = openpyxl.load_workbook(report)["Rejections"]
    assert shown["G2"].value == "'+49 30 1234567"  # escaped by the report, not as sent
    back = read_batch(report)
    assert set(back.sent["Phone"]) == {"+49 30 1234567"}
    assert set(back.sent["Fault description"]) == {"-- no output after the storm"}
    own = write_xlsx(tmp_path / "own.xlsx", [valid_claim(fault_description="'-- as typed")],
                     headers=HEADERS)
    assert read_batch(own).sent["Fault description"].tolist() == ["'-- as typed"]


def test_a_row_left_with_only_the_reports_own_cells_is_not_a_claim(tmp_path):
    report = _returned_report(tmp_path)
    book = openpyxl.load_workbook(report)
    sheet = book["Rejections"]
    for cell in sheet[3][2:]:  # the second claim withdrawn: its cells cleared, Row and Errors
        cell.value = None      # left as they were
    book.save(report)
    assert list(read_batch(report).sent.index) == [2, 4]
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells[2:]:
            cell.value = None
    book.save(report)
    with pytest.raises(BatchError) as caught:
        read_batch(report)
    assert caught.value.code == "EMPTY_BATCH"

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import rma.adapters.reports as reports
import rma.adapters.reports.xlsx as xlsx_report
from rma.adapters.reports import (
    CSV_COLUMNS,
    ReportInput,
    issue_table,
    summary_markdown,
    write_reports,
)
from rma.adapters.reports.words import HOW_TO_FIX
from rma.adapters.reports.xlsx_cells import COMMENT_AUTHOR
from rma.adapters.reports.xlsx_summary import SEND_BACK, WARNED_ROWS
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData

HEADERS = ["Claim No", "SN", "Fault", "Installed", "Phone", "Country", "Foo"]
COLUMNS = {
    "Claim No": "claim_ref",
    "SN": "serial_number",
    "Fault": "fault_description",
    "Installed": "installation_date",
    "Phone": "recipient_phone",
    "Country": "recipient_country",
}
HYPERLINK = '=HYPERLINK("http://evil.example","click")'


def _sheet() -> SheetData:
    rows = {
        5: ["C-1", "ABC123456", HYPERLINK, "03/04/2025", "+49 30 1234567", "DE", None],
        6: ["C-1", "+1", "-2+3", datetime(2024, 5, 1), "+49 30 1234567", "DE", "x"],
        7: ["C-2", "XYZ987654", "Display dead", datetime(2024, 6, 1), 30123456, "AT", None],
        8: ["C-3", "OK0000001", "Fan noise", datetime(2024, 6, 2), "+43 1 234567", "AT", None],
        9: [None, "@SUM(A1)", "Broken again", None, "+33 1 23456789", "FR", None],
    }
    sent = pd.DataFrame.from_dict(rows, orient="index", columns=HEADERS, dtype=object)
    return SheetData(
        source=Path("/inbox/D-001/march claims.xlsx"),
        sheet="Claims",
        header_row=4,
        sent=sent,
        columns=dict(COLUMNS),
        unknown_columns=["Foo"],
        file_format="xlsx",
    )


def _issues() -> pd.DataFrame:
    sn_msg = "'@SUM(A1)' is not a serial number."
    date_msg = "03/04/2025 is ambiguous; use YYYY-MM-DD."
    phone_msg = "The phone was a number; leading zero lost?"
    rows = [
        (9, "serial_number", "INVALID_SERIAL_NUMBER", sn_msg, "@SUM(A1)"),
        (5, "installation_date", "INVALID_DATE", date_msg, "03/04/2025"),
        (5, "fault_description", "INVALID_TEXT", "Control characters are not allowed.", HYPERLINK),
        (7, "recipient_phone", "VALUE_AS_TEXT", phone_msg, 30123456),
        (4, "Foo", "UNKNOWN_COLUMN", "The column is not recognised and was ignored.", "Foo"),
        (9, "recipient_name", "MISSING_FIELD", "This field is required and was left blank.", None),
        (9, "", "CODE_REQUIRED", "Installers below Gold need an RMA code.", None),
    ]
    return pd.DataFrame(rows, columns=["row", "column", "code", "message", "value"])


def _report(**overrides: object) -> ReportInput:
    values: dict[str, object] = dict(
        sheet=_sheet(),
        issues=_issues(),
        rejected_rows=[5, 6, 9],
        claim_of_row={5: "C-1", 6: "C-1", 7: "C-2", 8: "C-3", 9: "row 9"},
        claims_accepted=2,
        claims_rejected=2,
        claim_ids=["RMA-2026-000001", "RMA-2026-000002"],
        batch_id="B-42",
        account_id="D-001",
    )
    values.update(overrides)
    return ReportInput(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["in memory", "streamed"])
def written(request, tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """The reports of one batch; the workbook built in memory (a small report) and streamed
    row by row through a temporary file (a large one) must be the same workbook."""
    if request.param == "streamed":
        monkeypatch.setattr(xlsx_report, "IN_MEMORY_ROWS", 0)
    return write_reports(_report(), tmp_path / "reports", "march")


def _rows_by_number(ws) -> dict[int, dict[str, object]]:
    header = [c.value for c in ws[1]]
    out = {}
    for cells in ws.iter_rows(min_row=2):
        values = dict(zip(header, cells, strict=True))
        out[values["Row"].value] = values
    return out


def test_files_are_written_atomically_into_a_new_folder(tmp_path: Path, written) -> None:
    assert written == {
        "xlsx": tmp_path / "reports" / "march.rejections.xlsx",
        "csv": tmp_path / "reports" / "march.rejections.csv",
    }
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "march.rejections.csv",
        "march.rejections.xlsx",
    ]


def test_rejections_sheet_layout(written) -> None:
    wb = load_workbook(written["xlsx"])
    assert wb.sheetnames == ["Rejections", "Summary", "Accepted with warnings"]
    ws = wb["Rejections"]
    assert [c.value for c in ws[1]] == ["Row", "Errors", *HEADERS]
    assert [c.value for c in ws["A"][1:]] == [5, 6, 9]  # every row of the rejected claims
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == "A1:I4"
    assert ws.column_dimensions["B"].width >= 30
    warned = wb["Accepted with warnings"]
    assert [c.value for c in warned[1]] == ["Row", "Warnings", *HEADERS]
    assert [c.value for c in warned["A"][1:]] == [7]  # row 8 is accepted, no warning


def test_errors_column_in_plain_words(written) -> None:
    wb = load_workbook(written["xlsx"])
    rows = _rows_by_number(wb["Rejections"])
    assert rows[5]["Errors"].value == (
        "Fault description: Control characters are not allowed.\n"
        "Installation date: 03/04/2025 is ambiguous; use YYYY-MM-DD."
    )
    assert rows[6]["Errors"].value == "Rejected with the rest of claim C-1 (see row 5)"
    assert _rows_by_number(wb["Accepted with warnings"])[7]["Warnings"].value == (
        "Warning – Recipient phone: The phone was a number; leading zero lost?"
    )
    assert rows[9]["Errors"].value == (
        "Installers below Gold need an RMA code.\n"
        "Serial number: '@SUM(A1)' is not a serial number.\n"
        "Recipient name: This field is required and was left blank."
    )


def test_bad_cells_are_red_with_a_comment_and_warnings_yellow(written) -> None:
    wb = load_workbook(written["xlsx"])
    rows = _rows_by_number(wb["Rejections"])
    installed = rows[5]["Installed"]
    assert installed.fill.fgColor.rgb.endswith("FFC7CE")
    assert installed.comment.text == "03/04/2025 is ambiguous; use YYYY-MM-DD."
    assert installed.comment.author == COMMENT_AUTHOR
    phone = _rows_by_number(wb["Accepted with warnings"])[7]["Phone"]
    assert phone.fill.fgColor.rgb.endswith("FFEB9C")
    assert phone.comment.text.startswith("Warning – ")
    assert phone.value == 30123456  # numbers echoed as numbers
    # cells without an issue are left plain
    for cell in (rows[5]["SN"], rows[6]["SN"], rows[9]["Country"]):
        assert cell.comment is None
        assert cell.fill.fill_type is None
    assert rows[9]["SN"].comment.text == "'@SUM(A1)' is not a serial number."
    assert rows[6]["Installed"].value == datetime(2024, 5, 1)


def test_text_that_looks_like_a_formula_comes_back_as_escaped_text(written) -> None:
    ws = load_workbook(written["xlsx"])["Rejections"]
    rows = _rows_by_number(ws)
    checks = {
        (5, "Fault"): HYPERLINK,
        (6, "SN"): "+1",
        (6, "Fault"): "-2+3",
        (9, "SN"): "@SUM(A1)",
    }
    for (row, header), sent in checks.items():
        cell = rows[row][header]
        assert cell.value == "'" + sent
        assert cell.data_type != "f"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_summary_sheet(written) -> None:
    ws = load_workbook(written["xlsx"])["Summary"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    facts = {r[0]: r[1] for r in cells if r and len(r) > 1}
    assert facts["Batch ID"] == "B-42"
    assert facts["Account"] == "D-001"
    assert facts["File name"] == "march claims.xlsx"
    assert facts["Sheet"] == "Claims"
    assert facts["Claims accepted"] == 2
    assert facts["Claims rejected"] == 2
    reasons = {r[0]: tuple(r[1:5]) for r in cells if r and isinstance(r[0], str) and r[0].isupper()}
    assert reasons["INVALID_DATE"] == ("Error", 1, 1, "The date is not valid.")
    assert reasons["VALUE_AS_TEXT"][:3] == ("Warning", 1, 1)
    flat = [v for r in cells for v in r if v is not None]
    assert "File-level notes" in flat
    assert [v for v in flat if str(v).startswith("RMA-")] == ["RMA-2026-000001", "RMA-2026-000002"]
    note = next(r for r in cells if r[0] == "UNKNOWN_COLUMN" and r[1] == "Warning" and r[2] == 4)
    assert note[3] == "Foo"


def test_csv_columns_rows_bom_and_escaping(written) -> None:
    raw = written["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with written["csv"].open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert tuple(lines[0]) == CSV_COLUMNS
    assert [line["row"] for line in lines] == ["4", "5", "5", "7", "9", "9", "9"]
    assert [line["code"] for line in lines] == [
        "UNKNOWN_COLUMN",
        "INVALID_TEXT",
        "INVALID_DATE",
        "VALUE_AS_TEXT",
        "CODE_REQUIRED",
        "INVALID_SERIAL_NUMBER",
        "MISSING_FIELD",
    ]
    text_line, date_line = lines[1], lines[2]
    assert date_line["sheet"] == "Claims"
    assert date_line["claim_ref"] == "C-1"
    assert date_line["serial_number"] == "ABC123456"
    assert date_line["column"] == "installation_date"
    assert date_line["value"] == "03/04/2025"
    assert text_line["value"] == "'" + HYPERLINK
    sn_line = lines[5]
    assert sn_line["serial_number"] == "'@SUM(A1)"
    assert sn_line["value"] == "'@SUM(A1)"
    assert sn_line["claim_ref"] == ""
    assert lines[3]["value"] == "30123456"
    assert lines[0]["claim_ref"] == "" and lines[0]["column"] == "Foo"


def test_csv_quotes_commas_and_newlines(tmp_path: Path) -> None:
    issues = pd.DataFrame(
        [(7, "fault_description", "INVALID_TEXT", "Too short, really.\nTry again.", None)],
        columns=["row", "column", "code", "message", "value"],
    )
    paths = write_reports(_report(issues=issues, rejected_rows=[7]), tmp_path, "b")
    with paths["csv"].open(encoding="utf-8-sig", newline="") as fh:
        (line,) = list(csv.DictReader(fh))
    assert line["message"] == "Too short, really.\nTry again."
    assert line["value"] == "Display dead"


def test_control_characters_do_not_break_the_workbook(tmp_path: Path) -> None:
    sheet = _sheet()
    sheet.sent.at[5, "Fault"] = "bad\x07bell"
    paths = write_reports(_report(sheet=sheet), tmp_path, "ctl")
    rows = _rows_by_number(load_workbook(paths["xlsx"])["Rejections"])
    assert rows[5]["Fault"].value == "bad\ufffdbell"


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:
    def boom(report: ReportInput, path: Path, **_: object) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "write_csv", boom)
    with pytest.raises(RuntimeError):
        write_reports(_report(), tmp_path, "fail")
    assert [p.name for p in tmp_path.iterdir()] == ["fail.rejections.xlsx"]


def test_stem_cannot_escape_the_folder(tmp_path: Path) -> None:
    paths = write_reports(_report(), tmp_path / "out", "../../evil")
    assert paths["csv"].parent == tmp_path / "out"


def test_only_file_level_notes(tmp_path: Path) -> None:
    issues = _issues().query("code == 'UNKNOWN_COLUMN'")
    report = _report(issues=issues, rejected_rows=[], claims_rejected=0, claims_accepted=4)
    paths = write_reports(report, tmp_path, "notes")
    ws = load_workbook(paths["xlsx"])["Rejections"]
    assert ws.max_row == 1
    assert "UNKNOWN_COLUMN" in summary_markdown(report)


def test_summary_markdown() -> None:
    md = summary_markdown(_report(claim_ids=[f"RMA-2026-{i:06d}" for i in range(1, 61)]))
    assert md.startswith("# Claim batch march claims.xlsx")
    assert "Claims accepted: **2**" in md and "Claims rejected: **2**" in md
    assert "RMA-2026-000050 and 10 more" in md and "RMA-2026-000051" not in md
    assert "| INVALID_DATE | error | 1 | 1 | The date is not valid. |" in md
    assert "| 5 | installation_date | INVALID_DATE |" in md
    assert "## File-level notes" in md


def test_summary_markdown_caps_the_issue_lines() -> None:
    n = 30
    sent = pd.DataFrame({"SN": [f"BAD{i}" for i in range(n)]}, index=range(2, 2 + n), dtype=object)
    sheet = SheetData(Path("big.csv"), "big", 1, sent, {"SN": "serial_number"})
    issues = pd.DataFrame(
        {
            "row": sent.index,
            "column": "serial_number",
            "code": "INVALID_SERIAL_NUMBER",
            "message": "bad",
            "value": sent["SN"],
        }
    )
    report = _report(sheet=sheet, issues=issues, rejected_rows=list(sent.index), claim_of_row={})
    md = summary_markdown(report)
    assert md.count("| INVALID_SERIAL_NUMBER | bad |") == 20
    assert "… and 10 more" in md


def test_issue_table() -> None:
    table = issue_table(_report())
    assert len(table) == 7
    assert set(table[0]) == {
        "sheet",
        "row",
        "claim_ref",
        "serial_number",
        "column",
        "code",
        "message",
    }
    date_row = table[2]
    assert (date_row["row"], date_row["claim_ref"], date_row["code"]) == (5, "C-1", "INVALID_DATE")


def test_a_message_that_names_its_column_is_not_prefixed_twice(tmp_path: Path) -> None:
    issues = pd.DataFrame(
        [(7, "recipient_phone", "INVALID_PHONE", "Recipient phone is not a phone number.", None)],
        columns=["row", "column", "code", "message", "value"],
    )
    paths = write_reports(_report(issues=issues, rejected_rows=[7]), tmp_path, "p")
    rows = _rows_by_number(load_workbook(paths["xlsx"])["Rejections"])
    assert rows[7]["Errors"].value == "Recipient phone is not a phone number."


def test_errors_and_long_text_wrap_in_rows_made_tall_enough_for_them(written) -> None:
    ws = load_workbook(written["xlsx"])["Rejections"]
    errors = ws["B2"]  # row 5: two problems, a line each
    assert (errors.alignment.wrap_text, errors.alignment.vertical) == (True, "top")
    assert ws.row_dimensions[2].height >= 2 * 15
    fault = ws["E2"]  # the 42-character formula: longer than a column is wide
    assert ws.column_dimensions["E"].width < len(HYPERLINK) + 2
    assert fault.alignment.wrap_text and fault.fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.row_dimensions[3].height is None  # row 6: one line, the default height
    assert ws["C3"].alignment.vertical == "top"


def test_the_sheets_print_landscape_with_the_header_on_every_page(written) -> None:
    wb = load_workbook(written["xlsx"])
    ws = wb["Rejections"]
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$1" and ws.print_title_cols is None
    assert wb["Summary"].page_setup.orientation == "landscape"


def test_a_sheet_too_wide_for_one_page_prints_across_pages_each_with_row_and_errors(
        tmp_path: Path) -> None:
    headers = [f"Column {n}" for n in range(30)]
    sent = pd.DataFrame([["x" * 20] * 30], index=[2], columns=headers, dtype=object)
    sheet = SheetData(Path("wide.xlsx"), "Claims", 1, sent, {"Column 0": "serial_number"})
    issues = pd.DataFrame([(2, "serial_number", "INVALID_SERIAL_NUMBER", "bad", None)],
                          columns=["row", "column", "code", "message", "value"])
    report = _report(sheet=sheet, issues=issues, rejected_rows=[2], claim_of_row={})
    ws = load_workbook(write_reports(report, tmp_path, "wide")["xlsx"])["Rejections"]
    assert ws.page_setup.fitToWidth > 1 and ws.print_title_cols == "$A:$B"


def test_the_summary_says_how_to_fix_each_reason_and_how_to_send_the_rows_back(written) -> None:
    cells = [[c.value for c in row] for row in load_workbook(written["xlsx"])["Summary"].rows]
    assert ["Code", "Kind", "Issues", "Claims", "Meaning", "How to fix"] in cells
    date = next(r for r in cells if r[0] == "INVALID_DATE")
    assert date[5] == HOW_TO_FIX[Reason.INVALID_DATE]
    flat = [v for r in cells for v in r if v is not None]
    assert SEND_BACK in flat and WARNED_ROWS in flat

"""read_batch on real .xlsx and .csv files written to tmp_path."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from rma.adapters.readers import read_batch
from rma.config import Limits
from rma.errors import BatchError
from tests.factories import generate_rows, valid_claim, write_csv, write_xlsx

HEADERS = ["SN", "Fault", "Recipient", "Country"]


def claim_row(sn: str = "SN123456", fault: str = "Inverter dead") -> list[object]:
    return [sn, fault, "Anna Müller", "DE"]


def batch_error(path: Path, code: str, limits: Limits | None = None) -> str:
    """The message of the BatchError read_batch raises; it must carry ``code`` and the name."""
    with pytest.raises(BatchError) as caught:
        read_batch(path, limits) if limits is not None else read_batch(path)
    assert caught.value.code == code, caught.value.message
    message = caught.value.message
    assert path.name in message
    assert "\n" not in message
    return message


# --- xlsx: sheet choice, header position, row numbers -------------------------------------


def test_an_xlsx_is_read_with_canonical_headers(tmp_path):
    rows = [valid_claim(), valid_claim()]
    path = write_xlsx(tmp_path / "claims.xlsx", rows)
    sheet = read_batch(path)
    assert sheet.sheet == "Claims"
    assert sheet.header_row == 1
    assert list(sheet.sent.index) == [2, 3]
    assert sheet.sent.index.name == "row"
    assert list(sheet.sent.columns) == list(rows[0])
    assert sheet.columns == {c: c for c in rows[0]}
    assert sheet.unknown_columns == []
    assert sheet.file_format == "xlsx"
    assert sheet.source == path
    assert sheet.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(dtype == "object" for dtype in sheet.sent.dtypes)
    assert sheet.sent.loc[2, "serial_number"] == rows[0]["serial_number"]
    assert sheet.sent.loc[3, "rma_code"] is None


def test_the_sheet_named_claims_is_chosen_among_several(tmp_path):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        [claim_row("SN000001")],
        sheet="Overview",
        headers=HEADERS,
        extra_sheets={"Notes": [["free text"]], "CLAIMS ": [HEADERS, claim_row("SN999999")]},
    )
    sheet = read_batch(path)
    assert sheet.sheet == "CLAIMS "
    assert sheet.sent["SN"].tolist() == ["SN999999"]


def test_without_a_claims_sheet_the_first_sheet_with_a_header_is_read(tmp_path):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        [["How to fill in this file"], ["One claim per row"]],
        sheet="Instructions",
        extra_sheets={"Data": [HEADERS, claim_row("SN000002")],
                      "More": [HEADERS, claim_row("SN000003")]},
    )
    sheet = read_batch(path)
    assert sheet.sheet == "Data"
    assert sheet.sent["SN"].tolist() == ["SN000002"]


def test_title_rows_above_the_header_give_the_row_numbers_excel_shows(tmp_path):
    path = write_xlsx(tmp_path / "titled.xlsx", [claim_row("SN000001"), claim_row("SN000002")],
                      headers=HEADERS,
                      title_rows=[["Claims of Sonnenstrom GmbH"], ["Sent 2025-09-20"], []])
    sheet = read_batch(path)
    assert sheet.header_row == 4
    assert list(sheet.sent.index) == [5, 6]
    assert sheet.sent.loc[6, "SN"] == "SN000002"


@pytest.mark.parametrize("title", [None, "Claims list"])
def test_empty_leading_rows_and_columns_keep_sheet_row_numbers(tmp_path, title):
    wb = Workbook()
    ws = wb.active
    ws.title = "Claims"
    ws["C2"] = title
    for offset, header in enumerate(HEADERS):
        ws.cell(row=4, column=3 + offset, value=header)
    for offset, value in enumerate(claim_row("SN000005")):
        ws.cell(row=5, column=3 + offset, value=value)
    for offset, value in enumerate(claim_row("SN000007")):
        ws.cell(row=7, column=3 + offset, value=value)
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    sheet = read_batch(path)
    assert sheet.header_row == 4
    assert list(sheet.sent.index) == [5, 7]
    assert list(sheet.sent.columns) == HEADERS
    assert sheet.sent.loc[7, "SN"] == "SN000007"


def test_blank_rows_are_dropped_and_numbering_is_kept(tmp_path):
    path = write_xlsx(tmp_path / "gaps.xlsx",
                      [claim_row("SN000001"), [None] * 4, [], claim_row("SN000004")],
                      headers=HEADERS)
    sheet = read_batch(path)
    assert list(sheet.sent.index) == [2, 5]


@pytest.mark.parametrize(
    ("header", "canonical"),
    [("SN", "serial_number"), ("Serial No.", "serial_number"),
     ("Serial Number", "serial_number"), ("E-Mail", "recipient_email"),
     ("Post code", "recipient_postcode")],
)
def test_header_aliases_map_to_canonical_columns(tmp_path, header, canonical):
    headers = ["SN", "Fault", header] if canonical != "serial_number" else [header, "Fault"]
    row = valid_claim()
    path = write_xlsx(tmp_path / "alias.xlsx", [row], headers=headers)
    sheet = read_batch(path)
    assert sheet.columns[header] == canonical
    assert sheet.sent.loc[2, header] == row[canonical]


def test_unknown_columns_are_listed_in_order(tmp_path):
    path = write_xlsx(tmp_path / "extra.xlsx", [["SN000001", "Broken", "red", "x", "A"]],
                      headers=["SN", "Fault", "Colour", "Internal ID", "Warehouse"])
    sheet = read_batch(path)
    assert sheet.unknown_columns == ["Colour", "Internal ID", "Warehouse"]
    assert set(sheet.columns) == {"SN", "Fault"}
    assert sheet.sent.loc[2, "Colour"] == "red"


def test_repeated_and_blank_headers_get_unique_names(tmp_path):
    path = write_xlsx(
        tmp_path / "names.xlsx",
        [["SN000001", "Broken", "a", "b", None, "c", "SN000009"]],
        headers=["SN", "Fault", "Notes", "Notes", None, None, "Serial number"],
    )
    sheet = read_batch(path)
    assert list(sheet.sent.columns) == ["SN", "Fault", "Notes", "Notes (2)", "Column F",
                                        "Serial number"]
    assert sheet.columns == {"SN": "serial_number", "Fault": "fault_description",
                             "Notes": "notes"}
    assert sheet.unknown_columns == ["Notes (2)", "Column F", "Serial number"]


def test_real_excel_dates_stay_dates_and_text_dates_stay_text(tmp_path):
    row = valid_claim(installation_date=dt.date(2025, 3, 1),
                      fault_date=dt.datetime(2025, 9, 15, 14, 30))
    text_row = valid_claim(installation_date="01.03.2025", fault_date="2025-09-15")
    path = write_xlsx(tmp_path / "dates.xlsx", [row, text_row])
    sent = read_batch(path).sent
    assert sent.loc[2, "installation_date"] == dt.date(2025, 3, 1)
    assert isinstance(sent.loc[2, "fault_date"], dt.datetime)
    assert sent.loc[2, "fault_date"] == dt.datetime(2025, 9, 15, 14, 30)
    assert sent.loc[3, "installation_date"] == "01.03.2025"
    assert sent.loc[3, "fault_date"] == "2025-09-15"


def test_a_numeric_postcode_stays_a_number_for_the_next_stage(tmp_path):
    path = write_xlsx(tmp_path / "numbers.xlsx",
                      [valid_claim(recipient_postcode=1067, recipient_phone=4930123456)])
    sent = read_batch(path).sent
    postcode = sent.loc[2, "recipient_postcode"]
    assert isinstance(postcode, int | float) and not isinstance(postcode, bool)
    assert postcode == 1067  # calamine gives xlsx numbers as float: 1067.0
    assert sent.loc[2, "recipient_phone"] == 4930123456


def test_several_serial_numbers_in_one_cell_keep_their_newlines(tmp_path):
    path = write_xlsx(tmp_path / "multi.xlsx",
                      [valid_claim(serial_number="SN000001\nSN000002\nSN000003")])
    assert read_batch(path).sent.loc[2, "serial_number"] == "SN000001\nSN000002\nSN000003"


def test_blank_cells_are_none(tmp_path):
    path = write_xlsx(tmp_path / "blank.xlsx", [["SN000001", None, ""]],
                      headers=["SN", "Fault", "Notes"])
    sent = read_batch(path).sent
    assert sent.loc[2, "Fault"] is None
    assert sent.loc[2, "Notes"] is None


@pytest.mark.parametrize(("name", "file_format"),
                         [("claims.XLSX", "xlsx"), ("claims.xlsm", "xlsm"), ("claims.CSV", "csv")])
def test_the_extension_is_matched_ignoring_case(tmp_path, name, file_format):
    writer = write_csv if file_format == "csv" else write_xlsx
    path = writer(tmp_path / "tmp", [valid_claim()]).rename(tmp_path / name)
    assert read_batch(path).file_format == file_format


def test_formulas_are_never_evaluated_only_cached_values_are_read(tmp_path):
    # openpyxl stores no cached value for a formula: the cell reads as blank, not 2 nor "=1+1"
    path = write_xlsx(tmp_path / "formula.xlsx", [["SN000001", "=1+1", "Broken"]],
                      headers=["SN", "Notes", "Fault"])
    assert read_batch(path).sent.loc[2, "Notes"] is None


def test_a_workbook_without_worksheets_holds_no_claims(tmp_path):
    wb = Workbook()
    wb.create_chartsheet("Chart")
    wb.remove(wb.active)
    path = tmp_path / "charts.xlsx"
    wb.save(path)
    batch_error(path, "EMPTY_BATCH")


# --- csv ------------------------------------------------------------------------------------


def test_a_utf8_csv_is_read_as_text(tmp_path):
    rows = [valid_claim(recipient_name="Zoë Ångström"), valid_claim(notes="")]
    path = write_csv(tmp_path / "claims.csv", rows)
    sheet = read_batch(path)
    assert sheet.sheet == "claims.csv"
    assert sheet.file_format == "csv"
    assert sheet.header_row == 1
    assert list(sheet.sent.index) == [2, 3]
    assert sheet.columns == {c: c for c in rows[0]}
    assert sheet.sent.loc[2, "recipient_name"] == "Zoë Ångström"
    assert sheet.sent.loc[3, "notes"] is None
    assert sheet.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    values = sheet.sent.to_numpy().ravel()
    assert all(v is None or isinstance(v, str) for v in values)


def test_a_utf8_bom_does_not_reach_the_first_header(tmp_path):
    path = write_csv(tmp_path / "bom.csv", [valid_claim()], headers=["SN", "Fault"], bom=True)
    sheet = read_batch(path)
    assert list(sheet.sent.columns) == ["SN", "Fault"]
    assert sheet.columns["SN"] == "serial_number"


def test_a_cp1252_csv_is_decoded(tmp_path):
    path = write_csv(tmp_path / "win.csv", [valid_claim(recipient_name="Jörg Müller – Süd")],
                     headers=["SN", "Name", "Fault"], encoding="cp1252")
    assert read_batch(path).sent.loc[2, "Name"] == "Jörg Müller – Süd"


def test_a_semicolon_csv_is_sniffed(tmp_path):
    row = valid_claim(recipient_address="Hauptstraße 1, Hinterhaus")
    path = write_csv(tmp_path / "semi.csv", [row],
                     headers=["SN", "Fault", "Address"], delimiter=";")
    sent = read_batch(path).sent
    assert list(sent.columns) == ["SN", "Fault", "Address"]
    assert sent.loc[2, "Address"] == "Hauptstraße 1, Hinterhaus"


def test_a_comma_csv_with_semicolons_in_values_is_sniffed(tmp_path):
    path = write_csv(tmp_path / "comma.csv",
                     [valid_claim(serial_number="SN000001; SN000002; SN000003")],
                     headers=["SN", "Fault"])
    assert read_batch(path).sent.loc[2, "SN"] == "SN000001; SN000002; SN000003"


def test_a_quoted_multi_line_cell_is_one_cell_and_one_row(tmp_path):
    rows = [valid_claim(serial_number="SN000001\nSN000002"), valid_claim()]
    path = write_csv(tmp_path / "multi.csv", rows, headers=["SN", "Fault"])
    sheet = read_batch(path)
    assert list(sheet.sent.index) == [2, 3]
    assert sheet.sent.loc[2, "SN"] == "SN000001\nSN000002"


def test_csv_title_rows_and_blank_lines_keep_row_numbers(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Claims September;;\r\n\r\nSN;Fault;Country\r\nSN000001;Broken;DE\r\n"
                    ";;\r\n\r\nSN000002;Dead;AT\r\n\r\n", encoding="utf-8")
    sheet = read_batch(path)
    assert sheet.header_row == 3
    assert list(sheet.sent.index) == [4, 7]
    assert sheet.sent.loc[7, "Country"] == "AT"


def test_an_excel_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path):
    path = tmp_path / "sep.csv"
    path.write_text("sep=;\r\nSN;Fault, description\r\nSN000001;Broken, twice\r\n")
    sheet = read_batch(path)
    assert sheet.header_row == 1
    assert list(sheet.sent.index) == [2]
    assert sheet.columns == {"SN": "serial_number", "Fault, description": "fault_description"}
    assert sheet.sent.loc[2, "Fault, description"] == "Broken, twice"


def test_a_short_csv_row_is_padded_with_blanks(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("SN,Fault,Notes\nSN000001,Broken\nSN000002,Dead,x,extra\n")
    sheet = read_batch(path)
    assert sheet.sent.loc[2, "Notes"] is None
    assert list(sheet.sent.columns) == ["SN", "Fault", "Notes", "Column D"]
    assert sheet.sent.loc[3, "Column D"] == "extra"


# --- batch errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["claims.xls", "claims.ods", "claims.txt", "claims"])
def test_other_formats_are_unsupported(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"SN,Fault\nSN000001,Broken\n")
    message = batch_error(path, "UNSUPPORTED_FORMAT")
    assert ".xlsx" in message and ".csv" in message


def test_a_text_file_renamed_to_xlsx_is_unreadable(tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text("SN,Fault\nSN000001,Broken\n")
    assert "not an Excel workbook" in batch_error(path, "UNREADABLE_FILE")


def test_a_truncated_xlsx_is_unreadable(tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", generate_rows(200))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    batch_error(path, "UNREADABLE_FILE")


def test_an_xlsx_with_a_corrupt_member_is_unreadable(tmp_path):
    source = write_xlsx(tmp_path / "good.xlsx", generate_rows(50))
    path = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # XML cut in the middle
            zout.writestr(info, data)
    batch_error(path, "UNREADABLE_FILE")


def test_a_missing_file_is_unreadable(tmp_path):
    batch_error(tmp_path / "gone.csv", "UNREADABLE_FILE")


def test_a_csv_with_nul_bytes_is_unreadable(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("SN,Fault\nSN000001,Broken\n".encode("utf-16"))
    batch_error(path, "UNREADABLE_FILE")


def test_a_csv_in_an_unknown_encoding_is_unreadable(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"SN,Fault\nSN000001,Broken \x81\x8d\n")
    batch_error(path, "UNREADABLE_FILE")


def test_an_xlsx_without_a_recognisable_header_names_the_sheets_searched(tmp_path):
    path = write_xlsx(tmp_path / "noheader.xlsx", [["Name", "City"], ["Anna", "Berlin"]],
                      sheet="Sheet1", extra_sheets={"Notes": [["hello"]]})
    message = batch_error(path, "NO_HEADER")
    assert "Sheet1" in message and "Notes" in message


def test_a_claims_sheet_without_a_header_is_not_replaced_by_another_sheet(tmp_path):
    path = write_xlsx(tmp_path / "claimsnoheader.xlsx", [["Name"], ["Anna"]],
                      extra_sheets={"Data": [HEADERS, claim_row()]})
    message = batch_error(path, "NO_HEADER")
    assert "Claims" in message


def test_an_empty_claims_sheet_is_an_empty_batch_even_if_other_sheets_have_claims(tmp_path):
    path = write_xlsx(tmp_path / "emptyclaims.xlsx", [],
                      extra_sheets={"Last month": [HEADERS, claim_row()]})
    assert "sheet Claims" in batch_error(path, "EMPTY_BATCH")


def test_a_csv_without_a_recognisable_header_is_no_header(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("Name,City\nAnna,Berlin\n")
    batch_error(path, "NO_HEADER")


def test_a_header_without_rows_is_an_empty_batch(tmp_path):
    xlsx = write_xlsx(tmp_path / "empty.xlsx", [], headers=HEADERS)
    assert "no claim rows" in batch_error(xlsx, "EMPTY_BATCH")
    csv_path = write_csv(tmp_path / "empty.csv", [], headers=HEADERS)
    assert "no claim rows" in batch_error(csv_path, "EMPTY_BATCH")


def test_an_empty_file_is_an_empty_batch(tmp_path):
    path = tmp_path / "nothing.csv"
    path.write_bytes(b"")
    batch_error(path, "EMPTY_BATCH")
    workbook = write_xlsx(tmp_path / "nothing.xlsx", [])
    batch_error(workbook, "EMPTY_BATCH")


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_too_many_rows_is_too_large(tmp_path, suffix):
    writer = write_xlsx if suffix == "xlsx" else write_csv
    path = writer(tmp_path / f"big.{suffix}", generate_rows(12))
    message = batch_error(path, "TOO_LARGE", Limits(rows=10))
    assert "12 rows" in message and "RMA_MAX_ROWS" in message
    assert read_batch(path, Limits(rows=12)).sent.shape[0] == 12


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_too_many_columns_is_too_large(tmp_path, suffix):
    writer = write_xlsx if suffix == "xlsx" else write_csv
    path = writer(tmp_path / f"wide.{suffix}", [valid_claim()])
    assert "RMA_MAX_COLUMNS" in batch_error(path, "TOO_LARGE", Limits(columns=10))


def test_trailing_empty_csv_fields_do_not_count_as_columns(tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("SN,Fault" + "," * 50 + "\nSN000001,Broken" + "," * 50 + "\n")
    assert list(read_batch(path, Limits(columns=5)).sent.columns) == ["SN", "Fault"]


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_a_file_over_the_byte_limit_is_too_large(tmp_path, suffix):
    writer = write_xlsx if suffix == "xlsx" else write_csv
    path = writer(tmp_path / f"heavy.{suffix}", generate_rows(50))
    assert "RMA_MAX_FILE_BYTES" in batch_error(path, "TOO_LARGE", Limits(file_bytes=1000))


def test_a_workbook_that_unpacks_too_large_is_too_large(tmp_path):
    path = write_xlsx(tmp_path / "inflated.xlsx", generate_rows(200))
    message = batch_error(path, "TOO_LARGE", Limits(inflated_bytes=20_000))
    assert "RMA_MAX_INFLATED_BYTES" in message


def _lie_about_sizes(path: Path, member: str, size: int) -> None:
    """Patch a zip so that ``member`` declares ``size`` bytes uncompressed (a zip bomb's lie)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30: local + 30 + name_len] == name:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46: central + 46 + name_len] == name:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_lying_about_its_size_is_stopped_while_inflating(tmp_path):
    path = write_xlsx(tmp_path / "bomb.xlsx", [valid_claim()],
                      extra_sheets={"Padding": [["x" * 1000]] * 3000})
    _lie_about_sizes(path, "xl/worksheets/sheet2.xml", 100)
    with zipfile.ZipFile(path) as zf:
        assert sum(i.file_size for i in zf.infolist()) < 100_000
    message = batch_error(path, "TOO_LARGE", Limits(inflated_bytes=200_000))
    assert "RMA_MAX_INFLATED_BYTES" in message


def test_a_zip_whose_declared_sizes_do_not_match_is_unreadable(tmp_path):
    path = write_xlsx(tmp_path / "liar.xlsx", [valid_claim()])
    _lie_about_sizes(path, "xl/worksheets/sheet1.xml", 100)
    batch_error(path, "UNREADABLE_FILE")


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_a_cell_over_the_character_limit_names_row_and_column(tmp_path, suffix):
    writer = write_xlsx if suffix == "xlsx" else write_csv
    rows = [valid_claim(), valid_claim(notes="n" * 600)]
    path = writer(tmp_path / f"long.{suffix}", rows)
    message = batch_error(path, "TOO_LARGE", Limits(cell_chars=500))
    assert "row 3" in message and "notes" in message and "RMA_MAX_CELL_CHARS" in message


def test_a_csv_cell_over_the_csv_module_limit_is_too_large(tmp_path):
    path = write_csv(tmp_path / "huge.csv", [valid_claim(notes="n" * 200_000)])
    assert "RMA_MAX_CELL_CHARS" in batch_error(path, "TOO_LARGE")


BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>SN</t></is></c><c r="B1" t="inlineStr"><is><t>Fault</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>SN000001</t></is></c><c r="B2" t="inlineStr"><is><t>&lol9;</t></is></c></row>
</sheetData></worksheet>"""  # noqa: E501


def test_a_billion_laughs_sheet_is_refused_not_expanded(tmp_path):
    source = write_xlsx(tmp_path / "plain.xlsx", [valid_claim()])
    path = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = BILLION_LAUGHS.encode()
            zout.writestr(info.filename, data)
    with pytest.raises(BatchError) as caught:
        read_batch(path)
    assert caught.value.code in {"UNREADABLE_FILE", "TOO_LARGE"}
    assert path.name in caught.value.message

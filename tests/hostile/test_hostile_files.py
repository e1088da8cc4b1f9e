"""Malicious files, one kind per test. Each must end as a clean ``failed`` batch with the right
code and a one-line message naming the file (and the sheet, row or column where it applies,
and for a limit its value and its RMA_MAX_* setting), within bounded time and memory, with
nothing posted: ``Hostile.failed`` (conftest) checks all of that around a child process."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path

import pytest

from tests.factories import valid_claim, write_csv, write_xlsx
from tests.hostile import builders as b

# -- XML entities: billion laughs, external entities -------------------------------------------


def _entity_workbook(path: Path, part: str, prolog: str, reference: str) -> Path:
    """A workbook whose ``part`` declares entities and uses one where a parser would expand it."""
    if part == "worksheet":
        return b.write_workbook(path, [("Claims", b.sheet_with_entity(prolog, reference))])
    if part == "shared strings":
        sheet = b.sheet_xml([b.row(1, b.HEADER),
                             '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'])
        strings = (f'{b.DECLARATION}{prolog}<sst xmlns="{b.MAIN}" count="1" uniqueCount="1">'
                   f"<si><t>{reference}</t></si></sst>").encode()
        return b.write_workbook(path, [("Claims", sheet)],
                                extra={"xl/sharedStrings.xml": strings})
    # the workbook part: the entity is the sheet's name
    parts = b.workbook_parts([("PLACEHOLDER", b.claims_sheet())], workbook_prolog=prolog)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'"PLACEHOLDER"', f'"{reference or "Claims"}"'.encode())
    return b.write_zip(path, parts)


@pytest.mark.parametrize("part", ["worksheet", "shared strings", "workbook"])
def test_a_billion_laughs_workbook_is_refused_without_expanding_anything(hostile, tmp_path,
                                                                         part):
    prolog, reference = b.billion_laughs()
    path = _entity_workbook(tmp_path / "laughs.xlsx", part, prolog, reference)
    message = hostile.failed(path, "UNREADABLE_FILE", max_seconds=10)
    assert "XML entity declarations (a DOCTYPE)" in message
    assert "save it again as .xlsx" in message


@pytest.mark.parametrize(("part", "parameter"), [
    ("worksheet", False), ("worksheet", True), ("shared strings", False), ("workbook", False)])
def test_an_external_entity_never_reads_the_local_file_it_names(hostile, tmp_path, part,
                                                                parameter):
    secret = tmp_path / "secret.txt"
    secret.write_text(b.SECRET_FILE_TEXT, encoding="utf-8")
    prolog, reference = b.external_entity(secret, parameter=parameter)
    path = _entity_workbook(tmp_path / "xxe.xlsx", part, prolog, reference)
    message = hostile.failed(path, "UNREADABLE_FILE", max_seconds=10)
    assert "XML entity declarations" in message
    # the file's content appears nowhere: not in the result, the database or any file written
    outcome = hostile.run(path)
    assert b.SECRET_FILE_TEXT not in repr(outcome.result)
    for written in tmp_path.rglob("*"):
        if written.is_file() and written != secret:
            assert b.SECRET_FILE_TEXT.encode() not in written.read_bytes(), written


def test_a_lowercase_doctype_is_refused_too(hostile, tmp_path):
    prolog, reference = b.billion_laughs()
    path = b.write_workbook(tmp_path / "lower.xlsx", [
        ("Claims", b.sheet_with_entity(prolog.replace("DOCTYPE", "doctype"), reference))])
    assert "entity declarations" in hostile.failed(path, "UNREADABLE_FILE")


# -- zip bombs -----------------------------------------------------------------------------------


def test_a_zip_bomb_that_declares_its_size_is_refused_before_it_is_unpacked(hostile, bombs):
    path = bombs("honest")
    assert path.stat().st_size < 4 * 1024 * 1024  # a tiny file ...
    with zipfile.ZipFile(path) as archive:  # ... whose sheet declares 2 GiB, truthfully
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * 1000**3
    message = hostile.failed(path, "TOO_LARGE", max_seconds=10)
    assert re.search(r"unpacks to 2,04\d\.\d MB, above the limit of 400\.0 MB", message)
    assert "limit of 400.0 MB (RMA_MAX_INFLATED_BYTES)" in message


@pytest.mark.parametrize(("env", "limit"), [({}, "400.0 MB"),
                                            ({"RMA_MAX_INFLATED_BYTES": "67108864"}, "64.0 MB")])
def test_a_zip_bomb_that_lies_about_its_size_is_stopped_while_unpacking(hostile, bombs, env,
                                                                        limit):
    path = bombs("liar")
    with zipfile.ZipFile(path) as archive:  # its headers claim a small workbook
        assert sum(info.file_size for info in archive.infolist()) < 25_000
    message = hostile.failed(path, "TOO_LARGE", env=env)
    assert "unpacks to more than" in message
    assert f"limit of {limit} (RMA_MAX_INFLATED_BYTES)" in message


# -- a tiny sheet that spans the whole grid ------------------------------------------------------
# calamine lays a sheet out as a dense grid from its first to its last cell, before anything
# can be checked: two cells at A1 and XFD1048576 ask for 17 billion cells (Rust aborts the
# process, no exception); within the row and column limits, A1 and GR900000 cost 7 GB.


@pytest.mark.parametrize(("far_cell", "words"), [
    ("XFD1048576", ["its cells reach row 1,048,576", "limit of 1,000,000 rows (RMA_MAX_ROWS)"]),
    ("XFD1", ["its cells reach column XFD (16,384 columns)",
              "limit of 200 columns (RMA_MAX_COLUMNS)"]),
    ("GR900000", ["spans 900,000 rows by 200 columns (180,000,000 cells, up to cell GR900000)",
                  "limit of 25,000,000 cells (RMA_MAX_CELLS)"]),
    ("A99999999999", ["its cells reach row 99,999,999,999", "RMA_MAX_ROWS"]),
])
def test_a_tiny_sheet_spanning_a_huge_grid_is_refused_before_it_is_laid_out(
        hostile, tmp_path, far_cell, words):
    sheet = b.sheet_xml([b.row(1, b.HEADER), b.row(2, b.CLAIM),
                         f'<row r="{far_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">'
                         f'{b.cell(far_cell, "x")}</row>'])
    path = b.write_workbook(tmp_path / "sparse.xlsx", [("Claims", sheet)])
    assert path.stat().st_size < 2000
    message = hostile.failed(path, "TOO_LARGE", max_seconds=10)
    assert "sparse.xlsx, sheet Claims:" in message
    for phrase in words:
        assert phrase in message


def test_a_sheet_name_that_could_point_at_two_parts_is_held_to_the_larger(hostile, tmp_path):
    # a commented-out <sheet> names the small part; calamine reads the real tag's huge one
    far = b.sheet_xml([b.row(1, b.HEADER), b.row(2, b.CLAIM),
                       f'<row r="1048576">{b.cell("XFD1048576", "x")}</row>'])
    parts = b.workbook_parts([("Claims", b.claims_sheet()), ("Other", far)])
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'<sheet name="Claims" sheetId="1" r:id="rId1"/><sheet name="Other" sheetId="2" '
        b'r:id="rId2"/>', b'<!-- <sheet name="Claims" sheetId="1" r:id="rId1"/> -->'
        b'<sheet name="Claims" sheetId="2" r:id="rId2"/>')
    path = b.write_zip(tmp_path / "decoy.xlsx", parts)
    message = hostile.failed(path, "TOO_LARGE", max_seconds=10)
    assert "decoy.xlsx, sheet Claims: its cells reach row 1,048,576" in message


def test_many_sheets_each_under_the_area_limit_are_not_all_laid_out(hostile, tmp_path):
    # no sheet named Claims and no header: every sheet is searched, and each one costs its area
    far = b.sheet_xml([b.row(1, ["notes"]), f'<row r="300000">{b.cell("J300000", "x")}</row>'])
    path = b.write_workbook(tmp_path / "sheets.xlsx", [(f"Sheet{i}", far) for i in range(1, 6)])
    # (the limit at 10M: the sheets under it are laid out, at the default that is ~1 GB)
    message = hostile.failed(path, "TOO_LARGE", env={"RMA_MAX_CELLS": "10000000"})
    assert ("sheets.xlsx: the 4 sheets searched for a header span 12,000,000 cells, above the "
            "limit of 10,000,000 cells (RMA_MAX_CELLS)") in message


def test_a_cell_at_row_zero_is_refused_as_unreadable(hostile, tmp_path):
    sheet = b.sheet_xml([b.row(1, b.HEADER), f'<row>{b.cell("B0", "x")}</row>'])
    path = b.write_workbook(tmp_path / "row0.xlsx", [("Claims", sheet)])
    assert "invalid position ('B0')" in hostile.failed(path, "UNREADABLE_FILE")


# -- content that does not match the extension ---------------------------------------------------


def _ods() -> bytes:
    """An OpenDocument spreadsheet with a claim: calamine would read it with its ODS reader,
    whose sheets (and repeated-row counts) nothing here has checked."""
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    cells = "".join("<table:table-row>" + "".join(cell.format(v) for v in values)
                    + "</table:table-row>" for values in (b.HEADER, b.CLAIM))
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Claims">'
        f"{cells}</table:table></office:spreadsheet></office:body></office:document-content>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:'
                         'names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buffer.getvalue()


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("claims.txt", "SN100001 broken")
    return buffer.getvalue()


def _xlsx_bytes(tmp_path: Path) -> bytes:
    return write_xlsx(tmp_path / "real.xlsx", [valid_claim()]).read_bytes()


@pytest.mark.parametrize(("name", "content", "code", "words"), [
    ("report.xlsx", lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "UNREADABLE_FILE",
     "not an Excel workbook"),
    ("claims.xlsx", lambda _: b"SN,Fault\nSN100001,Broken\n", "UNREADABLE_FILE",
     "not an Excel workbook"),
    ("old.xlsx", lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500,
     "UNREADABLE_FILE", "an old .xls"),
    ("sheet.xlsx", lambda _: _ods(), "UNREADABLE_FILE",
     "an OpenDocument spreadsheet (.ods) renamed to .xlsx"),
    ("archive.xlsm", lambda _: _plain_zip(), "UNREADABLE_FILE",
     "a zip archive, not an Excel workbook"),
    ("workbook.csv", _xlsx_bytes, "UNREADABLE_FILE",
     "an Excel workbook (or another zip archive) saved with a .csv name"),
    ("legacy.csv", lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500,
     "UNREADABLE_FILE", "an old Excel 97-2003 workbook (.xls)"),
    ("scan.csv", lambda _: b"%PDF-1.4\n", "UNREADABLE_FILE", "a PDF document"),
    ("photo.csv", lambda _: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "UNREADABLE_FILE",
     "binary data (a NUL byte on line 3, byte 9)"),
    ("claims.xls", lambda _: b"SN,Fault\n", "UNSUPPORTED_FORMAT", "save the sheet as .xlsx"),
])
def test_a_file_whose_content_does_not_match_its_extension_says_what_it_is(
        hostile, tmp_path, name, content, code, words):
    path = tmp_path / "inbox" / name
    path.parent.mkdir()
    path.write_bytes(content(tmp_path))
    assert words in hostile.failed(path, code)


# -- empty files and header-only sheets ----------------------------------------------------------


@pytest.mark.parametrize(("name", "make", "words"), [
    ("empty.csv", lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
    ("empty.xlsx", lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
    ("blank.csv", lambda p: p.write_text(" \r\n\t\n\n"), "the file is empty"),
    ("header.csv", lambda p: write_csv(p, [], headers=list(b.HEADER)),
     "the sheet has a header (row 1) but no claim rows"),
    ("header.xlsx", lambda p: b.write_workbook(p, [("Claims", b.sheet_xml([b.row(3, b.HEADER)]))]),
     "header.xlsx, sheet Claims: the sheet has a header (row 3) but no claim rows"),
    ("nosheet.xlsx", lambda p: b.write_workbook(p, [("Claims", b.sheet_xml(""))]),
     "nosheet.xlsx, sheet Claims: the sheet is empty"),
])
def test_an_empty_file_or_a_header_without_claims_is_an_empty_batch(hostile, tmp_path, name,
                                                                     make, words):
    path = tmp_path / name
    make(path)
    assert words in hostile.failed(path, "EMPTY_BATCH")


# -- a 50 MB single line -------------------------------------------------------------------------


def _single_line(path: Path, size: int, filler: bytes) -> Path:
    head = b"Serial number,Fault description,"
    with path.open("wb") as handle:
        handle.write(head)
        block = filler * (1024 * 1024 // len(filler))
        left = size - len(head)
        while left > 0:
            handle.write(block[:left])
            left -= len(block)
    assert path.stat().st_size == size
    return path


def test_a_50_mb_single_line_with_nul_bytes_is_refused_as_binary(hostile, tmp_path):
    # 50,000,000 bytes: just under the default RMA_MAX_FILE_BYTES (50 MiB), so it is read
    path = _single_line(tmp_path / "line.csv", 50_000_000, b"SN100001 broken\x00\x00")
    message = hostile.failed(path, "UNREADABLE_FILE")
    assert "binary data (a NUL byte on line 1, byte 48)" in message


def test_a_50_mb_single_line_of_empty_cells_is_refused_before_it_becomes_a_row(hostile,
                                                                               tmp_path):
    path = _single_line(tmp_path / "commas.csv", 50_000_000, b",")
    message = hostile.failed(path, "TOO_LARGE")
    assert "line 1 has more than 13,107,400 characters" in message
    assert "200 columns (RMA_MAX_COLUMNS) of 32,767 characters (RMA_MAX_CELL_CHARS)" in message


@pytest.mark.parametrize(("size", "env", "words"), [
    (1_000_001, {"RMA_MAX_FILE_BYTES": "1000000"},
     "the file is 1,000,001 bytes, above the limit of 1,000,000 bytes (RMA_MAX_FILE_BYTES)"),
    (60 * 1024 * 1024, {},
     "the file is 60.0 MB, above the limit of 50.0 MB (RMA_MAX_FILE_BYTES)"),
])
def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(hostile, tmp_path, size, env,
                                                                 words):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: no disk used, the size is what is checked
        handle.write(b"Serial number,Fault description\n")
        handle.truncate(size)
    assert words in hostile.failed(path, "TOO_LARGE", env=env)


# -- 20,000 columns ------------------------------------------------------------------------------

WIDE = 20_000


def _wide_xlsx(path: Path, refs: bool) -> Path:
    headers = list(b.HEADER) + [f"Extra {i}" for i in range(WIDE - len(b.HEADER))]
    return b.write_workbook(path, [("Claims", b.sheet_xml([
        b.row(1, headers, refs=refs), b.row(2, b.CLAIM, refs=refs)]))])


@pytest.mark.parametrize("kind", ["xlsx", "xlsx without cell references", "csv"])
def test_a_sheet_of_20000_columns_is_refused(hostile, tmp_path, kind):
    if kind == "csv":
        path = write_csv(tmp_path / "wide.csv", [list(b.CLAIM) + ["x"] * (WIDE - 4)],
                         headers=list(b.HEADER) + [f"Extra {i}" for i in range(WIDE - 4)])
        words = "wide.csv: 20,000 columns exceed the limit of 200 (RMA_MAX_COLUMNS)"
    else:
        path = _wide_xlsx(tmp_path / "wide.xlsx", refs=kind == "xlsx")
        words = ("wide.xlsx, sheet Claims: its cells reach column ACOF (20,000 columns), above "
                 "the limit of 200 columns (RMA_MAX_COLUMNS)")
    assert words in hostile.failed(path, "TOO_LARGE")


# -- a million blank rows ------------------------------------------------------------------------

MILLION = 1_000_000


def _blank_rows_xlsx(path: Path, refs: bool) -> Path:
    # a million (and fifty) formatted but blank rows, a styled empty cell each, then a claim
    blank = (f'<row r="{n}"><c r="A{n}" s="1"/></row>' if refs else "<row/>"
             for n in range(3, 3 + MILLION + 50))
    last = 3 + MILLION + 50
    body = "".join([b.row(1, b.HEADER), b.row(2, b.CLAIM), *blank,
                    b.row(last if refs else None, b.CLAIM, refs=refs)])
    return b.write_workbook(path, [("Claims", b.sheet_xml(body))])


@pytest.mark.parametrize("kind", ["xlsx", "xlsx without references", "csv", "csv trailing"])
def test_a_million_blank_rows_are_refused(hostile, tmp_path, kind):
    if kind.startswith("xlsx"):
        path = _blank_rows_xlsx(tmp_path / "blank.xlsx", refs=kind == "xlsx")
        words = ("blank.xlsx, sheet Claims: its cells reach row 1,000,053, above the limit of "
                 "1,000,000 rows (RMA_MAX_ROWS)")
    elif kind == "csv":  # a million blank lines between two claims
        path = tmp_path / "blank.csv"
        path.write_text(",".join(b.HEADER) + "\n" + ",".join(b.CLAIM) + "\n" + "\n" * MILLION
                        + ",".join(b.CLAIM) + "\n", encoding="utf-8")
        words = "blank.csv: 1,000,002 rows exceed the limit of 1,000,000 (RMA_MAX_ROWS)"
    else:  # five million line breaks after the claims: read no further than the limit
        path = tmp_path / "blank.csv"
        path.write_text(",".join(b.HEADER) + "\n" + ",".join(b.CLAIM) + "\n" + "\n" * 5 * MILLION,
                        encoding="utf-8")
        words = ("blank.csv: it has more than 1,010,000 rows below the header (blank rows "
                 "included), above the limit of 1,000,000 rows (RMA_MAX_ROWS)")
    assert words in hostile.failed(path, "TOO_LARGE")


def test_a_million_short_rows_under_a_wide_header_are_refused_before_they_are_padded(
        hostile, tmp_path):
    # 2 MB of text: every row is padded to the header's 200 columns before blank cells are
    # dropped, 200 million cells
    path = tmp_path / "padded.csv"
    header = ",".join([*b.HEADER, *(f"Extra {i}" for i in range(196))])
    path.write_text(header + "\n" + "x\n" * MILLION, encoding="utf-8")
    message = hostile.failed(path, "TOO_LARGE")
    assert ("padded.csv: it spans 1,000,001 rows by 200 columns (200,000,200 cells, up to cell "
            "GR1000001), above the limit of 25,000,000 cells (RMA_MAX_CELLS)") in message


# -- cells over 32k characters -------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "length", "words"), [
    ("xlsx", 40_000, "long.xlsx, sheet Claims: the cell in row 2, column Fault description (B) "
                     "has 40,000 characters, above the limit of 32,767 (RMA_MAX_CELL_CHARS)"),
    ("xlsx shared", 40_000, "long.xlsx, sheet Claims: the cell in row 2, column Fault "
                            "description (B) has 40,000 characters, above the limit of 32,767"),
    ("csv", 40_000, "long.csv: the cell in row 2, column Fault description (B) has 40,000 "
                    "characters, above the limit of 32,767 (RMA_MAX_CELL_CHARS)"),
    ("csv", 5_000_000, "long.csv: a cell near line 2 has more than 131,072 characters, above "
                       "the limit of 32,767 (RMA_MAX_CELL_CHARS)"),
])
def test_a_cell_over_32k_characters_is_refused_naming_row_and_column(hostile, tmp_path, kind,
                                                                     length, words):
    long_text = "Inverter dead. " * (length // 15) + "x" * (length % 15)
    if kind == "csv":
        path = write_csv(tmp_path / "long.csv", [[b.CLAIM[0], long_text, *b.CLAIM[2:]]],
                         headers=list(b.HEADER))
    elif kind == "xlsx":
        path = b.write_workbook(tmp_path / "long.xlsx", [("Claims", b.sheet_xml([
            b.row(1, b.HEADER), b.row(2, [b.CLAIM[0], long_text, *b.CLAIM[2:]])]))])
    else:
        strings = (f'{b.DECLARATION}<sst xmlns="{b.MAIN}"><si><t>{long_text}</t></si></sst>')
        sheet = b.sheet_xml([b.row(1, b.HEADER), '<row r="2">' + b.cell("A2", b.CLAIM[0])
                             + '<c r="B2" t="s"><v>0</v></c></row>'])
        path = b.write_workbook(tmp_path / "long.xlsx", [("Claims", sheet)],
                                extra={"xl/sharedStrings.xml": strings.encode()})
    assert words in hostile.failed(path, "TOO_LARGE")


# -- broken encodings ----------------------------------------------------------------------------


def _csv_bytes(*lines: bytes) -> bytes:
    return b"\r\n".join([",".join(b.HEADER).encode(), *lines]) + b"\r\n"


@pytest.mark.parametrize(("name", "content", "words"), [
    ("mixed.csv", _csv_bytes("SN100001,Wechselrichter defekt,Anna Müller,DE".encode(),
                             b"SN100002,Display \x81\x8d dead,Jan,DE"),
     "its text encoding is neither UTF-8 nor Windows-1252 (on line 3, byte 132)"),
    ("bom.csv", codecs.BOM_UTF8 + _csv_bytes(b"SN100001,Caf\xe9 inverter dead,Anna,DE"),
     "it starts as UTF-8 but holds bytes that are not UTF-8 (on line 2, byte 82)"),
    ("utf16.csv", _csv_bytes(b"SN100001,dead,Anna,DE").decode().encode("utf-16"),
     "binary data (a NUL byte on line 1, byte 4)"),
])
def test_a_csv_in_a_broken_encoding_is_unreadable_naming_the_line(hostile, tmp_path, name,
                                                                   content, words):
    path = tmp_path / name
    path.write_bytes(content)
    assert words in hostile.failed(path, "UNREADABLE_FILE")


@pytest.mark.parametrize(("kind", "words"), [
    ("utf-16 sheet", "an encoding Excel does not use (UTF-16 or UTF-32)"),
    ("invalid utf-8", "the workbook could not be read: its text is not valid UTF-8"),
])
def test_a_workbook_in_a_broken_encoding_is_unreadable(hostile, tmp_path, kind, words):
    if kind == "utf-16 sheet":
        sheet = b.claims_sheet().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        parts = b.workbook_parts([("Claims", "")])
        parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-16")
    else:
        parts = b.workbook_parts([("Claims", b.claims_sheet())])
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
            "Müller".encode(), b"M\xfc\xffller")
    path = b.write_zip(tmp_path / "encoded.xlsx", parts)
    assert words in hostile.failed(path, "UNREADABLE_FILE")

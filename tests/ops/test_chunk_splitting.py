"""Reading and checking a CSV in chunks gives exactly what one read of the whole file gives:
the same sheet (rows, row numbers, columns, headers) and the same format issues, whatever
the chunk size, with quoted line breaks, stray quotes, title rows, blank rows and columns,
the Excel ``sep=`` line and cp1252. Anything unusual is left to the whole-file reader."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rma.adapters.readers import read_batch
from rma.adapters.readers.csv import assemble, plan_csv, read_csv_chunk
from rma.adapters.readers.large_files import estimated_rows, is_large, split_sheet
from rma.config import Limits
from rma.domain.rules.formatcheck import check_rows, concat_rows, format_issues
from rma.errors import BatchError
from rma.service.batch import check_format
from tests.factories import generate_rows, valid_claim, write_csv, write_xlsx

pytestmark = pytest.mark.ops

TODAY = dt.date(2026, 3, 10)
HEADER = ("Claim ref,SN,Fault description,Recipient name,Recipient phone,Recipient address,"
          "Recipient city,Recipient postcode,Recipient country,Site address,Site country,"
          "Notes,,Internal")


def _sorted(issues: pd.DataFrame) -> pd.DataFrame:
    # the decision sorts issues stably by (row, column): that order is what must agree
    return issues.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def chunked(path: Path, rows: int, limits: Limits | None = None):
    limits = limits or Limits()
    plan = plan_csv(path.read_bytes(), path, limits, rows, TODAY)
    assert plan is not None
    parts = [read_csv_chunk(c) for c in plan.chunks]
    return plan, parts, assemble(plan, parts, limits)


def assert_same_as_whole(path: Path, rows: int) -> int:
    whole = read_batch(path)
    plan, parts, sheet = chunked(path, rows)
    assert sheet is not None
    pd.testing.assert_frame_equal(sheet.sent, whole.sent)
    assert (sheet.columns, sheet.unknown_columns, sheet.header_row, sheet.sheet,
            sheet.sha256, sheet.file_format) == (
        whole.columns, whole.unknown_columns, whole.header_row, whole.sheet, whole.sha256,
        whole.file_format)
    expected_rows, expected_issues = check_format(whole, TODAY)
    checked = [p.checked for p in parts]
    pd.testing.assert_frame_equal(concat_rows(checked), expected_rows)
    pd.testing.assert_frame_equal(_sorted(format_issues(checked, sheet)),
                                  _sorted(expected_issues))
    return len(plan.chunks)


def tricky_csv(path: Path, *, newline: str = "\r\n", encoding: str = "utf-8",
               delimiter: str = ",", sep_line: bool = False, quotes: bool = True) -> Path:
    """Title rows, a header with a blank and an unknown column, 40 claims with blank rows,
    bad values, and (``quotes``) line breaks inside quoted cells and stray ``"``."""
    lines = ["Claims export 2026" + delimiter * 3, "", HEADER.replace(",", delimiter)]
    for n in range(40):
        notes = f'"first line{newline}second, with ""quotes"""' if quotes and n % 7 == 0 \
            else f"note {n}"
        model_note = 'Display 7" cracked' if quotes and n % 9 == 0 else "ok"
        sn = "S#BAD" if n % 11 == 0 else f"SNCHUNK{n:04d}"
        blank_col = "late data" if n == 37 else ""
        cells = [f"C-{n // 2}", sn, "Inverter shows error and stops", "Anna Müller",
                 "030 1234567" if n % 5 else "+49 30 1234567", "Hauptstraße 12", "Berlin",
                 "10115", "Germany" if n % 3 else "Atlantis", "Gartenweg 3", "DE", notes,
                 blank_col, model_note]
        lines.append(delimiter.join(cells))
        if n % 13 == 4:
            lines.append("")  # a blank line: dropped, numbering kept
            lines.append(delimiter * 5)  # a row of blank cells
    text = newline.join(lines) + newline
    data = text.encode(encoding)
    if sep_line:
        data = f"sep={delimiter}{newline}".encode("ascii") + data
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("rows", [1, 7, 1000])
def test_a_csv_with_quoted_line_breaks_and_stray_quotes_is_the_same_in_chunks_of_any_size(
        tmp_path, rows):
    path = tricky_csv(tmp_path / "claims.csv")
    chunks = assert_same_as_whole(path, rows)
    assert chunks == -(-46 // rows)  # 40 claims and 6 blank records below the header


@pytest.mark.parametrize("variant", [
    {"newline": "\n", "quotes": False},                     # no quote at all: the fast path
    {"newline": "\r\n", "quotes": False, "sep_line": True, "delimiter": ";"},
    {"newline": "\n", "encoding": "cp1252", "delimiter": ";"},
    {"newline": "\n", "encoding": "utf-8-sig"},
], ids=["lf-no-quotes", "sep-line-semicolon", "cp1252", "bom"])
def test_line_ends_separators_and_encodings_read_the_same_in_chunks(tmp_path, variant):
    path = tricky_csv(tmp_path / "claims.csv", **variant)
    assert assert_same_as_whole(path, 5) >= 3


def test_generated_claims_with_every_kind_of_format_error_agree_in_chunks(tmp_path):
    path = write_csv(tmp_path / "big.csv", generate_rows(3000, bad_ratio=0.2, seed=5))
    assert assert_same_as_whole(path, 700) == 5


def test_a_blank_header_column_with_data_in_one_late_chunk_is_named_as_the_whole_read_names_it(
        tmp_path):
    path = tricky_csv(tmp_path / "claims.csv", quotes=False)
    whole = read_batch(path)
    assert "Column M" in whole.sent.columns   # the data of row n=37 only
    _, parts, sheet = chunked(path, 3)
    assert not parts[0].has_data[12]
    assert list(sheet.sent.columns) == list(whole.sent.columns)


@pytest.mark.parametrize("limits, found_by", [
    (Limits(rows=30), "plan"),
    (Limits(columns=1, cell_chars=10), "plan"),       # a line longer than any allowed row
    (Limits(cell_chars=20), "chunks"),
    (Limits(columns=12), "chunks"),
    (Limits(cells=600), "plan"),                      # 49 records x up to 14 cells
], ids=["rows", "line", "cell", "columns", "cells"])
def test_a_limit_exceeded_anywhere_leaves_the_file_to_the_whole_reader_and_its_exact_error(
        tmp_path, limits, found_by):
    path = tricky_csv(tmp_path / "claims.csv")
    plan = plan_csv(path.read_bytes(), path, limits, 5, TODAY)
    if found_by == "plan":
        assert plan is None
    else:
        assert plan is not None
        assert assemble(plan, [read_csv_chunk(c) for c in plan.chunks], limits) is None
    with pytest.raises(BatchError) as info:
        read_batch(path, limits)
    assert info.value.code == "TOO_LARGE"
    _, _, within_defaults = chunked(path, 5)
    assert within_defaults is not None


@pytest.mark.parametrize("data", [
    b"", b"just,some\nwords,here\n", b"SN,Fault description\n\x00",
    b"SN,Fault description\rSN000001,broken inverter\r",
], ids=["empty", "no-header", "binary", "bare-cr"])
def test_what_the_chunk_planner_cannot_split_is_left_to_the_whole_reader(tmp_path, data):
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    assert plan_csv(data, path, Limits(), 1, TODAY) is None


def test_the_bare_cr_file_the_planner_leaves_alone_is_checked_whole_in_row_frames(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"SN,Fault description\r" + b"".join(
        f"SN{n:06d},broken inverter {n}\r".encode() for n in range(10)))
    sheet = read_batch(path)
    frames = split_sheet(sheet, 4)
    assert [len(f) for f in frames] == [4, 4, 2]
    parts = [check_rows(f, TODAY) for f in frames]
    rows, issues = check_format(sheet, TODAY)
    pd.testing.assert_frame_equal(concat_rows(parts), rows)
    pd.testing.assert_frame_equal(_sorted(format_issues(parts, sheet)), _sorted(issues))


def test_the_row_estimate_chooses_the_chunked_path_for_csv_and_xlsx(tmp_path):
    csv_path = write_csv(tmp_path / "a.csv", [valid_claim() for _ in range(30)])
    xlsx_path = tmp_path / "a.xlsx"  # a workbook as Excel writes it: with a <dimension>
    workbook = openpyxl.Workbook()
    for row in [["SN", "Fault description"], *[[f"SN{n:06d}", "broken"] for n in range(30)]]:
        workbook.active.append(row)
    workbook.save(xlsx_path)
    assert estimated_rows(csv_path) == 31
    assert estimated_rows(xlsx_path) == 31
    assert is_large(csv_path, 20) and is_large(xlsx_path, 20)
    assert not is_large(csv_path, 100) and not is_large(xlsx_path, 100)
    assert not is_large(csv_path, 0)                      # RMA_CHUNK_ROWS=0: never
    streamed = write_xlsx(tmp_path / "b.xlsx", [valid_claim() for _ in range(30)])
    assert 31 <= estimated_rows(streamed) <= 5 * 31      # no <dimension>: from the size
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert estimated_rows(broken) == 0


def test_an_xlsx_without_a_dimension_is_estimated_from_its_sheet_size(tmp_path):
    path = tmp_path / "nodim.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "x" * 40_000 + "</worksheet>")
    assert estimated_rows(path) == 40_023 // 500


def test_a_returned_rejections_report_is_left_to_the_whole_reader(tmp_path):
    """Its own Row and Errors columns are dropped and its cells unescaped by the whole read;
    the chunks do neither, so the planner leaves it alone (and the sheet is the whole read's)."""
    path = tmp_path / "returned.csv"
    lines = ["Row,Errors,SN,Fault description,Recipient phone",
             *[f"{n + 2},INVALID_SERIAL,SN{n:06d},broken,'+49 30 {n:07d}" for n in range(12)],
             "99,only our cells,,,"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert plan_csv(path.read_bytes(), path, Limits(), 4, TODAY) is None
    whole = read_batch(path)
    assert list(whole.sent.columns) == ["SN", "Fault description", "Recipient phone"]
    assert whole.sent["Recipient phone"].iloc[0] == "+49 30 0000000"
    assert 14 not in whole.sent.index

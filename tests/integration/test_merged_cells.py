"""Merged cells of real workbooks (openpyxl ``merge_cells``) read as Excel shows them: a range
over several rows gives each row its top cell's value, in the range's first column, below the
header and only in rows that hold a claim."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from rma.adapters.readers import read_batch

HEADER = ["Claim ref", "Serial number", "Fault description", "Recipient city"]


def _read(path: Path, rows: list[list[object]], merges: list[str],
          above: list[list[object]] | None = None) -> list[list[object]]:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Claims"
    for row in [*(above or []), HEADER, *rows]:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    workbook.save(path)
    sent = read_batch(path).sent
    return [[int(row), *values] for row, values in zip(sent.index, sent.to_numpy().tolist(),
                                                       strict=True)]


def test_a_range_over_several_rows_fills_each_row_in_every_column_merged(tmp_path):
    got = _read(tmp_path / "claims.xlsx", [
        ["C-1", "SN000001", "No output after storm", "Berlin"],
        [None, "SN000002", None, None],
        [None, "SN000003", None, None],
        ["C-2", "SN000004", "Fan noise", "Köln"],
    ], ["A2:A4", "C2:C4"])
    assert got == [
        [2, "C-1", "SN000001", "No output after storm", "Berlin"],
        [3, "C-1", "SN000002", "No output after storm", None],
        [4, "C-1", "SN000003", "No output after storm", None],
        [5, "C-2", "SN000004", "Fan noise", "Köln"],
    ]


def test_a_range_across_columns_keeps_its_value_in_its_own_column_only(tmp_path):
    got = _read(tmp_path / "claims.xlsx", [
        ["C-1", "SN000001", "Inverter shows IE 01 and stops", None],
        ["C-1", "SN000002", None, None],
    ], ["C2:D3"])
    assert got == [
        [2, "C-1", "SN000001", "Inverter shows IE 01 and stops", None],
        [3, "C-1", "SN000002", "Inverter shows IE 01 and stops", None],
    ]


def test_a_range_over_empty_rows_makes_no_claims_of_them(tmp_path):
    got = _read(tmp_path / "claims.xlsx", [
        ["C-1", "SN000001", "No output", "Berlin"],
        ["C-2", "SN000002", "No output", "Berlin"],
        [None, None, None, None],
        [None, None, None, None],
        ["C-3", "SN000005", "No output", "Berlin"],
    ], ["A3:A5", "B6:B40"])
    assert got == [[2, "C-1", "SN000001", "No output", "Berlin"],
                   [3, "C-2", "SN000002", "No output", "Berlin"],
                   [6, "C-3", "SN000005", "No output", "Berlin"]]


def test_ranges_at_or_above_the_header_are_left_alone(tmp_path):
    got = _read(tmp_path / "claims.xlsx", [
        ["C-1", "SN000001", "No output", None],
        [None, "SN000002", None, None],
    ], ["A1:D1", "D2:D4"], above=[["Claims of March", None, None, None]])
    # D2:D4 starts at the header row (row 2): its text is a header, never a value
    assert got == [[3, "C-1", "SN000001", "No output", None],
                   [4, None, "SN000002", None, None]]


def test_a_range_whose_top_cell_is_blank_fills_nothing(tmp_path):
    got = _read(tmp_path / "claims.xlsx", [
        [None, "SN000001", "No output", None],
        [None, "SN000002", "No output", None],
    ], ["A2:A3"])
    assert [row[1] for row in got] == [None, None]

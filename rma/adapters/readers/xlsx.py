"""Read an .xlsx/.xlsm batch with calamine: cached values only, no formula is evaluated."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import python_calamine as calamine

from rma.adapters.readers import limits as caps
from rma.adapters.readers.header import HEADER_SEARCH_ROWS, find_header
from rma.adapters.readers.messages import display_text, short_reason
from rma.adapters.readers.sheet import Origin, build_sheet
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError

ZIP_MAGIC = b"PK\x03\x04"
CLAIMS_SHEET = "claims"
Grid = list[list[Any]]


def read_xlsx(data: bytes, source: Path, file_format: str, sha256: str, limits: Limits,
              name: str) -> SheetData:
    """The claim sheet of a workbook: the one named Claims, else the first with a header."""
    if not data.startswith(ZIP_MAGIC):
        raise BatchError(
            Reason.UNREADABLE_FILE,
            f"{name}: the file is not an Excel workbook (.{file_format} files are zip "
            "archives; this one may be password-protected, an old .xls or another file "
            "renamed); open it in Excel and save it as .xlsx, or send it as .csv",
        )
    scan = caps.check_zip(name, data, limits)
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        with workbook:
            grid, header_index, sheet_name = _claim_sheet(workbook, scan, limits, name)
    except BatchError:
        raise
    # calamine raises CalamineError subclasses and a few builtins; a Rust panic surfaces as
    # pyo3's PanicException, a BaseException: none of them may escape as a traceback.
    except BaseException as exc:
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        why = short_reason(exc)
        what = ("its text is not valid UTF-8" if "utf-8" in why.lower() or "decode" in why
                else "its content is damaged or not laid out as Excel writes it")
        raise BatchError(
            Reason.UNREADABLE_FILE,
            f"{name}: the workbook could not be read: {what} ({why}); "
            "open it in Excel and save it again as .xlsx, or send it as .csv",
        ) from exc
    origin = Origin(source, sheet_name, file_format, sha256, _where(name, sheet_name))
    return build_sheet(grid, header_index, origin, limits)


def _where(name: str, sheet_name: str) -> str:
    """The start of a message about one sheet; the sheet's name is shown, never used."""
    return f"{name}, sheet {display_text(sheet_name)}"


def _claim_sheet(workbook: calamine.CalamineWorkbook, scan: caps.WorkbookScan, limits: Limits,
                 name: str) -> tuple[Grid, int, str]:
    """The claim sheet's cells, its header position and its name."""
    worksheets = [meta.name for meta in workbook.sheets_metadata
                  if meta.typ == calamine.SheetTypeEnum.WorkSheet]
    if not worksheets:
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the workbook has no worksheet; "
                                             "put the claims on a sheet named Claims")
    named = [s for s in worksheets if s.strip().casefold() == CLAIMS_SHEET]
    candidates = named[:1] or worksheets
    empty = searched_cells = 0
    for position, sheet_name in enumerate(candidates, start=1):
        # calamine lays the whole sheet out at once: its extent is checked from the XML first
        extent = scan.extent(sheet_name)
        caps.check_extent(_where(name, sheet_name), extent, limits)
        # calamine reads a sheet's merged ranges when it opens it
        caps.check_merged_ranges(_where(name, sheet_name), scan.merged_ranges(sheet_name),
                                 limits)
        searched_cells += extent.cells
        if searched_cells > limits.cells:  # many sheets, each under the limit
            raise caps.too_large(name, f"the {position:,} sheet{'s' * (position > 1)} searched "
                                 f"for a header span {searched_cells:,} cells",
                                 f"{limits.cells:,} cells", "RMA_MAX_CELLS",
                                 "put the claims on a sheet named Claims")
        sheet = workbook.get_sheet_by_name(sheet_name)
        # skip_empty_area=False: row i of the grid is sheet row i + 1 and column 0 is A,
        # even when the sheet starts with empty rows or columns.
        top: Grid = sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
        empty += sheet.end is None
        header_index = find_header(top)
        if header_index is None:
            continue
        _check_extent(sheet, header_index, _where(name, sheet_name), limits)
        grid = sheet.to_python(skip_empty_area=False)
        fill_merged(grid, sheet.merged_cell_ranges or [], header_index,
                    _where(name, sheet_name))
        return grid, header_index, sheet_name
    if named and empty:
        raise BatchError(Reason.EMPTY_BATCH, f"{_where(name, named[0])}: the sheet is empty; "
                                             "put the claims on it, below a header row")
    if empty == len(candidates):
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the workbook holds no data; "
                                             "put the claims on a sheet named Claims")
    searched = ", ".join(display_text(candidate, 40) for candidate in candidates[:10])
    if len(candidates) > 10:
        searched += f" and {len(candidates) - 10:,} more"
    raise BatchError(
        Reason.NO_HEADER,
        f"{name}: no header row with claim columns in the first {HEADER_SEARCH_ROWS} rows of "
        f"sheet{'s' if len(candidates) > 1 else ''} {searched}; the header needs a Serial "
        "number column and at least one other claim column (e.g. Fault description)",
    )


def _check_extent(sheet: calamine.CalamineSheet, header_index: int, where: str,
                  limits: Limits) -> None:
    """Refuse an oversized sheet before its cells are turned into Python objects."""
    if sheet.end is None:
        return
    last_row, last_column = sheet.end  # 0-based, the last non-empty cell
    caps.check_rows(where, last_row - header_index, limits)
    caps.check_columns(where, last_column + 1, limits)
    caps.check_cells(where, last_row + 1, last_column + 1, limits)  # what to_python makes


Ranges = list[tuple[tuple[int, int], tuple[int, int]]]


def fill_merged(grid: Grid, ranges: Ranges, header_index: int, where: str) -> None:
    """Give every row of a merged range below the header the value of the range's first row,
    as Excel shows it: a claim_ref (or an address, a fault) merged over the rows of one claim
    is that claim's on each of its rows. Excel keeps the value in the top-left cell only.

    Only the first column of a range is filled: a cell merged across columns is one wide cell
    whose value belongs to its own column (copied, it would put an address into the city
    column). Ranges that start at the header or above it (titles, a header over two rows)
    are left alone, and a row with nothing else in it stays blank, so that merged formatting
    below the claims does not make claims. ``grid`` row i is sheet row i + 1, as are the
    0-based (row, column) corners calamine gives.
    """
    height = len(grid)
    spans = [(top, column, min(bottom, height - 1))
             for (top, column), (bottom, _) in ranges if header_index < top < height]
    # ranges Excel writes never overlap, so they cannot fill more cells than the grid holds;
    # more is a hostile file that would make this loop quadratic
    if sum(bottom - top for top, _, bottom in spans) > height * max(map(len, grid), default=0):
        raise BatchError(Reason.UNREADABLE_FILE,
                         f"{where}: its merged cells overlap, which Excel never writes; open "
                         "it in Excel and save it again as .xlsx, or send it as .csv")
    has_data: dict[int, bool] = {}
    for top, column, bottom in spans:
        if column >= len(grid[top]) or grid[top][column] == "":
            continue
        value = grid[top][column]
        for index in range(top + 1, bottom + 1):
            row = grid[index]
            if column >= len(row) or row[column] != "":
                continue
            if index not in has_data:  # filling only ever happens in rows that have data
                has_data[index] = any(cell != "" for cell in row)
            if has_data[index]:
                row[column] = value

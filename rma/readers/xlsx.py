"""Read an .xlsx/.xlsm batch with calamine: cached values only, no formula is evaluated."""

from __future__ import annotations

import io
from pathlib import Path

import python_calamine as calamine

from rma.batch import SheetData
from rma.config import Limits
from rma.errors import BatchError
from rma.readers import limits as caps
from rma.readers.header import HEADER_SEARCH_ROWS, find_header
from rma.readers.messages import short_reason
from rma.readers.sheet import Origin, build_sheet
from rma.reasons import Reason

ZIP_MAGIC = b"PK\x03\x04"
CLAIMS_SHEET = "claims"
Grid = list[list[object]]


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
    caps.check_zip(name, io.BytesIO(data), limits)
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        with workbook:
            grid, header_index, sheet_name = _claim_sheet(workbook, limits, name)
    except BatchError:
        raise
    # calamine raises CalamineError subclasses and a few builtins; a Rust panic surfaces as
    # pyo3's PanicException, a BaseException: none of them may escape as a traceback.
    except BaseException as exc:
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raise BatchError(
            Reason.UNREADABLE_FILE,
            f"{name}: the workbook could not be read ({short_reason(exc)}); "
            "open it in Excel and save it again as .xlsx, or send it as .csv",
        ) from exc
    origin = Origin(source, sheet_name, file_format, sha256, f"{name}, sheet {sheet_name}")
    return build_sheet(grid, header_index, origin, limits)


def _claim_sheet(workbook: calamine.CalamineWorkbook, limits: Limits,
                 name: str) -> tuple[Grid, int, str]:
    """The claim sheet's cells, its header position and its name."""
    worksheets = [meta.name for meta in workbook.sheets_metadata
                  if meta.typ == calamine.SheetTypeEnum.WorkSheet]
    if not worksheets:
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the workbook has no worksheet; "
                                             "put the claims on a sheet named Claims")
    named = [s for s in worksheets if s.strip().casefold() == CLAIMS_SHEET]
    candidates = named[:1] or worksheets
    empty = 0
    for sheet_name in candidates:
        sheet = workbook.get_sheet_by_name(sheet_name)
        # skip_empty_area=False: row i of the grid is sheet row i + 1 and column 0 is A,
        # even when the sheet starts with empty rows or columns.
        top: Grid = sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
        empty += sheet.end is None
        header_index = find_header(top)
        if header_index is None:
            continue
        _check_extent(sheet, header_index, f"{name}, sheet {sheet_name}", limits)
        return sheet.to_python(skip_empty_area=False), header_index, sheet_name
    if named and empty:
        raise BatchError(Reason.EMPTY_BATCH, f"{name}, sheet {named[0]}: the sheet is empty; "
                                             "put the claims on it, below a header row")
    if empty == len(candidates):
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the workbook holds no data; "
                                             "put the claims on a sheet named Claims")
    searched = ", ".join(candidates)
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


"""Reading an account or code reference file (CSV or XLSX) into numbered rows of named cells.

A CSV file is decoded as the batch readers decode one (``rma.adapters.readers.csv.decode``:
UTF-8 with or without BOM, else cp1252; binary files and other formats refused with a
message that says what the file is); its delimiter is the more frequent of ``;`` and ``,``
on the first line with text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from rma.adapters.db.reference_cells import blank
from rma.adapters.readers.csvtext import decode
from rma.domain.vocabulary.columns import header_key
from rma.errors import BatchError, RmaError


@dataclass
class ReferenceTable:
    """A reference file as read: the header row number and (row number, {column: cell})."""

    path: Path
    rows: list[tuple[int, dict[str, Any]]]
    present: set[str]
    ignored: list[str]


def _read_csv(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        text, _ = decode(path.read_bytes(), str(path))
    except BatchError as exc:  # a reference file's problem is an RmaError like the others
        raise RmaError(str(exc)) from exc
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(i, row) for i, row in enumerate(reader, start=1)]


def _read_xlsx(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        cells = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types
        raise RmaError(f"{path}: cannot read the spreadsheet: {exc}") from exc
    return [(i, row) for i, row in enumerate(cells, start=1)]


def read_reference_file(path: Path, columns: Iterable[str], aliases: dict[str, str],
                        required: Iterable[str]) -> ReferenceTable:
    """Read a CSV or XLSX reference file; headers match case/space/punctuation-insensitively."""
    path = Path(path)
    if not path.is_file():
        raise RmaError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        raw_rows = _read_xlsx(path)
    else:
        raise RmaError(f"{path}: only .csv, .xlsx and .xlsm files can be imported")
    raw_rows = [(n, r) for n, r in raw_rows if not all(blank(c) for c in r)]
    if not raw_rows:
        raise RmaError(f"{path}: the file is empty")
    header_row, header = raw_rows[0]
    lookup = {header_key(c): c for c in columns}
    lookup.update(aliases)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header):
        if blank(cell):
            continue
        name = lookup.get(header_key(cell))
        if name is None:
            ignored.append(str(cell))
        elif name in positions:
            raise RmaError(f"{path}: row {header_row}: column {name!r} appears twice")
        else:
            positions[name] = i
    missing = [c for c in required if c not in positions]
    if missing:
        raise RmaError(f"{path}: row {header_row}: missing column(s) {', '.join(missing)} "
                       f"(expected {', '.join(columns)})")
    rows = [
        (n, {name: (cells[i] if i < len(cells) else None) for name, i in positions.items()})
        for n, cells in raw_rows[1:]
    ]
    return ReferenceTable(path, rows, set(positions), ignored)

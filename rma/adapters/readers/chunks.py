"""Very large files in chunks: read (CSV) and format-check (any format) a range of rows at a
time, possibly on other machines, then put the sheet back together exactly as one read of
the whole file would have given it. Deciding and posting stay whole: one transaction.

    estimated_rows(path)            a cheap upper estimate, to choose the chunked path
    plan_csv(data, path, ...)       the header, found here, and byte ranges of whole records
    read_csv_chunk(chunk)           parse + check one range (pure, picklable: runs on Dask)
    assemble(plan, parts, limits)   the SheetData of the whole file, or None
    split_sheet(sheet, rows)        canonical row frames of a sheet read whole (xlsx)

A CSV splits only between records: a quoted cell may hold line breaks and a ``"`` may sit
inside an unquoted cell, so unless the file has no ``"`` at all, the record boundaries come
from one pass of the csv module over the text (fast: it keeps nothing). ``plan_csv`` and
``assemble`` answer None for anything unusual (undecodable, empty, no header, bare CR line
ends, a limit exceeded, a parse error): the caller then reads the file whole with
``rma.adapters.readers.read_batch``, which raises the exact batch error a normal run gives.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from rma.adapters.readers.csv import UTF8_BOM, _excel_separator_line, _gc_paused, _sniff, decode
from rma.adapters.readers.header import plan_columns
from rma.adapters.readers.messages import display_name
from rma.adapters.readers.sheet import _max_len, to_array
from rma.adapters.readers.source import open_regular
from rma.config import Limits
from rma.domain.rules.formatcheck import CheckedRows, check_rows
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError

_NEWLINE, _QUOTE = 10, 34
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_SHEET_XML = re.compile(r"xl/worksheets/[^/]+\.xml")
#: an xlsx worksheet without a <dimension> is estimated at this many XML bytes per row
#: (real rows of claim data take more: the estimate errs towards the chunked path)
_XML_BYTES_PER_ROW = 500


# ----------------------------------------------------------------------------- choosing


def estimated_rows(path: Path) -> int:
    """Rows the file may hold: CSV line breaks; the largest worksheet <dimension> of an
    xlsx/xlsm. 0 when it cannot tell (the normal path then reports the problem)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        return 0
    try:
        fd, _ = open_regular(path)  # never a pipe (it would block) nor through a link
        with open(fd, "rb") as handle:
            if suffix == ".csv":
                return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20),
                                                                  b""))
            return _xlsx_rows(handle)
    except Exception:  # a damaged file: the normal path reports what is wrong with it
        return 0


def _xlsx_rows(handle: BinaryIO) -> int:
    best = 0
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if not _SHEET_XML.fullmatch(info.filename):
                continue
            with archive.open(info) as member:
                head = member.read(4096)
            found = _DIMENSION.search(head)
            rows = (int(found.group(1) or 1) if found
                    else info.file_size // _XML_BYTES_PER_ROW)
            best = max(best, rows)
    return best


def is_large(path: Path, chunk_rows: int) -> bool:
    """Whether a file goes the chunked path (``chunk_rows`` <= 0: never)."""
    return chunk_rows > 0 and estimated_rows(path) > chunk_rows


# ----------------------------------------------------------------------------- CSV plan


@dataclass(frozen=True)
class CsvChunk:
    """One range of whole records of a CSV file: everything a worker needs."""

    data: bytes
    encoding: str
    delimiter: str
    first_row: int  # the sheet row of its first record
    canonical: tuple[tuple[int, str], ...]  # (0-based position, canonical column)
    cell_chars: int
    today: dt.date


@dataclass(frozen=True)
class CsvPlan:
    source: Path
    sha256: str
    header: list[str]
    header_row: int
    head_width: int  # the longest record of the rows down to the header (title rows)
    head_used_width: int  # the same without trailing blank cells
    records: int  # records of the file, title rows, header and blank ones included
    chunks: list[CsvChunk]


@dataclass
class ReadChunk:
    """A chunk as read and checked: the filled records' cells (all columns, None = blank)."""

    values: np.ndarray
    row_numbers: np.ndarray
    width: int  # cells in its longest record
    has_data: np.ndarray  # per column position: any cell filled
    longest_cell: int
    checked: CheckedRows | None
    parse_error: str | None = None


def plan_csv(data: bytes, path: Path, limits: Limits, chunk_rows: int, today: dt.date
             ) -> CsvPlan | None:
    """Find the header as the CSV reader does and cut the records below it into chunks of
    ``chunk_rows``; None when the file should be read whole (see the module docstring)."""
    name = display_name(path)
    try:
        text = decode(data, name)
    except BatchError:
        return None
    if not text.strip():
        return None
    body, declared = _excel_separator_line(text)
    bom = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    raw = data[bom + len(text) - len(body):]  # the sep= line is ASCII: chars are bytes
    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # bare CR line ends: lines and record ends cannot be mapped to bytes
    octets = np.frombuffer(raw, dtype=np.uint8)
    line_ends = np.flatnonzero(octets == _NEWLINE) + 1
    if _longest_line(line_ends, len(raw)) > limits.columns * (2 * limits.cell_chars + 3):
        return None  # longer than any allowed row: the reader refuses it before parsing
    try:
        _field_size_limit(limits.cell_chars)
        delimiter, header_index = _sniff(body, name, declared)
    except (BatchError, csv.Error):
        return None
    encoding = "utf-8" if bom or _is_utf8(data) else "cp1252"
    ends = _record_ends(raw, body, delimiter)
    if ends is None or len(ends) <= header_index + 1 \
            or len(ends) - header_index - 1 > limits.rows:
        return None  # no rows, or more than the limit (TOO_LARGE, or many blank rows)
    stops = np.where(ends <= len(line_ends), line_ends[np.minimum(ends, len(line_ends)) - 1],
                     len(raw))
    if len(ends) * _widest_record(octets, stops, delimiter) > limits.cells:
        return None  # it may span more cells than allowed: nothing is parsed in chunks

    def offset(line: int) -> int:  # the byte after physical line ``line`` (1-based)
        return int(line_ends[line - 1]) if 0 < line <= len(line_ends) else (
            0 if line == 0 else len(raw))

    head = list(csv.reader(io.StringIO(raw[:offset(int(ends[header_index]))].decode(encoding),
                                       newline=""), delimiter=delimiter))
    header = head[header_index]
    layout = plan_columns(header, [False] * len(header))
    canonical = tuple((pos, layout.columns[n]) for pos, n in
                      zip(layout.positions, layout.names, strict=True) if n in layout.columns)
    chunks = []
    step = max(chunk_rows, 1)
    for first in range(header_index + 1, len(ends), step):
        last = min(first + step, len(ends))
        start, stop = offset(int(ends[first - 1])), offset(int(ends[last - 1]))
        chunks.append(CsvChunk(raw[start:stop], encoding, delimiter, first + 1, canonical,
                               limits.cell_chars, today))
    return CsvPlan(path, hashlib.sha256(data).hexdigest(), header, header_index + 1,
                   max(map(len, head)), max(map(_used_width, head)), len(ends), chunks)


def _widest_record(octets: np.ndarray, stops: np.ndarray, delimiter: str) -> int:
    """An upper bound of the cells of any record: the delimiters in its bytes, plus one."""
    starts = np.concatenate([[0], stops[:-1]])
    counts = np.add.reduceat((octets == ord(delimiter)).astype(np.int32), starts)
    return int(counts.max()) + 1


def _longest_line(line_ends: np.ndarray, size: int) -> int:
    """Bytes in the longest line (line break included; bytes >= characters)."""
    starts = np.concatenate([[0], line_ends])
    stops = np.concatenate([line_ends, [size]])
    return int((stops - starts).max()) if size else 0


def _record_ends(raw: bytes, body: str, delimiter: str) -> np.ndarray | None:
    """For each record, the number of physical lines read up to its end."""
    lines = raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)
    if _QUOTE not in raw:  # no quoting at all: a record is a line
        return np.arange(1, lines + 1)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        with _gc_paused():
            return np.fromiter((reader.line_num for _ in reader), dtype=np.int64)
    except csv.Error:
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ----------------------------------------------------------------------------- a chunk


def read_csv_chunk(chunk: CsvChunk) -> ReadChunk:
    """Parse one range of records and check the format of its filled rows (pure)."""
    _field_size_limit(chunk.cell_chars)
    reader = csv.reader(io.StringIO(chunk.data.decode(chunk.encoding), newline=""),
                        delimiter=chunk.delimiter)
    try:
        with _gc_paused():
            records = list(reader)
    except csv.Error as exc:
        return ReadChunk(np.empty((0, 0), dtype=object), np.empty(0, dtype=np.int64), 0,
                         np.zeros(0, dtype=bool), 0, None, str(exc))
    width = max(map(len, records), default=0)
    body = to_array(records, width)
    blank = body == ""
    body[blank] = None
    filled = np.flatnonzero(~blank.all(axis=1))
    values = body[filled] if len(filled) < len(body) else body
    row_numbers = (filled + chunk.first_row).astype(np.int64)
    index = pd.Index(row_numbers, name="row")
    frame = pd.DataFrame({column: pd.Series(None, index=index, dtype=object)
                          for column in CANONICAL})
    for position, column in chunk.canonical:
        if position < width:
            frame[column] = pd.Series(values[:, position], index=index, dtype=object)
    longest = _max_len(values.ravel()) if values.size else 0
    return ReadChunk(values, row_numbers, width, (~blank).any(axis=0), int(longest),
                     check_rows(frame, chunk.today))


# ----------------------------------------------------------------------------- the whole


def assemble(plan: CsvPlan, parts: Sequence[ReadChunk], limits: Limits) -> SheetData | None:
    """The sheet of the whole file from its chunks, as ``read_batch`` builds it; None when
    a chunk could not be parsed or a limit is exceeded (read whole for the exact error)."""
    if any(p.parse_error is not None for p in parts):
        return None
    width = max([plan.head_width, *(p.width for p in parts)])
    if width > limits.columns:  # trailing blank cells do not count
        width = max([plan.head_used_width, *(_last_filled(p.has_data) for p in parts)])
        if width > limits.columns:
            return None
    if plan.records * width > limits.cells:
        return None
    filled = [p for p in parts if len(p.row_numbers)]
    if not filled or int(filled[-1].row_numbers[-1]) - plan.header_row > limits.rows:
        return None
    if max(p.longest_cell for p in parts) > limits.cell_chars:
        return None
    has_data = np.zeros(width, dtype=bool)
    for p in parts:
        has_data[:min(width, len(p.has_data))] |= p.has_data[:width]
    layout = plan_columns(plan.header, has_data.tolist())
    if any(len(n) > limits.cell_chars for n in layout.names):
        return None
    values = np.concatenate([_columns(p.values, width)[:, layout.positions] for p in filled])
    rows = np.concatenate([p.row_numbers for p in filled])
    sent = pd.DataFrame(values, columns=pd.Index(layout.names, dtype=object),
                        index=pd.Index(rows, name="row"), dtype=object, copy=False)
    return SheetData(source=plan.source, sheet=plan.source.name, header_row=plan.header_row,
                     sent=sent, columns=layout.columns, unknown_columns=layout.unknown_columns,
                     sha256=plan.sha256, file_format="csv")


def split_sheet(sheet: SheetData, chunk_rows: int) -> list[pd.DataFrame]:
    """The canonical rows of a sheet read whole, in frames of ``chunk_rows`` rows."""
    frame = sheet.canonical()
    step = max(chunk_rows, 1)
    return [frame.iloc[start:start + step] for start in range(0, len(frame), step)] or [frame]


def _columns(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` padded with blank (None) columns, or cut, to ``width`` columns."""
    if values.shape[1] >= width:
        return values[:, :width]
    out = np.full((values.shape[0], width), None, dtype=object)
    out[:, :values.shape[1]] = values
    return out


def _last_filled(has_data: np.ndarray) -> int:
    found = np.flatnonzero(has_data)
    return int(found[-1]) + 1 if len(found) else 0


def _used_width(row: Sequence[object]) -> int:
    for position in range(len(row) - 1, -1, -1):
        if row[position] != "":
            return position + 1
    return 0


def _field_size_limit(cell_chars: int) -> None:
    if csv.field_size_limit() <= cell_chars:  # as the reader: only above 131,072
        csv.field_size_limit(cell_chars + 1)

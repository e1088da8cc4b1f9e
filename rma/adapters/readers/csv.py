"""The CSV reader, in two modes that give the same sheet: the file whole (``read_csv``) or,
for a very large file, in ranges of whole records parsed apart, possibly on other machines
(``plan_csv``, ``read_csv_chunk``, ``assemble``). Both take the text steps from ``csvtext``
and build the sheet with ``sheet.finish_sheet``: the same limits, checked the same way.

    read_csv(text, source, sha, limits, name)   the sheet of a ``decode``-d file
    plan_csv(data, path, limits, rows, today)   the header, and byte ranges of whole records
    read_csv_chunk(chunk)                       parse + check one range (pure, picklable)
    assemble(plan, parts, limits)               the sheet of the whole file, or None

A CSV splits only between records: a quoted cell may hold line breaks and a ``"`` may sit
inside an unquoted cell, so unless the file has no ``"`` at all, the record boundaries come
from one pass of the csv module over the text (fast: it keeps nothing). ``plan_csv`` and
``assemble`` answer None for anything unusual (undecodable, empty, no header, bare CR line
ends, a returned rejections report, a limit exceeded, a parse error): the caller then reads
the file whole (``rma.adapters.readers.read_batch``), which raises the exact batch error.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rma.adapters.readers import limits as caps
from rma.adapters.readers.csvtext import (
    UTF8_BOM,
    allow_cells,
    decode,
    gc_paused,
    prepare,
    unreadable,
)
from rma.adapters.readers.header import plan_columns
from rma.adapters.readers.messages import display_name, short_reason
from rma.adapters.readers.sheet import (
    Filled,
    Origin,
    build_sheet,
    filled_rows,
    finish_sheet,
    fitting_width,
    longest_text,
    to_array,
    used_width,
)
from rma.config import Limits
from rma.domain.rules.formatcheck import CheckedRows, check_rows
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError

#: Blank rows are not claims, but they are read: past the row limit only this many more are.
BLANK_ROWS_ALLOWED = 10_000
#: The text goes to the csv module through a StringIO of this many characters at a time: one
#: StringIO of a whole 230 MB file costs another ~440 MB while it is read.
PIECE_CHARS = 1 << 22
_NEWLINE, _QUOTE = 10, 34


def _origin(source: Path, sha256: str, name: str) -> Origin:
    return Origin(source, source.name, "csv", sha256, name)


def read_csv(text: str, source: Path, sha256: str, limits: Limits, name: str) -> SheetData:
    """The claim rows of a CSV file's ``decode``-d text; every value is a str, blank cells
    None."""
    prepared = prepare(text, name, limits)
    header_index = prepared.header_index
    reader = csv.reader(_lines(prepared.body), delimiter=prepared.delimiter)
    # blank lines are rows too (the numbering is kept): a file of nothing but line breaks
    # must not become millions of rows in memory before the row limit is looked at
    most = header_index + 1 + limits.rows + BLANK_ROWS_ALLOWED

    def records() -> Iterator[list[str]]:
        for count, row in enumerate(reader, 1):
            if count > most:
                raise caps.too_large(
                    name, f"it has more than {most - header_index - 1:,} rows below the "
                    "header (blank rows included)", f"{limits.rows:,} rows", "RMA_MAX_ROWS",
                    "delete the empty rows at the end, or split the claims into several files")
            yield row

    try:
        with gc_paused():
            return build_sheet(records(), header_index, _origin(source, sha256, name), limits,
                               all_text=True)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise caps.too_large(name, f"a cell near line {reader.line_num:,} has more than "
                                 f"{csv.field_size_limit():,} characters", limits.cell_chars,
                                 "RMA_MAX_CELL_CHARS", "shorten it") from exc
        raise unreadable(name, f"it is not valid CSV ({short_reason(exc)})") from exc


def _lines(text: str) -> Iterator[str]:
    r"""The lines of ``text``, ends kept ('\r\n', '\r' or '\n', as ``newline=""`` reads
    them); pieces are cut just after a '\n', which always ends a line."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + PIECE_CHARS) + 1 or len(text)
        yield from io.StringIO(text[start:cut], newline="")
        start = cut


# ----------------------------------------------------------------------------- in chunks


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
    """Find the header as ``read_csv`` does and cut the records below it into chunks of
    ``chunk_rows``; None when the file should be read whole (see the module docstring)."""
    name = display_name(path)
    try:
        text, encoding = decode(data, name)
        prepared = prepare(text, name, limits)
    except BatchError:
        return None
    bom = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    raw = data[bom + len(text) - len(prepared.body):]  # the sep= line is ASCII: chars = bytes
    del text
    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # bare CR line ends: lines and record ends cannot be mapped to bytes
    header_index, delimiter = prepared.header_index, prepared.delimiter
    octets = np.frombuffer(raw, dtype=np.uint8)
    line_ends = np.flatnonzero(octets == _NEWLINE) + 1
    ends = _record_ends(raw, prepared.body, delimiter)
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
    if layout.from_report:
        return None  # its own columns dropped and its cells unescaped: the whole read does it
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
                   max(map(len, head)), max(map(used_width, head)), len(ends), chunks)


def _widest_record(octets: np.ndarray, stops: np.ndarray, delimiter: str) -> int:
    """An upper bound of the cells of any record: the delimiters in its bytes, plus one."""
    starts = np.concatenate([[0], stops[:-1]])
    counts = np.add.reduceat((octets == ord(delimiter)).astype(np.int32), starts)
    return int(counts.max()) + 1


def _record_ends(raw: bytes, body: str, delimiter: str) -> np.ndarray | None:
    """For each record, the number of physical lines read up to its end."""
    lines = raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)
    if _QUOTE not in raw:  # no quoting at all: a record is a line
        return np.arange(1, lines + 1)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        with gc_paused():
            return np.fromiter((reader.line_num for _ in reader), dtype=np.int64)
    except csv.Error:
        return None


def read_csv_chunk(chunk: CsvChunk) -> ReadChunk:
    """Parse one range of records and check the format of its filled rows (pure)."""
    allow_cells(chunk.cell_chars)  # a worker process of its own has the csv module's default
    reader = csv.reader(io.StringIO(chunk.data.decode(chunk.encoding), newline=""),
                        delimiter=chunk.delimiter)
    try:
        with gc_paused():
            records = list(reader)
    except csv.Error as exc:
        return ReadChunk(np.empty((0, 0), dtype=object), np.empty(0, dtype=np.int64), 0,
                         np.zeros(0, dtype=bool), 0, None, str(exc))
    width = max(map(len, records), default=0)
    body = to_array(records, width)
    del records
    filled = filled_rows(body, chunk.first_row, longest_text(body, all_text=True))
    index = pd.Index(filled.row_numbers, name="row")
    frame = pd.DataFrame({column: pd.Series(None, index=index, dtype=object)
                          for column in CANONICAL})
    for position, column in chunk.canonical:
        if position < width:
            frame[column] = pd.Series(filled.values[:, position], index=index, dtype=object)
    return ReadChunk(filled.values, filled.row_numbers, width, filled.has_data, filled.longest,
                     check_rows(frame, chunk.today))


def assemble(plan: CsvPlan, parts: Sequence[ReadChunk], limits: Limits) -> SheetData | None:
    """The sheet of the whole file from its chunks, as ``read_csv`` builds it; None when a
    chunk could not be parsed or a limit is exceeded (read whole for the exact error)."""
    if any(p.parse_error is not None for p in parts):
        return None
    name = display_name(plan.source)
    try:
        width = fitting_width(
            max([plan.head_width, *(p.width for p in parts)]),
            lambda: max([plan.head_used_width, *(_last_filled(p.has_data) for p in parts)]),
            name, limits)
        caps.check_cells(name, plan.records, width, limits)
        has_data = np.zeros(width, dtype=bool)
        for p in parts:
            has_data[:min(width, len(p.has_data))] |= p.has_data[:width]
        filled = Filled(np.concatenate([_columns(p.values, width) for p in parts]),
                        np.concatenate([p.row_numbers for p in parts]), has_data,
                        max(p.longest_cell for p in parts))
        return finish_sheet(plan.header, plan.header_row, filled,
                            _origin(plan.source, plan.sha256, name), limits)
    except BatchError:
        return None


def _columns(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` padded with blank (None) columns, or cut, to ``width`` columns."""
    if values.shape[1] >= width:
        return values[:, :width]
    out = np.full((values.shape[0], width), None, dtype=object)
    out[:, :values.shape[1]] = values
    return out


def _last_filled(has_data: np.ndarray) -> int:
    """The used width of a chunk: up to its last column with a filled cell."""
    found = np.flatnonzero(has_data)
    return int(found[-1]) + 1 if len(found) else 0

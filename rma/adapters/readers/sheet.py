"""Turn a grid of cells (rows of a sheet, starting at row 1) into the SheetData contract."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rma.adapters.readers import limits as caps
from rma.adapters.readers.header import column_letter, plan_columns
from rma.adapters.reports.escape import unescape_formula
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError


@dataclass(frozen=True)
class Origin:
    """Where a grid came from, for SheetData and for messages."""

    source: Path
    sheet: str
    file_format: str
    sha256: str
    where: str  # "claims.csv" or "claims.xlsx, sheet Claims": the start of every message


def to_array(rows: Sequence[Sequence[object]], width: int) -> np.ndarray:
    """A 2-D object array of ``width`` columns; short rows are padded with '' (blank)."""
    if not rows or not width:
        return np.empty((len(rows), width), dtype=object)
    if min(map(len, rows)) != width or max(map(len, rows)) != width:
        rows = [row if len(row) == width else [*row[:width], *[""] * (width - len(row))]
                for row in rows]
    return np.array(rows, dtype=object)


#: Rows turned into an array at a time: the lists a reader makes for them live only this long.
BLOCK_ROWS = 50_000


class SharedValues:
    """Repeated text of a column as ONE ``str`` object: every cell a reader makes is a new
    object (~50 bytes plus its text), while most columns of a claim list repeat a few values
    (models, countries, cities, dates). A column whose values turn out mostly distinct (serial
    numbers) stops being shared after its first block. Only ``str`` is shared: ``1``, ``1.0``
    and ``True`` are equal keys and must stay what the file holds."""

    def __init__(self, all_text: bool) -> None:
        self.all_text = all_text  # csv: every cell is a str, no type test needed
        self.columns: dict[int, dict[str, str] | None] = {}
        self.seen = 0

    def share(self, block: np.ndarray) -> None:
        self.seen += len(block)
        for j in range(block.shape[1]):
            known = self.columns.setdefault(j, {})
            if known is None:
                continue
            column = block[:, j]
            if self.all_text:
                block[:, j] = list(map(known.setdefault, column, column))
            else:
                block[:, j] = [known.setdefault(v, v) if type(v) is str else v for v in column]
            if len(known) > self.seen // 2:
                self.columns[j] = None  # mostly distinct: sharing would only cost


def build_sheet(grid: Iterable[Sequence[object]], header_index: int, origin: Origin,
                limits: Limits, all_text: bool = False) -> SheetData:
    """SheetData from rows whose row ``i`` is sheet row ``i + 1`` and cell '' is blank.

    ``grid`` may be an iterator (the csv reader's): it is consumed in blocks of
    ``BLOCK_ROWS``, so only one block of row lists exists at a time, and repeated text is
    kept once (``SharedValues``; ``all_text`` when every cell is a ``str``). Blank cells
    become None, entirely blank rows are dropped (numbering kept); row, column and cell
    limits are enforced (``finish_sheet``).
    """
    rows = iter(grid)
    top = [list(row) for row in itertools.islice(rows, header_index + 1)]
    width = grid_width(top, origin.where, limits)
    count = len(top)
    blocks: list[np.ndarray] = []
    shared = SharedValues(all_text)
    longest = 0
    for block in iter(lambda: list(itertools.islice(rows, BLOCK_ROWS)), []):
        count += len(block)
        block_width = grid_width(block, origin.where, limits)
        width = max(width, block_width)
        if count * width > limits.cells:  # what was read already is too much: say how much
            for more in rows:
                count += 1
                width = max(width, grid_width([more], origin.where, limits))
            caps.check_cells(origin.where, count, width, limits)
        array = to_array(block, block_width)
        del block
        longest = max(longest, longest_text(array, all_text))
        shared.share(array)
        blocks.append(array)
    # what the grid below would cost, however blank: checked before it is built
    caps.check_cells(origin.where, count, width, limits)
    body = _join(blocks, width)
    del blocks
    header_row = header_index + 1
    return finish_sheet(top[header_index], header_row, filled_rows(body, header_row + 1, longest),
                        origin, limits)


@dataclass(frozen=True)
class Filled:
    """The rows of a grid below its header that hold anything, every column kept."""

    values: np.ndarray  # None = blank
    row_numbers: np.ndarray  # the sheet row of each
    has_data: np.ndarray  # per column position: any cell filled in any row of the grid
    longest: int  # characters in its longest text cell (``longest_text``)


def filled_rows(body: np.ndarray, first_row: int, longest: int) -> Filled:
    """The filled rows of ``body`` (cells '' blank, made None here, in place), whose row 0 is
    sheet row ``first_row``."""
    blank = body == ""
    body[blank] = None
    filled = np.flatnonzero(~blank.all(axis=1))
    values = body[filled] if len(filled) < len(body) else body
    return Filled(values, (filled + first_row).astype(np.int64), (~blank).any(axis=0), longest)


def longest_text(cells: np.ndarray, all_text: bool = False) -> int:
    """Characters in the longest ``str`` of ``cells``; ``all_text``: every cell is a ``str``
    (a csv grid before its blanks become None), so no type is tested."""
    flat = cells.ravel()
    if all_text:
        return max(map(len, flat), default=0)
    return max((len(v) for v in flat if isinstance(v, str)), default=0)


def finish_sheet(header: Sequence[object], header_row: int, filled: Filled, origin: Origin,
                 limits: Limits) -> SheetData:
    """SheetData from a grid's header and its filled rows (read whole, or put together from
    chunks): the columns are named by ``plan_columns``; the row, cell and header limits are
    checked here, in this order, for every reader."""
    plan = plan_columns(header, filled.has_data.tolist())
    values, row_numbers = filled.values, filled.row_numbers
    if plan.from_report and len(values):  # a row left with only our Row and Errors cells
        # numpy's stubs know no element-wise comparison of an object array with None
        blank = np.equal(values[:, plan.positions], None)  # type: ignore[call-overload]
        kept = np.flatnonzero(~blank.all(axis=1))
        values, row_numbers = values[kept], row_numbers[kept]
    span = int(row_numbers[-1]) - header_row if len(row_numbers) else 0
    caps.check_rows(origin.where, span, limits)
    if not len(row_numbers):
        raise BatchError(
            Reason.EMPTY_BATCH,
            f"{origin.where}: the sheet has a header (row {header_row}) but no claim rows; "
            "add one claim per row below the header",
        )
    if plan.positions != list(range(values.shape[1])):
        values = values[:, plan.positions]
    if plan.from_report:
        values = _unescaped(values)
    if filled.longest > limits.cell_chars:
        _check_cells(values, row_numbers, plan.names, plan.positions, origin.where, limits)
    for name, position in zip(plan.names, plan.positions, strict=True):
        if len(name) > limits.cell_chars:
            raise caps.cell_too_long(origin.where, header_row, column_letter(position),
                                     len(name), limits)
    sent = pd.DataFrame(values, columns=pd.Index(plan.names, dtype=object),
                        index=pd.Index(row_numbers, name="row"), dtype=object, copy=False)
    return SheetData(
        source=origin.source,
        sheet=origin.sheet,
        header_row=header_row,
        sent=sent,
        columns=plan.columns,
        unknown_columns=plan.unknown_columns,
        sha256=origin.sha256,
        file_format=origin.file_format,
    )


def grid_width(rows: Sequence[Sequence[object]], where: str, limits: Limits) -> int:
    """The widest row; past RMA_MAX_COLUMNS trailing blank cells (csv: "a,b,,,,") do not
    count, and what is still wider is refused before any array is built."""
    return fitting_width(max(map(len, rows), default=0),
                         lambda: max(map(used_width, rows), default=0), where, limits)


def fitting_width(widest: int, used: Callable[[], int], where: str, limits: Limits) -> int:
    """``widest`` cells, or past RMA_MAX_COLUMNS the ``used`` ones (without trailing blank
    cells); TOO_LARGE when even those are too many."""
    if widest > limits.columns:
        widest = used()
        caps.check_columns(where, widest, limits)
    return widest


def _join(blocks: list[np.ndarray], width: int) -> np.ndarray:
    """The blocks one below the other, narrower ones padded with '' (blank)."""
    if not blocks:
        return np.empty((0, width), dtype=object)
    if len(blocks) == 1 and blocks[0].shape[1] == width:
        return blocks[0]
    body = np.full((sum(map(len, blocks)), width), "", dtype=object)
    at = 0
    for block in blocks:
        body[at:at + len(block), :block.shape[1]] = block
        at += len(block)
    return body


def _unescaped(values: np.ndarray) -> np.ndarray:
    """A report's cells as the submitter first sent them: the report put ``'`` before text
    that a spreadsheet could run as a formula (``'+49 30 1234567``), which is not theirs."""
    return np.frompyfunc(unescape_formula, 1, 1)(values) if values.size else values


def used_width(row: Sequence[object]) -> int:
    for position in range(len(row) - 1, -1, -1):
        if row[position] != "":
            return position + 1
    return 0


def _check_cells(values: np.ndarray, row_numbers: np.ndarray, names: list[str],
                 positions: list[int], where: str, limits: Limits) -> None:
    """TOO_LARGE naming the first cell longer than ``limits.cell_chars`` (row by row), if
    any: the longest cell may have been in a column that is not kept."""
    lengths = np.frompyfunc(lambda v: len(v) if isinstance(v, str) else 0, 1, 1)(values)
    found = np.argwhere(lengths.astype(np.int64) > limits.cell_chars)
    if not len(found):
        return
    row, column = found[0]
    label = f"{names[column]} ({column_letter(positions[column])})"
    raise caps.cell_too_long(where, int(row_numbers[row]), label, int(lengths[row, column]),
                             limits)

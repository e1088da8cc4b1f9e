"""Find the header row among the first rows of a sheet and name its columns (pure logic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from rma.domain.vocabulary.columns import REPORT_COLUMNS, canonical_name, header_key

#: The header may sit below title rows: only the first rows are searched (SPEC §3).
HEADER_SEARCH_ROWS = 20
#: A header must name the serial number and at least this many canonical columns in all.
MIN_RECOGNISED = 2


def recognised(row: Sequence[object]) -> set[str]:
    """The distinct canonical columns that a row's cells name."""
    found = (canonical_name(header_text(cell)) for cell in row)
    return {column for column in found if column is not None}


def find_header(rows: Sequence[Sequence[object]], search: int = HEADER_SEARCH_ROWS) -> int | None:
    """0-based position of the header among the first ``search`` rows, or None.

    The header is the row naming the most canonical columns, of which there must be at least
    two, one being ``serial_number``; on a tie the upper row wins.
    """
    best, best_count = None, 0
    for position, row in enumerate(rows[:search]):
        columns = recognised(row)
        if "serial_number" in columns and len(columns) >= MIN_RECOGNISED \
                and len(columns) > best_count:
            best, best_count = position, len(columns)
    return best


def header_text(value: object) -> str:
    """A header cell as the text the submitter sees ('' for a blank cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def column_letter(position: int) -> str:
    """Spreadsheet letter of a 0-based column position: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    number = position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass
class ColumnPlan:
    """Which sheet columns to keep and under which names."""

    positions: list[int] = field(default_factory=list)  # 0-based sheet column positions kept
    names: list[str] = field(default_factory=list)  # unique header per kept column
    columns: dict[str, str] = field(default_factory=dict)  # header -> canonical column
    unknown_columns: list[str] = field(default_factory=list)
    #: the sheet is our own rejections report sent back: its Row and Errors columns dropped
    from_report: bool = False


def plan_columns(header: Sequence[object], has_data: Sequence[bool]) -> ColumnPlan:
    """Name every column that has a header or data; map recognised headers to canonical names.

    A blank header over data becomes ``Column F`` (its letter), a blank header over nothing is
    dropped, a repeated header gets `` (2)``. When two headers name the same canonical column
    the first wins and the later one is listed as unknown. The ``Row`` and ``Errors`` columns
    of our own rejections report (``report_columns``) are dropped.
    """
    plan = ColumnPlan()
    seen: set[str] = set()
    width = max(len(header), len(has_data))
    texts = [header_text(header[p]) if p < len(header) else "" for p in range(width)]
    ours = report_columns(texts)
    plan.from_report = bool(ours)
    for position, text in enumerate(texts):
        data = position < len(has_data) and bool(has_data[position])
        if position in ours or (not text and not data):
            continue
        name = _unique(text or f"Column {column_letter(position)}", seen)
        seen.add(name)
        plan.positions.append(position)
        plan.names.append(name)
        canonical = canonical_name(text) if text else None
        if canonical is not None and canonical not in plan.columns.values():
            plan.columns[name] = canonical
        else:
            plan.unknown_columns.append(name)
    return plan


def report_columns(texts: Sequence[str]) -> set[int]:
    """Positions of the rejections report's own columns in a header row: none unless the row
    names each of them, so a file of a submitter's own with a "Row" column keeps it."""
    keys = {header_key(name) for name in REPORT_COLUMNS}
    positions = {p for p, text in enumerate(texts) if header_key(text) in keys}
    return positions if {header_key(texts[p]) for p in positions} == keys else set()


def _unique(name: str, seen: set[str]) -> str:
    if name not in seen:
        return name
    number = 2
    while f"{name} ({number})" in seen:
        number += 1
    return f"{name} ({number})"

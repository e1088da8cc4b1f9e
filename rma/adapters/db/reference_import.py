"""What the reference imports (``reference_accounts``, ``reference_codes``) share: their
result, the problems of a file collected and raised together, and the keys already stored.

Imports are all-or-nothing: every row is validated first, and any invalid row raises
``RmaError`` listing file, row and column of each problem, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.keys import in_chunks
from rma.errors import RmaError, RowError

MAX_LISTED_ERRORS = 20


@dataclass
class ImportResult:
    """What an import did: rows inserted, rows updated, and the columns it did not read."""

    inserted: int = 0
    updated: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.inserted + self.updated

    def __str__(self) -> str:
        text = f"{self.inserted} inserted, {self.updated} updated"
        if self.ignored_columns:
            text += f" (ignored columns: {', '.join(self.ignored_columns)})"
        return text


class ImportErrors:
    """Problems found in one file, reported together (all-or-nothing import)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.items.append(f"row {row}, column {column}: {message}")

    def cell(self, row: int, column: str, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except RowError as exc:
            self.add(row, column, str(exc))
            return None

    def raise_if_any(self) -> None:
        if not self.items:
            return
        listed = self.items[:MAX_LISTED_ERRORS]
        more = len(self.items) - len(listed)
        lines = "\n  ".join(listed + ([f"... and {more} more"] if more else []))
        raise RmaError(f"{self.path}: {len(self.items)} problem(s), nothing imported:\n  {lines}")


def check_unique(errors: ImportErrors, column: str, keys: list[tuple[int, str]]) -> None:
    """A problem for each (row, key) whose key an earlier row of the file has already."""
    first: dict[str, int] = {}
    for row, key in keys:
        if key in first:
            errors.add(row, column, f"{key!r} repeats row {first[key]}")
        else:
            first[key] = row


def existing_keys(conn: sa.Connection, key: sa.Column, keys: list[str]) -> set[str]:
    """Those of ``keys`` stored already: the import counts them as updated, the rest inserted."""
    found: set[str] = set()
    for condition in in_chunks(conn, key, keys):
        found.update(conn.execute(sa.select(key).where(condition)).scalars())
    return found


def utc_now(now: datetime | None) -> datetime:
    """``now`` in UTC (naive taken as UTC), or the current time."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)

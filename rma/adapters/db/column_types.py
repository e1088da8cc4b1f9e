"""The schema's column types: timestamps and dates that mean the same on SQLite and PostgreSQL.

``UTCDateTime`` is timezone-aware UTC in and out on both dialects (SQLite stores naive text,
so values are converted to UTC before writing and tagged UTC after reading); ``ISODate``
takes what a frame or a reference file holds (datetimes, Timestamps, ISO strings).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in {"NaTType", "NAType"}


class UTCDateTime(TypeDecorator):
    """``DateTime(timezone=True)`` that always hands back aware UTC datetimes.

    Naive input is taken to be UTC already. ISO strings are accepted on input.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if is_missing(value):
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if hasattr(value, "to_pydatetime"):  # pandas Timestamp
            value = value.to_pydatetime()
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)  # stored as text; keep one sortable format
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ISODate(TypeDecorator):
    """``Date`` that also accepts datetimes, pandas Timestamps and ISO strings on input."""

    impl = sa.Date
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> date | None:
        if is_missing(value):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value.strip()) if value.strip() else None
        raise TypeError(f"expected a date, got {type(value).__name__}")

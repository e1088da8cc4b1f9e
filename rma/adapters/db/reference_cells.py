"""Cell parsing of reference files: text, booleans, dates, timestamps, e-mail lists, countries
and SN lists. An invalid cell raises ``RowError``, which the import collects per file."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

import pycountry

from rma.adapters.db.codes import is_valid_serial, split_serials
from rma.errors import RowError

TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as trimmed text; integral floats from Excel lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def optional(value: Any) -> str | None:
    text = cell_text(value)
    return text or None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = cell_text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RowError(f"must be true/false (or yes/no, 1/0), got {cell_text(value)!r}")


def parse_date(value: Any) -> date | None:
    """An Excel date, ISO ``YYYY-MM-DD`` or ``DD.MM.YYYY``; blank is None."""
    if blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    match = _DOTTED_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(f"is not a date (use YYYY-MM-DD or DD.MM.YYYY): {text!r}") from None


def parse_timestamp(value: Any, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date or datetime as aware UTC; naive means UTC.

    A date alone means 00:00 UTC of that day, or with ``end_of_day`` the last microsecond of
    it (a code "valid until 2026-03-31" is still valid on the 31st).
    """
    if blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return _day_boundary(value, end_of_day)
    else:
        text = cell_text(value)
        if len(text) <= 10:
            day = parse_date(text)
            assert day is not None
            return _day_boundary(day, end_of_day)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(f"is not an ISO date or date-time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day_boundary(day: date, end_of_day: bool) -> datetime:
    return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)


def parse_emails(value: Any) -> str:
    """``;``-separated addresses, lower-cased, each checked for ``local@domain``."""
    addresses: dict[str, None] = {}
    for part in _EMAIL_SEPARATORS.split(cell_text(value)):
        if not part:
            continue
        if not _EMAIL.match(part):
            raise RowError(f"is not an e-mail address: {part!r}")
        addresses.setdefault(part.lower(), None)
    return ";".join(addresses)


def parse_country(value: Any) -> str | None:
    """ISO 3166-1 alpha-2; names and alpha-3 codes are normalised."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        raise RowError(f"is not a known country: {text!r}") from None


def parse_serials(value: Any) -> list[str]:
    serials = split_serials(cell_text(value))
    bad = [s for s in serials if not is_valid_serial(s)]
    if bad:
        raise RowError(f"not a valid serial number (6-20 of A-Z, 0-9, -): {', '.join(bad)}")
    return serials

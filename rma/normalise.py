"""Turn cells as sent into text the schemas can check: one pass per column, not per row.

Numbers and dates where text was expected become text and a ``VALUE_AS_TEXT`` warning.
Dates become ISO ``YYYY-MM-DD``, countries ISO alpha-2, phones E.164 — where they can be
read. What cannot be read is left as it was sent, so the raw-row schema rejects it with the
value the submitter recognises.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import pandas as pd
import phonenumbers
import pycountry

from rma.columns import CANONICAL, COUNTRY_COLUMNS, DATE_COLUMNS, PHONE_COLUMNS
from rma.issues import concat_issues, empty_issues, issues_where
from rma.reasons import Reason

_DATE_ISO = r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?"
_DATE_DOTTED = r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
_PHONE_JUNK = re.compile(r"[\s\-().\/]")
_E164ISH = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_EXACT_FLOAT = 10**15


@cache
def country_index() -> dict[str, str]:
    """Case-folded names, official names, alpha-2 and alpha-3 codes -> alpha-2."""
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (c.alpha_2, c.alpha_3, c.name, getattr(c, "official_name", None),
                     getattr(c, "common_name", None)):
            if name:
                index[name.casefold()] = c.alpha_2
    index.update({"uk": "GB", "great britain": "GB", "england": "GB", "usa": "US",
                  "deutschland": "DE", "österreich": "AT", "schweiz": "CH", "suisse": "CH",
                  "holland": "NL", "españa": "ES", "italia": "IT", "polska": "PL",
                  "czech republic": "CZ", "česko": "CZ", "turkey": "TR", "russia": "RU",
                  "south korea": "KR", "korea": "KR", "vietnam": "VN"})
    return index


def _number_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _day_text(value: object) -> str:
    """A real Excel date (or date and time) in a date column: the day is what counts."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return _date_text(value)


def _non_text(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Masks of the cells holding numbers and holding dates/times (not text)."""
    kinds = column.map(type, na_action="ignore")
    numbers = kinds.isin([int, float, bool])
    dates = kinds.isin([dt.datetime, dt.date, dt.time, dt.timedelta, pd.Timestamp])
    return numbers.fillna(False).astype(bool), dates.fillna(False).astype(bool)


def _as_text(column: pd.Series, name: str) -> tuple[pd.Series, list[pd.DataFrame]]:
    issues: list[pd.DataFrame] = []
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        return column, issues
    column = column.astype(object).copy()
    numbers, dates = _non_text(column)
    if name in DATE_COLUMNS:
        column[dates] = column[dates].map(_day_text)
        column[numbers] = column[numbers].map(_number_text)
        return column, issues
    if numbers.any():
        sent = column[numbers]
        too_big = sent.map(lambda v: isinstance(v, float) and abs(v) >= _MAX_EXACT_FLOAT)
        column[numbers] = sent.map(_number_text)
        if name == "serial_number" and too_big.any():
            issues.append(issues_where(
                too_big.reindex(column.index, fill_value=False), name,
                Reason.INVALID_SERIAL_NUMBER,
                "Excel stored this serial number as a number and digits were lost; "
                "format the column as text and enter it again.", column))
        issues.append(issues_where(
            numbers, name, Reason.VALUE_AS_TEXT,
            "This was stored as a number, not text; check that no leading zero or digit "
            "was lost (format the column as text).", column))
    if dates.any():
        column[dates] = column[dates].map(_date_text)
        issues.append(issues_where(
            dates, name, Reason.VALUE_AS_TEXT,
            "Excel turned this value into a date; format the column as text and enter it "
            "again.", column))
    return column, issues


def _strip(column: pd.Series) -> pd.Series:
    stripped = column.astype(object).where(column.isna(), column.astype(str).str.strip())
    return stripped.mask(stripped == "", None).astype(object)


def _iso_dates(column: pd.Series) -> pd.Series:
    """ISO and DD.MM.YYYY texts -> YYYY-MM-DD; anything else stays as sent."""
    text = column.astype("string")
    out = column.copy()
    for pattern in (_DATE_ISO, _DATE_DOTTED):
        parts = text.str.fullmatch(pattern)
        if not parts.fillna(False).any():
            continue
        found = text[parts.fillna(False).astype(bool)].str.extract(pattern)
        iso = (found["y"] + "-" + found["m"].str.zfill(2) + "-" + found["d"].str.zfill(2))
        iso = iso[pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").notna()]
        out.loc[iso.index] = iso.astype(object)
    return out


def _countries(column: pd.Series) -> pd.Series:
    mapped = column.astype("string").str.casefold().map(country_index())
    return mapped.astype(object).where(mapped.notna(), column)


@cache
def _parse_phone(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phones(column: pd.Series, regions: pd.Series) -> pd.Series:
    """E.164 where the number can be read (country code given, or the row's country)."""
    text = column.astype("string")
    compact = text.str.replace(_PHONE_JUNK, "", regex=True)
    compact = compact.where(~compact.str.startswith("00").fillna(False),
                            "+" + compact.str.slice(2))
    fast = compact.str.fullmatch(_E164ISH).fillna(False).astype(bool)
    out = column.copy()
    out[fast] = compact[fast].astype(object)
    slow = column.notna() & ~fast
    if slow.any():
        pairs = pd.DataFrame({"t": column[slow], "r": regions[slow]})
        parsed = [
            _parse_phone(t, r if isinstance(r, str) and len(r) == 2 else None)
            for t, r in pairs.itertuples(index=False)  # only numbers not already E.164
        ]
        parsed_s = pd.Series(parsed, index=pairs.index, dtype=object)
        out[slow] = parsed_s.where(parsed_s.notna(), column[slow])
    return out


def normalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Text-only claim rows (``str`` or ``None`` in every canonical column) and warnings."""
    out = pd.DataFrame(index=frame.index)
    found: list[pd.DataFrame] = [empty_issues()]
    for name in CANONICAL:
        column = frame[name] if name in frame.columns else pd.Series(
            None, index=frame.index, dtype=object)
        column, issues = _as_text(column, name)
        found.extend(issues)
        column = _strip(column)
        if name in DATE_COLUMNS:
            column = _iso_dates(column)
        elif name in COUNTRY_COLUMNS:
            column = _countries(column)
        elif name in ("serial_number", "rma_code"):
            column = column.where(column.isna(), column.astype("string").str.upper())
        out[name] = column.astype(object)
    for name in PHONE_COLUMNS:
        out[name] = _phones(out[name], out["recipient_country"])
    return out, concat_issues(found)

"""Turn cells as sent into text the schemas can check: one pass per column, not per row.

Numbers and dates where text was expected become text and a ``VALUE_AS_TEXT`` warning.
Dates become ISO ``YYYY-MM-DD``, countries ISO alpha-2, phones E.164 — where they can be
read. What cannot be read is left as it was sent, so the raw-row schema rejects it with the
value the submitter recognises.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers
import pycountry

from rma.domain.rules.postcodes import restore_lost_zeros, restored_message
from rma.domain.vocabulary.columns import (
    CANONICAL,
    COUNTRY_COLUMNS,
    DATE_COLUMNS,
    PHONE_COLUMNS,
    POSTCODE_COUNTRY,
)
from rma.domain.vocabulary.issues import concat_issues, empty_issues, issues_where
from rma.domain.vocabulary.reasons import Reason

_DATE_ISO = r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?"
_DATE_DOTTED = r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
_DATE_FORMS = (re.compile(_DATE_ISO), re.compile(_DATE_DOTTED))
_PHONE_JUNK = re.compile(r"[\s\-().\/]")
_E164ISH = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_EXACT_FLOAT = 10**15
_NUMBER_NOT_TEXT = ("This was stored as a number, not text; check that no leading zero or "
                    "digit was lost (format the column as text).")


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
        if name not in POSTCODE_COUNTRY:  # warned once the row's country is known
            issues.append(issues_where(numbers, name, Reason.VALUE_AS_TEXT, _NUMBER_NOT_TEXT,
                                       column))
    if dates.any():
        column[dates] = column[dates].map(_date_text)
        issues.append(issues_where(
            dates, name, Reason.VALUE_AS_TEXT,
            "Excel turned this value into a date; format the column as text and enter it "
            "again.", column))
    return column, issues


def _stripped_text(column: pd.Series) -> pd.Series | None:
    """``_strip_cells`` of ``_as_text`` in one pass over the cells, for the usual column (every
    cell a ``str`` or None: nothing for ``_as_text`` to do); None for any other column.

    The column itself comes back (copy-on-write) when no cell changes; otherwise only the
    changed cells are rewritten in a copy.
    """
    values = column.to_numpy(dtype=object)
    # cells to look at: str.strip returns the very same str when there is nothing to strip
    flagged = [i for i, v in enumerate(values)
               if v is not None and (not isinstance(v, str) or not v or v.strip() is not v)]
    if not flagged:
        return column.astype(object)
    if not all(isinstance(values[i], str) for i in flagged):
        return None
    out = values.copy()
    for i in flagged:
        out[i] = values[i].strip() or None
    return pd.Series(out, index=column.index, dtype=object)


def _strip_cells(column: pd.Series) -> pd.Series:
    stripped = column.astype(object).where(column.isna(), column.astype(str).str.strip())
    return stripped.mask(stripped == "", None).astype(object)


def _objects(values: list[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _iso_dates(values: np.ndarray) -> np.ndarray:
    """ISO and DD.MM.YYYY texts -> YYYY-MM-DD; anything else stays as sent.

    ``values`` are ``str`` or missing. Each distinct text is read once; the candidate
    days of each form are checked together by ``pd.to_datetime``.
    """
    distinct = {v: v for v in values if isinstance(v, str)}
    for pattern in _DATE_FORMS:
        found: dict[str, str] = {}
        for text in distinct:
            parts = pattern.fullmatch(text)
            if parts is not None:
                found[text] = (parts["y"] + "-" + parts["m"].zfill(2) + "-"
                               + parts["d"].zfill(2))
        if not found:
            continue
        iso = pd.Series(list(found.values()), dtype="string")
        real = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").notna().to_numpy()
        for text, day, ok in zip(found, found.values(), real, strict=True):
            if ok:
                distinct[text] = day
    if not distinct:
        return values
    return _objects([distinct[v] if isinstance(v, str) else v for v in values])


def _countries(values: np.ndarray) -> np.ndarray:
    index = country_index()
    return _objects([index.get(v.casefold(), v) if isinstance(v, str) else v
                     for v in values])


def _upper(values: np.ndarray) -> np.ndarray:
    return _objects([_same_or(v, v.upper()) if isinstance(v, str) else v for v in values])


def _same_or(sent: str, new: str) -> str:
    """``sent`` itself when ``new`` is equal text: a million equal copies of serial numbers
    or phone numbers would otherwise be held next to the cells as sent (~60 MB each)."""
    return sent if new == sent else new


@cache
def _parse_phone(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone(text: object, region: object) -> object:
    """E.164 where the number can be read (country code given, or the row's country)."""
    if not isinstance(text, str):
        return text
    compact = _PHONE_JUNK.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164ISH.fullmatch(compact):
        return _same_or(text, compact)
    # only numbers not already E.164 go to phonenumbers
    parsed = _parse_phone(text, region if isinstance(region, str) and len(region) == 2
                          else None)
    return text if parsed is None else parsed


def _phones(values: np.ndarray, regions: np.ndarray) -> np.ndarray:
    return _objects([_phone(t, r) for t, r in zip(values, regions, strict=True)])


def normalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Text-only claim rows (``str`` or ``None`` in every canonical column) and warnings."""
    columns: dict[str, pd.Series] = {}
    found: list[pd.DataFrame] = [empty_issues()]
    postcode_numbers: dict[str, pd.Series] = {}
    for name in CANONICAL:
        sent = frame[name] if name in frame.columns else pd.Series(
            None, index=frame.index, dtype=object)
        column = _stripped_text(sent)
        if column is None:
            column, issues = _as_text(sent, name)
            found.extend(issues)
            column = _strip_cells(column)
            if name in POSTCODE_COUNTRY:
                postcode_numbers[name] = _non_text(sent)[0]
        if name in DATE_COLUMNS:
            column = _transformed(column, _iso_dates)
        elif name in COUNTRY_COLUMNS:
            column = _transformed(column, _countries)
        elif name in ("serial_number", "rma_code"):
            column = _transformed(column, _upper)
        columns[name] = column
    for name, numbers in postcode_numbers.items():
        columns[name], warnings = _postcodes_sent_as_numbers(
            name, columns[name], numbers, columns[POSTCODE_COUNTRY[name]])
        found.append(warnings)
    for name in PHONE_COLUMNS:
        columns[name] = pd.Series(
            _phones(columns[name].to_numpy(dtype=object),
                    columns["recipient_country"].to_numpy(dtype=object)),
            index=frame.index, dtype=object)
    # copy=False: unchanged columns are shared copy-on-write, not copied
    out = pd.DataFrame(columns, index=frame.index, dtype=object, copy=False)
    return out, concat_issues(found)


def _postcodes_sent_as_numbers(name: str, column: pd.Series, numbers: pd.Series,
                               countries: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """A number in a postcode column is a ``VALUE_AS_TEXT`` warning. Where the row's country
    shows which leading zeros the number lost (DE 1067 is 01067), they are put back and the
    warning says so: a postcode posted without them sends the parcel to another town."""
    where = numbers.to_numpy(dtype=bool)
    if not where.any():
        return column, empty_issues()
    sent = column[where]
    restored = restore_lost_zeros(sent, countries[where])
    got = restored.notna().to_numpy()
    messages = np.full(len(sent), _NUMBER_NOT_TEXT, dtype=object)
    messages[got] = [restored_message(s, r)
                     for s, r in zip(sent[got], restored[got], strict=True)]
    warnings = issues_where(pd.Series(True, index=sent.index), name, Reason.VALUE_AS_TEXT,
                            pd.Series(messages, index=sent.index), sent)
    if got.any():
        values = column.to_numpy(dtype=object).copy()
        values[np.flatnonzero(where)[got]] = restored[got].to_numpy(dtype=object)
        column = pd.Series(values, index=column.index, dtype=object)
    return column, warnings


def _transformed(column: pd.Series, transform: Callable[[np.ndarray], np.ndarray]
                 ) -> pd.Series:
    """``transform`` (``str`` or missing cells in, same out) of a stripped column."""
    values = column.to_numpy(dtype=object)
    out = transform(values)
    if out is values:  # nothing to change: keep the column (copy-on-write)
        return column
    return pd.Series(out, index=column.index, dtype=object)

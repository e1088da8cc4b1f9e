"""Vectorised checks shared by the claim schemas; each returns a boolean Series."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pycountry

SN_SPLIT = r"[,;\s]+"
SN_PATTERN = r"[A-Z0-9-]{6,20}"
EMAIL_PATTERN = r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]{2,}"
E164_PATTERN = r"\+[1-9]\d{6,14}"
ISO_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ALPHA2: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)


def serial_tokens(cells: pd.Series) -> pd.Series:
    """One row per SN: a cell may list several, split on commas, semicolons and whitespace.

    The index repeats the cell's row; blank tokens are dropped.
    """
    tokens = cells.dropna().astype(str).str.strip().str.split(SN_SPLIT, regex=True).explode()
    return tokens[tokens.notna() & (tokens != "")]


def serial_numbers_valid(cells: pd.Series) -> pd.Series:
    tokens = serial_tokens(cells)
    ok = tokens.str.fullmatch(SN_PATTERN).astype(bool).groupby(level=0).all()
    return ok.reindex(cells.index, fill_value=False)


def matches(pattern: str):
    def check(cells: pd.Series) -> pd.Series:
        return cells.astype(str).str.fullmatch(pattern).astype(bool)

    return check


def is_country(cells: pd.Series) -> pd.Series:
    return cells.isin(ALPHA2)


def real_date(cells: pd.Series) -> pd.Series:
    text = cells.astype(str)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return text.str.fullmatch(ISO_DATE_PATTERN).astype(bool) & parsed.notna()


def not_after(day: dt.date):
    """ISO texts compare like dates; unparseable ones are left to ``real_date``."""
    limit = day.isoformat()

    def check(cells: pd.Series) -> pd.Series:
        text = cells.astype(str)
        return ~text.str.fullmatch(ISO_DATE_PATTERN).astype(bool) | (text <= limit)

    return check


def fault_not_before_installation(frame: pd.DataFrame) -> pd.Series:
    """Only two real dates are compared; an unreadable one is ``real_date``'s to report."""
    fault, installed = frame["fault_date"], frame["installation_date"]
    both = fault.notna() & installed.notna() & real_date(fault) & real_date(installed)
    return ~both | (fault.astype(str) >= installed.astype(str))


def text_length(max_chars: int, min_chars: int = 0):
    def check(cells: pd.Series) -> pd.Series:
        length = cells.astype(str).str.len()
        return (length <= max_chars) & (length >= min_chars)

    return check


def no_control_chars(cells: pd.Series) -> pd.Series:
    return ~cells.astype(str).str.contains(CONTROL_CHARS, regex=True)

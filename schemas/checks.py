"""Vectorised checks shared by the claim schemas; each returns a boolean Series.

The column checks run on every cell of every column, so each has a fast path (its
``kernel``) for the common case, every cell a ``str``: ``"\\n".join`` of the column is the
test for that (it refuses anything else) and lets one regex search or one numpy pass see a
whole column. Any other column takes the plain pandas path, which defines the result.
``blanks_pass`` runs a check on the non-blank cells only, as pandera's ``ignore_na`` does,
but finds the blanks in the same pass as the kernel's join.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pycountry

SN_SPLIT = r"[,;\s]+"
SN_PATTERN = r"[A-Z0-9-]{6,20}"
EMAIL_PATTERN = r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]{2,}"
E164_PATTERN = r"\+[1-9]\d{6,14}"
#: Year 0000 is no year (pandas reads it, Python's date and the database cannot hold it)
ISO_DATE_PATTERN = r"(?!0000)\d{4}-\d{2}-\d{2}"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ALPHA2: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)

_SEP = "\n"  # no control character, in none of the patterns above
_SN_SPLIT = re.compile(SN_SPLIT)
_SN = re.compile(SN_PATTERN)
_ISO_DATE = re.compile(ISO_DATE_PATTERN)

#: A check's fast path: the cells (all ``str``) and the same joined by ``_SEP`` -> ok.
Kernel = Callable[[np.ndarray, str], np.ndarray]
Check = Callable[[pd.Series], pd.Series]


def _joined(values: np.ndarray) -> str | None:
    """``values`` joined by ``_SEP``; None unless every one is a ``str``."""
    try:
        return _SEP.join(values)
    except TypeError:
        return None


def _result(cells: pd.Series, ok: np.ndarray) -> pd.Series:
    return pd.Series(ok, index=cells.index, name=cells.name, dtype=bool)


def _fast(kernel: Kernel, unique_index: bool = False) -> Callable[[Check], Check]:
    """Decorate a check (its pandas path) with ``kernel``, used when every cell is a
    ``str`` (and, if ``unique_index``, the index has no repeated row)."""

    def wrap(check: Check) -> Check:
        def run(cells: pd.Series) -> pd.Series:
            if len(cells) and (not unique_index or cells.index.is_unique):
                values = cells.to_numpy(dtype=object)
                joined = _joined(values)
                if joined is not None:
                    return _result(cells, kernel(values, joined))
            return check(cells)

        run.kernel = kernel  # type: ignore[attr-defined]
        run.unique_index = unique_index  # type: ignore[attr-defined]
        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        return run

    return wrap


def blanks_pass(check: Check) -> Check:
    """``check`` on the non-blank cells; blank cells pass (pandera's ``ignore_na``)."""
    kernel: Kernel | None = getattr(check, "kernel", None)
    unique_index: bool = getattr(check, "unique_index", False)

    def run(cells: pd.Series) -> pd.Series:
        if kernel is not None and len(cells) and (not unique_index or cells.index.is_unique):
            values = cells.to_numpy(dtype=object)
            joined = _joined(values)
            if joined is not None:  # no blank cell
                return _result(cells, kernel(values, joined))
            present = ~pd.isna(values)
            texts = values[present]
            joined = _joined(texts)
            if joined is not None:
                ok = np.ones(len(values), dtype=bool)
                if len(texts):
                    ok[present] = kernel(texts, joined)
                return _result(cells, ok)
        if not cells.hasnans:
            return check(cells)
        present = cells.notna().to_numpy()
        ok = np.ones(len(cells), dtype=bool)
        ok[present] = check(cells[present]).to_numpy(dtype=bool)
        return _result(cells, ok)

    run.__name__ = getattr(check, "__name__", "check")
    return run


def serial_tokens(cells: pd.Series) -> pd.Series:
    """One row per SN: a cell may list several, split on commas, semicolons and whitespace.

    The index repeats the cell's row; blank tokens are dropped.
    """
    text = cells.dropna().astype(str).str.strip()
    several = text.str.contains(_SN_SPLIT, regex=True).to_numpy(dtype=bool)
    if not several.any():  # the usual case: one SN per cell, nothing to split
        return text[text != ""].astype(object)
    lists = text[several].str.split(SN_SPLIT, regex=True)
    order = np.concatenate([np.flatnonzero(~several),
                            # pandas-stubs type ``.str`` as text only; it also measures lists
                            np.repeat(np.flatnonzero(several),
                                      lists.str.len().to_numpy())])  # type: ignore[misc]
    tokens = pd.concat([text[~several].astype(object), lists.explode()])
    tokens = tokens.iloc[np.argsort(order, kind="stable")].astype(object)
    kept: pd.Series = tokens[tokens.notna() & (tokens != "")]
    return kept


def _serials_valid(text: str) -> bool:
    """The ``serial_tokens`` of one cell are all valid (and there is one)."""
    if _SN.fullmatch(text):  # one SN, nothing to strip or split
        return True
    tokens = [t for t in _SN_SPLIT.split(text.strip()) if t]
    return bool(tokens) and all(_SN.fullmatch(t) for t in tokens)


def _each(test: Callable[[str], object]) -> Kernel:
    def kernel(values: np.ndarray, joined: str) -> np.ndarray:
        return np.fromiter(map(test, values), dtype=bool, count=len(values))

    return kernel


def _each_distinct(table: Callable[[list[str]], dict[str, bool]]) -> Kernel:
    """For columns of few distinct texts (dates): each is looked at once."""

    def kernel(values: np.ndarray, joined: str) -> np.ndarray:
        ok = table(list(dict.fromkeys(values)))
        return np.fromiter(map(ok.__getitem__, values), dtype=bool, count=len(values))

    return kernel


@_fast(_each(_serials_valid), unique_index=True)
def serial_numbers_valid(cells: pd.Series) -> pd.Series:
    tokens = serial_tokens(cells)
    ok = tokens.str.fullmatch(SN_PATTERN).astype(bool).groupby(level=0).all()
    return ok.reindex(cells.index, fill_value=False)


def matches(pattern: str) -> Check:
    compiled = re.compile(pattern)

    @_fast(_each(lambda text: compiled.fullmatch(text) is not None))
    def check(cells: pd.Series) -> pd.Series:
        return cells.astype(str).str.fullmatch(pattern).astype(bool)

    return check


@_fast(_each(ALPHA2.__contains__))
def is_country(cells: pd.Series) -> pd.Series:
    return cells.isin(ALPHA2)


def _real_dates(texts: list[str]) -> dict[str, bool]:
    parsed = pd.to_datetime(pd.Series(texts, dtype="str"), format="%Y-%m-%d",
                            errors="coerce").notna().to_numpy()
    return {text: bool(ok) and _ISO_DATE.fullmatch(text) is not None
            for text, ok in zip(texts, parsed, strict=True)}


@_fast(_each_distinct(_real_dates))
def real_date(cells: pd.Series) -> pd.Series:
    text = cells.astype(str)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return text.str.fullmatch(ISO_DATE_PATTERN).astype(bool) & parsed.notna()


def not_after(day: dt.date) -> Check:
    """ISO texts compare like dates; unparseable ones are left to ``real_date``."""
    limit = day.isoformat()

    def table(texts: list[str]) -> dict[str, bool]:
        return {t: _ISO_DATE.fullmatch(t) is None or t <= limit for t in texts}

    @_fast(_each_distinct(table))
    def check(cells: pd.Series) -> pd.Series:
        text = cells.astype(str)
        return ~text.str.fullmatch(ISO_DATE_PATTERN).astype(bool) | (text <= limit)

    return check


def fault_not_before_installation(frame: pd.DataFrame) -> pd.Series:
    """Only two real dates are compared; an unreadable one is ``real_date``'s to report.

    True wherever a date is blank (so pandera's ``ignore_na`` changes nothing).
    """
    fault, installed = frame["fault_date"], frame["installation_date"]
    # every step is cell by cell: run them on the rows holding two dates only
    both = (fault.notna() & installed.notna()).to_numpy(dtype=bool, copy=True)
    if both.any():
        fault, installed = fault[both], installed[both]
        real = (real_date(fault).to_numpy(dtype=bool)
                & real_date(installed).to_numpy(dtype=bool))
        fault, installed = fault[real], installed[real]
        both[both] = real
    ok = ~both
    if both.any():
        ok[both] = (fault.astype(str) >= installed.astype(str)).to_numpy(dtype=bool)
    return pd.Series(ok, index=frame.index)


def _lengths(values: np.ndarray, joined: str) -> np.ndarray:
    """Character counts of the ``str`` values joined into ``joined``."""
    if joined.count(_SEP) == len(values) - 1:  # no value holds the separator
        code_points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"),
                                    dtype=np.uint32)
        ends = np.append(np.flatnonzero(code_points == ord(_SEP)), len(code_points))
        return np.diff(ends, prepend=-1) - 1
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def text_length(max_chars: int, min_chars: int = 0) -> Check:
    def kernel(values: np.ndarray, joined: str) -> np.ndarray:
        length = _lengths(values, joined)
        return (length <= max_chars) & (length >= min_chars)

    @_fast(kernel)
    def check(cells: pd.Series) -> pd.Series:
        length = cells.astype(str).str.len()
        return (length <= max_chars) & (length >= min_chars)

    return check


def _no_control_chars(values: np.ndarray, joined: str) -> np.ndarray:
    if CONTROL_CHARS.search(joined) is None:  # the usual case: one search for the column
        return np.ones(len(values), dtype=bool)
    return np.fromiter((CONTROL_CHARS.search(v) is None for v in values), dtype=bool,
                       count=len(values))


@_fast(_no_control_chars)
def no_control_chars(cells: pd.Series) -> pd.Series:
    return ~cells.astype(str).str.contains(CONTROL_CHARS, regex=True)

"""The two claim schemas of SPEC §4: what was sent (step 1) and the resolved claim (step 6).

Both validate text-only frames (see ``rma.domain.rules.normalise``) indexed by the sheet row the
submitter sees. Every check is named by the reason code it stands for, so a failure maps
straight to a rejection (``schemas.failures``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

import pandera.pandas as pa

from rma.domain.vocabulary.columns import (
    CANONICAL,
    COUNTRY_COLUMNS,
    DATE_COLUMNS,
    EMAIL_COLUMNS,
    MAX_LENGTH,
    MIN_FAULT_DESCRIPTION,
    PHONE_COLUMNS,
    REQUIRED_AFTER_PREFILL,
)
from rma.domain.vocabulary.reasons import Reason
from schemas import checks

FUTURE = f"{Reason.INVALID_DATE}:future"
ORDER = f"{Reason.INVALID_DATE}:order"
LENGTH = f"{Reason.INVALID_TEXT}:length"
CONTROL = f"{Reason.INVALID_TEXT}:control"


def _absent_geopandas_fails_fast() -> None:
    """pandera runs ``from geopandas.array import GeometryDtype`` for every column of every
    validation (``pandas_engine.is_geopandas_dtype``). Without geopandas each failed import
    searches ``sys.path`` again: ~6 ms of the raw schema's 29 ms on a 20-row file.
    Recording the absence in ``sys.modules`` makes that import fail at once, as it would
    anyway; nothing here uses geopandas. Done when a schema is first built (the builders are
    cached), not at import: importing this module changes nothing."""
    if "geopandas" not in sys.modules and importlib.util.find_spec("geopandas") is None:
        sys.modules["geopandas"] = None  # type: ignore[assignment]


def _check(fn: Callable[..., Any], code: str) -> pa.Check:
    return pa.Check(fn, name=code, error=code)


def _sent_check(fn: checks.Check, code: str) -> pa.Check:
    """A check of the cells that were sent: blank ones pass. ``checks.blanks_pass`` skips
    them itself (in the same pass over the column as the check) instead of pandera's
    ``ignore_na`` (which scans the column twice more)."""
    return pa.Check(checks.blanks_pass(fn), name=code, error=code, ignore_na=False)


def _column_checks(name: str, today: dt.date) -> list[pa.Check]:
    if name in DATE_COLUMNS:
        return [_sent_check(checks.real_date, Reason.INVALID_DATE),
                _sent_check(checks.not_after(today), FUTURE)]
    shortest = MIN_FAULT_DESCRIPTION if name == "fault_description" else 0
    found = [_sent_check(checks.text_length(MAX_LENGTH[name], shortest), LENGTH),
             _sent_check(checks.no_control_chars, CONTROL)]
    if name == "serial_number":
        found.append(_sent_check(checks.serial_numbers_valid, Reason.INVALID_SERIAL_NUMBER))
    elif name in EMAIL_COLUMNS:
        found.append(_sent_check(checks.matches(checks.EMAIL_PATTERN), Reason.INVALID_EMAIL))
    elif name in PHONE_COLUMNS:
        found.append(_sent_check(checks.matches(checks.E164_PATTERN), Reason.INVALID_PHONE))
    elif name in COUNTRY_COLUMNS:
        found.append(_sent_check(checks.is_country, Reason.INVALID_COUNTRY))
    return found


@cache
def raw_claims_schema(today: dt.date) -> pa.DataFrameSchema:
    """Step 1: every value that was sent has the right form (blanks are step 6's business)."""
    _absent_geopandas_fails_fast()
    return pa.DataFrameSchema(
        {name: pa.Column(object, checks=_column_checks(name, today), nullable=True,
                         required=False)
         for name in CANONICAL},
        # True wherever a date is blank, so pandera's ignore_na (a scan of the whole
        # frame) would change nothing
        checks=[pa.Check(checks.fault_not_before_installation, name=ORDER, error=ORDER,
                         ignore_na=False)],
        name="raw_claims",
    )


@cache
def resolved_claims_schema() -> pa.DataFrameSchema:
    """Step 6: after prefill, every required field has a value."""
    _absent_geopandas_fails_fast()
    return pa.DataFrameSchema(
        {
            name: pa.Column(
                object,
                nullable=name not in REQUIRED_AFTER_PREFILL,
                checks=[_check(checks.text_length(MAX_LENGTH[name], MIN_FAULT_DESCRIPTION),
                               LENGTH)] if name == "fault_description" else [],
            )
            for name in CANONICAL
        },
        name="resolved_claims",
    )

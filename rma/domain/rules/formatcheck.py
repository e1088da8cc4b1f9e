"""Step 1 of SPEC §4 over rows: normalise the cells, then check them with the raw-row schema.

Every rule here looks at one row at a time (one cell, or the two dates of one row), so the
rows of a sheet can be checked whole or in chunks, in any process, with the same outcome:
``format_issues`` puts the parts back together in the order the whole sheet would give.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rma.domain.rules.normalise import normalise
from rma.domain.rules.postcodes import postcode_issues
from rma.domain.vocabulary.columns import POSTCODE_COUNTRY
from rma.domain.vocabulary.issues import concat_issues, issues_where
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData
from schemas.claims import raw_claims_schema
from schemas.failures import validate


@dataclass
class CheckedRows:
    """Some rows of a sheet after step 1 (all indexed by the sheet row)."""

    rows: pd.DataFrame  # normalised: str or None in every canonical column
    warnings: pd.DataFrame  # found while normalising (VALUE_AS_TEXT, lossy SNs)
    failures: pd.DataFrame  # raw-row schema failures, then postcodes their country refuses


def check_rows(frame: pd.DataFrame, today: dt.date) -> CheckedRows:
    """Normalise canonical rows as sent and check every value (pure; picklable in and out)."""
    rows, warnings = normalise(frame)
    failures = concat_issues([validate(raw_claims_schema(today), rows),
                              *postcode_issues(rows, POSTCODE_COUNTRY)])
    return CheckedRows(rows, warnings, failures)


def header_warnings(sheet: SheetData) -> list[pd.DataFrame]:
    """UNKNOWN_COLUMN for each header the sheet has that is not a claim column."""
    unknown = pd.Series(True, index=pd.Index([sheet.header_row] * len(sheet.unknown_columns)))
    return [
        issues_where(unknown.iloc[[i]], column, Reason.UNKNOWN_COLUMN,
                     f"The column {column!r} is not recognised and was ignored.")
        for i, column in enumerate(sheet.unknown_columns)
    ]


def format_issues(parts: Sequence[CheckedRows], sheet: SheetData) -> pd.DataFrame:
    """Every format issue of the sheet from its checked parts (in row order): warnings,
    then schema failures, then header warnings, as a single whole-sheet check lists them."""
    return concat_issues([*(p.warnings for p in parts), *(p.failures for p in parts),
                          *header_warnings(sheet)])


def concat_rows(parts: Sequence[CheckedRows]) -> pd.DataFrame:
    """The normalised rows of all parts, in row order."""
    if len(parts) == 1:
        return parts[0].rows
    return pd.concat([p.rows for p in parts])

"""Issues (rejections and warnings) as a frame: one row per (sheet row, column, reason).

Rules return issue frames instead of raising: a rejection is data. The frame's columns are
``ISSUE_COLUMNS``; ``row`` is the row number the submitter sees in the file.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from rma.domain.vocabulary.reasons import MESSAGES, WARNINGS, Reason

ISSUE_COLUMNS = ["row", "column", "code", "message", "value"]


_EMPTY = pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})


def empty_issues() -> pd.DataFrame:
    """A new empty issue frame (a copy of one made once: building it takes ~0.4 ms, a copy
    ~0.01 ms, and a 20-row file asks for a dozen)."""
    return _EMPTY.copy()


def issues_where(
    mask: pd.Series,
    column: str,
    code: Reason,
    message: str | pd.Series | None = None,
    values: pd.Series | None = None,
) -> pd.DataFrame:
    """Issues for the rows where ``mask`` is true; the mask's index holds the sheet rows."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return empty_issues()
    rows = mask.index[mask.to_numpy()]
    if message is None:
        message = MESSAGES[code]
    msg = message[mask].to_numpy() if isinstance(message, pd.Series) else message
    vals = values[mask].to_numpy() if values is not None else None
    return pd.DataFrame(
        {
            "row": rows.to_numpy(),
            "column": column,
            "code": str(code),
            "message": msg,
            "value": vals,
        }
    )


def concat_issues(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_issues()
    out = pd.concat(frames, ignore_index=True)
    return out[ISSUE_COLUMNS]


def rows_with_errors(issues: pd.DataFrame) -> pd.Index:
    """Sheet rows that carry at least one error (warnings do not count)."""
    errors = issues[~issues["code"].isin([str(w) for w in WARNINGS])]
    rows: pd.Index = pd.Index(errors["row"].unique())
    return rows

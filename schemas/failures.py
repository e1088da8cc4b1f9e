"""Map pandera's failure cases to issues: the sheet row, the column and a reason code."""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from rma.domain.vocabulary.columns import LABELS, MAX_LENGTH, MIN_FAULT_DESCRIPTION
from rma.domain.vocabulary.issues import ISSUE_COLUMNS, empty_issues
from rma.domain.vocabulary.reasons import MESSAGES, Reason

_AMBIGUOUS = r"\d{1,2}/\d{1,2}/\d{2,4}"

_SPECIAL = {
    f"{Reason.INVALID_DATE}:future": "The date lies in the future.",
    f"{Reason.INVALID_DATE}:order": "The fault date is before the installation date.",
    f"{Reason.INVALID_TEXT}:control": "The text contains control characters; remove them.",
}


def _message(code: str, check: str, column: str, value: object) -> str:
    if check in _SPECIAL:
        return _SPECIAL[check]
    if code == Reason.MISSING_FIELD:
        return f"{LABELS.get(column, column)} is required and was left blank."
    if code == Reason.INVALID_DATE:
        text = str(value)
        if re.fullmatch(_AMBIGUOUS, text):
            return (f"The date {text} is ambiguous (day and month could be swapped); "
                    "write it as YYYY-MM-DD or DD.MM.YYYY.")
        return f"{text!r} is not a date; use YYYY-MM-DD, DD.MM.YYYY or an Excel date."
    if code == Reason.INVALID_SERIAL_NUMBER and re.fullmatch(r"\d+(\.\d+)?E\+?\d+",
                                                             str(value)):
        return ("The serial number looks like a number in scientific notation (Excel changed "
                "it); format the column as text and enter the serial number again.")
    if check == f"{Reason.INVALID_TEXT}:length":
        limit = MAX_LENGTH.get(column, 0)
        if column == "fault_description" and len(str(value)) < MIN_FAULT_DESCRIPTION:
            return (f"The fault description is too short; describe the fault in at least "
                    f"{MIN_FAULT_DESCRIPTION} characters.")
        return f"The text is longer than {limit} characters."
    return MESSAGES[Reason(code)]


def validate(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate lazily (every error of every row at once) and return the issues found."""
    try:
        # pandera copies the frame it validates unless told inplace; a shallow
        # (copy-on-write) copy keeps the caller's frame untouched just as well, without
        # copying every cell: no check here writes to it
        schema.validate(frame.copy(deep=False), lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        return failures_to_issues(exc.failure_cases)
    return empty_issues()


def failures_to_issues(cases: pd.DataFrame) -> pd.DataFrame:
    unplaced = cases[cases["index"].isna()]
    if len(unplaced):
        # a column-level failure is a bug in the pipeline, not the submitter's fault
        raise RuntimeError(f"schema failure without a row: {unplaced.to_dict('records')}")
    # a frame-wide check reports each failing row once per column: keep the one it is about
    is_order = cases["check"] == _ORDER_CHECK
    cases = cases[~is_order | (cases["column"] == "fault_date")]
    cases = cases.drop_duplicates(["index", "column", "check"]).copy()
    cases["code"] = cases["check"].map(_code_of)
    values = cases["failure_case"].astype(object).where(cases["failure_case"].notna(), None)
    messages = [
        _message(code, check, column, value)
        for code, check, column, value in zip(
            cases["code"], cases["check"], cases["column"], values, strict=True)
    ]
    issues = pd.DataFrame({
        "row": cases["index"].astype(int).to_numpy(),
        "column": cases["column"].to_numpy(),
        "code": cases["code"].to_numpy(),
        "message": messages,
        "value": values.to_numpy(),
    })
    return issues[ISSUE_COLUMNS].sort_values(["row", "column"], kind="stable").reset_index(
        drop=True)


_ORDER_CHECK = f"{Reason.INVALID_DATE}:order"


def _code_of(check: str) -> str:
    if check == "not_nullable":
        return str(Reason.MISSING_FIELD)
    return check.split(":", 1)[0]

"""Which rows form one claim, and the serial numbers each row carries."""

from __future__ import annotations

import pandas as pd

from schemas.checks import serial_tokens


def claim_keys(account: pd.Series, claim_ref: pd.Series) -> pd.Series:
    """Rows sharing an account and a claim_ref are one claim; a blank ref is a claim alone."""
    rows = pd.Series(account.index.astype(str), index=account.index)
    who = account.fillna("").astype(str)
    # the account's length first: account "D-001" with ref "X:C-1" and account "D-001:X"
    # with ref "C-1" stay two claims
    by_ref = "ref:" + who.str.len().astype(str) + ":" + who + ":" + claim_ref.fillna(
        "").astype(str)
    return by_ref.where(claim_ref.notna(), "row:" + rows).astype(object)


def serial_lines(serial_cells: pd.Series) -> pd.DataFrame:
    """One line per SN, in sheet order: columns ``row`` and ``serial_number``."""
    tokens = serial_tokens(serial_cells)
    return pd.DataFrame({"row": tokens.index.to_numpy(),
                         "serial_number": tokens.to_numpy()}, dtype=object)


def first_row_of_claim(keys: pd.Series) -> pd.Series:
    """For each row, the first sheet row of its claim (used to order claims and messages)."""
    rows = pd.Series(keys.index.to_numpy(), index=keys.index)
    return rows.groupby(keys).transform("min")

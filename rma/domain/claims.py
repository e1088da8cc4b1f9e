"""Which rows form one claim, and the serial numbers each row carries."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.checks import serial_tokens


def claim_keys(account: pd.Series, claim_ref: pd.Series) -> pd.Series:
    """Rows sharing an account and a claim_ref are one claim; a blank ref is a claim alone.

    A claim is a number (int64, in order of first appearance): a text key per row would
    hold a million new strings for a million-row batch, and numbers group faster.
    """
    pairs = pd.MultiIndex.from_arrays([account.fillna("").astype(str).to_numpy(dtype=object),
                                       claim_ref.fillna("").astype(str).to_numpy(dtype=object)])
    keys, _ = pd.factorize(pairs)
    blank = claim_ref.isna().to_numpy()
    if blank.any():  # each such row its own claim, numbered after the others
        keys = keys.copy()
        keys[blank] = keys.max(initial=-1) + 1 + np.arange(int(blank.sum()))
    return pd.Series(keys.astype(np.int64), index=account.index)


def serial_lines(serial_cells: pd.Series) -> pd.DataFrame:
    """One line per SN, in sheet order: columns ``row`` and ``serial_number``."""
    tokens = serial_tokens(serial_cells)
    return pd.DataFrame({"row": tokens.index.to_numpy(),
                         "serial_number": tokens.to_numpy()}, dtype=object)


def first_row_of_claim(keys: pd.Series) -> pd.Series:
    """For each row, the first sheet row of its claim (used to order claims and messages)."""
    rows = pd.Series(keys.index.to_numpy(), index=keys.index)
    return rows.groupby(keys).transform("min")

"""Which rows form one claim, and the serial numbers each row carries."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from rma.domain.vocabulary.issues import empty_issues, issues_where
from rma.domain.vocabulary.reasons import Reason
from schemas.checks import serial_tokens

#: Dashes that look like '-' and that NFKC leaves as they are (it already maps the small and
#: full-width hyphen-minus to '-', and U+2011 to U+2010).
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")


def claim_ref_key(ref: str) -> str:
    """The form in which claim references are compared: ``CB-1``, ``cb-1``, ``CB‐1``
    (U+2010) and ``ＣＢ-1`` (full-width) are one reference, as they look alike to a person.

    NFKC (full-width and compatibility forms), invisible format characters (zero-width
    space, soft hyphen) dropped, dash variants made '-', case folded, runs of white space one
    space, trimmed; upper-cased last, so that the usual reference (``C-17``) is its own key.
    """
    if not ref.isascii():
        text = unicodedata.normalize("NFKC", ref)
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        ref = unicodedata.normalize("NFKC", text.translate(_DASHES).casefold())
    return " ".join(ref.split()).upper()


def claim_ref_keys(refs: pd.Series) -> pd.Series:
    """``claim_ref_key`` of every ref; a missing ref, or one with nothing visible left, is
    None. A ref that is its own key stays the same object (no second copy of a million refs).
    """
    values = refs.to_numpy(dtype=object)
    keys = np.empty(len(values), dtype=object)
    for i, ref in enumerate(values):
        if isinstance(ref, str):
            key = claim_ref_key(ref)
            keys[i] = ref if key == ref else (key or None)
    return pd.Series(keys, index=refs.index, dtype=object)


def claim_keys(account: pd.Series, ref_keys: pd.Series) -> pd.Series:
    """Rows sharing an account and a claim reference (compared by ``claim_ref_key``: pass
    ``claim_ref_keys(claim_ref)``) are one claim; a blank ref is a claim alone.

    A claim is a number (int64, in order of first appearance): a text key per row would
    hold a million new strings for a million-row batch, and numbers group faster.
    """
    pairs = pd.MultiIndex.from_arrays([account.fillna("").astype(str).to_numpy(dtype=object),
                                       ref_keys.fillna("").astype(str).to_numpy(dtype=object)])
    keys, _ = pd.factorize(pairs)
    blank = ref_keys.isna().to_numpy()
    if blank.any():  # each such row its own claim, numbered after the others
        keys = keys.copy()
        keys[blank] = keys.max(initial=-1) + 1 + np.arange(int(blank.sum()))
    return pd.Series(keys.astype(np.int64), index=account.index)


def merged_spellings(claim_ref: pd.Series, keys: pd.Series) -> pd.DataFrame:
    """``CLAIM_REF_MERGED`` warnings: rows of a claim whose reference is written otherwise
    than on the claim's first row (the claim keeps that first spelling)."""
    if keys.is_unique:  # every claim one row: nothing was merged
        return empty_issues()
    first = claim_ref.groupby(keys).transform("first")
    first_row = first_row_of_claim(keys)
    other = claim_ref.notna() & (claim_ref != first)
    sent, taken = claim_ref[other].astype(str), first[other].astype(str)
    message = ("The claim reference " + sent + " was taken as " + taken + " (row "
               + first_row[other].astype(int).astype(str) + "): references that differ only "
               "in capitals, character width, dashes or spaces are one claim.")
    return issues_where(other, "claim_ref", Reason.CLAIM_REF_MERGED,
                        message.reindex(keys.index), claim_ref)


def serial_lines(serial_cells: pd.Series) -> pd.DataFrame:
    """One line per SN, in sheet order: columns ``row`` and ``serial_number``."""
    tokens = serial_tokens(serial_cells)
    return pd.DataFrame({"row": tokens.index.to_numpy(),
                         "serial_number": tokens.to_numpy()}, dtype=object)


def first_row_of_claim(keys: pd.Series) -> pd.Series:
    """For each row, the first sheet row of its claim (used to order claims and messages)."""
    rows = pd.Series(keys.index.to_numpy(), index=keys.index)
    return rows.groupby(keys).transform("min")

"""A claim as one record, from its rows: the fields of a claim are the first non-blank value
among its rows, its notes all of theirs; serial numbers stay per line. Each accepted claim
is posted as its record; step 6 checks every row as the claim it belongs to."""

from __future__ import annotations

import pandas as pd

from rma.domain.vocabulary.columns import CANONICAL, LINE_COLUMNS


def claim_view(resolved: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Each row as the claim it belongs to (step 6 checks the claim, not the row): claim
    fields take the first non-blank value among the claim's rows; SNs stay per line. Blank
    is None. When every claim is one row (most batches) the rows are the claims as they are."""
    if keys.is_unique:
        return _none_for_missing(resolved[list(CANONICAL)])
    return grouped_claim_view(resolved, keys)


def grouped_claim_view(resolved: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """``claim_view`` of claims of several rows: a groupby of the claim fields."""
    claim_fields = [c for c in CANONICAL if c not in LINE_COLUMNS]
    view = resolved[list(CANONICAL)].copy()
    view[claim_fields] = resolved[claim_fields].groupby(keys).transform("first")
    return view.astype(object).where(view.notna(), None)


def _none_for_missing(frame: pd.DataFrame, all_object: bool = True) -> pd.DataFrame:
    """``frame`` with every missing value of an object column None (and, with
    ``all_object``, every column object); only the columns that hold another kind of
    missing value (NaN, NA, NaT) or another dtype are copied."""
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            if not all_object:
                continue
        elif all(v is None for v in values.to_numpy()[values.isna().to_numpy()]):
            continue
        values = values.astype(object)
        changed[column] = values.where(values.notna(), None)
    return frame.assign(**changed) if changed else frame


def claim_records(rows: pd.DataFrame) -> pd.DataFrame:
    """One record per claim: the first non-blank value of each field among its rows."""
    if not len(rows):
        return pd.DataFrame(columns=["claim_key", "first_row", *CANONICAL, "account", "assessment",
                                     "code_key", "claim_ref_key"])
    if not rows["claim_key"].is_unique:
        return grouped_claim_records(rows)
    # each claim is one row (every distributor batch without shared claim_refs): the rows
    # are the claims, without the groupby that is the costliest part of deciding a large
    # batch (bench/HISTORY.md, "a claim of one row is its own claim record")
    ordered = rows.sort_values("first_row", kind="stable")
    claims = _none_for_missing(
        ordered[["claim_key", *(c for c in ordered.columns if c != "claim_key")]],
        all_object=False)
    notes = ordered["notes"].dropna().astype(str).reindex(ordered.index)
    return _finish_claims(claims, notes)


def grouped_claim_records(rows: pd.DataFrame) -> pd.DataFrame:
    """``claim_records`` of claims of several rows: a groupby, notes joined line by line."""
    ordered = rows.sort_values("first_row", kind="stable")
    claims = ordered.groupby("claim_key", sort=False).first().reset_index()
    notes = ordered["notes"].dropna().astype(str).groupby(ordered["claim_key"]).agg(
        "\n".join).reindex(claims["claim_key"])
    return _finish_claims(claims, notes)


def _finish_claims(claims: pd.DataFrame, notes: pd.Series) -> pd.DataFrame:
    claims = claims.assign(notes=notes.to_numpy(dtype=object),
                           first_row=claims["first_row"].astype(int))
    return claims.sort_values("first_row", kind="stable").reset_index(drop=True)

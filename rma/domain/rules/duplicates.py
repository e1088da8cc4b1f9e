"""Step 7 of the decision: an SN twice in the batch, an SN already under an open claim, a
claim_ref the account already posted."""

from __future__ import annotations

import pandas as pd

from rma.domain.rules.claims import claim_ref_keys
from rma.domain.vocabulary.issues import concat_issues, empty_issues, issues_where
from rma.domain.vocabulary.reasons import Reason


def duplicate_issues(lines: pd.DataFrame, rows: pd.DataFrame, open_serials: pd.DataFrame,
                     posted_refs: pd.DataFrame) -> pd.DataFrame:
    """``lines``: one SN per line (row, serial_number); ``rows``: account, claim_ref,
    claim_ref_key."""
    sns = lines["serial_number"].astype(str)
    twice = lines["serial_number"].duplicated(keep=False)
    open_claim = sns.map(dict(zip(open_serials["serial_number"], open_serials["claim_id"],
                                  strict=True)))
    found = [
        _line_issues(lines, twice, Reason.DUPLICATE_SN_IN_BATCH,
                     "The serial number " + sns + " appears more than once in this file."),
        _line_issues(lines, open_claim.notna(), Reason.SN_OPEN_CLAIM,
                     "The serial number " + sns + " already has an open claim ("
                     + open_claim.astype(object).fillna("").astype(str) + ")."),
    ]
    if len(posted_refs):
        found.append(_posted_refs(rows, posted_refs))
    return concat_issues(found)


def _posted_refs(rows: pd.DataFrame, posted_refs: pd.DataFrame) -> pd.DataFrame:
    """A ref the account already posted, compared by ``claim_ref_key`` as within a batch
    (``cb-1`` is a posted ``CB-1``); the message names the spelling and claim posted."""
    posted = posted_refs.assign(claim_ref_key=claim_ref_keys(posted_refs["claim_ref"]))
    posted = posted.dropna(subset=["claim_ref_key"]).drop_duplicates(
        ["account_id", "claim_ref_key"])
    index = pd.MultiIndex.from_frame(posted[["account_id", "claim_ref_key"]].astype(str))
    mine = pd.MultiIndex.from_arrays([rows["account"].astype(str),
                                      rows["claim_ref_key"].astype(str)])
    at = index.get_indexer(mine)
    again = pd.Series(at >= 0, index=rows.index) & rows["claim_ref_key"].notna()
    if not again.any():
        return empty_issues()
    hit = at[again.to_numpy()]
    message = pd.Series(
        "This claim reference was already filed by your account (as "
        + posted["claim_ref"].astype(str).to_numpy()[hit] + ", claim "
        + posted["claim_id"].astype(str).to_numpy()[hit] + ").",
        index=rows.index[again.to_numpy()], dtype=object).reindex(rows.index)
    return issues_where(again, "claim_ref", Reason.DUPLICATE_CLAIM_REF, message,
                        rows["claim_ref"])


def _line_issues(lines: pd.DataFrame, hits: pd.Series, code: Reason, message: pd.Series
                 ) -> pd.DataFrame:
    hit = hits.to_numpy(dtype=bool)
    frame = pd.DataFrame({"row": lines["row"].to_numpy()[hit], "column": "serial_number",
                          "code": str(code), "message": message.to_numpy()[hit],
                          "value": lines["serial_number"].to_numpy()[hit]})
    return frame.drop_duplicates(["row", "code", "value"])

"""Step 7 of the decision: an SN twice in the batch, an SN already under an open claim, a
claim_ref the account already posted."""

from __future__ import annotations

import pandas as pd

from rma.issues import concat_issues, issues_where
from rma.reasons import Reason


def duplicate_issues(lines: pd.DataFrame, rows: pd.DataFrame, open_serials: pd.DataFrame,
                     posted_refs: pd.DataFrame) -> pd.DataFrame:
    """``lines``: one SN per line (row, serial_number); ``rows``: account, claim_ref."""
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
        posted = pd.MultiIndex.from_frame(posted_refs[["account_id", "claim_ref"]].astype(str))
        mine = pd.MultiIndex.from_arrays([rows["account"].astype(str),
                                          rows["claim_ref"].astype(str)])
        again = pd.Series(mine.isin(posted), index=rows.index) & rows["claim_ref"].notna()
        found.append(issues_where(again, "claim_ref", Reason.DUPLICATE_CLAIM_REF,
                                  values=rows["claim_ref"]))
    return concat_issues(found)


def _line_issues(lines: pd.DataFrame, hit: pd.Series, code: Reason, message: pd.Series
                 ) -> pd.DataFrame:
    hit = hit.to_numpy(dtype=bool)
    frame = pd.DataFrame({"row": lines["row"].to_numpy()[hit], "column": "serial_number",
                          "code": str(code), "message": message.to_numpy()[hit],
                          "value": lines["serial_number"].to_numpy()[hit]})
    return frame.drop_duplicates(["row", "code", "value"])

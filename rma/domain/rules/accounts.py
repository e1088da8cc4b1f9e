"""Steps 2 and 3 of the decision: which account files each row, and may it file at all."""

from __future__ import annotations

import pandas as pd

from rma.domain.vocabulary.issues import concat_issues, issues_where
from rma.domain.vocabulary.levels import LEVELS, level_rank
from rma.domain.vocabulary.reasons import Reason


def filing_account(rows: pd.DataFrame, origin: str | None, registry: pd.DataFrame
                   ) -> tuple[pd.Series, pd.DataFrame]:
    """The account of each row and the issues of steps 2 (and the origin rule of §3).

    With an origin (drop folder, sender, --account) every row is the origin's; an
    ``account_id`` cell that names another account is ``ACCOUNT_MISMATCH``. Without one
    (a file ingested by hand) each row's ``account_id`` cell names it.
    """
    by_fold = dict(zip(registry["account_id"].str.casefold(), registry["account_id"],
                       strict=True))
    cells = rows["account_id"]
    if origin is not None:
        account = pd.Series(origin, index=rows.index, dtype=object)
        other = cells.notna() & (cells.astype(str).str.casefold() != origin.casefold())
        found = [issues_where(other, "account_id", Reason.ACCOUNT_MISMATCH,
                              f"The account ID does not match the account that sent this "
                              f"file ({origin}).", cells)]
        column = ""
    else:
        account = cells.astype("string").str.casefold().map(by_fold)
        account = account.astype(object).where(account.notna(), cells)
        found = [issues_where(cells.isna(), "account_id", Reason.MISSING_FIELD,
                              "Account ID is required for a file that is not in an account "
                              "folder.")]
        column = "account_id"
    known = account.astype("string").str.casefold().isin(list(by_fold))
    found.append(issues_where(account.notna() & ~known, column, Reason.UNKNOWN_ACCOUNT,
                              values=account))
    active = account.map(dict(zip(registry["account_id"], registry["active"], strict=True)))
    found.append(issues_where(known & (active != True), column,  # noqa: E712
                              Reason.ACCOUNT_INACTIVE, values=account))
    return account.astype(object), concat_issues(found)


def account_usable(account: pd.Series, registry: pd.DataFrame) -> pd.Series:
    """True where the account is registered and active."""
    active = registry.loc[registry["active"].astype(bool), "account_id"]
    return account.isin(set(active))


def may_file_without_code(account: pd.Series, registry: pd.DataFrame, threshold: str
                          ) -> pd.Series:
    """Step 3: distributors always; installers at or above the threshold level."""
    info = registry.set_index("account_id")
    kind = account.map(info["kind"])
    level = account.map(info["partner_level"]).astype(object)
    level = level.where(level.notna(), "none")
    rank = level.map({name: level_rank(name) for name in LEVELS}).fillna(0)
    return (kind == "distributor") | ((kind == "installer") & (rank >= level_rank(threshold)))

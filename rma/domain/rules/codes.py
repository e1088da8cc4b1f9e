"""Step 4 of the decision: RMA codes — validity, ownership, coverage and the lock-out.

Works on one row per claim that gives a code (``claims``: claim_key, first_row, account,
code_key), ordered by first sheet row, because lock-out attempts count in row order.

The lock-out (SPEC §4): ``lockout_attempts`` CODE_INVALID attempts within the window lock
the account, and it stays locked (``locked``, stored by the caller) however old the
attempts, until Customer Service unlocks it. The window only decides what counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

from rma.domain.vocabulary.reasons import Reason

_CODE_JUNK = re.compile(r"[\s\-]+")


def code_keys(cells: pd.Series) -> pd.Series:
    """Codes match ignoring case, spaces and dashes: ``k7qx p3mz`` is ``K7QX-P3MZ``."""
    text = cells.astype("string").str.replace(_CODE_JUNK, "", regex=True).str.upper()
    return text.astype(object).where(text.notna() & (text != ""), None)


def code_outcomes(claims: pd.DataFrame, codes: pd.DataFrame, prior_invalid: dict[str, int],
                  lockout_attempts: int, now: dt.datetime,
                  locked: Collection[str] = frozenset()) -> pd.DataFrame:
    """One outcome per claim: ``outcome`` is a code reason or None (the code is good),
    ``owned`` tells whether the code exists and belongs to the claim's account (then its
    Customer Service fields may fill the claim in). ``prior_invalid``: CODE_INVALID attempts
    per account in the window before this batch; ``locked``: accounts already locked out."""
    if not len(claims):  # no claim gives a code (most distributor batches): ~3 ms saved
        return claims[["claim_key", "first_row", "account", "code_key"]].assign(
            outcome=pd.Series(dtype=object), owned=pd.Series(dtype=bool),
            serial_numbers=pd.Series(dtype=object))
    return _outcomes(claims, codes, prior_invalid, lockout_attempts, now, locked)


def _outcomes(claims: pd.DataFrame, codes: pd.DataFrame, prior_invalid: dict[str, int],
              lockout_attempts: int, now: dt.datetime,
              already_locked: Collection[str] = frozenset()) -> pd.DataFrame:
    claims = claims.sort_values("first_row", kind="stable")
    info = claims.merge(codes, how="left", on="code_key", suffixes=("", "_code"))
    info.index = claims.index
    owned = info["account_id"].notna() & (
        info["account_id"].astype("string").str.casefold()
        == info["account"].astype("string").str.casefold()).fillna(False)
    invalid = ~owned.astype(bool)
    earlier = invalid.astype(int).groupby(info["account"]).cumsum() - invalid.astype(int)
    prior = info["account"].map(prior_invalid).fillna(0).astype(int)
    locked = ((prior + earlier) >= lockout_attempts) | info["account"].isin(already_locked)
    expires = pd.to_datetime(info["expires_at"], utc=True)
    # a code is used by the first claim of its own account that gives it; another
    # account's try (CODE_INVALID) uses nothing
    reused = owned & info["code_key"].where(owned).duplicated(keep="first")
    conditions = [
        locked,
        invalid,
        (expires < pd.Timestamp(now)).fillna(False),
        info["status"] == "revoked",
        (info["status"] == "redeemed") | reused,
    ]
    reasons = [Reason.CODE_LOCKED, Reason.CODE_INVALID, Reason.CODE_EXPIRED,
               Reason.CODE_REVOKED, Reason.CODE_USED]
    outcome = np.select([c.to_numpy(dtype=bool) for c in conditions],
                        [str(r) for r in reasons], default="")
    out = claims[["claim_key", "first_row", "account", "code_key"]].copy()
    out["outcome"] = pd.Series(outcome, index=claims.index).replace("", None).astype(object)
    out["owned"] = (owned & ~locked).to_numpy()
    out["serial_numbers"] = info["serial_numbers"].to_numpy()
    return out


def uncovered_serials(lines: pd.DataFrame, covered: pd.Series) -> pd.Series:
    """Per SN line (``row``, ``serial_number``, ``code_key``): True where the code names
    the SNs it covers and this SN is not among them. ``covered`` maps code_key to the
    ``;``-separated list (blank = any SN of the account)."""
    if not len(lines):  # no SN line redeems a code
        return pd.Series(False, index=lines.index, dtype=bool)
    allowed = lines["code_key"].map(covered).fillna("")
    pairs = pd.DataFrame({"code_key": covered.index, "sns": covered.fillna("").to_numpy()})
    pairs = pairs.assign(serial_number=pairs["sns"].str.upper().str.split(r"[;,\s]+"))
    pairs = pairs.explode("serial_number")
    pairs = pairs[pairs["serial_number"].notna() & (pairs["serial_number"] != "")]
    known = pd.MultiIndex.from_frame(pairs[["code_key", "serial_number"]])
    here = pd.MultiIndex.from_frame(lines[["code_key", "serial_number"]])
    return pd.Series((allowed != "").to_numpy() & ~here.isin(known), index=lines.index)


def reaching_lockout(attempts: pd.DataFrame, prior_invalid: dict[str, int],
                     locked: Collection[str], lockout_attempts: int) -> list[str]:
    """The accounts this batch locks out: not locked yet, and with ``lockout_attempts``
    CODE_INVALID attempts counting the window before the batch and the batch's own
    (``attempts``: account_id, outcome, as ``Decision.attempts``)."""
    invalid = attempts.loc[attempts["outcome"] == Reason.CODE_INVALID, "account_id"]
    tried = invalid.value_counts()
    total = {account: prior_invalid.get(account, 0) + int(tried.get(account, 0))
             for account in set(attempts["account_id"])}
    return sorted(a for a, n in total.items() if n >= lockout_attempts and a not in locked)


def guessing_report(attempts: pd.DataFrame, source: str,
                    newly_locked: Iterable[str] = ()) -> list[str]:
    """Security log lines for a batch's failed code attempts (``account_id``, ``outcome``):
    how many invalid codes each account tried, and which accounts are locked out."""
    lines = [f"account {account} reached the limit of invalid RMA code attempts in {source} "
             f"and is locked out of RMA codes until `rma codes unlock {account}`"
             for account in newly_locked]
    for account, outcome in attempts.groupby("account_id", sort=True)["outcome"]:
        invalid = int((outcome == Reason.CODE_INVALID).sum())
        locked = int((outcome == Reason.CODE_LOCKED).sum())
        if invalid:
            lines.append(f"account {account}: {invalid} invalid RMA code attempt(s) in {source}")
        if locked:
            lines.append(f"account {account} is locked out of RMA codes: {locked} claim(s) in "
                         f"{source} refused; `rma codes unlock {account}` lifts it")
    return lines

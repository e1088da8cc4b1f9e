"""The decision of SPEC §4 over one batch, as a pure function of its rows and reference data.

Steps 2–7 run over whole columns, a function each, in that order (``decide``); step 1
(format) is passed in. A claim with any error is rejected whole with all its errors listed;
every other claim is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rma.domain.rules.accounts import account_usable, filing_account, may_file_without_code
from rma.domain.rules.claims import (
    claim_keys,
    claim_ref_key,
    claim_ref_keys,
    first_row_of_claim,
    merged_spellings,
    serial_lines,
)
from rma.domain.rules.codes import code_keys, code_outcomes, uncovered_serials
from rma.domain.rules.duplicates import duplicate_issues
from rma.domain.rules.normalise import normalise
from rma.domain.rules.policy import Policy
from rma.domain.rules.prefill import prefill
from rma.domain.rules.records import claim_records, claim_view
from rma.domain.vocabulary.columns import CANONICAL, PREFILL_FIELDS
from rma.domain.vocabulary.issues import concat_issues, empty_issues, issues_where, rows_with_errors
from rma.domain.vocabulary.reasons import Reason, Terms
from schemas.claims import resolved_claims_schema
from schemas.failures import validate


@dataclass
class Lookups:
    """What the decision needs to know from the database, asked for once per batch."""

    account_ids: list[str]
    code_keys: list[str]
    serial_numbers: list[str]
    claim_ref_keys: list[str]  # claim_ref_key of each ref: the database compares those


@dataclass
class Reference:
    accounts: pd.DataFrame  # account_id, kind, partner_level, active
    codes: pd.DataFrame  # code_key, account_id, serial_numbers, expires_at, status, + prefill
    open_serials: pd.DataFrame  # serial_number, claim_id
    posted_refs: pd.DataFrame  # account_id, claim_ref (as posted), claim_id
    invalid_attempts: dict[str, int] = field(default_factory=dict)
    code_locked: frozenset[str] = frozenset()  # accounts locked out of RMA codes


@dataclass
class Decision:
    rows: pd.DataFrame  # resolved rows + account, claim_key, claim_ref_key, first_row, code_key
    issues: pd.DataFrame  # errors and warnings, sorted by row
    accepted: pd.DataFrame  # one row per accepted claim, in sheet order
    lines: pd.DataFrame  # SN lines of accepted claims: claim_key, row, serial_number
    rejected_rows: list[int]
    claims_rejected: int
    attempts: pd.DataFrame  # account_id, code_key, outcome (code tries to log)

    @property
    def claims_accepted(self) -> int:
        return len(self.accepted)


def lookups(rows: pd.DataFrame, origin: str | None) -> Lookups:
    cells = rows["account_id"].dropna().astype(str)
    ids = {origin} if origin else set(cells) | set(cells.str.upper())
    return Lookups(
        account_ids=sorted(ids),
        code_keys=sorted(set(code_keys(rows["rma_code"]).dropna())),
        serial_numbers=sorted(set(serial_lines(rows["serial_number"])["serial_number"])),
        claim_ref_keys=sorted({claim_ref_key(ref) for ref in
                               set(rows["claim_ref"].dropna().astype(str))} - {""}),
    )


def decide(rows: pd.DataFrame, format_issues: pd.DataFrame, origin: str | None,
           ref: Reference, policy: Policy) -> Decision:
    """Steps 2–7 of SPEC §4 for normalised ``rows`` indexed by sheet row, a named step each,
    in that order; every step adds its issues, and a claim with any error is rejected whole
    (``_decision``)."""
    account, account_issues = filing_account(rows, origin, ref.accounts)  # step 2
    claims, grouping_issues = _claims_of(rows, account, ref.accounts)
    found = [format_issues, account_issues, *grouping_issues,
             _eligibility(claims, ref.accounts, policy.terms)]
    outcomes, code_issues = _code_checks(rows, claims, ref, policy)
    found.extend(code_issues)
    owned = claims.keys.map(outcomes.set_index("claim_key")["owned"]).eq(True)
    prefill_code = claims.code.where(owned, None)  # only a code of the claim's own account
    resolved, prefill_warnings = _prefilled(rows, ref.codes, prefill_code)
    found.append(prefill_warnings)
    found.append(_completeness(resolved, claims.keys))
    lines = _claim_lines(resolved, claims.keys, prefill_code)
    found.append(_code_coverage(lines, ref.codes))
    resolved = resolved.assign(account=account, claim_key=claims.keys,
                               claim_ref_key=claims.ref_keys, first_row=claims.first_row,
                               code_key=prefill_code,
                               assessment=_assessments(ref.codes, prefill_code))
    found.append(duplicate_issues(lines, resolved, ref.open_serials, ref.posted_refs))  # step 7
    return _decision(resolved, found, claims.keys, lines, outcomes)


@dataclass(frozen=True)
class _Claims:
    """Per sheet row: who files it, which claim it belongs to and that claim's RMA code."""

    account: pd.Series  # the filing account (step 2)
    usable: pd.Series  # the filing account is registered and active
    ref_keys: pd.Series  # claim_ref_key of the row's claim_ref
    keys: pd.Series  # claim_key: the rows of one claim share it
    first_row: pd.Series  # the claim's first sheet row
    code: pd.Series  # the claim's code key (from its rows, the first one given), or None


def _claims_of(rows: pd.DataFrame, account: pd.Series, accounts: pd.DataFrame
               ) -> tuple[_Claims, list[pd.DataFrame]]:
    """The rows grouped into claims (an account's rows with one claim_ref are one claim);
    the issues of a claim whose rows spell its ref differently or give different codes."""
    ref_keys = claim_ref_keys(rows["claim_ref"])
    keys = claim_keys(account, ref_keys)
    own_code = code_keys(rows["rma_code"])
    claim_code = own_code.groupby(keys).transform("first")
    claims = _Claims(account=account, usable=account_usable(account, accounts),
                     ref_keys=ref_keys, keys=keys, first_row=first_row_of_claim(keys),
                     code=claim_code)
    two_codes = issues_where(
        own_code.notna() & (own_code != claim_code), "rma_code", Reason.CODE_INVALID,
        "A claim can carry only one RMA code; another row of this claim gives a different "
        "one.", rows["rma_code"])
    return claims, [merged_spellings(rows["claim_ref"], keys), two_codes]


def _eligibility(claims: _Claims, accounts: pd.DataFrame, terms: Terms) -> pd.DataFrame:
    """Step 3: an installer below the threshold files only with a code (CODE_REQUIRED)."""
    eligible = may_file_without_code(claims.account, accounts, terms.threshold)
    return issues_where(claims.usable & ~eligible & claims.code.isna(), "rma_code",
                        Reason.CODE_REQUIRED, terms.message(Reason.CODE_REQUIRED))


def _code_checks(rows: pd.DataFrame, claims: _Claims, ref: Reference, policy: Policy
                 ) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Step 4 for every claim of a usable account that gives a code: the outcome per claim
    (``code_outcomes``: the lock-out counts in row order) and an issue on every row of a
    claim whose code is refused. Whether the code covers the claim's SNs is checked on the
    resolved claim (``_code_coverage``)."""
    per_claim = pd.DataFrame({"claim_key": claims.keys, "first_row": claims.first_row,
                              "account": claims.account, "code_key": claims.code,
                              "usable": claims.usable})
    per_claim = per_claim[per_claim["code_key"].notna() & per_claim["usable"]]
    per_claim = per_claim.drop_duplicates("claim_key")
    terms = policy.terms
    outcomes = code_outcomes(per_claim, ref.codes, ref.invalid_attempts,
                             terms.lockout_attempts, policy.now, ref.code_locked)
    row_outcome = claims.keys.map(outcomes.set_index("claim_key")["outcome"])
    shown = rows["rma_code"].where(rows["rma_code"].notna(), claims.code)
    issues = [issues_where(row_outcome == reason, "rma_code", Reason(reason),
                           terms.message(Reason(reason)), values=shown)
              for reason in sorted(set(outcomes["outcome"].dropna()))]
    return outcomes, issues


def _prefilled(rows: pd.DataFrame, codes: pd.DataFrame, prefill_code: pd.Series
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 5: the rows with their code's Customer Service fields filled in, and the
    PREFILL_CONFLICT warnings."""
    if prefill_code.notna().any():
        registered = _registered_fields(codes).reindex(prefill_code.to_numpy())
        registered.index = rows.index
    else:  # no row redeems a code: nothing to fill in, no frame of blanks
        registered = pd.DataFrame(index=rows.index)
    return prefill(rows, registered)


def _registered_fields(codes: pd.DataFrame) -> pd.DataFrame:
    """CS fields per code_key, normalised exactly like submitted rows."""
    frame = pd.DataFrame(index=pd.Index(codes["code_key"], name="code_key"))
    if not len(frame):  # most batches use no code: nothing to normalise
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PREFILL_FIELDS},
                            index=frame.index)
    for column in CANONICAL:
        values = codes[column].to_numpy() if column in PREFILL_FIELDS else None
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
    normalised, _ = normalise(frame)
    return normalised[list(PREFILL_FIELDS)]


def _completeness(resolved: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Step 6: the resolved claim has every required field (MISSING_FIELD)."""
    return validate(resolved_claims_schema(), claim_view(resolved, keys))


def _claim_lines(resolved: pd.DataFrame, keys: pd.Series, prefill_code: pd.Series
                 ) -> pd.DataFrame:
    """The SN lines of the resolved rows (row, serial_number) with their claim and code."""
    lines = serial_lines(resolved["serial_number"])
    lines["claim_key"] = lines["row"].map(keys)
    lines["code_key"] = lines["row"].map(prefill_code)
    return lines


def _code_coverage(lines: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    """Step 4's last check, made on the resolved claim's SN lines (the ones step 7 checks
    too): an SN that the claim's code does not cover is CODE_SN_MISMATCH."""
    coded = lines[lines["code_key"].notna()]
    outside = uncovered_serials(coded, codes.set_index("code_key")["serial_numbers"])
    return _line_issue(coded[outside.to_numpy()], Reason.CODE_SN_MISMATCH)


def _decision(resolved: pd.DataFrame, found: list[pd.DataFrame], keys: pd.Series,
              lines: pd.DataFrame, outcomes: pd.DataFrame) -> Decision:
    """Every issue once, by row; a claim with an error on any of its rows is rejected whole,
    every other claim is accepted; the code attempts that count towards the lock-out."""
    issues = concat_issues(found).drop_duplicates(["row", "column", "code"])
    issues = issues.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    rejected_keys = set(keys[keys.index.isin(rows_with_errors(issues))])
    rejected = keys.isin(rejected_keys)
    accepted_rows = resolved[~rejected.to_numpy()]
    return Decision(
        rows=resolved,
        issues=issues,
        accepted=claim_records(accepted_rows),
        lines=lines[lines["claim_key"].isin(set(accepted_rows["claim_key"]))],
        rejected_rows=[int(r) for r in keys.index[rejected.to_numpy()]],
        claims_rejected=len(rejected_keys),
        attempts=outcomes.loc[outcomes["outcome"].isin(
            [Reason.CODE_INVALID, Reason.CODE_LOCKED]),
            ["account", "code_key", "outcome"]].rename(columns={"account": "account_id"}),
    )


def _line_issue(lines: pd.DataFrame, code: Reason) -> pd.DataFrame:
    if not len(lines):
        return empty_issues()
    return pd.DataFrame({"row": lines["row"].to_numpy(), "column": "serial_number",
                         "code": str(code),
                         "message": "The RMA code does not cover the serial number "
                         + lines["serial_number"].astype(str).to_numpy() + ".",
                         "value": lines["serial_number"].to_numpy()})


def _assessments(codes: pd.DataFrame, code_of_row: pd.Series) -> pd.Series:
    """Customer Service's own assessment travels with the claim that redeems the code."""
    if "assessment" not in codes.columns:
        return pd.Series(None, index=code_of_row.index, dtype=object)
    return code_of_row.map(codes.set_index("code_key")["assessment"]).astype(object)


__all__ = ["Decision", "Lookups", "Policy", "Reference", "decide", "lookups"]

"""Turn a decision into database rows and post them through the repository (one batch)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rma.adapters.db.checks import insert_check
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.db.tables import CLAIM_DATA_COLUMNS
from rma.domain.rules.decide import Decision
from rma.domain.vocabulary.reasons import WARNINGS
from rma.domain.vocabulary.sheet import SheetData


def claim_rows(decision: Decision, claim_ids: list[str], batch_id: str, now: dt.datetime
               ) -> pd.DataFrame:
    accepted = decision.accepted
    data = {
        "claim_id": claim_ids,
        "batch_id": batch_id,
        "account_id": accepted["account"].to_numpy(),
        "claim_ref": accepted["claim_ref"].to_numpy(),
        "status": "submitted",
        "submitted_at": now,
        "rma_code": accepted["code_key"].to_numpy(),
        "first_row": accepted["first_row"].astype(int).to_numpy(),
    }
    data.update((column, accepted[column].to_numpy()) for column in CLAIM_DATA_COLUMNS)
    return pd.DataFrame(data, copy=False)  # the decision's columns, not a copy of them


def line_rows(decision: Decision, claim_ids: list[str]) -> pd.DataFrame:
    lines = decision.lines
    position = pd.Index(decision.accepted["claim_key"]).get_indexer(lines["claim_key"])
    if (position < 0).any():
        raise ValueError("an SN line of a claim that is not accepted")  # a decision bug
    return pd.DataFrame({
        "claim_id": np.asarray(claim_ids, dtype=object)[position],
        "serial_number": lines["serial_number"].to_numpy(),
        "sheet_row": lines["row"].astype(int).to_numpy(),
        "is_open": True,
    })


def issue_rows(decision: Decision, sheet: SheetData, batch_id: str) -> pd.DataFrame:
    issues = decision.issues
    rows = decision.rows
    return pd.DataFrame({
        "batch_id": batch_id,
        "sheet": sheet.sheet,
        "row": issues["row"].astype(int).to_numpy(),
        "claim_ref": issues["row"].map(rows["claim_ref"]).to_numpy(),
        "serial_number": issues["row"].map(rows["serial_number"]).to_numpy(),
        "column": issues["column"].to_numpy(),
        "code": issues["code"].to_numpy(),
        "message": issues["message"].to_numpy(),
        "value": issues["value"].map(lambda v: None if v is None or v != v else str(v),
                                     na_action="ignore").to_numpy(),
        "severity": issues["code"].map(lambda c: "warning" if c in WARNINGS else "error")
        .to_numpy(),
    })


def post_decision(repo: ClaimsRepository, decision: Decision, claim_ids: list[str],
                  sheet: SheetData, batch_id: str, source: str, account_id: str | None,
                  sha256: str, now: dt.datetime, reports: dict[str, Path] | None = None,
                  corrects_batch_id: str | None = None) -> None:
    """Insert the batch (with where its ``reports`` are), its accepted claims and SN lines,
    redeem their codes, log code attempts and store every issue; ``corrects_batch_id``: the
    batch whose rows it corrects (the portal's corrections). The caller's transaction makes
    it all-or-nothing."""
    repo.insert_batch({
        "batch_id": batch_id, "sha256": sha256, "source": source, "account_id": account_id,
        "sheet": sheet.sheet, "file_format": sheet.file_format, "received_at": now,
        "claims_accepted": decision.claims_accepted,
        "claims_rejected": decision.claims_rejected, "status": "posted",
        "reports": _report_paths(reports), "corrects_batch_id": corrects_batch_id,
    })
    # Frames go to the repository as they are: it converts them column by column.
    claims = claim_rows(decision, claim_ids, batch_id, now)
    repo.insert_claims(claims)
    repo.insert_claim_lines(line_rows(decision, claim_ids))
    coded = claims[claims["rma_code"].notna()]
    if len(coded):
        repo.redeem_codes(list(zip(coded["rma_code"], coded["claim_id"], strict=True)), now)
    log_attempts(repo, decision, now)
    repo.insert_issues(issue_rows(decision, sheet, batch_id))


def record_check(repo: ClaimsRepository, decision: Decision, document: dict[str, Any],
                 sha256: str, now: dt.datetime, kept_as: Path | None = None) -> None:
    """Record a checked batch (its batch object ``document``) and log its code attempts:
    no claim, no SN line, no redemption. In the caller's transaction, as a posting."""
    insert_check(repo.conn, document, sha256, now, str(kept_as) if kept_as else None)
    log_attempts(repo, decision, now)


def log_attempts(repo: ClaimsRepository, decision: Decision, now: dt.datetime) -> None:
    """Every code a batch gave, with its outcome: CODE_INVALID ones count towards the
    lock-out (``ClaimsRepository.invalid_attempts``)."""
    if len(decision.attempts):
        repo.insert_attempts(decision.attempts.assign(attempted_at=now))


def _report_paths(reports: dict[str, Path] | None) -> str | None:
    """The reports' absolute paths as stored with the batch (JSON), None for none."""
    if not reports:
        return None
    return json.dumps({kind: str(Path(path).resolve()) for kind, path in reports.items()})

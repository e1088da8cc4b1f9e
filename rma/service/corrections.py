"""Rejected rows corrected on the review page (SPEC §9): re-checked in place, submitted as a
new batch linked to the one they correct.

What is corrected: the rejected rows of a checked upload still kept (its rows as sent are at
hand), as the review form sends them back (``cell_field`` names). A row is *edited* when one
of its cells differs from the file; what is re-checked and submitted is every edited row and
every other row of the same claims (a claim spanning rows is decided whole), in the order of
the file. Rows of one claim are found by the pipeline's own claim reference keys
(``claim_ref_keys``): there is no second copy of a rule here.

Those rows are written as a file (``rma.adapters.reports.corrected``) and read back by the
pipeline's reader, exactly as an upload is, so a re-check decides what a submit would post:

- re-check: the rows read back get the numbers of the rows they correct and are decided by
  ``recheck_sheet`` (SPEC §4 in full against the database as it is, code attempts counted);
  no report, nothing posted, no batch recorded;
- submit: the file is kept in ``uploads/`` and posted by one ``ingest-upload`` flow run
  (the caller runs it) as a batch recording ``corrects_batch_id``; it moves to the archive
  once committed. The same correction again is the same content: ``DUPLICATE_BATCH``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rma.adapters.readers import read_bytes
from rma.adapters.reports import issue_table
from rma.adapters.reports.corrected import corrected_csv
from rma.adapters.reports.escape import as_text
from rma.config import Settings
from rma.domain.rules.claims import claim_ref_keys
from rma.domain.vocabulary.reasons import is_warning
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError
from rma.service.batch import recheck_sheet
from rma.service.origin import Origin
from rma.service.portal import Review, batch_review, review_row
from rma.service.uploads import API_SOURCE, keep_upload, upload_name

NOTHING_CORRECTED = ("No cell was changed: correct a rejected row's cells first, then "
                     "re-check or submit them.")


@dataclass(frozen=True)
class Corrected:
    """The rows to re-check or submit: their file, and the rows of the batch they correct."""

    review: Review  # the batch corrected, its rows as sent
    rows: list[int]  # the rows of the batch corrected, in the file's order
    edited: list[int]
    data: bytes  # the file (``corrected_csv``)
    name: str  # what it is kept and posted as


def _typed(value: str) -> str:
    """A cell as the form sends it: a textarea's line breaks are CR LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _values(review: Review, form: Mapping[str, str]) -> tuple[dict[int, list[str]], list[int]]:
    """Per editable row its values as sent back (the file's where the form has none) and
    the rows whose values changed."""
    values: dict[int, list[str]] = {}
    edited = []
    for row in review.editable:
        assert row.row is not None
        given = [_typed(form[cell.field]) if cell.field in form else cell.value
                 for cell in row.cells]
        values[row.row] = given
        if given != [cell.value for cell in row.cells]:
            edited.append(row.row)
    return values, edited


def _claims_rows(sheet: SheetData, edited: list[int], values: dict[int, list[str]]) -> list[int]:
    """The edited rows and every row of their claims (by the claim reference as sent or as
    corrected), in the file's order."""
    refs = sheet.canonical()["claim_ref"]
    header = sheet.header_of("claim_ref")
    keys = claim_ref_keys(refs.map(lambda v: as_text(v) or None))
    wanted = set(keys[keys.index.isin(edited)].dropna())
    if header:
        position = list(sheet.sent.columns).index(header)
        corrected = pd.Series([values[row][position] or None for row in edited], index=edited,
                              dtype=object)
        wanted |= set(claim_ref_keys(corrected).dropna())
    numbers: list[int] = [int(row) for row in keys.index.to_numpy()]
    return [row for row, key in zip(numbers, keys.to_numpy(), strict=True)
            if row in edited or key in wanted]


def corrections(engine: sa.Engine, settings: Settings, batch_id: str, account_id: str,
                form: Mapping[str, str]) -> tuple[Review, Corrected | None] | None:
    """The account's batch and the rows its review form sends back as corrected (None: none
    edited); None when the account has no such batch whose rows can be corrected."""
    review = batch_review(engine, settings, batch_id, account_id)
    if review is None or not review.correctable or review.sheet is None:
        return None
    values, edited = _values(review, form)
    if not edited:
        return review, None
    sheet = review.sheet
    rows = _claims_rows(sheet, edited, values)
    headers = [str(h) for h in sheet.sent.columns]
    lines = [(row, values[row] if row in values else
              [as_text(v) for v in sheet.sent.loc[row].to_numpy()]) for row in rows]
    stem = Path(upload_name(str(review.document["source"]).partition(":")[2])).stem
    return review, Corrected(review, rows, edited, corrected_csv(headers, lines),
                             upload_name(f"{stem}.corrects-{batch_id}.csv"))


def _read_back(corrected: Corrected, settings: Settings) -> SheetData:
    """The file as the pipeline reads it, its rows numbered as the rows they correct."""
    sheet = read_bytes(corrected.data, corrected.name, settings.limits)
    header_row = sheet.header_row
    number = {header_row + 1 + i: row for i, row in enumerate(corrected.rows)}
    sent = sheet.sent.rename(index=number)
    assert corrected.review.sheet is not None
    return replace(sheet, sent=sent, sheet=corrected.review.sheet.sheet)


def recheck(corrected: Corrected, engine: sa.Engine, settings: Settings,
            now: dt.datetime | None = None) -> Review:
    """The review with each corrected row's new verdict (its cells as corrected, marked by
    the re-check's messages); nothing is posted. A file the reader refuses (a cell too long)
    comes back as the review's correction message."""
    review = corrected.review
    try:
        sheet = _read_back(corrected, settings)
    except BatchError as exc:
        return replace(review, correction_messages=[exc.message])
    account = review.document["account_id"]
    origin = Origin(account, f"{API_SOURCE}:{corrected.name}", review.document["batch_id"])
    decision, report = recheck_sheet(sheet, origin, engine, settings, now)
    issues: dict[int, list[dict[str, Any]]] = {}
    for line in issue_table(report):
        if not is_warning(line["code"]) and line.get("row") in sheet.sent.index:
            issues.setdefault(int(line["row"]), []).append(line)
    rejected = {int(r) for r in decision.rejected_rows}
    headers = review.headers
    verdicts = {row: review_row(row, issues.get(row, []), sheet, headers,
                                "rejected" if row in rejected else "accepted")
                for row in corrected.rows}
    rows = [verdicts.pop(row.row) if row.row in verdicts else row for row in review.rows]
    return replace(review, rows=rows + list(verdicts.values()))


def keep_corrected(corrected: Corrected, account_id: str, settings: Settings) -> Path:
    """Keep the corrected rows' file in ``uploads/`` to be posted (``ingest-upload``)."""
    return keep_upload(corrected.data, corrected.name, account_id, settings)

"""The service layer: one batch from a file to posted claims and a rejection report.

Read, normalise and check the format outside any transaction; then, inside one posting
transaction (serialised against every other posting), look up what the decision needs,
decide, write the reports and post. Nothing is posted unless the whole batch commits.

A check (``check=True``: ``rma ingest --check``, the API's ``check=true``, SPEC §9) is the same
unit of work up to the posting: the whole decision against the database as it is, and the
reports; then instead of posting it records the checked batch (``rma.adapters.db.checks``)
and its code attempts. It allocates no claim id, redeems no code and leaves the content free
to be posted (no ``DUPLICATE_BATCH`` for it later), while its ``CODE_INVALID`` attempts count
towards the lock-out like any other (a check must not be a free code oracle).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from rma.adapters.db.engine import posting_transaction
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.mail.wording import review_link
from rma.adapters.readers import read_batch, read_bytes, unreadable
from rma.adapters.readers.messages import display_name
from rma.adapters.readers.source import FileState, sha256_regular
from rma.adapters.reports import (
    ReportInput,
    report_stem,
)
from rma.config import Limits, Settings
from rma.domain.rules.codes import guessing_report, reaching_lockout
from rma.domain.rules.decide import Decision, Reference, decide, lookups
from rma.domain.rules.formatcheck import check_rows, format_issues
from rma.domain.vocabulary.issues import concat_issues
from rma.domain.vocabulary.results import BatchResult
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError
from rma.service.origin import Origin
from rma.service.outcome import (
    batch_result,
    duplicate_result,
    report_input,
    write_batch_reports,
)
from rma.service.posting import log_attempts, post_decision, record_check

#: code guessing and lock-outs (SPEC §4); Prefect picks it up as an extra logger
security_log = logging.getLogger("rma.security")

#: a check's reports go to ``<reports>/checks/<batch_id>/``: the content's own report names
#: stay the posting's, and two checks of one content do not overwrite each other's
CHECKS_FOLDER = "checks"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a regular file (never read through a link, never a pipe: OSError)."""
    sha, _ = sha256_regular(path)
    assert sha is not None
    return sha


def new_batch_id() -> str:
    return "B-" + secrets.token_hex(10)


def check_format(sheet: SheetData, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 1: normalised rows and every format issue and warning of every row. (Large
    files do the same in chunks: ``rma.adapters.readers.csv``, ``flows/chunked.py``.)"""
    checked = check_rows(sheet.canonical(), today)
    return checked.rows, format_issues([checked], sheet)


def screen_file(path: Path, origin: Origin, engine: sa.Engine, limits: Limits | None = None,
                listed: FileState | None = None) -> BatchResult | None:
    """Before reading: a file that cannot be opened as a regular file (failed) or whose
    content was already posted (duplicate); None when the file is to be read and decided
    (also when it is too large to hash: reading it says so). ``listed``: see ``read_batch``."""
    try:
        sha, _ = sha256_regular(path, listed, limits.file_bytes if limits else None)
    except OSError as exc:
        error = unreadable(display_name(path), exc)
        return BatchResult.failed(origin.source, error.code, error.message, origin.account_id)
    return None if sha is None else _already_posted(sha, origin, engine)


def _already_posted(sha: str, origin: Origin, engine: sa.Engine) -> BatchResult | None:
    """The duplicate result of content posted before, else None."""
    with engine.connect() as conn:
        first = ClaimsRepository(conn).find_batch_by_sha(sha)
    return None if first is None else duplicate_result(origin.source, origin.account_id, first)


def ingest_file(path: Path, origin: Origin, engine: sa.Engine, settings: Settings,
                reports_dir: Path, now: dt.datetime | None = None,
                listed: FileState | None = None, *, check: bool = False) -> BatchResult:
    """Process one claim file as one batch (``check``: see the module docstring). Batch
    errors come back as a failed result; database faults raise (the caller's retry policy
    decides). A drop-folder file comes with its ``listed`` state: only that very file,
    unchanged, is read."""
    now = now or dt.datetime.now(dt.UTC)
    early = screen_file(path, origin, engine, settings.limits, listed)
    if early is not None:
        return early
    try:
        sheet = read_batch(path, settings.limits, listed)
    except BatchError as exc:
        return BatchResult.failed(origin.source, exc.code, exc.message, origin.account_id)
    return ingest_sheet(sheet, origin, engine, settings, reports_dir, now, check=check)


def ingest_payload(data: bytes, name: str, origin: Origin, engine: sa.Engine,
                   settings: Settings, reports_dir: Path, now: dt.datetime | None = None,
                   *, check: bool = False, kept_as: Path | None = None) -> BatchResult:
    """Process one claim file given as its bytes and its name (a mail attachment, an upload)
    as one batch, as ``ingest_file`` does a file on disk: nothing is written to read it.
    Content posted before is a duplicate (unless it is too large to be read at all).
    ``kept_as``: where a checked upload is kept, recorded with the check."""
    now = now or dt.datetime.now(dt.UTC)
    if len(data) <= settings.limits.file_bytes:
        early = _already_posted(hashlib.sha256(data).hexdigest(), origin, engine)
        if early is not None:
            return early
    try:
        sheet = read_bytes(data, name, settings.limits)
    except BatchError as exc:
        return BatchResult.failed(origin.source, exc.code, exc.message, origin.account_id)
    return ingest_sheet(sheet, origin, engine, settings, reports_dir, now, check=check,
                        kept_as=kept_as)


def ingest_sheet(sheet: SheetData, origin: Origin, engine: sa.Engine, settings: Settings,
                 reports_dir: Path, now: dt.datetime | None = None,
                 extra_issues: pd.DataFrame | None = None, *, check: bool = False,
                 kept_as: Path | None = None) -> BatchResult:
    """Decide and post one batch already read (a file's sheet or an e-mailed form).
    ``extra_issues`` are warnings found while reading it (e.g. ignored attachments)."""
    now = now or dt.datetime.now(dt.UTC)
    rows, issues = check_format(sheet, now.date())
    if extra_issues is not None:
        issues = concat_issues([issues, extra_issues])
    return post_checked(sheet, rows, issues, origin, engine, settings, reports_dir, now,
                        check=check, kept_as=kept_as)


def post_checked(sheet: SheetData, rows: pd.DataFrame, format_issues: pd.DataFrame,
                 origin: Origin, engine: sa.Engine, settings: Settings, reports_dir: Path,
                 now: dt.datetime, *, check: bool = False, kept_as: Path | None = None
                 ) -> BatchResult:
    """Steps 2–7, the reports and the posting of a batch whose format is checked: one
    transaction. Database faults raise; a retry runs this again from the checked rows.
    With ``check`` the batch is recorded as checked instead of posted (module docstring)."""
    source, sha = origin.source, sheet.sha256
    policy = settings.policy(now)
    with posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)
        first = repo.find_batch_by_sha(sha)  # another run may have posted it meanwhile
        if first is not None:
            return duplicate_result(source, origin.account_id, first)
        decision, newly_locked = _decided(repo, rows, format_issues, origin, settings, now)
        batch_id = new_batch_id()
        claim_ids = [] if check else repo.allocate_claim_ids(now.year, decision.claims_accepted)
        report = report_input(sheet, decision, claim_ids, batch_id, origin.account_id,
                               policy.terms, check,
                               review_link(settings.portal.url, batch_id) or "")
        folder = reports_dir / CHECKS_FOLDER / batch_id if check else reports_dir
        reports = write_batch_reports(report, folder, report_stem(sheet.source.stem, sha)) \
            if len(decision.issues) else {}
        result = batch_result(source, origin, batch_id, decision, claim_ids, report, reports,
                         "checked" if check else "posted")
        if check:
            record_check(repo, decision, result.to_json(), sha, now, kept_as)
        else:
            post_decision(repo, decision, claim_ids, sheet, batch_id, source,
                          origin.account_id, sha, now, reports, origin.corrects_batch_id)
    for line in guessing_report(decision.attempts, source, newly_locked):
        security_log.warning(line)
    return result


def _decided(repo: ClaimsRepository, rows: pd.DataFrame, format_issues: pd.DataFrame,
             origin: Origin, settings: Settings, now: dt.datetime
             ) -> tuple[Decision, list[str]]:
    """Steps 2–7 in the caller's posting transaction, and the lock-outs the decision's code
    attempts reach (set in that transaction: no batch can be decided between the attempts
    that reach the limit and the lock they set); the decision and the accounts locked now."""
    ref = _reference(repo, rows, origin.account_id, now, settings.lockout_hours)
    decision = decide(rows, format_issues, origin.account_id, ref, settings.policy(now))
    newly_locked = reaching_lockout(decision.attempts, ref.invalid_attempts,
                                    ref.code_locked, settings.lockout_attempts)
    repo.lock_codes(newly_locked, now)
    return decision, newly_locked


def recheck_sheet(sheet: SheetData, origin: Origin, engine: sa.Engine, settings: Settings,
                  now: dt.datetime | None = None) -> tuple[Decision, ReportInput]:
    """Decide rows corrected in the portal (SPEC §9 "re-check"): steps 1–7 in full against the
    database as it is, as a check decides them, with its code attempts logged (they count
    towards the lock-out: a re-check is no free code oracle either); no report is written,
    nothing is posted or recorded as a batch. The decision and what its messages come from."""
    now = now or dt.datetime.now(dt.UTC)
    rows, issues = check_format(sheet, now.date())
    with posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)
        decision, newly_locked = _decided(repo, rows, issues, origin, settings, now)
        log_attempts(repo, decision, now)
    for line in guessing_report(decision.attempts, origin.source, newly_locked):
        security_log.warning(line)
    report = report_input(sheet, decision, [], "", origin.account_id,
                           settings.policy(now).terms)
    return decision, report


def _reference(repo: ClaimsRepository, rows: pd.DataFrame, origin: str | None,
               now: dt.datetime, lockout_hours: int) -> Reference:
    need = lookups(rows, origin)
    accounts = repo.accounts(need.account_ids)
    # the lock-out matters only to claims that give a code
    coded = list(accounts["account_id"]) if need.code_keys else []
    return Reference(
        accounts=accounts,
        codes=repo.codes(need.code_keys),
        open_serials=repo.open_serials(need.serial_numbers),
        posted_refs=repo.posted_claim_refs(list(accounts["account_id"]), need.claim_ref_keys),
        invalid_attempts=repo.invalid_attempts(coded, now - dt.timedelta(hours=lockout_hours)),
        code_locked=repo.code_locked(coded),
    )

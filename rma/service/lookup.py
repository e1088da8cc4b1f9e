"""What an account may read back (SPEC §9): its batches (posted or checked) as the batch
object of SPEC §7, their reports, its claims. Another account's batch, report or claim is
None here, exactly as one that does not exist: the caller answers both with the same 404."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.batches import batch_details, correcting_batches, find_batch
from rma.adapters.db.checks import find_check
from rma.adapters.db.listing import claims_page
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.reports import REPORT_SUFFIXES
from rma.domain.vocabulary.results import BatchResult

#: how many batches' stored records a process keeps read (``Recent``)
RECORDS_KEPT = 8


class Recent:
    """The last ``size`` values computed by key, for records that never change once written
    (a check, a posted batch's claims and issues): a review page seen again does not parse a
    5,000-rejection document again. Only found values are kept (None is asked again: the
    record may be written later). Shared by the server's threads."""

    def __init__(self, size: int = RECORDS_KEPT) -> None:
        self.size, self._values, self._lock = size, OrderedDict[Any, Any](), threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        if value is not None:
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_checks = Recent()
_posted = Recent()


def stored_check(engine: sa.Engine, batch_id: str) -> dict[str, Any] | None:
    """A check's record (``find_check``; never changed once recorded). Callers only read it."""
    def read() -> dict[str, Any] | None:
        with engine.connect() as conn:
            return find_check(conn, batch_id)
    record: dict[str, Any] | None = _checks.get((engine.url, batch_id), read)
    return record


REJECTION_FIELDS = ("sheet", "row", "claim_ref", "serial_number", "column", "code", "message")
WARNING_FIELDS = ("row", "code", "column", "message")


def issue_lists(issues: Sequence[dict[str, Any]]
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A posted batch's stored issue rows as the batch object's rejections and warnings."""
    rejections = [{k: i[k] for k in REJECTION_FIELDS} for i in issues
                  if i["severity"] == "error"]
    warnings = [{k: i[k] for k in WARNING_FIELDS} for i in issues if i["severity"] == "warning"]
    return rejections, warnings


def posted_result(batch: dict[str, Any], claim_ids: list[str],
                  issues: Sequence[dict[str, Any]], reports: dict[str, str]) -> BatchResult:
    """A posted batch read back from the claims database."""
    rejections, warnings = issue_lists(issues)
    return BatchResult(source=batch["source"], status="posted", account_id=batch["account_id"],
                       batch_id=batch["batch_id"], claims_accepted=batch["claims_accepted"],
                       claims_rejected=batch["claims_rejected"], claim_ids=claim_ids,
                       rejections=rejections, warnings=warnings, reports=reports,
                       corrects_batch_id=batch.get("corrects_batch_id"))


def batch_document(engine: sa.Engine, batch_id: str, account_id: str) -> dict[str, Any] | None:
    """The account's batch as its batch object: a posted one from the claims database, a
    checked one as it was answered. None when there is none of the account's by that id.
    Read back, it also lists the batches that correct it (``corrected_by``, SPEC §9)."""
    document = _stored_document(engine, batch_id, account_id)
    if document is None:
        return None
    document.setdefault("corrects_batch_id", None)  # a check recorded before revision 0010
    document["corrected_by"] = correcting_batches(engine, batch_id, account_id)
    return document


def _stored_document(engine: sa.Engine, batch_id: str, account_id: str
                     ) -> dict[str, Any] | None:
    """A copy of the stored document (its top-level keys are the caller's to set)."""
    batch = find_batch(engine, batch_id)
    if batch is not None:
        if batch["account_id"] != account_id:
            return None
        # a posted batch's claims and issues are never changed: read once per process; its
        # reports are looked for at each call (they may be gone)
        posted: dict[str, Any] = _posted.get((engine.url, batch_id), lambda: posted_result(
            batch, *batch_details(engine, [batch_id])[batch_id], {}).to_json())
        return {**posted, "reports": _stored_reports(batch)}
    check = stored_check(engine, batch_id)
    if check is None or check["account_id"] != account_id:
        return None
    return dict(check["document"])


def _stored_reports(batch: dict[str, Any]) -> dict[str, str]:
    """The reports recorded with a posted batch that are still where they were written."""
    stored = json.loads(batch["reports"]) if batch.get("reports") else {}
    return {kind: path for kind, path in stored.items() if Path(path).is_file()}


def batch_report(engine: sa.Engine, batch_id: str, account_id: str, kind: str) -> Path | None:
    """The path of the account's batch's ``rejections.<kind>`` (``xlsx``, ``csv``), or None
    (no such batch of the account, no report: it had no rejection or warning)."""
    if kind not in REPORT_SUFFIXES:
        return None
    document = batch_document(engine, batch_id, account_id)
    path = (document or {}).get("reports", {}).get(kind)
    return Path(path) if path and Path(path).is_file() else None


def account_claims(engine: sa.Engine, account_id: str, serial_number: str | None = None,
                   claim_ref: str | None = None, status: str | None = None
                   ) -> list[dict[str, Any]]:
    """The account's claims as ``rma claims list --json`` gives them, optionally only those
    with this SN (any case), this claim_ref (as the account wrote it) or this status."""
    with engine.connect() as conn:
        return ClaimsRepository(conn).list_claims(
            account_id, serial_number=serial_number.strip().upper() if serial_number else None,
            claim_ref=claim_ref.strip() if claim_ref else None,
            status=status.strip() if status else None)


#: how many claims a page of the claims page lists
CLAIMS_PAGE = 50


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, its number (from 1), the page size, how many items
    the whole list has."""

    items: list[dict[str, Any]]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The number (from 1) of the page's first item; 0 for an empty list."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def paged(read: Callable[[int, int], tuple[list[dict[str, Any]], int]], number: int,
          size: int) -> Page:
    """Page ``number`` of a list read by ``read(limit, offset)`` (items, total); a number
    past the last page gives the last one, below 1 the first."""
    number = max(1, number)
    items, total = read(size, (number - 1) * size)
    last = max(1, -(-total // size))
    if number > last:
        number = last
        items, total = read(size, (number - 1) * size)
    return Page(items, number, size, total)


def account_claims_page(engine: sa.Engine, account_id: str, serial_number: str | None = None,
                        claim_ref: str | None = None, status: str | None = None,
                        number: int = 1, size: int | None = None) -> Page:
    """Page ``number`` of ``account_claims`` (the same filters, the same claims in the same
    order), ``size`` claims to a page (``CLAIMS_PAGE``)."""
    def read(limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with engine.connect() as conn:
            return claims_page(
                conn, account_id,
                serial_number=serial_number.strip().upper() if serial_number else None,
                claim_ref=claim_ref.strip() if claim_ref else None,
                status=status.strip() if status else None, limit=limit, offset=offset)
    return paged(read, number, size or CLAIMS_PAGE)

"""What the portal's pages show beyond the API's batch object (SPEC §9): the account's name,
a batch's review (its rejected rows as sent, every bad cell with its messages) and the checked
upload a "submit" posts. Another account's batch is None here, exactly as one that does not
exist (``rma.service.lookup``): the page answers both with the same 404."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db import identity as store
from rma.adapters.db.batches import find_batch
from rma.adapters.db.listing import batches_page
from rma.adapters.readers import read_bytes
from rma.adapters.reports.escape import as_text
from rma.config import Limits, Settings
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError
from rma.service.lookup import Page, Recent, batch_document, paged, stored_check
from rma.service.uploads import upload_name


def account_name(engine: sa.Engine, account_id: str) -> str:
    """The account's name as the reference lists give it (its id when it has none)."""
    with engine.connect() as conn:
        info = store.account_info(conn, account_id)
    return info[0] if info and info[0] else account_id


#: how many of an account's batches a page of its batches page lists (newest first)
BATCHES_PAGE = 50


def account_batches(engine: sa.Engine, account_id: str, number: int = 1,
                    size: int | None = None) -> Page:
    """Page ``number`` of the account's batches, posted and checked, newest first, ``size``
    to a page (``BATCHES_PAGE``)."""
    def read(limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with engine.connect() as conn:
            return batches_page(conn, account_id, limit=limit, offset=offset)
    return paged(read, number, size or BATCHES_PAGE)


#: how many rejected rows the review page shows, and offers to correct in place: a 5,000-row
#: upload may have thousands, and a page of them all is megabytes long and seconds to build
#: (the rest are in the report, corrected there and sent again)
EDITABLE_ROWS = 200
#: the batches whose rows can be corrected (when their file is at hand)
CORRECTABLE = ("checked", "posted")
#: how many kept files' rows a process keeps read (``_sheet``)
SHEETS_KEPT = 4


def cell_field(row: int, position: int, column: str | None) -> str:
    """The review form's name of a cell: ``cell-<row>-<canonical column>`` for a recognised
    header (``cell-7-recipient_email``), else ``cell-<row>-<position of the column>``."""
    return f"cell-{row}-{column or position}"


@dataclass(frozen=True)
class ReviewCell:
    header: str
    value: str
    messages: list[str]
    #: its name in the review's corrections form (``cell_field``)
    field: str = ""

    @property
    def multiline(self) -> bool:
        return "\n" in self.value

    @property
    def bad(self) -> bool:
        return bool(self.messages)


@dataclass(frozen=True)
class ReviewRow:
    """A rejected row: its cells as sent (empty when the file is no longer at hand) and the
    messages that name no cell of it (the row as a whole, or a column it does not have)."""

    row: int | None
    claim_ref: str
    cells: list[ReviewCell]
    messages: list[str]
    #: after a re-check of the row as corrected: "accepted" or "rejected"; "" before
    verdict: str = ""


@dataclass(frozen=True)
class Review:
    document: dict[str, Any]
    headers: list[str]
    rows: list[ReviewRow]
    #: rejections about the file rather than a row of it (no header row, too many rows …)
    file_messages: list[str] = field(default_factory=list)
    #: a checked upload still waiting in uploads/: it can be submitted without sending it again
    submittable: bool = False
    #: the rows as sent, when the file is at hand (what corrections start from)
    sheet: SheetData | None = None
    #: messages about the corrections sent (a cell too long, nothing corrected …)
    correction_messages: list[str] = field(default_factory=list)
    #: how many rejected rows the batch has; ``rows`` holds the first ``EDITABLE_ROWS``
    rows_rejected: int = 0
    #: the rows as built for the batch (``batch_review``), kept for its next view
    built: _Rows | None = None

    def row_key(self, row: ReviewRow, editable: bool) -> str | None:
        """A key of a rejected row as built for this batch, the same for every view of it
        (the page keeps the row's markup by it: a re-check renders only the rows it
        changed); None for a row that is not one of those (a re-check's verdict)."""
        if self.built is None or id(row) not in self.built.ids:
            return None
        return f"{self.built.key}:{row.row}:{'edit' if editable else 'show'}"

    @property
    def rows_not_shown(self) -> int:
        """The rejected rows beyond those shown (``EDITABLE_ROWS``): they are in the report."""
        return max(0, self.rows_rejected - len(self.rows))

    @property
    def correctable(self) -> bool:
        """Its rejected rows can be corrected in place and re-checked: the rows as sent are
        at hand (a checked upload still kept, a posted upload in the archive)."""
        return self.document["status"] in CORRECTABLE and any(row.cells for row in self.rows)

    @property
    def editable(self) -> list[ReviewRow]:
        """The rejected rows the review page offers to correct in place (the first
        ``EDITABLE_ROWS`` of them; the rest are corrected in the report and sent again)."""
        if not self.correctable:
            return []
        return [row for row in self.rows if row.cells and row.row is not None][:EDITABLE_ROWS]

    @property
    def editable_numbers(self) -> set[int | None]:
        return {row.row for row in self.editable}


def _kept_file(engine: sa.Engine, batch_id: str, account_id: str) -> Path | None:
    """Where the account's batch's file is kept: a checked upload's in uploads/, a posted
    upload's in the archive (``batches.file``); None when it is not at hand."""
    record = stored_check(engine, batch_id)
    if record is None:
        record = find_batch(engine, batch_id)
    if record is None or record["account_id"] != account_id or not record.get("file"):
        return None
    path = Path(record["file"])
    return path if path.is_file() else None


def checked_upload(engine: sa.Engine, batch_id: str, account_id: str) -> tuple[Path, str] | None:
    """The account's checked upload, where it is kept and the name it was sent as, while it
    waits to be submitted; None otherwise (another account's, posted already, not a check)."""
    kept = _kept_file(engine, batch_id, account_id)
    document = batch_document(engine, batch_id, account_id)
    if kept is None or document is None or document["status"] != "checked":
        return None
    return kept, upload_name(str(document["source"]).partition(":")[2])


def _sheet(kept: Path | None, settings: Settings) -> SheetData | None:
    """The kept file's rows as sent (None: unreadable, gone). A kept file is never written
    again (``keep_upload`` writes a new name, a move gives a new path), so the rows read are
    kept for the next look at the same file: a re-check does not read a 5,000-row file again.
    Callers only read the sheet."""
    if kept is None:
        return None
    try:
        stat = kept.stat()
        return _read_kept(str(kept), stat.st_size, stat.st_mtime_ns, settings.limits)
    except (BatchError, OSError):
        return None


@functools.lru_cache(maxsize=SHEETS_KEPT)
def _read_kept(path: str, size: int, mtime_ns: int, limits: Limits) -> SheetData:
    """``read_bytes`` of a kept file, by its path, size and time of change."""
    kept = Path(path)
    return read_bytes(kept.read_bytes(), kept.name, limits)


@dataclass(frozen=True)
class _Rows:
    """A batch's review as built from its rejections and its rows as sent (``_review_rows``)."""

    key: str
    headers: list[str]
    rows: list[ReviewRow]
    file_messages: list[str]
    rows_rejected: int
    #: ``id`` of each row built (kept alive by ``rows``)
    ids: frozenset[int] = frozenset()


#: the reviews built last: a batch's rejections never change, nor does its kept file, so the
#: rows of a review seen again are the same (by batch, file and content)
_built = Recent()


def batch_review(engine: sa.Engine, settings: Settings, batch_id: str, account_id: str
                 ) -> Review | None:
    """The account's batch for its review page: the rejected rows as sent (for a checked
    upload still kept) with each rejection under the cell it is about; None when there is
    no such batch of the account."""
    document = batch_document(engine, batch_id, account_id)
    if document is None:
        return None
    kept = _kept_file(engine, batch_id, account_id)
    sheet = _sheet(kept, settings)
    key = f"review:{batch_id}:{kept}:{sheet.sha256 if sheet is not None else '-'}"
    built: _Rows = _built.get((engine.url, key), lambda: _review_rows(key, document, sheet))
    submittable = document["status"] == "checked" and kept is not None
    return Review(document, built.headers, built.rows, built.file_messages, submittable, sheet,
                  rows_rejected=built.rows_rejected, built=built)


def _review_rows(key: str, document: dict[str, Any], sheet: SheetData | None) -> _Rows:
    """The first ``EDITABLE_ROWS`` rejected rows with their cells, the rejections about the
    file, and how many rows were rejected."""
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    file_messages: list[str] = []
    for rejection in document.get("rejections", []):
        row = rejection.get("row")
        if row is None or (sheet is not None and row not in sheet.sent.index):
            file_messages.append(str(rejection["message"]))
        else:
            by_row[int(row)].append(rejection)
    headers = [str(h) for h in sheet.sent.columns] if sheet is not None else []
    shown = sorted(by_row)[:EDITABLE_ROWS]
    sent = _sent_values(sheet, shown)
    rows = [review_row(row, by_row[row], sheet, headers, values=sent.get(row))
            for row in shown]
    return _Rows(key, headers, rows, file_messages, len(by_row), frozenset(map(id, rows)))


def _sent_values(sheet: SheetData | None, rows: list[int]) -> dict[int, list[Any]]:
    """The values as sent of these rows, in one look-up of the frame (row by row, ``.loc``
    and a Series look-up per cell cost ~1 ms a row)."""
    if sheet is None or not rows:
        return {}
    values = sheet.sent.loc[rows].to_numpy(dtype=object).tolist()
    return dict(zip(rows, values, strict=True))


def review_row(row: int, rejections: list[dict[str, Any]], sheet: SheetData | None,
               headers: list[str], verdict: str = "", values: list[Any] | None = None
               ) -> ReviewRow:
    """One row of the review: its cells as ``sheet`` holds them (or as ``values``, the row's
    values as sent in the order of ``headers``), each rejection of ``rejections`` (the batch
    object's) under the cell it is about."""
    messages_at: dict[str, list[str]] = defaultdict(list)
    loose: list[str] = []
    for rejection in rejections:
        column = rejection.get("column") or ""
        header = ""
        if sheet is not None and column:
            header = sheet.header_of(column) or (column if column in headers else "")
        if header:
            messages_at[header].append(str(rejection["message"]))
        else:
            loose.append(str(rejection["message"]))
    cells = []
    if sheet is not None:
        if values is None:
            values = sheet.sent.loc[row].to_numpy(dtype=object).tolist()
        columns = sheet.columns
        cells = [ReviewCell(h, as_text(value), messages_at.get(h, []),
                            cell_field(row, position, columns.get(h)))
                 for position, (h, value) in enumerate(zip(headers, values, strict=True))]
    claim_ref = next((str(r["claim_ref"]) for r in rejections if r.get("claim_ref")), "")
    return ReviewRow(row, claim_ref, cells, loose, verdict)

"""Size caps for untrusted files (SPEC §3, RMA_MAX_*): each breach is a TOO_LARGE batch error."""

from __future__ import annotations

import copy
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from rma.adapters.readers import xmlexact, xmlscan, xmlsheets
from rma.adapters.readers.header import HEADER_SEARCH_ROWS, column_letter
from rma.adapters.readers.messages import display_text, short_reason
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.errors import BatchError

_CHUNK = 1 << 20
_UNBOUNDED = 1 << 62


def too_large(where: str, what: str, limit: int | str, setting: str, fix: str) -> BatchError:
    limit_text = f"{limit:,}" if isinstance(limit, int) else limit
    return BatchError(
        Reason.TOO_LARGE, f"{where}: {what}, above the limit of {limit_text} ({setting}); {fix}"
    )


def size_text(size: int) -> str:
    """A byte count in plain words: '812 bytes', '62.1 MB'."""
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def check_file_size(where: str, size: int, limits: Limits) -> None:
    if size > limits.file_bytes:
        raise too_large(where, f"the file is {size_text(size)}", size_text(limits.file_bytes),
                        "RMA_MAX_FILE_BYTES",
                        "split the claims into smaller files")


@dataclass
class WorkbookScan:
    """What unpacking an xlsx told about it before calamine reads it: each worksheet part's
    extent (None: it needs the exact scan) and which part each sheet name reads."""

    data: bytes
    extents: dict[str, xmlscan.Extent | None] = field(default_factory=dict)
    merges: dict[str, int] = field(default_factory=dict)  # part -> merged ranges declared
    parts: dict[str, str] | None = None  # sheet name -> part; None: unknown, check them all
    members: dict[str, list[zipfile.ZipInfo]] = field(default_factory=dict)
    exact_budget: int = xmlscan.EXACT_SCAN_BUDGET  # shared by all the sheets of the workbook

    def extent(self, sheet: str) -> xmlscan.Extent:
        """How far the sheet's cells reach, as calamine would lay them out."""
        part = self.parts.get(sheet) if self.parts is not None else None
        names = [part] if part in self.extents else list(self.extents)
        found = xmlscan.Extent()
        for name in names:
            extent = self.extents[name]
            if extent is None:
                extent = self.extents[name] = self._exact(name)
            found = found.merge(extent)
        return found

    def merged_ranges(self, sheet: str) -> int:
        """How many merged ranges the sheet declares (every part's, when it is not known
        which part the sheet reads)."""
        part = self.parts.get(sheet) if self.parts is not None else None
        names = [part] if part in self.merges else list(self.merges)
        return sum(self.merges[name] for name in names)

    def _exact(self, name: str) -> xmlscan.Extent:
        found = xmlscan.Extent()
        with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
            for info in self.members[name]:
                extent, self.exact_budget = xmlexact.exact_extent(_chunks(zf, info),
                                                                 self.exact_budget)
                found = found.merge(extent)
        return found


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            yield chunk


def check_zip(where: str, archive: bytes, limits: Limits) -> WorkbookScan:
    """Refuse a workbook that unpacks to more than ``limits.inflated_bytes``, that is no xlsx
    workbook, or whose XML declares entities; note how far each worksheet reaches.

    The declared sizes are checked first. Then every member is inflated in chunks and counted
    without trusting its declared size (a zip bomb lies about it; calamine's unzip would not
    stop there either), its XML scanned on the way (``xmlscan``). A damaged archive, or one
    whose sizes lie, is UNREADABLE_FILE.
    """
    fix = "split the claims into smaller files"
    scan = WorkbookScan(archive)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            members = zf.infolist()
            declared = sum(info.file_size for info in members)
            if declared > limits.inflated_bytes:
                raise too_large(where, f"the workbook unpacks to {size_text(declared)}",
                                size_text(limits.inflated_bytes), "RMA_MAX_INFLATED_BYTES", fix)
            _check_is_xlsx(where, zf, members)
            inflated = 0
            for info in members:
                inflated += _inflate(zf, info, limits.inflated_bytes - inflated)
                if inflated > limits.inflated_bytes:
                    raise too_large(where, "the workbook unpacks to more than "
                                    f"{size_text(inflated)}", size_text(limits.inflated_bytes),
                                    "RMA_MAX_INFLATED_BYTES", fix)
            # the sizes are true now: read the XML calamine will read (a second, cheap pass
            # that a zip bomb never reaches)
            mapping: dict[str, list[bytes]] = {_WORKBOOK: [], _WORKBOOK_RELS: []}
            for info in members:
                _scan_part(where, zf, info, scan, mapping)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError) as exc:
        raise BatchError(
            Reason.UNREADABLE_FILE,
            f"{where}: the workbook is damaged or encrypted ({short_reason(exc)}); "
            "open it in Excel and save it again as .xlsx, or send it as .csv",
        ) from exc
    found = {name: b"".join(chunks) for name, chunks in mapping.items()}
    if all(found.values()) and sum(map(len, found.values())) <= _MAPPING_BYTES:
        scan.parts = xmlsheets.sheet_parts(found[_WORKBOOK], found[_WORKBOOK_RELS])
    return scan


_WORKBOOK, _WORKBOOK_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
_MAPPING_BYTES = 16 * 1024 * 1024
_OPEN_DOCUMENT = b"application/vnd.oasis.opendocument"


def _check_is_xlsx(where: str, zf: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """A zip without xl/workbook.xml is no xlsx: calamine would read it as an OpenDocument
    or binary workbook, whose sheets nothing here has checked."""
    names = [xmlscan.normalised(info.filename) for info in members]
    if names.count(_WORKBOOK) == 1 and names.count(_WORKBOOK_RELS) <= 1:
        return
    if names.count(_WORKBOOK) > 1:
        what = "a zip archive holding two workbooks, which Excel never writes"
    elif "mimetype" in names:
        with zf.open(members[names.index("mimetype")]) as member:
            kind = member.read(200)
        what = ("an OpenDocument spreadsheet (.ods) renamed to .xlsx"
                if kind.startswith(_OPEN_DOCUMENT) else "a zip archive, not an Excel workbook")
    else:
        what = "a zip archive, not an Excel workbook"
    raise BatchError(Reason.UNREADABLE_FILE,
                     f"{where}: the file is {what}; open it in Excel and save it as .xlsx, "
                     "or send it as .csv")


def _scan_part(where: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: WorkbookScan,
               mapping: dict[str, list[bytes]]) -> None:
    """Scan one member's XML if calamine will read it (``xmlscan``)."""
    name = xmlscan.normalised(info.filename)
    if not xmlscan.is_checked_part(name):
        return
    guard = xmlscan.XmlGuard()
    sheet = xmlscan.FastSheetScan() if xmlscan.is_worksheet(name) else None
    merges = xmlscan.MergeCount()
    kept = mapping.get(name)
    for chunk in _chunks(zf, info):
        guard.feed(chunk)
        if guard.problem is not None:
            raise BatchError(
                Reason.UNREADABLE_FILE,
                f"{where}: the workbook cannot be read safely: {guard.problem} (found in "
                f"{display_text(info.filename)}); open it in Excel and save it again as "
                ".xlsx, or send it as .csv")
        if sheet is not None:
            sheet.feed(chunk)
            merges.feed(chunk)
        if kept is not None and sum(map(len, kept)) <= _MAPPING_BYTES:
            kept.append(chunk)
    if sheet is not None:
        scan.merges[name] = scan.merges.get(name, 0) + merges.result()
        extent = sheet.result()
        if name in scan.extents:  # the same part twice: both count
            previous = scan.extents[name]
            extent = None if extent is None or previous is None else extent.merge(previous)
        scan.extents[name] = extent
        scan.members.setdefault(name, []).append(info)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """The member's real inflated size, reading at most ``budget + 1`` bytes of it."""
    probe = copy.copy(info)
    # zipfile stops (and checks the CRC) at the declared size: let it run to the real end
    probe.file_size = _UNBOUNDED
    size = 0
    with zf.open(probe) as member:
        while size <= budget and (chunk := member.read(_CHUNK)):
            size += len(chunk)
    if size <= budget and size != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename} is {size:,} bytes, "
                                 f"not the {info.file_size:,} it declares")
    return size


def check_extent(where: str, extent: xmlscan.Extent, limits: Limits) -> None:
    """Refuse a sheet whose cells reach beyond the limits before calamine lays it out.

    The header may sit in any of the first rows, so rows are counted generously here; the
    exact count follows once the header is found (``check_rows``)."""
    if extent.problem is not None:
        raise BatchError(Reason.UNREADABLE_FILE,
                         f"{where}: the sheet cannot be read safely: {extent.problem}; open it "
                         "in Excel and save it again as .xlsx, or send it as .csv")
    if extent.rows > limits.rows + HEADER_SEARCH_ROWS:
        raise too_large(where, f"its cells reach row {extent.rows:,}", f"{limits.rows:,} rows",
                        "RMA_MAX_ROWS", "delete what lies below the claims, or split them "
                        "into several files")
    if extent.columns > limits.columns:
        raise too_large(where, f"its cells reach column {column_letter(extent.columns - 1)} "
                        f"({extent.columns:,} columns)", f"{limits.columns:,} columns",
                        "RMA_MAX_COLUMNS", "delete the columns that are not claim data and any "
                        "stray cells to the right of the claims")
    check_cells(where, extent.rows, extent.columns, limits)


def check_cells(where: str, rows: int, columns: int, limits: Limits) -> None:
    """The area a sheet spans (rows x columns) is what reading it costs, however empty."""
    if rows * columns > limits.cells:
        raise too_large(where, f"it spans {rows:,} rows by {columns:,} columns "
                        f"({rows * columns:,} cells, up to cell {column_letter(columns - 1)}"
                        f"{rows})", f"{limits.cells:,} cells", "RMA_MAX_CELLS",
                        "delete stray cells far below or to the right of the claims, or "
                        "split the claims into several files")


def check_merged_ranges(where: str, count: int, limits: Limits) -> None:
    """A sheet may declare no more merged ranges than it may hold rows (RMA_MAX_ROWS): a
    claim list merges a few cells per claim, and each range costs ~300 bytes to read."""
    if count > limits.rows:
        raise too_large(where, f"it has {count:,} merged cell ranges",
                        f"{limits.rows:,} merged ranges", "RMA_MAX_ROWS",
                        "unmerge the cells (select all, then Merge & Center off) or split the "
                        "claims into several files")


def check_rows(where: str, rows: int, limits: Limits) -> None:
    if rows > limits.rows:
        raise BatchError(
            Reason.TOO_LARGE,
            f"{where}: {rows:,} rows exceed the limit of {limits.rows:,} (RMA_MAX_ROWS); "
            "split the claims into several files",
        )


def check_columns(where: str, columns: int, limits: Limits) -> None:
    if columns > limits.columns:
        raise BatchError(
            Reason.TOO_LARGE,
            f"{where}: {columns:,} columns exceed the limit of {limits.columns:,} "
            "(RMA_MAX_COLUMNS); delete the columns that are not claim data",
        )


def cell_too_long(where: str, row: int, column: str, length: int, limits: Limits) -> BatchError:
    return too_large(where, f"the cell in row {row:,}, column {column} has {length:,} characters",
                     limits.cell_chars, "RMA_MAX_CELL_CHARS", "shorten it")


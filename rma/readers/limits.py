"""Size caps for untrusted files (SPEC §3, RMA_MAX_*): each breach is a TOO_LARGE batch error."""

from __future__ import annotations

import copy
import zipfile
import zlib
from typing import IO

from rma.config import Limits
from rma.errors import BatchError
from rma.readers.messages import short_reason
from rma.reasons import Reason

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


def check_zip(where: str, archive: IO[bytes], limits: Limits) -> None:
    """Refuse a workbook that unpacks to more than ``limits.inflated_bytes``.

    The declared sizes are checked first. Then every member is inflated in chunks and counted
    without trusting its declared size (a zip bomb lies about it; calamine's unzip would not
    stop there either). A damaged archive, or one whose sizes lie, is UNREADABLE_FILE.
    """
    fix = "split the claims into smaller files"
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            declared = sum(info.file_size for info in members)
            if declared > limits.inflated_bytes:
                raise too_large(where, f"the workbook unpacks to {size_text(declared)}",
                                size_text(limits.inflated_bytes), "RMA_MAX_INFLATED_BYTES", fix)
            inflated = 0
            for info in members:
                inflated += _inflate(zf, info, limits.inflated_bytes - inflated)
                if inflated > limits.inflated_bytes:
                    raise too_large(where, "the workbook unpacks to more than "
                                    f"{size_text(inflated)}", size_text(limits.inflated_bytes),
                                    "RMA_MAX_INFLATED_BYTES", fix)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError) as exc:
        raise BatchError(
            Reason.UNREADABLE_FILE,
            f"{where}: the workbook is damaged or encrypted ({short_reason(exc)}); "
            "open it in Excel and save it again as .xlsx, or send it as .csv",
        ) from exc


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


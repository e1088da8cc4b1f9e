"""Readers: one batch file in, one SheetData out, or a BatchError saying what to fix.

    read_batch(path, limits)         a file on disk: .xlsx/.xlsm (calamine) or .csv, chosen
                                     by extension
    read_bytes(data, name, limits)   the same file given as bytes with its name (a mail
                                     attachment, an upload): the same limits and errors
    unreadable(name, exc)            the UNREADABLE_FILE error of a file that cannot be read
    screen_name_and_size(name, n)    what read_bytes refuses before reading (format, size)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rma.adapters.readers import limits as caps
from rma.adapters.readers import source
from rma.adapters.readers.csv import read_csv
from rma.adapters.readers.csvtext import decode
from rma.adapters.readers.messages import display_name, short_reason
from rma.adapters.readers.source import FileState
from rma.adapters.readers.xlsx import read_xlsx
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError, NotReadable

__all__ = ["ACCEPTED_FORMATS", "DEFAULT_LIMITS", "read_batch", "read_bytes",
           "screen_name_and_size", "unreadable"]

#: Accepted extensions (case-insensitive) and the file_format each one gives.
ACCEPTED_FORMATS: dict[str, str] = {".xlsx": "xlsx", ".xlsm": "xlsm", ".csv": "csv"}
DEFAULT_LIMITS = Limits()


def read_batch(path: Path, limits: Limits = DEFAULT_LIMITS, listed: FileState | None = None
               ) -> SheetData:
    """Read one batch file; raise BatchError (UNSUPPORTED_FORMAT, UNREADABLE_FILE, NO_HEADER,
    TOO_LARGE, EMPTY_BATCH) with a one-line message naming the file and the fix. Only a
    regular file is read, never through a link (``rma.adapters.readers.source``); with ``listed``
    (a drop-folder file) it must be that very file, unchanged since it was listed."""
    path = Path(path)
    name = display_name(path)
    file_format = _format_of(path, name)
    # the bytes are passed on, not kept here: a CSV's are dropped once it is decoded
    return _read(_read_file(path, name, limits, listed), path, file_format, limits, name)


def read_bytes(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> SheetData:
    """Read one batch file given as its bytes and its name (only the last part of ``name``
    counts, as for a file on disk): the same limits and the same errors as ``read_batch``."""
    path = Path(name)
    shown = display_name(path)
    file_format = _format_of(path, shown)
    caps.check_file_size(shown, len(data), limits)
    return _read(data, path, file_format, limits, shown)


def screen_name_and_size(name: str, size: int, limits: Limits = DEFAULT_LIMITS) -> None:
    """What ``read_bytes`` would refuse before reading a byte: a format it does not take
    (UNSUPPORTED_FORMAT) or more bytes than allowed (TOO_LARGE); BatchError as it raises."""
    path = Path(name)
    _format_of(path, display_name(path))
    caps.check_file_size(display_name(path), size, limits)


def _format_of(path: Path, name: str) -> str:
    """The file_format its extension gives; UNSUPPORTED_FORMAT for any other."""
    suffix = path.suffix.lower()
    file_format = ACCEPTED_FORMATS.get(suffix)
    if file_format is None:
        kind = f"{suffix} files" if suffix else "files without an extension"
        raise BatchError(
            Reason.UNSUPPORTED_FORMAT,
            f"{name}: {kind} cannot be processed; save the sheet as .xlsx or .csv "
            "(accepted: .xlsx, .xlsm, .csv)",
        )
    return file_format


def _read(data: bytes, path: Path, file_format: str, limits: Limits, name: str) -> SheetData:
    """The sheet of a file's bytes, whose size is checked already."""
    if not data:
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the file is empty (0 bytes); "
                                             "send a header row and one claim per row")
    sha256 = hashlib.sha256(data).hexdigest()
    if file_format == "csv":
        text, _ = decode(data, name)
        del data  # else a 230 MB file read from disk is held twice while it is parsed
        return read_csv(text, path, sha256, limits, name)
    return read_xlsx(data, path, file_format, sha256, limits, name)


def _read_file(path: Path, name: str, limits: Limits, listed: FileState | None) -> bytes:
    """The file's bytes, its size checked before and after reading (it may be growing)."""
    try:
        data, _ = source.read_regular(
            path, limits.file_bytes, listed,
            check_size=lambda size: caps.check_file_size(name, size, limits))
    except OSError as exc:
        raise unreadable(name, exc) from exc
    caps.check_file_size(name, len(data), limits)
    return data


def unreadable(name: str, exc: OSError) -> BatchError:
    """The UNREADABLE_FILE error of a file that could not be opened or read as it must be."""
    if isinstance(exc, NotReadable):
        return BatchError(Reason.UNREADABLE_FILE, f"{name}: {exc.why}")
    why = exc.strerror or short_reason(exc)
    return BatchError(Reason.UNREADABLE_FILE, f"{name}: the file cannot be opened ({why}); "
                                              "check that it exists and is readable")

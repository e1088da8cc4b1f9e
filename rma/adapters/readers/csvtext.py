"""The text of a .csv batch, before any row is parsed: its encoding (UTF-8 with or without
BOM, else cp1252), Excel's ``sep=`` line, the longest line allowed, the csv module's field
size and the ',' or ';' sniffed with the header. Both modes of the CSV reader (``csv``: the
file whole or in chunks) take these steps from here, so they cannot differ."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rma.adapters.readers.header import HEADER_SEARCH_ROWS, find_header, recognised
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.errors import BatchError

DELIMITERS: tuple[str, ...] = (",", ";")
UTF8_BOM = b"\xef\xbb\xbf"
_SEP_LINE = re.compile(r"sep=([,;])[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)
_SAVE_AS = "save it from Excel as 'CSV UTF-8' or as .xlsx"

#: What a file that is no CSV text starts with, for a message that says what it is.
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (or another zip archive)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 workbook (.xls) or a password-protected file"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True)
class CsvText:
    """A CSV file's text ready to parse: below Excel's ``sep=`` line, with its delimiter and
    the 0-based record of its header."""

    body: str
    delimiter: str
    header_index: int


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text and the encoding of the bytes after any BOM: UTF-8 (a BOM is dropped), else
    cp1252; NUL bytes or undecodable bytes are refused."""
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise BatchError(Reason.UNREADABLE_FILE,
                             f"{name}: the file cannot be read: it is {what} saved with a .csv "
                             "name; send a workbook as .xlsx, or save the sheet from Excel as "
                             "'CSV UTF-8'")
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise unreadable(name, f"it contains binary data (a NUL byte on line {_line(data, at):,}"
                               f", byte {at + 1:,}), e.g. a UTF-16 text file or a spreadsheet "
                               "renamed to .csv")
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            at = exc.start + len(UTF8_BOM)
            raise unreadable(name, "it starts as UTF-8 but holds bytes that are not UTF-8 "
                                   f"(on line {_line(data, at):,}, byte {at + 1:,})") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise unreadable(name, "its text encoding is neither UTF-8 nor Windows-1252 "
                               f"(on line {_line(data, exc.start):,}, byte {exc.start + 1:,})"
                         ) from exc


def _line(data: bytes, at: int) -> int:
    """The 1-based line of byte ``at``."""
    return data.count(b"\n", 0, at) + 1


def prepare(text: str, name: str, limits: Limits) -> CsvText:
    """Refuse an empty text or a line too long for any allowed row, drop Excel's ``sep=``
    line, allow cells of ``limits.cell_chars`` and find the delimiter and the header."""
    if not text.strip():
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the file is empty; "
                                             "send a header row and one claim per row")
    body, declared = excel_separator_line(text)
    check_line_length(body, name, limits)
    allow_cells(limits.cell_chars)
    delimiter, header_index = sniff(body, name, declared)
    return CsvText(body, delimiter, header_index)


def allow_cells(cell_chars: int) -> None:
    """Let the csv module read cells of ``cell_chars``: its limit is process-wide, so it is
    only ever raised (only when configured above its default of 131,072)."""
    if csv.field_size_limit() <= cell_chars:
        csv.field_size_limit(cell_chars + 1)


def check_line_length(text: str, name: str, limits: Limits) -> None:
    """Refuse a line longer than the widest allowed row could be (every column a full cell,
    quoted, its quotes doubled): the csv module would make it one row of millions of cells."""
    longest = limits.columns * (2 * limits.cell_chars + 3)
    if len(text) <= longest:
        return
    found = re.compile(rf"(?:^|(?<=\r))[^\r\n]{{{longest + 1}}}", re.MULTILINE).search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise BatchError(
            Reason.TOO_LARGE,
            f"{name}: line {line:,} has more than {longest:,} characters, more than a row of "
            f"{limits.columns:,} columns (RMA_MAX_COLUMNS) of {limits.cell_chars:,} characters "
            "(RMA_MAX_CELL_CHARS) can hold; check that the file is a claim list with one claim "
            "per line")


def excel_separator_line(text: str) -> tuple[str, str | None]:
    """Drop Excel's optional first line ``sep=;``: Excel obeys it and does not show it."""
    match = _SEP_LINE.match(text)
    if match is None:
        return text, None
    return text[match.end():], match.group(1)


def sniff(text: str, name: str, declared: str | None = None) -> tuple[str, int]:
    """The delimiter whose first rows hold the best header, and that header's position.

    Counting delimiters alone misleads when titles or addresses contain commas, so each
    candidate is tried on the first rows; a tie goes to the more frequent delimiter.
    """
    head = text[: 1 << 16]
    best: tuple[int, int, str, int] | None = None
    for delimiter in (declared,) if declared else DELIMITERS:
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        try:
            top = list(itertools.islice(reader, HEADER_SEARCH_ROWS))
        except csv.Error:
            continue
        index = find_header(top)
        if index is None:
            continue
        score = (len(recognised(top[index])), head.count(delimiter), delimiter, index)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        raise BatchError(
            Reason.NO_HEADER,
            f"{name}: no header row with claim columns in the first {HEADER_SEARCH_ROWS} "
            "rows; the header needs a Serial number column and at least one other claim "
            "column (e.g. Fault description), separated by ',' or ';'",
        )
    return best[2], best[3]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: parsing makes millions of small lists that hold no cycles,
    and the collections it triggers otherwise more than double the parse time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def unreadable(name: str, why: str) -> BatchError:
    """The UNREADABLE_FILE error of a text that is no CSV the reader can take."""
    return BatchError(Reason.UNREADABLE_FILE, f"{name}: the file cannot be read: {why}; "
                                              f"{_SAVE_AS}")

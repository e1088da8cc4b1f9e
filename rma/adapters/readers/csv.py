"""Read a .csv batch: UTF-8 (with or without BOM) else cp1252, ',' or ';' sniffed."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rma.adapters.readers import limits as caps
from rma.adapters.readers.header import HEADER_SEARCH_ROWS, find_header, recognised
from rma.adapters.readers.messages import short_reason
from rma.adapters.readers.sheet import Origin, build_sheet
from rma.config import Limits
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError

DELIMITERS: tuple[str, ...] = (",", ";")
#: Blank rows are not claims, but they are read: past the row limit only this many more are.
BLANK_ROWS_ALLOWED = 10_000
UTF8_BOM = b"\xef\xbb\xbf"
_SEP_LINE = re.compile(r"sep=([,;])[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)
_SAVE_AS = "save it from Excel as 'CSV UTF-8' or as .xlsx"


def read_csv(text: str, source: Path, sha256: str, limits: Limits, name: str) -> SheetData:
    """The claim rows of a CSV file's ``decode``-d text; every value is a str, blank cells
    None."""
    if not text.strip():
        raise BatchError(Reason.EMPTY_BATCH, f"{name}: the file is empty; "
                                             "send a header row and one claim per row")
    text, declared = _excel_separator_line(text)
    _check_line_length(text, name, limits)
    delimiter, header_index = _sniff(text, name, declared)
    origin = Origin(source, source.name, "csv", sha256, name)
    if csv.field_size_limit() <= limits.cell_chars:  # only when configured above 131,072
        csv.field_size_limit(limits.cell_chars + 1)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    # blank lines are rows too (the numbering is kept): a file of nothing but line breaks
    # must not become millions of rows in memory before the row limit is looked at
    most = header_index + 1 + limits.rows + BLANK_ROWS_ALLOWED

    def records() -> Iterator[list[str]]:
        for count, row in enumerate(reader, 1):
            if count > most:
                raise caps.too_large(
                    name, f"it has more than {most - header_index - 1:,} rows below the "
                    "header (blank rows included)", f"{limits.rows:,} rows", "RMA_MAX_ROWS",
                    "delete the empty rows at the end, or split the claims into several files")
            yield row

    try:
        with _gc_paused():
            return build_sheet(records(), header_index, origin, limits, all_text=True)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise caps.too_large(name, f"a cell near line {reader.line_num:,} has more than "
                                 f"{csv.field_size_limit():,} characters", limits.cell_chars,
                                 "RMA_MAX_CELL_CHARS", "shorten it") from exc
        raise _unreadable(name, f"it is not valid CSV ({short_reason(exc)})") from exc


#: The text goes to the csv module through a StringIO of this many characters at a time: one
#: StringIO of a whole 230 MB file costs another ~440 MB while it is read.
PIECE_CHARS = 1 << 22


def _lines(text: str) -> Iterator[str]:
    r"""The lines of ``text``, ends kept ('\r\n', '\r' or '\n', as ``newline=""`` reads
    them); pieces are cut just after a '\n', which always ends a line."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + PIECE_CHARS) + 1 or len(text)
        yield from io.StringIO(text[start:cut], newline="")
        start = cut


#: What a file that is no CSV text starts with, for a message that says what it is.
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (or another zip archive)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 workbook (.xls) or a password-protected file"),
    (b"%PDF", "a PDF document"),
)


def decode(data: bytes, name: str) -> str:
    """UTF-8 (a BOM is dropped), else cp1252; NUL bytes or undecodable bytes are refused."""
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise BatchError(Reason.UNREADABLE_FILE,
                             f"{name}: the file cannot be read: it is {what} saved with a .csv "
                             "name; send a workbook as .xlsx, or save the sheet from Excel as "
                             "'CSV UTF-8'")
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise _unreadable(name, f"it contains binary data (a NUL byte on line {_line(data, at):,}"
                                f", byte {at + 1:,}), e.g. a UTF-16 text file or a spreadsheet "
                                "renamed to .csv")
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8")
        except UnicodeDecodeError as exc:
            at = exc.start + len(UTF8_BOM)
            raise _unreadable(name, "it starts as UTF-8 but holds bytes that are not UTF-8 "
                                    f"(on line {_line(data, at):,}, byte {at + 1:,})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _unreadable(name, "its text encoding is neither UTF-8 nor Windows-1252 "
                                f"(on line {_line(data, exc.start):,}, byte {exc.start + 1:,})"
                          ) from exc


def _line(data: bytes, at: int) -> int:
    """The 1-based line of byte ``at``."""
    return data.count(b"\n", 0, at) + 1


def _check_line_length(text: str, name: str, limits: Limits) -> None:
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


def _excel_separator_line(text: str) -> tuple[str, str | None]:
    """Drop Excel's optional first line ``sep=;``: Excel obeys it and does not show it."""
    match = _SEP_LINE.match(text)
    if match is None:
        return text, None
    return text[match.end():], match.group(1)


def _sniff(text: str, name: str, declared: str | None = None) -> tuple[str, int]:
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
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: parsing makes millions of small lists that hold no cycles,
    and the collections it triggers otherwise more than double the parse time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _unreadable(name: str, why: str) -> BatchError:
    return BatchError(Reason.UNREADABLE_FILE, f"{name}: the file cannot be read: {why}; "
                                              f"{_SAVE_AS}")

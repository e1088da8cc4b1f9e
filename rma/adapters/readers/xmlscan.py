"""What calamine will make of an xlsx, read from the XML bytes while the file is unpacked
(``limits.check_zip``), before calamine parses anything.

Two dangers are caught here:

* **Entities and encodings.** An XML part with a DOCTYPE can declare entities (billion
  laughs, external entities that name local files). calamine refuses them, in its own words;
  Excel never writes a DOCTYPE, so such a part is refused first, in plain words. A part with
  NUL bytes (UTF-16/32) is refused too: Excel writes UTF-8, and the scans below read ASCII.
* **The area of a sheet.** calamine turns a sheet into a dense grid from its first to its last
  cell before anything can be checked: a 2 KB file with cells at A1 and XFD1048576 asks for
  17 billion cells and Rust aborts the whole process (no exception to catch). So the farthest
  cell of every worksheet is found from its bytes:

  - ``FastSheetScan``: when every cell tag is ``<c r="A1"...`` (Excel, LibreOffice, openpyxl
    and most writers) the positions are those references: a few regex passes per megabyte.
    Matching raw bytes, it may count references that calamine skips (in a comment, an empty
    styled cell): that only errs on the strict side.
  - ``ExactSheetScan`` (``xmlexact``): anything else (cells without references, namespace
    prefixes, other quoting) is walked tag by tag the way calamine's reader walks it (a row
    without ``r`` follows the previous row, a cell without ``r`` the previous cell), within a
    budget.

``MergeCount`` counts a worksheet's merged ranges; ``xmlsheets`` says which part is which
sheet.

The extent counts from A1, as ``to_python(skip_empty_area=False)`` does, so it is never below
the grid calamine allocates (from its first to its last cell). Rows stored out of order are
laid out correctly by the calamine of python-calamine 0.9 (checked), so they are not refused.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

#: Parts calamine reads are UTF-8 XML; a DOCTYPE is how entities are declared.
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
#: Tags longer than this (a partial tag carried from one chunk to the next) are refused.
MAX_TAG_BYTES = 4 * 1024 * 1024
#: Tags the exact scan walks, over all the sheets of a workbook, before it gives up (a few
#: seconds of work).
EXACT_SCAN_BUDGET = 3_000_000

_NEAR_END = 4096
_TAIL = 64

# -- plain words for what cannot be read safely ------------------------------------------------

ENTITIES = ("it contains XML entity declarations (a DOCTYPE), which Excel never writes and "
            "which can hide content from other files")
ENCODING = "it contains XML stored in an encoding Excel does not use (UTF-16 or UTF-32)"
BAD_REFERENCE = "a cell or row has an invalid position ({ref!r})"
NESTED = "its cells are not stored the way Excel stores them (a cell or row inside a cell)"
DAMAGED = "its XML is damaged (a tag is cut off or not closed)"
TOO_COMPLEX = ("its cells are stored without their positions and there are too many of them "
               f"to check (more than {EXACT_SCAN_BUDGET:,} XML elements in the workbook)")


def is_checked_part(name: str) -> bool:
    """XML parts calamine may parse: under xl/ or _rels/ (not images, not embedded files)."""
    if not name.endswith((".xml", ".rels")):
        return False
    if name.startswith(("xl/media/", "xl/embeddings/")):
        return False
    return name.startswith(("xl/", "_rels/")) or name == "[content_types].xml"


def is_worksheet(name: str) -> bool:
    """calamine takes a sheet for a worksheet when its part sits under xl/worksheets/."""
    return name.startswith("xl/worksheets/")


def normalised(member: str) -> str:
    """A zip member name as calamine matches part names: '/' separators, any case."""
    return member.replace("\\", "/").lower()


class XmlGuard:
    """Fed an XML part chunk by chunk; ``problem`` says why it is refused, or stays None."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if self.problem is not None:
            return
        window = self._tail + chunk
        if b"\x00" in chunk:
            self.problem = ENCODING
        elif _DOCTYPE.search(window):
            self.problem = ENTITIES
        self._tail = window[-16:]


# -- positions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extent:
    """How far a worksheet's cells reach (1-based; 0: no cell), or why it cannot be read."""

    rows: int = 0
    columns: int = 0
    problem: str | None = None

    @property
    def cells(self) -> int:
        """The area calamine and the reader allocate: from A1 to the farthest cell."""
        return self.rows * self.columns

    def merge(self, other: Extent) -> Extent:
        return Extent(max(self.rows, other.rows), max(self.columns, other.columns),
                      self.problem or other.problem)


def column_number(letters: bytes) -> int:
    """'A' -> 1, 'Z' -> 26, 'AA' -> 27, 'XFD' -> 16384 (either case)."""
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number



def _aligned(data: bytes) -> int:
    """Where to cut ``data`` so that no ``<...`` pattern of the fast scan is split: before the
    last '<' when it is near the end, else nowhere (keep a short tail for ':c' patterns)."""
    last = data.rfind(b"<")
    return last if last >= 0 and last >= len(data) - _NEAR_END else len(data)


# Fast scan: the plain patterns (a literal prefix: quick) first; a piece where some cell tag
# does not start `<c r="A1"` is tried with the general ones (a namespace prefix, attributes
# before r); a cell tag matching neither sends the sheet to the exact scan.
_PLAIN_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
#: every cell tag: its column letters, or b"" when it does not start `<c r="A1"`
_PLAIN_CELL = re.compile(rb'<c(?: r="([A-Z]{1,3})[0-9]{1,7}"|(?=[\s/>]))')
_PLAIN_ODD = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z]{1,3}[0-9]{1,7}")')
#: a row tag that holds cells (the next tag is a cell): its number
_ROW_WITH_CELLS = re.compile(rb'<row r="([0-9]{1,7})"[^<>]*(?<!/)>\s*<c[\s/>]')
_ANY_PREFIXED = re.compile(rb":c[\s/>]")
_CELL_OPEN = rb"<(?:[A-Za-z_][\w.\-]*:)?c"
_BEFORE_R = rb'(?:\s+[^\s=>/"\':]+(?::[^\s=>/"\':]+)?="[^"]*")*?\s+'
_GENERAL_ROW = re.compile(_CELL_OPEN + _BEFORE_R + rb'r="[A-Z]{1,3}([0-9]{1,7})"')
_GENERAL_CELL = re.compile(
    _CELL_OPEN + rb"(?:" + _BEFORE_R + rb'r="([A-Z]{1,3})[0-9]{1,7}"|(?=[\s/>]))')


def _row_above(number: int) -> bytes:
    """Row digits of a number above ``number``, or with more digits (a leading zero only makes
    a number look larger: its piece is then counted reference by reference)."""
    digits = str(number)
    longer = [rb"[0-9]{%d,7}" % (len(digits) + 1)] if len(digits) < 7 else []
    same = [digits[:i].encode() + b"[%d-9][0-9]{%d}" % (int(d) + 1, len(digits) - i - 1)
            for i, d in enumerate(digits) if d != "9"]
    return b"(?:" + b"|".join([*longer, *same] or [b"(?!)"]) + b")"


def _column_after(letters: bytes) -> bytes:
    """Column letters after ``letters`` (b"": any)."""
    longer = [rb"[A-Z]{%d,3}" % (len(letters) + 1)] if len(letters) < 3 else []
    same = [letters[:i] + b"[%c-Z][A-Z]{%d}" % (ch + 1, len(letters) - i - 1)
            for i, ch in enumerate(letters) if ch != ord("Z")]
    return b"(?:" + b"|".join([*longer, *same] or [b"(?!)"]) + b")"


@functools.lru_cache(maxsize=64)
def _beyond_row(row: int) -> re.Pattern[bytes]:
    """A plain cell reference on a row above ``row``, or on row 0."""
    return re.compile(rb'<c r="[A-Z]{1,3}(?:' + _row_above(row) + rb'|0+)"')


@functools.lru_cache(maxsize=64)
def _beyond_column(column: bytes) -> re.Pattern[bytes]:
    """A plain cell reference in a column after ``column``."""
    return re.compile(rb'<c r="' + _column_after(column) + rb"[0-9]")


class FastSheetScan:
    """The extent of a worksheet whose every cell tag carries its reference (``<c r="A1"``);
    anything else makes it ``irregular`` (``result()`` None): the exact scan then decides.

    In the usual layout (``<row r="7"><c r="A7"...``) no cell reference is looked at one by
    one: the rows that hold cells give the row, and one search per piece proves that no
    reference lies beyond the row and column found so far; a piece where one does is counted
    reference by reference. Either way the extent is never below what calamine will lay out.
    """

    def __init__(self) -> None:
        self.irregular = False
        self._carry = b""
        self._max_row = 0
        self._max_column = b""  # letters

    def feed(self, chunk: bytes) -> None:
        if self.irregular:
            return
        data = self._carry + chunk
        cut = _aligned(data)
        if cut < len(data):
            piece, self._carry = data[:cut], data[cut:]
        else:  # no '<' near the end: nothing is cut; the tail is looked at again
            piece, self._carry = data, data[-_TAIL:]
        self._scan(piece)

    def result(self) -> Extent | None:
        self._scan(self._carry)
        self._carry = b""
        if self.irregular:
            return None
        return Extent(self._max_row, column_number(self._max_column))

    def _scan(self, piece: bytes) -> None:
        if self.irregular or not piece:
            return
        if _ANY_PREFIXED.search(piece):
            self._count(piece, _GENERAL_ROW, _GENERAL_CELL)
            return
        held = _ROW_WITH_CELLS.findall(piece)
        if held:
            self._max_row = max(self._max_row, max(map(int, held)))
        if _PLAIN_ODD.search(piece):
            self._count(piece, _GENERAL_ROW, _GENERAL_CELL)
            return
        if _beyond_row(self._max_row).search(piece):
            self._count(piece, _PLAIN_ROW, None)
        if _beyond_column(self._max_column).search(piece):
            self._count(piece, None, _PLAIN_CELL)

    def _count(self, piece: bytes, rows: re.Pattern[bytes] | None,
               cells: re.Pattern[bytes] | None) -> None:
        """Every reference of the piece, one by one (distinct values only)."""
        if cells is not None:
            columns = set(cells.findall(piece))
            if b"" in columns:  # a cell tag without a reference: only the exact scan knows
                self.irregular = True
                return
            self._max_column = max(columns | {self._max_column}, key=lambda c: (len(c), c))
        if rows is not None:
            numbers = set(map(int, set(rows.findall(piece))))
            if 0 in numbers:  # row 0 does not exist: the exact scan names the reference
                self.irregular = True
                return
            self._max_row = max(numbers | {self._max_row})


# -- merged cells ------------------------------------------------------------------------------

#: A ``<mergeCell`` element, with or without a namespace prefix (not ``<mergeCells``).
_MERGE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.\-]{0,31}:)?mergeCell(?=[\s/>])")
_MERGE_TAIL = 48  # longer than any match: a match cut by a chunk is found in the next one


class MergeCount:
    """How many merged ranges a worksheet declares, counted in its bytes: calamine parses
    them all when it opens the sheet, and python-calamine hands them to Python as ~280 bytes
    of tuples each, so their number is checked first. Counting raw bytes (a comment too)
    errs on the strict side."""

    def __init__(self) -> None:
        self.count = 0
        self._carry = b""

    def feed(self, chunk: bytes) -> None:
        data = self._carry + chunk
        # a match holds a single '<': cut before the last '<' near the end (it may open a
        # match the next chunk completes), else keep nothing
        last = data.rfind(b"<", max(len(data) - _MERGE_TAIL, 0))
        cut = last if last >= 0 else len(data)
        if b"mergeCell" in data:  # most chunks hold none: a byte search, not the regex
            self.count += len(_MERGE_CELL.findall(data, 0, cut))
        self._carry = data[cut:]

    def result(self) -> int:
        count = self.count + len(_MERGE_CELL.findall(self._carry))
        self.count, self._carry = count, b""
        return count

"""The exact scan of a worksheet's extent (``xmlscan`` has the fast one and the plain words):
its XML walked tag by tag the way calamine's reader walks it, within a budget of tags, for
the sheets whose cell tags are not all the plain ``<c r="A1"`` that the fast scan reads."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rma.adapters.readers.xmlscan import (
    BAD_REFERENCE,
    DAMAGED,
    EXACT_SCAN_BUDGET,
    MAX_TAG_BYTES,
    NESTED,
    TOO_COMPLEX,
    Extent,
    column_number,
)

_CELL_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
_ROW_REF = re.compile(rb"[A-Za-z]*([0-9]+)")


#: One token as quick-xml reads it: comment, CDATA, processing instruction, or a tag whose
#: '>' may sit inside quotes. Groups: '/' of an end tag, the qualified name, the attributes.
_TOKEN = re.compile(
    rb"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>"
    rb"|(/?)([^\s/>\"'!?]+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>)",
    re.DOTALL)
_ATTRIBUTE = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attribute(attributes: bytes, key: bytes) -> bytes | None:
    """The first value of attribute ``key`` (quick-xml's order), or None."""
    for match in _ATTRIBUTE.finditer(attributes):
        if match.group(1) == key:
            value = match.group(2)
            return value if value is not None else match.group(3)
    return None


class ExactSheetScan:
    """Walks a worksheet's sheetData as calamine's cell reader does: a row without ``r`` follows
    the previous row, a cell without ``r`` follows the previous cell of its row. Inside a cell
    the tags must nest properly and hold no cell or row, or calamine's reading and this one
    could part ways; such a sheet is refused."""

    def __init__(self, budget: int = EXACT_SCAN_BUDGET) -> None:
        self.problem: str | None = None
        self._budget = budget
        self._carry = b""
        self._started = self._done = False
        self._cell: list[bytes] = []  # the open cell's tags, itself first; [] outside cells
        self._row = self._column = 0  # calamine's running position (0-based)
        self._max_row = self._max_column = 0  # 1-based

    def feed(self, chunk: bytes) -> None:
        if self.problem is not None or self._done:
            return
        data = self._carry + chunk
        self._carry = b""
        position, find, match = 0, data.find, _TOKEN.match
        while not self._done and self.problem is None:
            start = find(b"<", position)
            if start < 0:
                break
            token = match(data, start)
            if token is None:  # cut off by the chunk, or damaged (see result())
                self._carry = data[start:]
                break
            position = token.end()
            qname = token.group(2)
            if qname is None:  # a comment, CDATA or processing instruction
                continue
            self._budget -= 1
            if self._budget < 0:
                self.problem = TOO_COMPLEX
            elif self._started:
                self._tag(token.group(1), qname, token.group(3))
            else:
                local = qname.rpartition(b":")[2] if b":" in qname else qname
                self._started = local == b"sheetData" and not token.group(1)
                self._done = self._started and token.group(3).rstrip().endswith(b"/")
        if len(self._carry) > MAX_TAG_BYTES:
            self.problem = DAMAGED

    @property
    def budget_left(self) -> int:
        return max(self._budget, 0)

    def result(self) -> Extent:
        if self.problem is None and self._carry and not self._done:
            self.problem = DAMAGED
        return Extent(self._max_row, self._max_column, self.problem)

    def _tag(self, closing: bytes, qname: bytes, attributes: bytes) -> None:
        local = qname.split(b":", 1)[1] if b":" in qname else qname  # quick-xml's local name
        cell = self._cell
        if cell:  # inside a cell: its own tags, properly nested, then its end
            if closing:
                if cell.pop() != qname:
                    self.problem = DAMAGED
                elif not cell:
                    self._column += 1
            elif local in (b"c", b"row"):
                self.problem = NESTED
            elif not attributes.rstrip().endswith(b"/"):
                cell.append(qname)
            return
        if closing:
            if local == b"row":
                self._row += 1
                self._column = 0
            elif local == b"sheetData":
                self._done = True  # calamine stops at </sheetData>
            return
        empty = attributes.rstrip().endswith(b"/")
        if local == b"c":
            self._start_cell(attributes)
            if empty:
                self._column += 1
            else:
                cell.append(qname)
        elif local == b"row":
            self._start_row(attributes)
            if empty:
                self._row += 1
                self._column = 0

    def _start_row(self, attributes: bytes) -> None:
        ref = attribute(attributes, b"r")
        if ref is None:
            return
        found = _ROW_REF.fullmatch(ref)
        if found is None or int(found.group(1)) < 1:
            self.problem = BAD_REFERENCE.format(ref=ref.decode("ascii", "replace")[:20])
            return
        self._row = int(found.group(1)) - 1

    def _start_cell(self, attributes: bytes) -> None:
        ref = attribute(attributes, b"r") if b"r" in attributes else None
        if ref is None:
            row, column = self._row, self._column
        else:
            found = _CELL_REF.fullmatch(ref)
            if found is None or int(found.group(2)) < 1:
                self.problem = BAD_REFERENCE.format(ref=ref.decode("ascii", "replace")[:20])
                return
            row, column = int(found.group(2)) - 1, column_number(found.group(1)) - 1
            self._column = column
        self._max_row = max(self._max_row, row + 1)
        self._max_column = max(self._max_column, column + 1)


def exact_extent(chunks: Iterable[bytes], budget: int = EXACT_SCAN_BUDGET
                 ) -> tuple[Extent, int]:
    """``ExactSheetScan`` over a worksheet part's chunks: its extent and the budget left."""
    scan = ExactSheetScan(budget)
    for chunk in chunks:
        scan.feed(chunk)
        if scan.problem is not None:
            break
    return scan.result(), scan.budget_left

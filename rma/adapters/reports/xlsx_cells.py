"""The cells of rejections.xlsx: formats, sent values written with the right call, comments,
and the heights of rows whose cells wrap. The sheets (``xlsx_rows``, ``xlsx_summary``) are
built from these.

Every text goes through ``write_string`` (never ``write``, which would turn ``=...`` into a
formula or a URL into a link), already escaped against formula injection.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rma.adapters.reports.escape import as_text, escape_formula, is_blank, xml_safe

COMMENT_AUTHOR = "RMA intake"
ERROR_COLOR = "#FFC7CE"
WARNING_COLOR = "#FFEB9C"
HEADER_COLOR = "#D9D9D9"
MAX_CELL_CHARS = 32_767
LINE_HEIGHT = 15  # points: one line of the default 11-point font
CHARS_PER_WIDTH = 1.05
A4 = 9  # XlsxWriter's paper code

_NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss", "time": "hh:mm:ss"}


#: Every cell is top-aligned, so a row made tall by a wrapped message reads from its top line.
DEFAULT_FORMAT = {"font_name": "Calibri", "font_size": 11, "valign": "top"}


class Formats:
    """The workbook's cell formats, each made once (on top of DEFAULT_FORMAT)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._properties: dict[int, dict[str, Any]] = {}
        self.bold = self.make(bold=True)
        self.title = self.make(bold=True, font_size=14)
        self.header = self.make(bold=True, bg_color=HEADER_COLOR, pattern=1, border=1,
                                text_wrap=True)
        self.wrap = self.make(text_wrap=True)
        self.left = self.make(align="left")
        self.error = self.make(bg_color=ERROR_COLOR, pattern=1)
        self.warning = self.make(bg_color=WARNING_COLOR, pattern=1)

    def make(self, **properties: Any) -> Format:
        key = tuple(sorted(properties.items()))
        if key not in self._made:
            made = self._wb.add_format(properties)
            self._made[key] = made
            self._properties[id(made)] = properties
        return self._made[key]

    def like(self, base: Format | None, **more: Any) -> Format:
        """``base`` with more properties: XlsxWriter has one format per cell."""
        properties = dict(self._properties[id(base)]) if base is not None else {}
        return self.make(**{**properties, **more})

    def dated(self, base: Format | None, kind: str) -> Format:
        """A format that also shows a date, a date-time or a time."""
        return self.like(base, num_format=_NUMBER_FORMATS[kind])

    def marked(self, error: bool, wrap: bool) -> Format:
        """A bad cell (red) or a cell with a warning (yellow), wrapped in a wrapped column."""
        base = self.error if error else self.warning
        return self.like(base, text_wrap=True) if wrap else base


def xlsx_value(value: Any) -> Any:
    """A sent value as a cell value: text escaped and XML-safe, numbers and dates kept."""
    if is_blank(value):
        return None
    if isinstance(value, str):
        return xml_safe(escape_formula(value))[:MAX_CELL_CHARS]
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else as_text(value)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)  # Excel has no time zones
        # a plain date shows as yyyy-mm-dd rather than with a 00:00:00 tail
        return value.date() if value.time() == time(0) else value
    if isinstance(value, date | time):
        return value
    return xml_safe(escape_formula(as_text(value)))[:MAX_CELL_CHARS]


def put(ws: Worksheet, formats: Formats, row: int, col: int, value: Any,
        fmt: Format | None = None) -> None:
    """Write one sent value (``xlsx_value`` applied) with the right XlsxWriter call."""
    value = xlsx_value(value)
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, formats.dated(fmt, "datetime"))
    elif isinstance(value, date):
        ws.write_datetime(row, col, value, formats.dated(fmt, "date"))
    else:  # time
        ws.write_datetime(row, col, value, formats.dated(fmt, "time"))


def comment(ws: Worksheet, row: int, col: int, texts: list[str]) -> None:
    """A cell's comment: one text a line, sized to show them all."""
    text = xml_safe("\n".join(texts))[:MAX_CELL_CHARS]
    lines = sum(1 + len(t) // 50 for t in texts)
    ws.write_comment(row, col, text, {"author": COMMENT_AUTHOR, "width": 320,
                                      "height": max(60, 16 * lines + 20)})


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a width
    counts digits; a line of sentences holds about 1.05 as many characters after its word
    break, as LibreOffice draws Calibri's metrics), rounded up."""
    per_line = max(width * CHARS_PER_WIDTH, 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def row_height(texts: list[tuple[str, float]]) -> float | None:
    """A row's height for its wrapped cells, given as (text, column width) (``None``: the
    default, one line). Set, not left to the program: LibreOffice does not grow a row, and
    text would run over the next."""
    lines = max((_lines(text, width) for text, width in texts if text), default=1)
    return LINE_HEIGHT * lines if lines > 1 else None

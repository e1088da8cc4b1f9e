"""rejections.xlsx: the submitter's rows as sent, bad cells marked, plus a summary sheet.

Written with XlsxWriter in constant-memory mode: rows stream to disk in order, so memory
stays flat for big reports, and it is several times faster than openpyxl's write-only mode
(bench/HISTORY.md). Every text goes through ``write_string`` (never ``write``, which would
turn ``=...`` into a formula or a URL into a link), already escaped against formula injection.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rma.adapters.reports.escape import as_text, escape_formula, is_blank, xml_safe
from rma.adapters.reports.summary import (
    IssueLine,
    ReportInput,
    claim_label,
    issue_lines,
    reason_counts,
)
from rma.domain.vocabulary.columns import REPORT_ERRORS, REPORT_ROW

REJECTIONS_SHEET = "Rejections"
SUMMARY_SHEET = "Summary"
#: Rows of accepted claims that carry a warning: shown apart, so that the Rejections sheet
#: holds only what is to be corrected and sent back, and nothing is filed twice.
WARNINGS_SHEET = "Accepted with warnings"
WARNINGS_HEADER = "Warnings"
COMMENT_AUTHOR = "RMA intake"
ERROR_COLOR = "#FFC7CE"
WARNING_COLOR = "#FFEB9C"
HEADER_COLOR = "#D9D9D9"
MAX_CELL_CHARS = 32_767
WIDTH_SAMPLE_ROWS = 500
#: Column widths in characters: a sent column fits its longest value up to TEXT_WIDTH and
#: wraps beyond it; the Errors column fits its text between ERRORS_WIDTH's bounds and wraps.
MIN_WIDTH, TEXT_WIDTH = 8, 40
ERRORS_WIDTH = (30, 60)
ROW_WIDTH = 7
LINE_HEIGHT = 15  # points: one line of the default 11-point font
CHARS_PER_WIDTH = 1.05
#: Column width (in characters) that fits across a landscape A4 page at about three quarters
#: of full size, still readable; a wider sheet prints on several pages across, each one with
#: the Row and Errors columns again.
PAGE_WIDTH_CHARS = 200
#: The data sheets: Row, then Errors (what to fix), then the submitter's columns as sent.
ROW_COL, NOTES_COL, FIRST_SENT_COL = 0, 1, 2
A4 = 9  # XlsxWriter's paper code


#: A summary sheet is for people: a batch of 180k accepted claims lists the first ones only.
MAX_IDS_LISTED = 1000

_NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss", "time": "hh:mm:ss"}


#: Every cell is top-aligned, so a row made tall by a wrapped message reads from its top line.
DEFAULT_FORMAT = {"font_name": "Calibri", "font_size": 11, "valign": "top"}


class _Formats:
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


#: A report of at most this many rows (rejected rows plus issues, an upper bound of the rows
#: written) is built in memory: ~2 ms a small workbook instead of ~9 ms through XlsxWriter's
#: temporary files. Larger ones stream row by row to a temporary file (``constant_memory``).
IN_MEMORY_ROWS = 2_000


def write_xlsx(report: ReportInput, path: Path, lines: list[IssueLine] | None = None) -> None:
    if lines is None:
        lines = issue_lines(report)
    small = len(report.rejected_rows) + len(lines) <= IN_MEMORY_ROWS
    wb = xlsxwriter.Workbook(str(path), {
        "in_memory": small, "constant_memory": not small, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False, "nan_inf_to_errors": False,
        # top alignment in the default format: a plain cell needs no style of its own
        "default_format_properties": DEFAULT_FORMAT})
    formats = _Formats(wb)
    rejected, warned = sheet_rows(report, lines)
    rows_sheet = partial(_write_rows, formats=formats, report=report, lines=lines)
    rows_sheet(wb.add_worksheet(REJECTIONS_SHEET), rows=rejected, notes_header=REPORT_ERRORS)
    _write_summary(wb.add_worksheet(SUMMARY_SHEET), formats, report, lines, warned)
    if warned:
        rows_sheet(wb.add_worksheet(WARNINGS_SHEET), rows=warned, notes_header=WARNINGS_HEADER)
    wb.close()


# -- values -----------------------------------------------------------------------------------


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


def put(ws: Worksheet, formats: _Formats, row: int, col: int, value: Any,
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


def _comment(ws: Worksheet, row: int, col: int, texts: list[str]) -> None:
    text = xml_safe("\n".join(texts))[:MAX_CELL_CHARS]
    lines = sum(1 + len(t) // 50 for t in texts)
    ws.write_comment(row, col, text, {"author": COMMENT_AUTHOR, "width": 320,
                                      "height": max(60, 16 * lines + 20)})


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


# -- the Rejections sheet (and the sheet of accepted rows with warnings) ----------------------


def sheet_rows(report: ReportInput, lines: list[IssueLine]) -> tuple[list[int], list[int]]:
    """The rows of the Rejections sheet (every row of a rejected claim) and those of the
    warnings sheet (rows of accepted claims with an issue of their own), in sheet order."""
    index = report.sheet.sent.index
    rejected = {r for r in report.rejected_rows if r in index}
    issued = {line.row for line in lines if not line.file_level and line.row is not None}
    return sorted(rejected), sorted(issued - rejected)


def _first_error_row(report: ReportInput, lines: list[IssueLine]) -> dict[str, int]:
    first: dict[str, int] = {}
    for line in lines:
        if not line.file_level and not line.warning and line.row is not None:
            first.setdefault(claim_label(report, line.row), line.row)
    return first


def errors_text(
    report: ReportInput,
    row: int,
    own: list[IssueLine],
    rejected: bool,
    first_error_row: dict[str, int],
) -> str:
    parts = _unique([line.plain() for line in own])
    if rejected and all(line.warning for line in own):
        label = claim_label(report, row)
        note = f"Rejected with the rest of claim {label}"
        see = first_error_row.get(label)
        if see is not None and see != row:
            note += f" (see row {see})"
        parts.insert(0, note)
    return "\n".join(parts)  # a problem a line: the cell wraps, and a list reads at a glance


def _fitted(header: str, values: list[Any]) -> tuple[int, bool]:
    """A sent column's width and whether its cells wrap: it fits its longest value (and the
    header's longest word: the header wraps) up to TEXT_WIDTH; longer text wraps."""
    longest = max((len(line) for v in values for line in as_text(v).split("\n")), default=0)
    word = max((len(w) for w in header.split()), default=0)
    return max(min(max(longest, word) + 2, TEXT_WIDTH), MIN_WIDTH), longest + 2 > TEXT_WIDTH


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a width
    counts digits; a line of sentences holds about 1.05 as many characters after its word
    break, as LibreOffice draws Calibri's metrics), rounded up."""
    per_line = max(width * CHARS_PER_WIDTH, 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _height(texts: list[tuple[str, float]]) -> float | None:
    """A row's height for its wrapped cells (``None``: the default, one line). Set, not left
    to the program: LibreOffice does not grow a row, and text would run over the next."""
    lines = max((_lines(text, width) for text, width in texts if text), default=1)
    return LINE_HEIGHT * lines if lines > 1 else None


def _write_rows(ws: Worksheet, formats: _Formats, report: ReportInput, lines: list[IssueLine],
                rows: list[int], notes_header: str) -> None:
    """Row, the notes (what to fix), then the submitter's columns: bad cells red with a
    comment, warnings yellow; header and the first two columns frozen, filtered, printable."""
    sent = report.sheet.sent
    headers = [str(h) for h in sent.columns]
    by_row: dict[int, list[IssueLine]] = defaultdict(list)
    for line in lines:
        if not line.file_level and line.row is not None:
            by_row[line.row].append(line)
    rejected = set(report.rejected_rows)
    first_error = _first_error_row(report, lines)
    values = sent.loc[rows].to_numpy(dtype=object).tolist() if rows else []
    notes = [errors_text(report, r, by_row[r], r in rejected, first_error) for r in rows]

    sample = values[:WIDTH_SAMPLE_ROWS]
    fits = [_fitted(h, [v[i] for v in sample]) for i, h in enumerate(headers)]
    low, high = ERRORS_WIDTH
    longest_note = max((len(n) for n in notes[:WIDTH_SAMPLE_ROWS]), default=0)
    notes_width = min(max(longest_note + 2, low), high)
    widths = [ROW_WIDTH, notes_width, *(width for width, _ in fits)]
    wrapped = [False, True, *(wrap for _, wrap in fits)]
    for col, (width, wrap) in enumerate(zip(widths, wrapped, strict=True)):
        ws.set_column(col, col, width, formats.wrap if wrap else None)
    long_columns = [i for i, (_, wrap) in enumerate(fits) if wrap]
    last_col = FIRST_SENT_COL + len(headers) - 1
    ws.freeze_panes(1, FIRST_SENT_COL)
    ws.autofilter(0, 0, len(rows), last_col)
    _page_setup(ws, len(rows), widths)

    all_headers = [REPORT_ROW, notes_header, *headers]
    # the autofilter's drop-down button takes about two characters of the header's width
    ws.set_row(0, _height([(h, w - 2) for h, w in zip(all_headers, widths, strict=True)]))
    for col, header in enumerate(all_headers):
        put(ws, formats, 0, col, header, formats.header)
    column_of = {header: i for i, header in enumerate(headers)}
    for out_row, (row, row_values, note) in enumerate(zip(rows, values, notes, strict=True),
                                                      start=1):
        height = _height([(note, notes_width), *((as_text(row_values[i]), fits[i][0])
                                                 for i in long_columns)])
        if height is not None:
            ws.set_row(out_row, height)
        ws.write_number(out_row, ROW_COL, row)
        put(ws, formats, out_row, NOTES_COL, note)
        marked = _marks(by_row[row])
        for i, value in enumerate(row_values):
            marks = marked.get(headers[i])
            if not marks:
                put(ws, formats, out_row, FIRST_SENT_COL + i, value)
        for header, marks in marked.items():
            i = column_of.get(header)
            if i is None:
                continue
            has_error = any(not m.warning for m in marks)
            put(ws, formats, out_row, FIRST_SENT_COL + i, row_values[i],
                formats.marked(has_error, fits[i][1]))
            _comment(ws, out_row, FIRST_SENT_COL + i, _unique(
                [f"Warning – {m.message}" if m.warning else m.message for m in marks]))


def _page_setup(ws: Worksheet, rows: int, widths: list[float]) -> None:
    """Printed (or exported to PDF) as seen: landscape A4, the header row on every page, the
    sheet's name and page number in the footer, and every column on the page's width. Unless
    that makes the text too small to read (a whole claim template is ~380 characters wide):
    then the columns take a few pages across, each page with Row and Errors in front."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.repeat_rows(0)
    frozen = sum(widths[:FIRST_SENT_COL])
    across = 1 if sum(widths) <= PAGE_WIDTH_CHARS else \
        math.ceil((sum(widths) - frozen) / (PAGE_WIDTH_CHARS - frozen))
    if across > 1:
        ws.repeat_columns(ROW_COL, NOTES_COL)
        ws.print_across()  # the first rows on all their pages, then the next rows
    ws.fit_to_pages(across, 0)
    ws.print_area(0, 0, max(rows, 1), len(widths) - 1)
    ws.set_footer("&L&A&RPage &P of &N")


def _marks(own: list[IssueLine]) -> dict[Any, list[IssueLine]]:
    per_cell: dict[Any, list[IssueLine]] = defaultdict(list)
    for line in own:
        if line.header:
            per_cell[line.header].append(line)
    return per_cell


# -- the Summary sheet ------------------------------------------------------------------------

#: What the Summary says about sending the corrected rows back (the reader drops our columns).
SEND_BACK = (f"Correct the red cells on the {REJECTIONS_SHEET} sheet (each has a comment that "
             "says what is wrong) and send this file back as a new batch. The "
             f"{REPORT_ROW} and {REPORT_ERRORS} columns are ignored when it comes back, and the "
             f"{REJECTIONS_SHEET} sheet holds only rejected claims, so nothing is filed twice.")
WARNED_ROWS = (f"The {WARNINGS_SHEET} sheet shows rows of accepted claims that carry a "
               "warning: they are filed; do not send them again.")


#: The Summary's columns: names and codes; kind; counts or row; claims or column; then the
#: two of sentences, wrapped.
SUMMARY_WIDTHS = (28, 10, 8, 16, 50, 50)


def _write_summary(ws: Worksheet, formats: _Formats, report: ReportInput,
                   lines: list[IssueLine], warned: list[int]) -> None:
    for col, width in enumerate(SUMMARY_WIDTHS):
        ws.set_column(col, col, width, formats.wrap if width >= 50 else None)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    sheet = report.sheet
    row = 0

    def append(values: list[Any], fmt: Format | None = None,
               first: Format | None = None) -> None:
        nonlocal row
        height = _height([(as_text(v), w) for v, w in zip(values, SUMMARY_WIDTHS, strict=False)
                          if w >= 50])
        if height is not None:
            ws.set_row(row, height)
        for col, value in enumerate(values):
            put(ws, formats, row, col, value, first if col == 0 and first else fmt)
        row += 1

    def title(text: str) -> None:
        nonlocal row
        row += 1
        append([text], formats.bold)

    def paragraph(text: str) -> None:
        nonlocal row
        last = len(SUMMARY_WIDTHS) - 1
        # a merged cell: as wide as the sheet; its height is set as for any wrapped cell
        ws.set_row(row, _height([(text, sum(SUMMARY_WIDTHS))]))
        ws.merge_range(row, 0, row, last, xml_safe(text), formats.wrap)
        row += 1

    append(["RMA claim batch report"], formats.title)
    rejected, _ = sheet_rows(report, lines)
    facts: list[tuple[str, Any]] = [
        ("Batch ID", report.batch_id),
        ("Account", report.account_id or "(taken from each row)"),
        ("File name", sheet.source.name),
        ("Sheet", sheet.sheet),
        ("Header row", sheet.header_row),
        ("Claims accepted", report.claims_accepted),
        ("Claims rejected", report.claims_rejected),
        (f"Rows in the {REJECTIONS_SHEET} sheet", len(rejected)),
        *([(f"Rows in the {WARNINGS_SHEET} sheet", len(warned))] if warned else []),
        (
            "Accepted claim IDs",
            f"{len(report.claim_ids)} (listed at the end of this sheet)"
            if report.claim_ids
            else "none",
        ),
    ]
    for name, value in facts:
        append([name, value], formats.left, first=formats.bold)

    advice = [text for text, needed in ((SEND_BACK, rejected), (WARNED_ROWS, warned)) if needed]
    if advice:
        title("What to do")
        for text in advice:
            paragraph(text)

    title("Reasons")
    append(["Code", "Kind", "Issues", "Claims", "Meaning", "How to fix"], formats.header)
    for rc in reason_counts(report, lines):
        kind = "Warning" if rc.warning else "Error"
        append([rc.code, kind, rc.issues, rc.claims, rc.meaning, rc.how_to_fix])

    notes = [line for line in lines if line.file_level]
    if notes:
        title("File-level notes")
        append(["Code", "Kind", "Row", "Column", "Message", "Value"], formats.header)
        for line in notes:
            kind = "Warning" if line.warning else "Error"
            append([line.code, kind, line.row, line.column, line.message, line.value])

    if report.claim_ids:
        title("Accepted claim IDs")
        for claim_id in report.claim_ids[:MAX_IDS_LISTED]:
            append([claim_id])
        if len(report.claim_ids) > MAX_IDS_LISTED:
            more = len(report.claim_ids) - MAX_IDS_LISTED
            append([f"… and {more} more, up to {report.claim_ids[-1]} "
                    "(rma claims list shows them all)"])

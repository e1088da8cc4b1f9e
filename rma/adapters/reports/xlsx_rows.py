"""The row sheets of rejections.xlsx: Rejections (every row of a rejected claim) and Accepted
with warnings. Row, then Errors (what to fix), then the submitter's columns as sent; bad cells
red with a comment, warnings yellow; the header and the first two columns frozen, filtered,
printable.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from xlsxwriter.worksheet import Worksheet

from rma.adapters.reports.escape import as_text
from rma.adapters.reports.lines import IssueLine, ReportInput, claim_label
from rma.adapters.reports.xlsx_cells import A4, Formats, comment, put, row_height
from rma.domain.vocabulary.columns import REPORT_ROW

REJECTIONS_SHEET = "Rejections"
#: Rows of accepted claims that carry a warning: shown apart, so that the Rejections sheet
#: holds only what is to be corrected and sent back, and nothing is filed twice.
WARNINGS_SHEET = "Accepted with warnings"
WARNINGS_HEADER = "Warnings"
WIDTH_SAMPLE_ROWS = 500
#: Column widths in characters: a sent column fits its longest value up to TEXT_WIDTH and
#: wraps beyond it; the Errors column fits its text between ERRORS_WIDTH's bounds and wraps.
MIN_WIDTH, TEXT_WIDTH = 8, 40
ERRORS_WIDTH = (30, 60)
ROW_WIDTH = 7
#: Column width (in characters) that fits across a landscape A4 page at about three quarters
#: of full size, still readable; a wider sheet prints on several pages across, each one with
#: the Row and Errors columns again.
PAGE_WIDTH_CHARS = 200
#: The data sheets: Row, then Errors (what to fix), then the submitter's columns as sent.
ROW_COL, NOTES_COL, FIRST_SENT_COL = 0, 1, 2


def sheet_rows(report: ReportInput, lines: list[IssueLine]) -> tuple[list[int], list[int]]:
    """The rows of the Rejections sheet (every row of a rejected claim) and those of the
    warnings sheet (rows of accepted claims with an issue of their own), in sheet order."""
    index = report.sheet.sent.index
    rejected = {r for r in report.rejected_rows if r in index}
    issued = {line.row for line in lines if not line.file_level and line.row is not None}
    return sorted(rejected), sorted(issued - rejected)


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


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


@dataclass(frozen=True)
class _Layout:
    """A row sheet's columns: the sent headers, every column's width and whether it wraps."""

    headers: list[str]  # the submitter's, in sheet order
    widths: list[float]  # Row, notes, then each sent column
    wrapped: list[bool]  # likewise
    column_of: dict[str, int]  # sent header -> its position among the sent columns
    long_columns: list[int]  # the positions of the sent columns that wrap

    @property
    def notes_width(self) -> float:
        return self.widths[NOTES_COL]

    def sent_width(self, i: int) -> float:
        return self.widths[FIRST_SENT_COL + i]

    def sent_wraps(self, i: int) -> bool:
        return self.wrapped[FIRST_SENT_COL + i]


def _layout(headers: list[str], values: list[list[Any]], notes: list[str]) -> _Layout:
    """Widths fitted to the first WIDTH_SAMPLE_ROWS rows: a long report is not read twice."""
    sample = values[:WIDTH_SAMPLE_ROWS]
    fits = [_fitted(h, [v[i] for v in sample]) for i, h in enumerate(headers)]
    low, high = ERRORS_WIDTH
    longest_note = max((len(n) for n in notes[:WIDTH_SAMPLE_ROWS]), default=0)
    notes_width = min(max(longest_note + 2, low), high)
    return _Layout(headers=headers,
                   widths=[ROW_WIDTH, notes_width, *(width for width, _ in fits)],
                   wrapped=[False, True, *(wrap for _, wrap in fits)],
                   column_of={header: i for i, header in enumerate(headers)},
                   long_columns=[i for i, (_, wrap) in enumerate(fits) if wrap])


def _set_up(ws: Worksheet, formats: Formats, layout: _Layout, rows: int) -> None:
    """Column widths and wrapping, the frozen header and first columns, the filter, printing."""
    for col, (width, wrap) in enumerate(zip(layout.widths, layout.wrapped, strict=True)):
        ws.set_column(col, col, width, formats.wrap if wrap else None)
    ws.freeze_panes(1, FIRST_SENT_COL)
    ws.autofilter(0, 0, rows, FIRST_SENT_COL + len(layout.headers) - 1)
    _page_setup(ws, rows, layout.widths)


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


def _write_header(ws: Worksheet, formats: Formats, layout: _Layout, notes_header: str) -> None:
    all_headers = [REPORT_ROW, notes_header, *layout.headers]
    # the autofilter's drop-down button takes about two characters of the header's width
    ws.set_row(0, row_height([(h, w - 2) for h, w in zip(all_headers, layout.widths,
                                                          strict=True)]))
    for col, header in enumerate(all_headers):
        put(ws, formats, 0, col, header, formats.header)


def _marks(own: list[IssueLine]) -> dict[Any, list[IssueLine]]:
    per_cell: dict[Any, list[IssueLine]] = defaultdict(list)
    for line in own:
        if line.header:
            per_cell[line.header].append(line)
    return per_cell


def _write_row(ws: Worksheet, formats: Formats, layout: _Layout, out_row: int, row: int,
               values: list[Any], note: str, own: list[IssueLine]) -> None:
    """One sheet row: its number, the notes, the sent values; a marked cell is coloured (red
    for an error, else yellow) and carries a comment with its messages."""
    height = row_height([(note, layout.notes_width),
                         *((as_text(values[i]), layout.sent_width(i))
                           for i in layout.long_columns)])
    if height is not None:
        ws.set_row(out_row, height)
    ws.write_number(out_row, ROW_COL, row)
    put(ws, formats, out_row, NOTES_COL, note)
    marked = _marks(own)
    for i, value in enumerate(values):
        if not marked.get(layout.headers[i]):
            put(ws, formats, out_row, FIRST_SENT_COL + i, value)
    for header, marks in marked.items():
        position = layout.column_of.get(header)
        if position is None:
            continue
        i = position
        has_error = any(not m.warning for m in marks)
        put(ws, formats, out_row, FIRST_SENT_COL + i, values[i],
            formats.marked(has_error, layout.sent_wraps(i)))
        comment(ws, out_row, FIRST_SENT_COL + i, _unique(
            [f"Warning – {m.message}" if m.warning else m.message for m in marks]))


def write_rows(ws: Worksheet, formats: Formats, report: ReportInput, lines: list[IssueLine],
               rows: list[int], notes_header: str) -> None:
    """A row sheet of ``rows`` (sheet rows, in order) under ``notes_header``."""
    sent = report.sheet.sent
    by_row: dict[int, list[IssueLine]] = defaultdict(list)
    for line in lines:
        if not line.file_level and line.row is not None:
            by_row[line.row].append(line)
    rejected = set(report.rejected_rows)
    first_error = _first_error_row(report, lines)
    values = sent.loc[rows].to_numpy(dtype=object).tolist() if rows else []
    notes = [errors_text(report, r, by_row[r], r in rejected, first_error) for r in rows]
    layout = _layout([str(h) for h in sent.columns], values, notes)
    _set_up(ws, formats, layout, len(rows))
    _write_header(ws, formats, layout, notes_header)
    for out_row, (row, row_values, note) in enumerate(zip(rows, values, notes, strict=True),
                                                      start=1):
        _write_row(ws, formats, layout, out_row, row, row_values, note, by_row[row])

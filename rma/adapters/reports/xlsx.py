"""rejections.xlsx: the submitter's rows as sent, bad cells marked, plus a summary sheet.

Written with XlsxWriter in constant-memory mode: rows stream to disk in order, so memory
stays flat for big reports, and it is several times faster than openpyxl's write-only mode
(bench/HISTORY.md). The sheets: ``xlsx_rows`` (Rejections, Accepted with warnings) and
``xlsx_summary`` (Summary), both built from the cells of ``xlsx_cells``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import xlsxwriter

from rma.adapters.reports.lines import IssueLine, ReportInput, issue_lines
from rma.adapters.reports.xlsx_cells import DEFAULT_FORMAT, Formats
from rma.adapters.reports.xlsx_rows import (
    REJECTIONS_SHEET,
    WARNINGS_HEADER,
    WARNINGS_SHEET,
    sheet_rows,
    write_rows,
)
from rma.adapters.reports.xlsx_summary import SUMMARY_SHEET, write_summary
from rma.domain.vocabulary.columns import REPORT_ERRORS

#: A report of at most this many rows (rejected rows plus issues, an upper bound of the rows
#: written) is built in memory, which is faster for a small workbook than XlsxWriter's
#: temporary files. Larger ones stream row by row to a temporary file (``constant_memory``).
IN_MEMORY_ROWS = 2_000


def write_xlsx(report: ReportInput, path: Path, lines: list[IssueLine] | None = None) -> None:
    """Write the workbook of ``report`` to ``path``; ``lines``: its issue lines if made already."""
    if lines is None:
        lines = issue_lines(report)
    small = len(report.rejected_rows) + len(lines) <= IN_MEMORY_ROWS
    wb = xlsxwriter.Workbook(str(path), {
        "in_memory": small, "constant_memory": not small, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False, "nan_inf_to_errors": False,
        # top alignment in the default format: a plain cell needs no style of its own
        "default_format_properties": DEFAULT_FORMAT})
    formats = Formats(wb)
    rejected, warned = sheet_rows(report, lines)
    rows_sheet = partial(write_rows, formats=formats, report=report, lines=lines)
    rows_sheet(wb.add_worksheet(REJECTIONS_SHEET), rows=rejected, notes_header=REPORT_ERRORS)
    write_summary(wb.add_worksheet(SUMMARY_SHEET), formats, report, lines, rejected, warned)
    if warned:
        rows_sheet(wb.add_worksheet(WARNINGS_SHEET), rows=warned, notes_header=WARNINGS_HEADER)
    wb.close()

"""rejections.xlsx: the submitter's rows as sent, bad cells marked, plus a summary sheet.

Written with XlsxWriter in constant-memory mode: rows stream to disk in order, so memory
stays flat for big reports, and it is several times faster than openpyxl's write-only mode
(bench/README.md). Every text goes through ``write_string`` (never ``write``, which would
turn ``=...`` into a formula or a URL into a link), already escaped against formula injection.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rma.reports.escape import as_text, escape_formula, is_blank, xml_safe
from rma.reports.summary import (
    IssueLine,
    ReportInput,
    claim_label,
    issue_lines,
    reason_counts,
)

REJECTIONS_SHEET = "Rejections"
SUMMARY_SHEET = "Summary"
COMMENT_AUTHOR = "RMA intake"
ERROR_COLOR = "#FFC7CE"
WARNING_COLOR = "#FFEB9C"
HEADER_COLOR = "#D9D9D9"
MAX_CELL_CHARS = 32_767
WIDTH_SAMPLE_ROWS = 500


#: A summary sheet is for people: a batch of 180k accepted claims lists the first ones only.
MAX_IDS_LISTED = 1000


class _Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format({"bold": True, "bg_color": HEADER_COLOR, "pattern": 1})
        self.error = wb.add_format({"bg_color": ERROR_COLOR, "pattern": 1})
        self.warning = wb.add_format({"bg_color": WARNING_COLOR, "pattern": 1})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.time = wb.add_format({"num_format": "hh:mm:ss"})
        self._dated: dict[tuple[int, str], Format] = {}
        self._wb = wb

    def dated(self, base: Format | None, kind: str) -> Format:
        """A fill format that also shows a date: XlsxWriter has one format per cell."""
        if base is None:
            return getattr(self, kind)
        key = (id(base), kind)
        if key not in self._dated:
            number = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss",
                      "time": "hh:mm:ss"}[kind]
            color = ERROR_COLOR if base is self.error else WARNING_COLOR
            self._dated[key] = self._wb.add_format(
                {"bg_color": color, "pattern": 1, "num_format": number})
        return self._dated[key]


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
        "strings_to_urls": False, "strings_to_numbers": False, "nan_inf_to_errors": False})
    formats = _Formats(wb)
    _write_rejections(wb.add_worksheet(REJECTIONS_SHEET), formats, report, lines)
    _write_summary(wb.add_worksheet(SUMMARY_SHEET), formats, report, lines)
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


# -- the Rejections sheet ---------------------------------------------------------------------


def report_rows(report: ReportInput, lines: list[IssueLine]) -> list[int]:
    """Rows that are rejected or carry an issue of their own, in sheet order."""
    index = report.sheet.sent.index
    rows = {r for r in report.rejected_rows if r in index}
    rows |= {line.row for line in lines if not line.file_level and line.row is not None}
    return sorted(rows)


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
    return "; ".join(parts)


def _widths(headers: list[str], rows: list[list[Any]]) -> list[float]:
    widths = []
    for i, header in enumerate(headers):
        sample = [as_text(r[i]) for r in rows]
        longest = max([len(header), *(len(s) for s in sample)], default=0)
        widths.append(min(max(longest + 2, 8), 50))
    return widths


def _write_rejections(ws: Worksheet, formats: _Formats, report: ReportInput,
                      lines: list[IssueLine]) -> None:
    sent = report.sheet.sent
    headers = list(sent.columns)
    rows = report_rows(report, lines)
    by_row: dict[int, list[IssueLine]] = defaultdict(list)
    for line in lines:
        if not line.file_level and line.row is not None:
            by_row[line.row].append(line)
    rejected = set(report.rejected_rows)
    first_error = _first_error_row(report, lines)
    values = sent.loc[rows].to_numpy(dtype=object).tolist() if rows else []
    errors = [errors_text(report, r, by_row[r], r in rejected, first_error) for r in rows]

    all_headers = ["Row", *(str(h) for h in headers), "Errors"]
    sample = [[r, *v, ""] for r, v in zip(rows[:WIDTH_SAMPLE_ROWS], values, strict=False)]
    widths = _widths(all_headers, sample)
    widths[-1] = min(max(max((len(e) for e in errors), default=0) + 2, 30), 100)
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, len(rows), len(all_headers) - 1)

    for col, header in enumerate(all_headers):
        put(ws, formats, 0, col, header, formats.header)
    column_of = {header: i for i, header in enumerate(headers, start=1)}
    errors_col = len(all_headers) - 1
    for out_row, (row, row_values, error_text) in enumerate(
            zip(rows, values, errors, strict=True), start=1):
        marked = _marks(by_row[row])
        ws.write_number(out_row, 0, row)
        for col, value in enumerate(row_values, start=1):
            if value is not None and not marked:
                put(ws, formats, out_row, col, value)
        for header, marks in marked.items():
            col = column_of.get(header)
            if col is None:
                continue
            has_error = any(not m.warning for m in marks)
            put(ws, formats, out_row, col, row_values[col - 1],
                formats.error if has_error else formats.warning)
            _comment(ws, out_row, col, _unique(
                [f"Warning – {m.message}" if m.warning else m.message for m in marks]))
        if marked:
            for col, value in enumerate(row_values, start=1):
                if headers[col - 1] not in marked:
                    put(ws, formats, out_row, col, value)
        put(ws, formats, out_row, errors_col, error_text, formats.wrap)


def _marks(own: list[IssueLine]) -> dict[Any, list[IssueLine]]:
    per_cell: dict[Any, list[IssueLine]] = defaultdict(list)
    for line in own:
        if line.header:
            per_cell[line.header].append(line)
    return per_cell


# -- the Summary sheet ------------------------------------------------------------------------


def _write_summary(ws: Worksheet, formats: _Formats, report: ReportInput,
                   lines: list[IssueLine]) -> None:
    for col, width in enumerate((26, 34, 22, 10, 90, 30)):
        ws.set_column(col, col, width)
    sheet = report.sheet
    row = 0

    def append(values: list[Any], fmt: Format | None = None,
               first: Format | None = None) -> None:
        nonlocal row
        for col, value in enumerate(values):
            put(ws, formats, row, col, value, first if col == 0 and first else fmt)
        row += 1

    def title(text: str) -> None:
        nonlocal row
        row += 1
        append([text], formats.bold)

    append(["RMA claim batch report"], formats.title)
    facts: list[tuple[str, Any]] = [
        ("Batch ID", report.batch_id),
        ("Account", report.account_id or "(taken from each row)"),
        ("File name", sheet.source.name),
        ("Sheet", sheet.sheet),
        ("Header row", sheet.header_row),
        ("Claims accepted", report.claims_accepted),
        ("Claims rejected", report.claims_rejected),
        ("Rows in the Rejections sheet", len(report_rows(report, lines))),
        (
            "Accepted claim IDs",
            f"{len(report.claim_ids)} (listed at the end of this sheet)"
            if report.claim_ids
            else "none",
        ),
    ]
    for name, value in facts:
        append([name, value], first=formats.bold)

    title("Reasons")
    append(["Code", "Kind", "Issues", "Claims", "Meaning"], formats.header)
    for rc in reason_counts(report, lines):
        kind = "Warning" if rc.warning else "Error"
        append([rc.code, kind, rc.issues, rc.claims, rc.meaning])

    notes = [line for line in lines if line.file_level]
    if notes:
        title("File-level notes")
        append(["Row", "Column", "Code", "Kind", "Message", "Value"], formats.header)
        for line in notes:
            kind = "Warning" if line.warning else "Error"
            append([line.row, line.column, line.code, kind, line.message, line.value])

    if report.claim_ids:
        title("Accepted claim IDs")
        for claim_id in report.claim_ids[:MAX_IDS_LISTED]:
            append([claim_id])
        if len(report.claim_ids) > MAX_IDS_LISTED:
            more = len(report.claim_ids) - MAX_IDS_LISTED
            append([f"… and {more} more, up to {report.claim_ids[-1]} "
                    "(rma claims list shows them all)"])

"""rejections.xlsx: the submitter's rows as sent, bad cells marked, plus a summary sheet.

Always written in openpyxl's write-only (streaming) mode: it keeps memory flat for big
reports and still supports fills, comments, frozen panes, auto-filter and column widths
(everything this report needs), so there is one code path for small and big reports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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
ERROR_FILL = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")
WARNING_FILL = PatternFill(fill_type="solid", start_color="FFEB9C", end_color="FFEB9C")
HEADER_FILL = PatternFill(fill_type="solid", start_color="D9D9D9", end_color="D9D9D9")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_CELL_CHARS = 32_767
WIDTH_SAMPLE_ROWS = 500


#: A summary sheet is for people: a batch of 180k accepted claims lists the first ones only.
MAX_IDS_LISTED = 1000


def write_xlsx(report: ReportInput, path: Path, lines: list[IssueLine] | None = None) -> None:
    if lines is None:
        lines = issue_lines(report)
    wb = Workbook(write_only=True)
    _write_rejections(wb.create_sheet(REJECTIONS_SHEET), report, lines)
    _write_summary(wb.create_sheet(SUMMARY_SHEET), report, lines)
    wb.save(path)


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


def _cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    """A styled cell. Unstyled values go to ``append`` as they are: much cheaper there."""
    cell = WriteOnlyCell(ws, value=xlsx_value(value))
    for name, val in style.items():
        setattr(cell, name, val)
    return cell


def _comment(texts: list[str]) -> Comment:
    text = xml_safe("\n".join(texts))
    lines = sum(1 + len(t) // 50 for t in texts)
    return Comment(text, COMMENT_AUTHOR, height=max(60, 16 * lines + 20), width=320)


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


def _write_rejections(ws: WriteOnlyWorksheet, report: ReportInput, lines: list[IssueLine]) -> None:
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
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(all_headers))}{len(rows) + 1}"

    ws.append([_cell(ws, h, font=BOLD, fill=HEADER_FILL) for h in all_headers])
    for row, row_values, error_text in zip(rows, values, errors, strict=True):
        ws.append(_data_row(ws, row, headers, row_values, by_row[row], error_text))


def _data_row(
    ws: WriteOnlyWorksheet,
    row: int,
    headers: list[Any],
    values: list[Any],
    own: list[IssueLine],
    error_text: str,
) -> list[Any]:
    per_cell: dict[Any, list[IssueLine]] = defaultdict(list)
    for line in own:
        if line.header:
            per_cell[line.header].append(line)
    cells: list[Any] = [row]
    for header, value in zip(headers, values, strict=True):
        marks = per_cell.get(header)
        if not marks:
            cells.append(xlsx_value(value))
            continue
        has_error = any(not m.warning for m in marks)
        cell = _cell(ws, value, fill=ERROR_FILL if has_error else WARNING_FILL)
        cell.comment = _comment(
            _unique([f"Warning – {m.message}" if m.warning else m.message for m in marks])
        )
        cells.append(cell)
    cells.append(_cell(ws, error_text, alignment=WRAP))
    return cells


# -- the Summary sheet ------------------------------------------------------------------------


def _write_summary(ws: WriteOnlyWorksheet, report: ReportInput, lines: list[IssueLine]) -> None:
    for letter, width in zip("ABCDEF", (26, 34, 22, 10, 90, 30), strict=True):
        ws.column_dimensions[letter].width = width
    sheet = report.sheet

    def title(text: str) -> None:
        ws.append([])
        ws.append([_cell(ws, text, font=BOLD)])

    def table_header(names: list[str]) -> None:
        ws.append([_cell(ws, n, font=BOLD, fill=HEADER_FILL) for n in names])

    ws.append([_cell(ws, "RMA claim batch report", font=Font(bold=True, size=14))])
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
        ws.append([_cell(ws, name, font=BOLD), _cell(ws, value)])

    title("Reasons")
    table_header(["Code", "Kind", "Issues", "Claims", "Meaning"])
    for rc in reason_counts(report, lines):
        kind = "Warning" if rc.warning else "Error"
        ws.append([_cell(ws, v) for v in (rc.code, kind, rc.issues, rc.claims, rc.meaning)])

    notes = [line for line in lines if line.file_level]
    if notes:
        title("File-level notes")
        table_header(["Row", "Column", "Code", "Kind", "Message", "Value"])
        for line in notes:
            kind = "Warning" if line.warning else "Error"
            ws.append(
                [
                    _cell(ws, v)
                    for v in (line.row, line.column, line.code, kind, line.message, line.value)
                ]
            )

    if report.claim_ids:
        title("Accepted claim IDs")
        for claim_id in report.claim_ids[:MAX_IDS_LISTED]:
            ws.append([_cell(ws, claim_id)])
        if len(report.claim_ids) > MAX_IDS_LISTED:
            more = len(report.claim_ids) - MAX_IDS_LISTED
            ws.append([_cell(ws, f"… and {more} more, up to {report.claim_ids[-1]} "
                                 "(rma claims list shows them all)")])

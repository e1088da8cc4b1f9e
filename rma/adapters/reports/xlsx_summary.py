"""The Summary sheet of rejections.xlsx: the batch's facts, what to do, the reasons with how
to fix each, the file-level notes and the accepted claim IDs."""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rma.adapters.reports.escape import as_text, xml_safe
from rma.adapters.reports.lines import IssueLine, ReportInput, reason_counts
from rma.adapters.reports.xlsx_cells import A4, Formats, put, row_height
from rma.adapters.reports.xlsx_rows import REJECTIONS_SHEET, WARNINGS_SHEET
from rma.domain.vocabulary.columns import REPORT_ERRORS, REPORT_ROW

SUMMARY_SHEET = "Summary"
#: A summary sheet is for people: a batch of 180k accepted claims lists the first ones only.
MAX_IDS_LISTED = 1000

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
#: a column at least this wide holds sentences: it wraps, and its text sets the row's height
SENTENCE_WIDTH = 50


class _Lines:
    """The Summary sheet written top to bottom, a row at a time."""

    def __init__(self, ws: Worksheet, formats: Formats) -> None:
        self.ws, self.formats, self.row = ws, formats, 0

    def append(self, values: list[Any], fmt: Format | None = None,
               first: Format | None = None) -> None:
        """A row of ``values`` in ``fmt`` (its first cell in ``first``, if given)."""
        height = row_height([(as_text(v), w) for v, w in zip(values, SUMMARY_WIDTHS,
                                                             strict=False)
                             if w >= SENTENCE_WIDTH])
        if height is not None:
            self.ws.set_row(self.row, height)
        for col, value in enumerate(values):
            put(self.ws, self.formats, self.row, col, value,
                first if col == 0 and first else fmt)
        self.row += 1

    def title(self, text: str) -> None:
        """A section's title, after an empty row."""
        self.row += 1
        self.append([text], self.formats.bold)

    def paragraph(self, text: str) -> None:
        """Text in a merged cell as wide as the sheet; its height set as for any wrapped cell."""
        last = len(SUMMARY_WIDTHS) - 1
        self.ws.set_row(self.row, row_height([(text, sum(SUMMARY_WIDTHS))]))
        self.ws.merge_range(self.row, 0, self.row, last, xml_safe(text), self.formats.wrap)
        self.row += 1


def _set_up(ws: Worksheet, formats: Formats) -> None:
    for col, width in enumerate(SUMMARY_WIDTHS):
        ws.set_column(col, col, width, formats.wrap if width >= SENTENCE_WIDTH else None)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)


def _facts(report: ReportInput, rejected: int, warned: int) -> list[tuple[str, Any]]:
    """The batch at a glance: what was read, and what came of it."""
    sheet = report.sheet
    return [
        ("Batch ID", report.batch_id),
        *([("Review online", report.review_url)] if report.review_url else []),
        ("Account", report.account_id or "(taken from each row)"),
        ("File name", sheet.source.name),
        ("Sheet", sheet.sheet),
        ("Header row", sheet.header_row),
        ("Claims accepted", report.claims_accepted),
        ("Claims rejected", report.claims_rejected),
        (f"Rows in the {REJECTIONS_SHEET} sheet", rejected),
        *([(f"Rows in the {WARNINGS_SHEET} sheet", warned)] if warned else []),
        (
            "Accepted claim IDs",
            f"{len(report.claim_ids)} (listed at the end of this sheet)"
            if report.claim_ids
            else "none",
        ),
    ]


def _what_to_do(out: _Lines, rejected: bool, warned: bool) -> None:
    advice = [text for text, needed in ((SEND_BACK, rejected), (WARNED_ROWS, warned)) if needed]
    if advice:
        out.title("What to do")
        for text in advice:
            out.paragraph(text)


def _reasons(out: _Lines, report: ReportInput, lines: list[IssueLine]) -> None:
    out.title("Reasons")
    out.append(["Code", "Kind", "Issues", "Claims", "Meaning", "How to fix"], out.formats.header)
    for rc in reason_counts(report, lines):
        kind = "Warning" if rc.warning else "Error"
        out.append([rc.code, kind, rc.issues, rc.claims, rc.meaning, rc.how_to_fix])


def _file_notes(out: _Lines, lines: list[IssueLine]) -> None:
    notes = [line for line in lines if line.file_level]
    if notes:
        out.title("File-level notes")
        out.append(["Code", "Kind", "Row", "Column", "Message", "Value"], out.formats.header)
        for line in notes:
            kind = "Warning" if line.warning else "Error"
            out.append([line.code, kind, line.row, line.column, line.message, line.value])


def _claim_ids(out: _Lines, claim_ids: list[str]) -> None:
    if claim_ids:
        out.title("Accepted claim IDs")
        for claim_id in claim_ids[:MAX_IDS_LISTED]:
            out.append([claim_id])
        if len(claim_ids) > MAX_IDS_LISTED:
            more = len(claim_ids) - MAX_IDS_LISTED
            out.append([f"… and {more} more, up to {claim_ids[-1]} "
                        "(rma claims list shows them all)"])


def write_summary(ws: Worksheet, formats: Formats, report: ReportInput, lines: list[IssueLine],
                  rejected: list[int], warned: list[int]) -> None:
    """The Summary sheet; ``rejected`` and ``warned`` are the rows of the two row sheets."""
    _set_up(ws, formats)
    out = _Lines(ws, formats)
    out.append(["RMA claim batch report"], formats.title)
    for name, value in _facts(report, len(rejected), len(warned)):
        out.append([name, value], formats.left, first=formats.bold)
    _what_to_do(out, bool(rejected), bool(warned))
    _reasons(out, report, lines)
    _file_notes(out, lines)
    _claim_ids(out, report.claim_ids)

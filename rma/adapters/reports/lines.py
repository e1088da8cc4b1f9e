"""What a batch report is about: its input, its issues resolved against the sheet as sent
(``IssueLine``, in sheet order), counts per reason, and the records of rejections.csv.

The xlsx and csv writers and the markdown summaries (``summary``) build on ``issue_lines``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rma.adapters.reports.escape import as_text, is_blank
from rma.adapters.reports.words import DEFAULT_TERMS, how_to_fix, meaning
from rma.domain.vocabulary.columns import CANONICAL, LABELS
from rma.domain.vocabulary.reasons import Terms, is_warning
from rma.domain.vocabulary.sheet import SheetData


@dataclass
class ReportInput:
    sheet: SheetData  # the rows as sent
    issues: pd.DataFrame  # errors and warnings (issue frame)
    rejected_rows: list[int]  # every sheet row of every rejected claim
    claim_of_row: dict[int, str]  # sheet row -> claim label, e.g. "C-9" or "row 5"
    claims_accepted: int
    claims_rejected: int
    claim_ids: list[str]  # accepted claim ids RMA-YYYY-NNNNNN
    batch_id: str
    account_id: str | None
    #: the configured threshold and lock-out, which some reasons' words name
    terms: Terms = DEFAULT_TERMS
    #: the batch's review page in the portal (RMA_PORTAL_URL set), else ""
    review_url: str = ""


@dataclass(frozen=True)
class IssueLine:
    """One issue, resolved against the sheet as sent."""

    row: int | None
    column: str  # as in the issue frame: canonical, an original header, or "" (row-level)
    header: str  # the submitter's header for that column, "" when the file has none
    code: str
    message: str
    value: Any  # the cell as sent when there is one, else the issue's own value
    warning: bool
    file_level: bool  # not about a data row: header row, no row, or a row not in the sheet

    @property
    def label(self) -> str:
        return LABELS.get(self.column, self.column)

    def plain(self) -> str:
        """'<Label>: <message>', with 'Warning – ' in front for warnings."""
        label = self.label
        prefixed = not self.column or self.message.casefold().startswith(label.casefold())
        text = self.message if prefixed else f"{label}: {self.message}"
        return f"Warning – {text}" if self.warning else text


@dataclass(frozen=True)
class ReasonCount:
    code: str
    warning: bool
    issues: int
    claims: int
    meaning: str
    how_to_fix: str = ""


def _row_number(value: Any) -> int | None:
    return None if is_blank(value) else int(value)


def _column_name(value: Any) -> str:
    return "" if is_blank(value) else str(value)


def header_map(sheet: SheetData) -> dict[str, str]:
    """Canonical column -> the submitter's header (first one, if several map to it)."""
    out: dict[str, str] = {}
    for header, canonical in sheet.columns.items():
        out.setdefault(canonical, header)
    return out


def header_for(sheet: SheetData, column: str, headers: dict[str, str]) -> str:
    if not column:
        return ""
    if column in CANONICAL:
        return headers.get(column, "")
    return column if column in sheet.sent.columns else ""


class SentCells:
    """O(1) access to the sent cells by (sheet row, header); ``.at`` is too slow per issue."""

    def __init__(self, sent: pd.DataFrame) -> None:
        self._rows = sent.index  # its hash table: a dict of a million rows costs ~100 MB
        self._columns = {h: sent[h].to_numpy(dtype=object) for h in sent.columns}

    def has_row(self, row: int | None) -> bool:
        return row is not None and row in self._rows

    def get(self, row: int | None, header: str) -> Any:
        if not self.has_row(row) or not header or header not in self._columns:
            return None
        return self._columns[header][self._rows.get_loc(row)]


def issue_lines(report: ReportInput) -> list[IssueLine]:
    """Every issue, ordered by row (none first), then row-level first, then by sheet column."""
    sheet = report.sheet
    headers = header_map(sheet)
    cells = SentCells(sheet.sent)
    lines: list[IssueLine] = []
    for rec in report.issues.to_dict("records"):
        row = _row_number(rec.get("row"))
        column = _column_name(rec.get("column"))
        code = str(rec.get("code"))
        header = header_for(sheet, column, headers)
        in_sheet = cells.has_row(row)
        message = rec.get("message")
        if is_blank(message) or not str(message).strip():
            message = meaning(code, report.terms) or code
        value = cells.get(row, header) if in_sheet and header else rec.get("value")
        lines.append(
            IssueLine(
                row=row,
                column=column,
                header=header,
                code=code,
                message=str(message),
                value=None if is_blank(value) else value,
                warning=is_warning(code),
                file_level=not in_sheet or row == sheet.header_row,
            )
        )
    position = {header: i for i, header in enumerate(sheet.sent.columns)}

    def order(line: IssueLine) -> tuple[int, int]:
        # by row; within a row: row-level first, then the sheet's column order
        row = -1 if line.row is None else line.row
        if not line.column:
            return row, -1
        return row, position.get(line.header, len(position))

    lines.sort(key=order)
    return lines


def claim_label(report: ReportInput, row: int) -> str:
    return report.claim_of_row.get(row, f"row {row}")


def reason_counts(report: ReportInput, lines: list[IssueLine]) -> list[ReasonCount]:
    """Per code: issues and distinct claims; errors first, most frequent first."""
    issues: Counter[str] = Counter()
    claims: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        issues[line.code] += 1
        if not line.file_level and line.row is not None:
            claims[line.code].add(claim_label(report, line.row))
    out = [
        ReasonCount(
            code=code,
            warning=is_warning(code),
            issues=n,
            claims=len(claims[code]),
            meaning=meaning(code, report.terms),
            how_to_fix=how_to_fix(code, report.terms),
        )
        for code, n in issues.items()
    ]
    out.sort(key=lambda rc: (rc.warning, -rc.issues, rc.code))
    return out


def records(report: ReportInput, lines: list[IssueLine]) -> list[dict[str, Any]]:
    """The rows of rejections.csv and the Prefect table (unescaped text)."""
    sheet = report.sheet
    headers = header_map(sheet)
    cells = SentCells(sheet.sent)
    ref_header = headers.get("claim_ref", "")
    sn_header = headers.get("serial_number", "")
    out = []
    for line in lines:
        row = None if line.file_level else line.row
        out.append(
            {
                "sheet": sheet.sheet,
                "row": line.row,
                "claim_ref": as_text(cells.get(row, ref_header)),
                "serial_number": as_text(cells.get(row, sn_header)),
                "column": line.column,
                "value": as_text(line.value),
                "code": line.code,
                "message": line.message,
            }
        )
    return out

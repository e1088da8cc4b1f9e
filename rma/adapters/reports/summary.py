"""What a batch report says: the input, its issues as lines, counts, and the short summaries.

The xlsx and csv writers build on ``issue_lines``; ``summary_markdown`` and ``issue_table``
feed the Prefect artifacts and the e-mail reply.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rma.adapters.reports.escape import as_text, escape_markdown, is_blank
from rma.config import Settings
from rma.domain.vocabulary.columns import CANONICAL, LABELS
from rma.domain.vocabulary.reasons import Reason, Terms, is_warning
from rma.domain.vocabulary.sheet import SheetData

#: what a report says when it is not told the configured terms (the settings' defaults)
DEFAULT_TERMS = Settings().terms
MAX_IDS_IN_SUMMARY = 50
MAX_LINES_IN_SUMMARY = 20


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


#: What the submitter does about each reason, in a sentence: the Summary sheet lists it beside
#: the reason's meaning, so a distributor can correct the rows without calling anyone. Some
#: name the configured terms (``Terms.fill``'s placeholders): read them through ``how_to_fix``.
HOW_TO_FIX: dict[Reason, str] = {
    Reason.MISSING_FIELD: "Fill in the red cell. With an RMA code from Customer Service, what "
                          "they registered is filled in for you.",
    Reason.INVALID_SERIAL_NUMBER: "Copy the serial number from the type plate: 6 to 20 "
                                  "letters, digits or dashes; separate several with commas.",
    Reason.INVALID_DATE: "Write the date as YYYY-MM-DD (2025-04-03) or DD.MM.YYYY "
                         "(03.04.2025); not in the future, and the fault not before the "
                         "installation.",
    Reason.INVALID_EMAIL: "Correct the address (name@example.com) or leave the cell empty.",
    Reason.INVALID_PHONE: "Give the number with its country code, e.g. +49 30 1234567; format "
                          "the column as text so the + and leading zeros are kept.",
    Reason.INVALID_COUNTRY: "Use the two-letter country code (DE, AT, FR) or the country's "
                            "English name.",
    Reason.INVALID_TEXT: "Shorten the text (fault description 5 to 2000 characters, most "
                         "fields 200) and remove invisible characters copied from other "
                         "programs.",
    Reason.UNKNOWN_ACCOUNT: "Use the account ID Customer Service gave you; ask them if you do "
                            "not have one.",
    Reason.ACCOUNT_INACTIVE: "Ask Customer Service to reactivate the account, then send the "
                             "claims again.",
    Reason.ACCOUNT_MISMATCH: "Put your own account ID in the account column, or delete the "
                             "column: a file files claims for the account that sent it.",
    Reason.CODE_REQUIRED: "Call or e-mail Customer Service about the fault; enter the RMA code "
                          "they give you in the RMA code column.",
    Reason.CODE_INVALID: "Copy the code exactly from Customer Service's message (spaces and "
                         "dashes do not matter); after {wrong_codes} in {window} the account "
                         "is locked.",
    Reason.CODE_EXPIRED: "Ask Customer Service for a new code and enter it instead.",
    Reason.CODE_REVOKED: "Ask Customer Service why the code was revoked; they issue a new one "
                         "if the claim stands.",
    Reason.CODE_USED: "A code files one claim: ask Customer Service for a new code, or remove "
                      "the row if this claim was already filed.",
    Reason.CODE_SN_MISMATCH: "Check the serial number against the one you gave Customer "
                             "Service, or ask them for a code that covers it.",
    Reason.CODE_LOCKED: "Ask Customer Service to unlock your account's codes, then send the "
                        "claims again.",
    Reason.DUPLICATE_SN_IN_BATCH: "List each serial number once in the file: remove the extra "
                                  "row or correct the mistyped serial number.",
    Reason.SN_OPEN_CLAIM: "This product already has an open claim: do not file it again; ask "
                          "Customer Service if that claim is not yours.",
    Reason.DUPLICATE_CLAIM_REF: "This claim was already filed; a new claim needs a new claim "
                                "reference of your own.",
    Reason.PREFILL_CONFLICT: "Nothing to send again; tell Customer Service if your value is the "
                             "right one.",
    Reason.CLAIM_REF_MERGED: "Rows whose claim references differ only in capitals, dashes or "
                             "spacing were filed as one claim; give them distinct references "
                             "if you meant separate claims.",
    Reason.VALUE_AS_TEXT: "Check the value (a leading zero may be lost) and format such "
                          "columns as text in future files.",
    Reason.UNKNOWN_COLUMN: "If the column holds claim data, give it a header of the claim "
                           "template; otherwise nothing to do.",
    Reason.IGNORED_ATTACHMENT: "Attach claims as .xlsx or .csv files; other attachments are "
                               "not read.",
    Reason.UNSUPPORTED_FORMAT: "Save the file as .xlsx or .csv and send it again.",
    Reason.UNREADABLE_FILE: "Open the file, save it again as .xlsx or .csv and send it again.",
    Reason.NO_HEADER: "Put the column headers (Serial number, Fault description, ...) in one "
                      "row within the first 20 rows, or use the claim template.",
    Reason.TOO_LARGE: "Split the file into smaller files and send them one by one.",
    Reason.EMPTY_BATCH: "Add one claim per row below the header row.",
    Reason.UNKNOWN_SENDER: "Send from an address registered for your account, or ask Customer "
                           "Service to register this one.",
    Reason.DUPLICATE_BATCH: "Nothing to do: this file was processed before.",
    Reason.PROCESSING_ERROR: "Nothing to do: the file is processed again in the next run.",
}


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


def meaning(code: str, terms: Terms = DEFAULT_TERMS) -> str:
    """The plain words for a reason code under ``terms`` ('' outside the closed list)."""
    return terms.message(Reason(code)) if code in Reason.__members__ else ""


def how_to_fix(code: str, terms: Terms = DEFAULT_TERMS) -> str:
    """What the submitter does about a code, under ``terms`` ('' outside the closed list)."""
    return terms.fill(HOW_TO_FIX[Reason(code)]) if code in Reason.__members__ else ""


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


def issue_table(report: ReportInput) -> list[dict]:
    """Rows for a Prefect table artifact: sheet,row,claim_ref,serial_number,column,code,message."""
    keys = ("sheet", "row", "claim_ref", "serial_number", "column", "code", "message")
    return [{k: rec[k] for k in keys} for rec in records(report, issue_lines(report))]


def _id_list(ids: list[str]) -> str:
    shown = ", ".join(escape_markdown(i) for i in ids[:MAX_IDS_IN_SUMMARY])
    more = len(ids) - MAX_IDS_IN_SUMMARY
    return f"{shown} and {more} more" if more > 0 else shown


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(escape_markdown(v) for v in row) + " |" for row in rows]
    return out


def summary_markdown(report: ReportInput) -> str:
    sheet = report.sheet
    lines = issue_lines(report)
    row_lines = [line for line in lines if not line.file_level]
    file_notes = [line for line in lines if line.file_level]
    errors = sum(not line.warning for line in lines)
    md = [
        f"# Claim batch {escape_markdown(sheet.source.name)}",
        "",
        f"- Batch: {escape_markdown(report.batch_id)}",
        f"- Account: {escape_markdown(report.account_id or '(from each row)')}",
        f"- Sheet: {escape_markdown(sheet.sheet)}",
        f"- Claims accepted: **{report.claims_accepted}**",
        f"- Claims rejected: **{report.claims_rejected}**",
        f"- Errors: {errors}, warnings: {len(lines) - errors}",
    ]
    if report.claim_ids:
        md.append(f"- Accepted claim IDs: {_id_list(report.claim_ids)}")
    counts = reason_counts(report, lines)
    if counts:
        md += ["", "## Reasons", ""]
        md += _table(
            ["Code", "Kind", "Count", "Claims", "Meaning"],
            [
                [c.code, "warning" if c.warning else "error", c.issues, c.claims, c.meaning]
                for c in counts
            ],
        )
    if row_lines:
        md += ["", "## Issues by row", ""]
        md += _table(
            ["Row", "Column", "Code", "Message"],
            [
                [
                    line.row,
                    line.column,
                    line.code,
                    f"Warning – {line.message}" if line.warning else line.message,
                ]
                for line in row_lines[:MAX_LINES_IN_SUMMARY]
            ],
        )
        more = len(row_lines) - MAX_LINES_IN_SUMMARY
        if more > 0:
            md += ["", f"… and {more} more in the attached report."]
    if file_notes:
        md += ["", "## File-level notes", ""]
        md += _table(
            ["Row", "Column", "Code", "Message"],
            [[line.row or "", line.column, line.code, line.message] for line in file_notes],
        )
    return "\n".join(md) + "\n"

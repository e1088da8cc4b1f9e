"""The short summaries of a batch: markdown for the Prefect artifacts and the e-mail reply,
and the rows of the Prefect issue table."""

from __future__ import annotations

from typing import Any

from rma.adapters.reports.escape import escape_markdown
from rma.adapters.reports.lines import ReportInput, issue_lines, reason_counts, records

MAX_IDS_IN_SUMMARY = 50
MAX_LINES_IN_SUMMARY = 20


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

"""rejections.csv: one line per issue (warnings included), in sheet-row order."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from rma.reports.escape import escape_formula
from rma.reports.summary import IssueLine, ReportInput, issue_lines, records

CSV_COLUMNS = ("sheet", "row", "claim_ref", "serial_number", "column", "value", "code", "message")


def _field(name: str, value: Any) -> Any:
    if value is None:
        return ""
    return value if name == "row" else escape_formula(str(value))


def write_csv(report: ReportInput, path: Path, lines: list[IssueLine] | None = None) -> None:
    if lines is None:
        lines = issue_lines(report)
    # utf-8-sig: the BOM makes Excel open it as UTF-8 instead of the local code page
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for rec in records(report, lines):
            writer.writerow([_field(name, rec[name]) for name in CSV_COLUMNS])

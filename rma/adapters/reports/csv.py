"""rejections.csv: one line per issue (warnings included), in sheet-row order.

Every field holding a separator of any common locale (``,`` ``;`` tab), a quote or a line
break is quoted: ``csv.QUOTE_MINIMAL`` knows only the writer's own delimiter, and Excel with
German settings splits an unquoted ``x;=cmd`` into two cells. Formula triggers are escaped
at the start and after each separator (``rma.adapters.reports.escape``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rma.adapters.reports.escape import escape_csv_field
from rma.adapters.reports.lines import IssueLine, ReportInput, issue_lines, records

#: a field with one of these is quoted (see the module docstring)
_NEEDS_QUOTES = re.compile('[,;\t"\r\n]')
CSV_COLUMNS = ("sheet", "row", "claim_ref", "serial_number", "column", "value", "code", "message")


def _field(name: str, value: Any) -> Any:
    if value is None:
        return ""
    return value if name == "row" else escape_csv_field(str(value))


def _quoted(field: object) -> str:
    text = str(field)
    if _NEEDS_QUOTES.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_line(fields: list[object]) -> str:
    """One CSV record, RFC 4180 (``\\r\\n``), quoted for every locale's separator."""
    return ",".join(_quoted(f) for f in fields) + "\r\n"


def write_csv(report: ReportInput, path: Path, lines: list[IssueLine] | None = None) -> None:
    if lines is None:
        lines = issue_lines(report)
    # utf-8-sig: the BOM makes Excel open it as UTF-8 instead of the local code page
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(csv_line(list(CSV_COLUMNS)))
        for rec in records(report, lines):
            fh.write(csv_line([_field(name, rec[name]) for name in CSV_COLUMNS]))

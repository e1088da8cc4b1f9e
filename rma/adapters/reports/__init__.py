"""Rejection reports of a batch (SPEC §6): rejections.xlsx, rejections.csv and summaries.

Each file is written to a temporary name in the output folder and moved into place with
``os.replace``, so a reader never sees a half-written report.

    lines, words            the report's input, its issues as lines and counts per reason;
                            each reason's meaning and how to fix it, under the configured terms
    xlsx                    rejections.xlsx: the workbook, from its row sheets (xlsx_rows), its
                            Summary sheet (xlsx_summary) and their cells (xlsx_cells)
    csv, summary, runs      rejections.csv; a batch's markdown summary; a run's summaries
    escape                  untrusted values echoed back safely (formulas, XML, markdown)
    template, template_help the claim template (``rma template``) and what it says per column
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rma.adapters.names import MAX_NAME_BYTES, bounded_name, temporary_beside
from rma.adapters.reports.csv import CSV_COLUMNS, write_csv
from rma.adapters.reports.escape import escape_formula
from rma.adapters.reports.lines import IssueLine, ReportInput, issue_lines
from rma.adapters.reports.summary import issue_table, summary_markdown
from rma.adapters.reports.xlsx import write_xlsx

__all__ = [
    "CSV_COLUMNS",
    "IssueLine",
    "ReportInput",
    "escape_formula",
    "issue_lines",
    "issue_table",
    "report_stem",
    "summary_markdown",
    "write_reports",
]


#: what follows a report's stem; the longest one bounds the stem (``report_stem``)
REPORT_SUFFIXES = {kind: f".rejections.{kind}" for kind in ("xlsx", "csv")}
_LONGEST_SUFFIX = max(len(s) for s in REPORT_SUFFIXES.values())


def report_stem(file_stem: str, sha256: str) -> str:
    """The stem of a file's reports: its own stem, cut so that every report name fits in
    ``MAX_NAME_BYTES`` (``rma.adapters.names``), then the start of its SHA-256, which tells two
    files of one name apart and is never cut."""
    return bounded_name(file_stem, f".{sha256[:12]}", MAX_NAME_BYTES - _LONGEST_SUFFIX)


def write_reports(report: ReportInput, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write <stem>.rejections.xlsx and <stem>.rejections.csv into out_dir (a stem made by
    ``report_stem``)."""
    name = Path(stem).name  # never let a stem point outside out_dir
    if not name or name in {".", ".."}:
        raise ValueError(f"unusable report file stem: {stem!r}")
    name = bounded_name(name, "", MAX_NAME_BYTES - _LONGEST_SUFFIX)  # any other stem: fits
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = issue_lines(report)
    writers: dict[str, Callable[[ReportInput, Path], None]] = {
        "xlsx": partial(write_xlsx, lines=lines),
        "csv": partial(write_csv, lines=lines),
    }
    paths = {}
    for kind, writer in writers.items():
        paths[kind] = _write_atomically(out_dir / f"{name}{REPORT_SUFFIXES[kind]}", report,
                                        writer)
    return paths


def _write_atomically(
    target: Path, report: ReportInput, writer: Callable[[ReportInput, Path], None]
) -> Path:
    tmp = temporary_beside(target)
    try:
        writer(report, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target

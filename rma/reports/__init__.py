"""Rejection reports of a batch (SPEC §6): rejections.xlsx, rejections.csv and summaries.

Each file is written to a temporary name in the output folder and moved into place with
``os.replace``, so a reader never sees a half-written report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rma.reports.csv import CSV_COLUMNS, write_csv
from rma.reports.escape import escape_formula
from rma.reports.summary import IssueLine, ReportInput, issue_lines, issue_table, summary_markdown
from rma.reports.xlsx import write_xlsx

# mkstemp creates 0600 files; give the report the mode a plain open() would have
_UMASK = os.umask(0o022)
os.umask(_UMASK)

__all__ = [
    "CSV_COLUMNS",
    "IssueLine",
    "ReportInput",
    "escape_formula",
    "issue_lines",
    "issue_table",
    "summary_markdown",
    "write_reports",
]


def write_reports(report: ReportInput, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write <stem>.rejections.xlsx and <stem>.rejections.csv into out_dir."""
    name = Path(stem).name  # never let a stem point outside out_dir
    if not name or name in {".", ".."}:
        raise ValueError(f"unusable report file stem: {stem!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = issue_lines(report)
    writers: dict[str, Callable[[ReportInput, Path], None]] = {
        "xlsx": partial(write_xlsx, lines=lines),
        "csv": partial(write_csv, lines=lines),
    }
    paths = {}
    for kind, writer in writers.items():
        paths[kind] = _write_atomically(out_dir / f"{name}.rejections.{kind}", report, writer)
    return paths


def _write_atomically(
    target: Path, report: ReportInput, writer: Callable[[ReportInput, Path], None]
) -> Path:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(report, tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.chmod(0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target

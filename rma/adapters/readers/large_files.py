"""Very large files (more than RMA_CHUNK_ROWS rows): whether a file takes the chunked path,
from a cheap estimate of its rows, and the row frames of a sheet read whole (an xlsx, or a
CSV the chunked reader leaves to the whole read) to check their format one frame at a time.
The CSV itself is read in chunks by the CSV reader (``rma.adapters.readers.csv``).

    estimated_rows(path)            a cheap upper estimate, to choose the chunked path
    is_large(path, chunk_rows)      whether the file goes the chunked path
    split_sheet(sheet, rows)        canonical row frames of a sheet read whole
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from rma.adapters.readers.source import open_regular
from rma.domain.vocabulary.sheet import SheetData

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_SHEET_XML = re.compile(r"xl/worksheets/[^/]+\.xml")
#: an xlsx worksheet without a <dimension> is estimated at this many XML bytes per row
#: (real rows of claim data take more: the estimate errs towards the chunked path)
_XML_BYTES_PER_ROW = 500


def estimated_rows(path: Path) -> int:
    """Rows the file may hold: CSV line breaks; the largest worksheet <dimension> of an
    xlsx/xlsm. 0 when it cannot tell (the normal path then reports the problem)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        return 0
    try:
        fd, _ = open_regular(path)  # never a pipe (it would block) nor through a link
        with open(fd, "rb") as handle:
            if suffix == ".csv":
                return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20),
                                                                  b""))
            return _xlsx_rows(handle)
    except Exception:  # a damaged file: the normal path reports what is wrong with it
        return 0


def _xlsx_rows(handle: BinaryIO) -> int:
    best = 0
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if not _SHEET_XML.fullmatch(info.filename):
                continue
            with archive.open(info) as member:
                head = member.read(4096)
            found = _DIMENSION.search(head)
            rows = (int(found.group(1) or 1) if found
                    else info.file_size // _XML_BYTES_PER_ROW)
            best = max(best, rows)
    return best


def is_large(path: Path, chunk_rows: int) -> bool:
    """Whether a file goes the chunked path (``chunk_rows`` <= 0: never)."""
    return chunk_rows > 0 and estimated_rows(path) > chunk_rows


def split_sheet(sheet: SheetData, chunk_rows: int) -> list[pd.DataFrame]:
    """The canonical rows of a sheet read whole, in frames of ``chunk_rows`` rows."""
    frame = sheet.canonical()
    step = max(chunk_rows, 1)
    return [frame.iloc[start:start + step] for start in range(0, len(frame), step)] or [frame]

"""What a reader hands to the pipeline: one sheet of claim rows, exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rma.domain.vocabulary.columns import CANONICAL


@dataclass
class SheetData:
    """One batch's rows as the submitter sent them.

    ``sent`` keeps every column under its original header (made unique: a repeated header
    gets `` (2)``), values untouched: ``str`` for csv cells, and for xlsx cells whatever the
    file holds (``str``, ``int``, ``float``, ``bool``, ``datetime``/``date``/``time``), blank
    cells as ``None``. Its index is the row number the submitter sees (1-based, the header
    row is ``header_row``); rows that are entirely blank are dropped, numbering is kept.
    """

    source: Path
    sheet: str
    header_row: int
    sent: pd.DataFrame
    columns: dict[str, str]  # original header -> canonical column, for recognised headers
    unknown_columns: list[str] = field(default_factory=list)
    sha256: str = ""
    file_format: str = ""  # "xlsx" | "xlsm" | "csv" | "mail"

    def canonical(self) -> pd.DataFrame:
        """The recognised columns under canonical names; absent ones are all blank."""
        renamed = self.sent[list(self.columns)].rename(columns=self.columns)
        out = pd.DataFrame(index=self.sent.index)
        for column in CANONICAL:
            if column in renamed.columns:
                out[column] = renamed[column].astype(object)
            else:
                out[column] = pd.Series(None, index=self.sent.index, dtype=object)
        return out

    def header_of(self, column: str) -> str:
        """The submitter's header for a canonical column ('' when the file has none)."""
        for header, canonical in self.columns.items():
            if canonical == column:
                return header
        return ""

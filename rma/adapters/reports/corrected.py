"""The file of rows corrected in the portal (SPEC §9): what a corrected batch is posted from
and kept as in the archive, so that what was posted can be traced to what was sent.

A CSV in the shape of our rejections report: ``Row`` (the row of the batch corrected, where
the submitter saw it) and ``Errors`` (blank) in front, then the submitter's columns under
their own headers. Read back, the pipeline knows the shape (``rma.adapters.readers.header``):
it drops those two columns and undoes the formula escaping that every value got here
(``escape_formula``, as in ``rejections.xlsx``), so each cell is read as it was typed. Every
field that holds a separator of any common locale is quoted (``csv_line``); UTF-8 with a BOM,
which Excel opens as UTF-8.

The same rows give the same bytes: a correction submitted twice is the same content, and the
pipeline's ``DUPLICATE_BATCH`` keeps it from being posted twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from rma.adapters.reports.csv import csv_line
from rma.adapters.reports.escape import escape_formula
from rma.domain.vocabulary.columns import REPORT_ERRORS, REPORT_ROW

BOM = "\ufeff"


def corrected_csv(headers: Sequence[str], rows: Sequence[tuple[int, Sequence[str]]]) -> bytes:
    """The corrected rows (``(row it corrects, its values in the order of headers)``) as the
    bytes of the file a corrected batch is posted from."""
    lines = [csv_line([REPORT_ROW, REPORT_ERRORS, *(escape_formula(h) for h in headers)])]
    for row, values in rows:
        if len(values) != len(headers):
            raise ValueError(f"row {row}: {len(values)} values for {len(headers)} columns")
        lines.append(csv_line([row, "", *(escape_formula(v) for v in values)]))
    return (BOM + "".join(lines)).encode("utf-8")

"""read_bytes: a file given as its bytes and its name reads as the same file on disk does: the
same sheet, and for a file that cannot be read the same batch error, word for word."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rma.adapters.readers import read_batch, read_bytes
from rma.config import Limits
from rma.errors import BatchError
from tests.factories import generate_rows, write_csv, write_xlsx


def _same_sheet(path: Path) -> None:
    on_disk = read_batch(path)
    given = read_bytes(path.read_bytes(), path.name)
    pd.testing.assert_frame_equal(given.sent, on_disk.sent)
    assert (given.sheet, given.header_row, given.columns, given.unknown_columns, given.sha256,
            given.file_format, given.source.name) == (
        on_disk.sheet, on_disk.header_row, on_disk.columns, on_disk.unknown_columns,
        on_disk.sha256, on_disk.file_format, on_disk.source.name)


def test_a_csv_given_as_bytes_is_the_csv_read_from_disk(tmp_path):
    _same_sheet(write_csv(tmp_path / "claims.csv", generate_rows(200, bad_ratio=0.2)))


def test_an_xlsx_given_as_bytes_is_the_xlsx_read_from_disk(tmp_path):
    _same_sheet(write_xlsx(tmp_path / "claims.xlsx", generate_rows(200, bad_ratio=0.2)))


def _error(call) -> tuple[str, str]:
    with pytest.raises(BatchError) as caught:
        call()
    return caught.value.code, caught.value.message


@pytest.mark.parametrize(("name", "data", "limits"), [
    ("claims.xlsx", b"PK\x03\x04 not really a zip", Limits()),
    ("claims.xlsx", b"just text, no workbook", Limits()),
    ("claims.csv", b"PK\x03\x04\x14\x00", Limits()),
    ("claims.csv", b"SN,Fault description\nSN1,\x00broken\n", Limits()),
    ("claims.csv", b"SN,Fault description\nSN1,\x81\x8d\x8f broken\n", Limits()),
    ("claims.csv", b"just,some\nwords,here\n", Limits()),
    ("claims.csv", b"", Limits()),
    ("claims.csv", b"SN,Fault description\n", Limits()),
    ("claims.csv", b"SN,Fault description\n" + b"SN1,broken\n" * 20, Limits(file_bytes=100)),
    ("claims.pdf", b"%PDF-1.4", Limits()),
    ("claims", b"SN,Fault description\nSN1,broken\n", Limits()),
], ids=["damaged-zip", "not-a-zip", "zip-named-csv", "nul", "undecodable", "no-header",
        "empty", "header-only", "too-large", "pdf", "no-extension"])
def test_a_broken_file_given_as_bytes_fails_as_the_file_on_disk_fails(tmp_path, name, data,
                                                                      limits):
    path = tmp_path / name
    path.write_bytes(data)
    assert _error(lambda: read_bytes(data, name, limits)) == _error(
        lambda: read_batch(path, limits))

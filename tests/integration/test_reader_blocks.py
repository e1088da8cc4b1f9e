"""A large sheet is read in blocks of rows (the csv text a few MB at a time) and repeated
text is kept once: the result must be exactly what one read of the whole file gives."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook

from rma.adapters.readers import csv as csv_reader
from rma.adapters.readers import read_batch, sheet
from tests.factories import generate_rows, write_csv

HEADER = "Serial number,Fault description,Recipient city,Notes\r\n"


def _tricky_csv(path, rows: int):
    """CRLF line ends, quoted cells with line breaks and delimiters, rows of varying width
    (short rows, trailing blank cells), blank rows, a repeated city."""
    lines = [HEADER]
    for i in range(rows):
        if i % 7 == 3:
            lines.append("\r\n")  # a blank row: dropped, its number kept
            continue
        fault = f'"Line one\r\nline two, with ""quotes"" {i}"' if i % 5 == 0 else f"Fault {i}"
        tail = ",,," if i % 11 == 0 else ""
        city = "Berlin" if i % 2 else "Hamburg"
        note = "" if i % 3 else f"note {i}"
        cells = [f"SN{i:08d}", fault, city] + ([note] if i % 13 else [])
        lines.append(",".join(cells) + tail + "\r\n")
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


def _whole(path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(sheet, "BLOCK_ROWS", 10**9)
        m.setattr(csv_reader, "PIECE_CHARS", 10**12)
        return read_batch(path)


@pytest.mark.parametrize(("block_rows", "piece_chars"), [(1, 1), (7, 50), (64, 333)])
def test_a_csv_read_in_blocks_and_pieces_is_the_csv_read_whole(tmp_path, monkeypatch,
                                                                block_rows, piece_chars):
    path = _tricky_csv(tmp_path / "claims.csv", 300)
    whole = _whole(path, monkeypatch)
    monkeypatch.setattr(sheet, "BLOCK_ROWS", block_rows)
    monkeypatch.setattr(csv_reader, "PIECE_CHARS", piece_chars)
    blocks = read_batch(path)
    pd.testing.assert_frame_equal(blocks.sent, whole.sent)
    assert blocks.columns == whole.columns
    assert blocks.sent.loc[2, "Fault description"].startswith("Line one\r\nline two, with")
    assert 5 not in blocks.sent.index  # the blank row (i == 3 is sheet row 5)


def test_a_generated_batch_read_in_blocks_is_the_batch_read_whole(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "claims.csv", generate_rows(500, bad_ratio=0.1))
    whole = _whole(path, monkeypatch)
    monkeypatch.setattr(sheet, "BLOCK_ROWS", 37)
    monkeypatch.setattr(csv_reader, "PIECE_CHARS", 1000)
    pd.testing.assert_frame_equal(read_batch(path).sent, whole.sent)


def test_repeated_text_of_a_column_is_one_object_distinct_text_is_not_shared(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(sheet, "BLOCK_ROWS", 50)
    sent = read_batch(_tricky_csv(tmp_path / "claims.csv", 300)).sent
    cities = sent["Recipient city"]
    berlin = [c for c in cities if c == "Berlin"]
    assert len(berlin) > 100 and all(c is berlin[0] for c in berlin)
    assert sent["Serial number"].is_unique


def test_an_xlsx_keeps_numbers_dates_and_booleans_apart_when_sharing_text(tmp_path):
    book = Workbook()
    ws = book.active
    ws.title = "Claims"
    ws.append(["Serial number", "Fault description", "Recipient postcode", "Notes"])
    values = [1.0, True, "10115", dt.datetime(2025, 1, 2), "10115", 1.0]  # 1.0 == True as keys
    for i, value in enumerate(values):
        ws.append([f"SN{i:08d}", "Display broken", value, "same"])
    book.save(tmp_path / "claims.xlsx")
    sent = read_batch(tmp_path / "claims.xlsx").sent
    got = list(sent["Recipient postcode"])
    assert [type(v) for v in got] == [float, bool, str, dt.date, str, float]
    assert got[2] is got[4]
    assert sent["Notes"].iloc[0] is sent["Notes"].iloc[-1]

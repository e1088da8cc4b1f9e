"""Claim references compared as a person reads them, and merged cells read as Excel shows them
(issue 12). ``CB-1``, ``cb-1``, ``CB‐1`` (U+2010) and ``ＣＢ-1`` (full-width) look like one
reference: they are one claim within a file, a duplicate of a posted claim in the next one,
and the database itself refuses the second spelling. A claim_ref merged over the rows of one
claim is that claim's on every row; the merged ranges of a hostile file are bounded before
calamine opens the sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from rma.adapters.db import tables
from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import PostingConflict
from tests.factories import valid_claim, write_xlsx
from tests.hostile import builders as b
from tests.hostile.harness import MAX_PEAK_MB, MAX_SECONDS, Outcome

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
#: One reference, written four ways, and padded (which was always trimmed, silently).
SPELLINGS = ("CB-1", "cb-1", "CB\u20101", "\uff23\uff22-1", " CB-1 ")


def _posted(outcome: Outcome) -> dict:
    assert outcome.error is None and outcome.exit_code == 0, outcome.describe()
    assert outcome.seconds < MAX_SECONDS and outcome.peak_mb < MAX_PEAK_MB, outcome.describe()
    assert outcome.result is not None and outcome.result["status"] == "posted", \
        outcome.describe()
    return outcome.result


def _claims(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            claims = conn.execute(sa.text(
                "SELECT claim_id, claim_ref, claim_ref_key FROM claims ORDER BY claim_id")).all()
            lines = conn.execute(sa.text(
                "SELECT claim_id, serial_number FROM claim_lines ORDER BY sheet_row")).all()
    finally:
        engine.dispose()
    return [(*claim, [sn for owner, sn in lines if owner == claim[0]]) for claim in claims]


def test_four_spellings_of_one_claim_ref_form_one_claim_with_a_warning(hostile, tmp_path):
    rows = [valid_claim(claim_ref=ref, serial_number=f"SNREF{i:04d}")
            for i, ref in enumerate(SPELLINGS)]
    path = write_xlsx(tmp_path / "spellings.xlsx", rows)
    result = _posted(hostile.run(path))
    assert (result["claims_accepted"], result["claims_rejected"]) == (1, 0), result
    merged = [(w["row"], w["column"]) for w in result["warnings"]
              if w["code"] == "CLAIM_REF_MERGED"]
    # the three rows written otherwise than row 2; the padded row reads the same as row 2
    assert merged == [(3, "claim_ref"), (4, "claim_ref"), (5, "claim_ref")], result["warnings"]
    assert "cb-1 was taken as CB-1 (row 2)" in result["warnings"][0]["message"]
    # the claim keeps the submitter's first spelling, as sent
    assert _claims(hostile.url) == [(result["claim_ids"][0], "CB-1", "CB-1",
                                     [f"SNREF{i:04d}" for i in range(5)])]


def test_a_second_file_with_cb_1_is_a_duplicate_of_the_posted_CB_1(hostile, tmp_path):
    # sd-7 is posted as it was sent, not in its key's form: the database is asked for keys
    first = _posted(hostile.run(write_xlsx(tmp_path / "first.xlsx", [
        valid_claim(claim_ref="CB-1", serial_number="SNFIRST001"),
        valid_claim(claim_ref="sd-7", serial_number="SNFIRST002")])))
    second = _posted(hostile.run(write_xlsx(tmp_path / "second.xlsx", [
        valid_claim(claim_ref="cb-1", serial_number="SNLATER001"),
        valid_claim(claim_ref="\uff23\uff22\u22121", serial_number="SNLATER002"),
        valid_claim(claim_ref="SD-7", serial_number="SNLATER003"),
        valid_claim(claim_ref="CB-2", serial_number="SNLATER004")])))
    assert (second["claims_accepted"], second["claims_rejected"]) == (1, 2), second
    duplicates = [r for r in second["rejections"] if r["code"] == "DUPLICATE_CLAIM_REF"]
    assert [(r["row"], r["claim_ref"]) for r in duplicates] == [
        (2, "cb-1"), (3, "\uff23\uff22\u22121"), (4, "SD-7")]
    cb_1, sd_7 = first["claim_ids"]
    assert f"already filed by your account (as CB-1, claim {cb_1})" in duplicates[0]["message"]
    assert f"already filed by your account (as sd-7, claim {sd_7})" in duplicates[2]["message"]
    assert [(ref, key) for _, ref, key, _ in _claims(hostile.url)] == [
        ("CB-1", "CB-1"), ("sd-7", "SD-7"), ("CB-2", "CB-2")]


def test_the_database_refuses_a_second_spelling_that_a_concurrent_posting_slipped_past(
        db_url):
    """Two postings decided at once both see no ``CB-1``: the unique index on the key is
    what keeps the second from posting ``cb-1`` beside it."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with posting_transaction(engine) as conn:
            conn.execute(sa.insert(tables.accounts).values(
                account_id="D-001", name="D", kind="distributor", updated_at=NOW))
            repo = ClaimsRepository(conn)
            repo.insert_batch(_batch("B-1", "a"))
            repo.insert_claims([_claim("RMA-2026-000001", "B-1", "CB-1")])
        for spelling in ("cb-1", "CB\u20101", "\uff23\uff22-1", "CB-1\u200b"):
            with pytest.raises(PostingConflict), posting_transaction(engine) as conn:
                repo = ClaimsRepository(conn)
                repo.insert_batch(_batch("B-2", "b"))
                repo.insert_claims([_claim("RMA-2026-000002", "B-2", spelling)])
        with posting_transaction(engine) as conn:  # another reference is no conflict
            repo = ClaimsRepository(conn)
            repo.insert_batch(_batch("B-3", "c"))
            repo.insert_claims([_claim("RMA-2026-000003", "B-3", "CB-10")])
    finally:
        engine.dispose()


def _batch(batch_id: str, sha: str) -> dict:
    return {"batch_id": batch_id, "sha256": sha * 64, "source": "x", "account_id": "D-001",
            "sheet": "Claims", "file_format": "xlsx", "received_at": NOW,
            "claims_accepted": 1, "claims_rejected": 0, "status": "posted"}


def _claim(claim_id: str, batch_id: str, ref: str) -> dict:
    return {"claim_id": claim_id, "batch_id": batch_id, "account_id": "D-001",
            "claim_ref": ref, "status": "submitted", "submitted_at": NOW}


# -- merged cells ------------------------------------------------------------------------------


def _merged_workbook(path: Path, rows: list[dict], merges: list[str]) -> Path:
    """A real workbook (openpyxl) with cells merged as a person merges them in Excel: the
    value stays in the top-left cell, the others are empty."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Claims"
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row[name] for name in header])
    for cells in merges:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


def test_a_claim_ref_merged_over_rows_2_and_3_is_one_claim_with_both_serial_numbers(
        hostile, tmp_path):
    rows = [valid_claim(claim_ref="C-MERGED", serial_number="SNMERGE01"),
            valid_claim(claim_ref=None, serial_number="SNMERGE02"),
            valid_claim(claim_ref="C-ALONE", serial_number="SNMERGE03")]
    path = _merged_workbook(tmp_path / "merged.xlsx", rows, ["A2:A3"])
    result = _posted(hostile.run(path))
    assert (result["claims_accepted"], result["claims_rejected"]) == (2, 0), result
    assert result["warnings"] == []
    assert [(ref, sns) for _, ref, _, sns in _claims(hostile.url)] == [
        ("C-MERGED", ["SNMERGE01", "SNMERGE02"]), ("C-ALONE", ["SNMERGE03"])]


def _merge_sheet(rows: int, merges: bytes) -> bytes:
    """A worksheet of ``rows`` claim rows (4 columns) followed by the ``<mergeCells>`` given."""
    body = "".join([b.row(1, b.HEADER), *(
        b.row(n, (f"SN{n:08d}", *b.CLAIM[1:])) for n in range(2, rows + 2))])
    sheet = b.sheet_xml(body).encode()
    return sheet.replace(b"</sheetData>", b"</sheetData>" + merges)


def _write_sheet(path: Path, sheet: bytes) -> Path:
    parts = b.workbook_parts([("Claims", "PLACEHOLDER")])
    parts["xl/worksheets/sheet1.xml"] = sheet
    return b.write_zip(path, parts)


def test_eight_million_merged_ranges_are_refused_before_calamine_opens_the_sheet(
        hostile, tmp_path):
    """8M ranges in a 37 MB file: calamine would parse them all when it opens the sheet and
    python-calamine would hand Python 8M nested tuples (~2.2 GB)."""
    count = 8_000_000
    merges = (b'<mergeCells count="%d">' % count
              + b"".join(b'<mergeCell ref="F%d:F%d"/>' % (i, i + 1)
                         for i in range(1, 2 * count, 2))
              + b"</mergeCells>")
    path = _write_sheet(tmp_path / "merges.xlsx", _merge_sheet(1, merges))
    assert path.stat().st_size < 50 * 1024 * 1024
    message = hostile.failed(path, "TOO_LARGE", max_seconds=20)
    assert "merges.xlsx, sheet Claims: it has 8,000,000 merged cell ranges, above the limit " \
           "of 1,000,000 merged ranges (RMA_MAX_ROWS)" in message


def test_overlapping_merged_ranges_are_refused_instead_of_filled_again_and_again(
        hostile, tmp_path):
    """Excel never writes overlapping ranges; 100,000 copies of A3:A40001 over 40,000 claim
    rows would have the reader fill 4 billion cells."""
    merges = b'<mergeCells count="100000">' + b'<mergeCell ref="A3:A40001"/>' * 100_000 \
        + b"</mergeCells>"
    path = _write_sheet(tmp_path / "overlap.xlsx", _merge_sheet(40_000, merges))
    message = hostile.failed(path, "UNREADABLE_FILE")
    assert "overlap.xlsx, sheet Claims: its merged cells overlap, which Excel never writes" \
        in message

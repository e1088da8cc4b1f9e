"""A mail's claim spreadsheets are read from their bytes (``rma.service.mail``): no temporary
folder, no file of the attachment anywhere; only the reports and the reply are written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from rma.adapters.db.engine import make_engine
from rma.config import Settings
from rma.service.mail import ingest_message
from tests.e2e.conftest import seed_database
from tests.factories import generate_rows, valid_claim, write_csv, write_xlsx
from tests.mailfactory import mail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _files(folder: Path) -> set[Path]:
    return {Path(root) / name for root, _, names in os.walk(folder) for name in names}


@pytest.fixture
def no_temporary_files(monkeypatch, tmp_path):
    """A temporary file or folder made from here on fails the test, except the reports' and
    the reply's own (written to a temporary name in their folder, then renamed)."""
    allowed = (tmp_path / "reports", tmp_path / "outbox")
    private = tmp_path / "tmp"  # the machine's temporary folder is shared: watch one of ours
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))

    def guarded(make):
        def make_in_place(*args, **kwargs):
            folder = kwargs.get("dir")
            if folder is None or Path(folder) not in allowed:
                raise AssertionError(f"a temporary file or folder was made: {make.__name__}"
                                     f"({args}, {kwargs})")
            return make(*args, **kwargs)
        return make_in_place

    for name in ("mkstemp", "mkdtemp", "TemporaryDirectory", "NamedTemporaryFile",
                 "TemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, guarded(getattr(tempfile, name)))


def test_attachments_are_read_without_any_file_being_written(tmp_path, no_temporary_files):
    seed_database(url := f"sqlite:///{tmp_path / 'claims.db'}", tmp_path)
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    csv_data = write_csv(sheets / "a.csv", generate_rows(20, bad_ratio=0.3, seed=1)).read_bytes()
    xlsx_data = write_xlsx(sheets / "b.xlsx", [valid_claim(claim_ref="X-1")]).read_bytes()
    raw = mail(subject="claims", attachments=[
        ("claims.csv", csv_data, "text/csv"), ("claims.xlsx", xlsx_data, XLSX),
        ("broken.xlsx", b"PK\x03\x04 not a zip", XLSX)])
    engine = make_engine(url)
    project_before = _files(tmp_path)
    try:
        outcome = ingest_message(raw, "message.eml", engine, Settings(database_url=url),
                                 tmp_path / "reports", tmp_path / "outbox")
    finally:
        engine.dispose()
    assert outcome.status == "processed", outcome.error
    csv_batch, xlsx_batch, broken = outcome.batches
    assert csv_batch.status == "posted" and csv_batch.claims_rejected > 0
    assert xlsx_batch.status == "posted" and xlsx_batch.claims_accepted == 1
    assert broken.status == "failed" and broken.error["code"] == "UNREADABLE_FILE"
    assert broken.error["message"].startswith("broken.xlsx: ")
    assert os.listdir(tempfile.gettempdir()) == []
    written = _files(tmp_path) - project_before
    assert written and all(p.parent.name in ("reports", "outbox") or p.name.startswith(
        "claims.db") for p in written), written
    assert not any(p.name in ("claims.csv", "claims.xlsx", "broken.xlsx") for p in written)


def test_an_attachment_posted_before_is_a_duplicate_by_its_bytes(tmp_path):
    seed_database(url := f"sqlite:///{tmp_path / 'claims.db'}", tmp_path)
    data = write_xlsx(tmp_path / "c.xlsx", [valid_claim(claim_ref="D-1")]).read_bytes()
    engine = make_engine(url)
    try:
        # two messages that differ (their subjects), so neither is a re-delivery of the
        # other: only the attachment is the same
        outcomes = [ingest_message(mail(subject=f"Claims {n}",
                                        attachments=[("c.xlsx", data, XLSX)]),
                                   f"m{n}.eml", engine, Settings(database_url=url),
                                   tmp_path / "reports", tmp_path / "outbox")
                    for n in range(2)]
    finally:
        engine.dispose()
    first, second = (o.batches[-1] for o in outcomes)
    assert first.status == "posted" and second.status == "duplicate"
    assert second.batch_id == first.batch_id

"""A full disk or an unwritable report folder (SPEC §5, §6): the batch fails cleanly before
anything is posted or the file is moved, and the next run, once the fault is gone, posts it."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine
from rma.adapters.db.tables import batches, claims
from tests.e2e.conftest import RMA
from tests.factories import generate_rows, valid_claim, write_csv

pytestmark = pytest.mark.prefect


def _posted(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                         for t in (batches, claims))  # type: ignore[return-value]
    finally:
        engine.dispose()


def _inbox_with_rejections(workdir: Path) -> Path:
    inbox = workdir / "inbox"
    (inbox / "D-001").mkdir(exist_ok=True)
    write_csv(inbox / "D-001" / "night.csv", [
        valid_claim(claim_ref="N-1"), valid_claim(claim_ref="N-2", recipient_email="nope")])
    return inbox


def test_unwritable_report_folder_fails_the_batch_before_anything_is_posted(
        cli, workdir, db_url, monkeypatch):
    inbox = _inbox_with_rejections(workdir)
    blocker = workdir / "not-a-folder"
    blocker.write_text("a file where the report folder should be\n", encoding="utf-8")
    monkeypatch.setenv("RMA_REPORTS", str(blocker / "reports"))

    run = cli("run-inbox", "--json")
    assert run.code == 1
    [batch] = run.json()["batches"]
    assert batch["status"] == "failed" and batch["error"]["code"] == "PROCESSING_ERROR"
    message = batch["error"]["message"]
    assert "night.csv" in message and "rejection report could not be written" in message
    assert str(blocker / "reports") in message and "nothing of this batch was posted" in message
    assert "Traceback" not in run.err
    assert _posted(db_url) == (0, 0)
    assert (inbox / "D-001" / "night.csv").exists()  # still waiting, not quarantined
    assert not (workdir / "quarantine").exists()

    monkeypatch.setenv("RMA_REPORTS", str(workdir / "reports"))
    again = cli("run-inbox", "--json")
    assert again.code == 0, again.err
    [batch] = again.json()["batches"]
    assert (batch["status"], batch["claims_accepted"], batch["claims_rejected"]) == \
        ("posted", 1, 1)
    assert _posted(db_url) == (1, 1)


def _disk_full_of(limit: int):
    """In the child: files may not grow past ``limit`` bytes (EFBIG, as on a full disk)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_full_disk_while_writing_the_report_posts_nothing_and_moves_nothing(
        cli, workdir, db_url, prefect_api):
    inbox = workdir / "inbox"
    (inbox / "D-001").mkdir(exist_ok=True)
    write_csv(inbox / "D-001" / "big.csv", generate_rows(3000, bad_ratio=0.5, seed=11))
    env = {**os.environ, "RMA_DATABASE_URL": db_url, "RMA_INBOX": str(inbox),
           "PREFECT_API_URL": prefect_api}
    full = subprocess.run([RMA, "run-inbox", "--json"], cwd=workdir, env=env, text=True,
                          capture_output=True, timeout=300, preexec_fn=_disk_full_of(64 * 1024))
    assert full.returncode == 1, full.stderr
    [batch] = json.loads(full.stdout)["batches"]
    assert batch["status"] == "failed", batch
    assert "rejection report could not be written" in batch["error"]["message"]
    assert "File too large" in batch["error"]["message"]  # EFBIG: the file size limit
    assert _posted(db_url) == (0, 0)
    assert (inbox / "D-001" / "big.csv").exists()
    leftovers = [p.name for p in (workdir / "reports").rglob("*")] \
        if (workdir / "reports").exists() else []
    assert not [name for name in leftovers if name.endswith(".tmp")], leftovers

    ok = subprocess.run([RMA, "run-inbox", "--json"], cwd=workdir, env=env, text=True,
                        capture_output=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    [batch] = json.loads(ok.stdout)["batches"]
    assert batch["status"] == "posted" and batch["claims_rejected"] > 0
    assert _posted(db_url)[0] == 1
    assert not (inbox / "D-001" / "big.csv").exists()

"""`rma ingest PATH... --check [--json]` (SPEC §9): the batch object with status `checked`,
exit 0, nothing posted; then the real ingest of the same file posts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli
from tests.factories import valid_claim, write_csv

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.mark.prefect
@SQLITE_ONLY
def test_a_check_prints_the_checked_batch_and_the_real_ingest_then_posts_it(cli, workdir):
    path = write_csv(workdir / "claims.csv", [
        valid_claim(claim_ref="OK-1"), valid_claim(claim_ref="BAD-1", recipient_email="nope")])

    checked = cli("ingest", str(path), "--account", "D-001", "--check", "--json")
    assert checked.code == 0, checked.err
    [batch] = checked.json()["batches"]
    assert batch["status"] == "checked" and batch["claim_ids"] == []
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 1)
    assert [r["code"] for r in batch["rejections"]] == ["INVALID_EMAIL"]
    assert Path(batch["reports"]["csv"]).is_file()
    assert cli("claims", "list", "--json").json()["claims"] == []

    line = cli("ingest", str(path), "--account", "D-001", "--check")
    assert line.code == 0 and "checked, nothing posted: 1 would be accepted, 1 rejected" \
        in line.out

    posted = cli("ingest", str(path), "--account", "D-001", "--json")
    assert posted.code == 0, posted.err
    [batch] = posted.json()["batches"]
    assert batch["status"] == "posted" and batch["error"] is None
    assert len(batch["claim_ids"]) == 1
    assert [c["claim_ref"] for c in cli("claims", "list", "--json").json()["claims"]] == ["OK-1"]


@SQLITE_ONLY
def test_a_check_of_an_unreadable_file_is_a_failed_batch_and_exit_1(capsys, workdir):
    """No flow runs for a check: no Prefect API is needed."""
    (workdir / "claims.ods").write_bytes(b"not a spreadsheet")
    run = Cli(capsys)("ingest", str(workdir / "claims.ods"), "--account", "D-001", "--check",
                      "--json")
    assert run.code == 1
    [batch] = run.json()["batches"]
    assert batch["status"] == "failed" and batch["error"]["code"] == "UNSUPPORTED_FORMAT"

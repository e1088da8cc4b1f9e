"""`rma run-inbox` with a fan-out deployment that does not exist: one line naming the
setting, exit status 2, and the files stay waiting (nothing is half done)."""

from __future__ import annotations

import pytest

from tests.factories import valid_claim, write_csv

pytestmark = pytest.mark.prefect


def test_a_missing_fanout_deployment_is_a_usage_error_and_the_files_wait(
        cli, workdir, monkeypatch):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    waiting = write_csv(folder / "a.csv", [valid_claim()])
    monkeypatch.setenv("RMA_FANOUT_DEPLOYMENT", "ingest-files/nowhere")
    run = cli("run-inbox")
    assert run.code == 2, run.err
    assert run.err.startswith("rma: RMA_FANOUT_DEPLOYMENT='ingest-files/nowhere': no such "
                              "deployment") and len(run.err.splitlines()) == 1
    assert waiting.exists() and not (workdir / "archive").exists()
    assert cli("claims", "list", "--json").json()["claims"] == []

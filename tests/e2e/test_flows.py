"""The Prefect flows themselves: artifacts per batch and per run, and what happens when the
database fails even after Prefect's retries (a failed batch; the file stays waiting)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import flows.ingest as flows_module
from flows import artifacts, files, tasks
from tests.factories import valid_claim, write_csv
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.prefect


def test_a_posted_batch_with_rejections_publishes_markdown_and_table_artifacts(
        cli, workdir):
    path = write_csv(workdir / "a.csv", [valid_claim(), valid_claim(serial_number="S#1")])
    batch = cli("ingest", str(path), "--account", "D-001", "--json").json()["batches"][0]
    key = artifacts.artifact_key(batch["batch_id"])
    summary = latest_artifact(key)
    table = latest_artifact(key + "-issues")
    assert summary is not None and "a.csv" in str(summary.data)
    assert table is not None and "INVALID_SERIAL_NUMBER" in str(table.data)
    run = latest_artifact("ingest-run")
    assert run is not None and "a.csv" in str(run.data)


def test_a_database_fault_after_retries_fails_the_batch_and_leaves_the_file_waiting(
        prefect_api, tmp_path, monkeypatch, sqlite_url):
    from rma.adapters.db.engine import upgrade

    upgrade(sqlite_url)
    inbox = tmp_path / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    waiting = write_csv(inbox / "D-001" / "a.csv", [valid_claim()])
    quick = files.ingest_batch.with_options(retries=1, retry_delay_seconds=0)
    monkeypatch.setattr(files, "ingest_batch", quick)
    calls = []

    def database_gone(*_args, **_kwargs):
        calls.append(1)
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("the database went away"))

    monkeypatch.setattr(tasks, "ingest_file", database_gone)
    batches = flows_module.run_inbox(str(inbox), database_url=sqlite_url)
    assert len(calls) == 2  # tried, retried by Prefect, then given up
    assert [b["status"] for b in batches] == ["failed"]
    assert batches[0]["error"]["code"] == "PROCESSING_ERROR"
    assert "the database went away" in batches[0]["error"]["message"]
    assert waiting.exists()
    assert not (tmp_path / "quarantine").exists() and not (tmp_path / "archive").exists()


def test_a_run_against_a_database_that_was_never_migrated_stops_with_one_clear_error(
        prefect_api, tmp_path):
    from rma.errors import DatabaseNotReady

    inbox = tmp_path / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    waiting = write_csv(inbox / "D-001" / "a.csv", [valid_claim()])
    with pytest.raises(DatabaseNotReady, match="rma db upgrade"):
        flows_module.run_inbox(str(inbox), database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert waiting.exists()


def test_a_run_over_an_empty_inbox_posts_nothing(prefect_api, tmp_path: Path, sqlite_url):
    from rma.adapters.db.engine import upgrade

    upgrade(sqlite_url)
    (tmp_path / "inbox").mkdir()
    assert flows_module.run_inbox(str(tmp_path / "inbox"), database_url=sqlite_url) == []

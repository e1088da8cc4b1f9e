"""Small files share task runs (``ingest-small-files``): each file is still its own batch and
transaction, and a file that raises in a group runs again as its own ``ingest-batch`` task,
with Prefect's retries."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

import flows.ingest as flows_module
from flows import artifacts, files, tasks
from tests.e2e.conftest import seed_database
from tests.factories import valid_claim, write_csv
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.prefect


@pytest.fixture
def inbox(tmp_path: Path, sqlite_url: str, monkeypatch) -> Path:
    seed_database(sqlite_url, tmp_path)
    root = tmp_path / "inbox"
    for account in ("D-001", "D-002"):
        (root / account).mkdir(parents=True)
        for n in range(3):
            write_csv(root / account / f"claims-{n}.csv", [valid_claim(), valid_claim()])
    monkeypatch.setenv("RMA_WORKERS", "2")
    monkeypatch.setenv("RMA_TASK_GROUP_FILES", "25")
    return root


def _tasks_of_files(monkeypatch, fail_once: str | None = None) -> dict[str, list[str]]:
    """Record which task run ingested each file (and make ``fail_once`` raise the first
    time, as a lost database connection would)."""
    from prefect.context import TaskRunContext

    real = tasks.ingest_file
    seen: dict[str, list[str]] = defaultdict(list)

    def recording(path: Path, *args, **kwargs):
        seen[path.parent.name + "/" + path.name].append(str(TaskRunContext.get().task_run.id))
        if path.name == fail_once and len(seen[f"{path.parent.name}/{path.name}"]) == 1:
            raise sa.exc.OperationalError("INSERT", {}, Exception("the connection was lost"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tasks, "ingest_file", recording)
    return seen


def test_small_files_share_task_runs_and_each_is_still_its_own_batch(
        prefect_api, inbox, sqlite_url, monkeypatch):
    seen = _tasks_of_files(monkeypatch)
    batches = flows_module.run_inbox(str(inbox), database_url=sqlite_url)
    assert [b["status"] for b in batches] == ["posted"] * 6
    assert len({b["batch_id"] for b in batches}) == 6
    assert [Path(b["source"]).parent.name for b in batches] == ["D-001"] * 3 + ["D-002"] * 3
    runs = {file: ids[0] for file, ids in seen.items()}
    # two workers: two task runs of three files, an account's files together
    assert len(set(runs.values())) == 2
    assert len({runs[f"D-001/claims-{n}.csv"] for n in range(3)}) == 1
    assert not list(inbox.rglob("*.csv"))  # every file archived


def test_a_grouped_file_that_raises_runs_again_as_its_own_task_and_is_posted(
        prefect_api, inbox, sqlite_url, monkeypatch):
    seen = _tasks_of_files(monkeypatch, fail_once="claims-1.csv")
    batches = flows_module.run_inbox(str(inbox), database_url=sqlite_url)
    assert [b["status"] for b in batches] == ["posted"] * 6
    first, again = seen["D-001/claims-1.csv"]
    assert first == seen["D-001/claims-0.csv"][0]  # it was in the group ...
    assert again != first  # ... and ran again in a task run of its own
    assert seen["D-001/claims-2.csv"] == [first]  # the rest of its group went on
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM batches")).scalar() == 6
    engine.dispose()


def test_one_task_per_file_when_grouping_is_off(prefect_api, inbox, sqlite_url, monkeypatch):
    monkeypatch.setenv("RMA_TASK_GROUP_FILES", "1")
    seen = _tasks_of_files(monkeypatch)
    flows_module.run_inbox(str(inbox), database_url=sqlite_url)
    assert len({ids[0] for ids in seen.values()}) == 6


def test_with_worker_processes_every_grouped_file_is_posted_archived_and_has_its_artifacts(
        prefect_api, inbox, sqlite_url, monkeypatch):
    import flows.runners

    for n in range(3):  # one claim with a bad e-mail address: reports and artifacts
        write_csv(inbox / "D-002" / f"bad-{n}.csv", [valid_claim(recipient_email="x@")])
    monkeypatch.setenv("RMA_PROCESSES", "2")
    started: list[int] = []
    real_pool = flows.runners.process_pool

    def recording(processes: int):
        started.append(processes)
        return real_pool(processes)

    monkeypatch.setattr(files, "process_pool", recording)
    batches = flows_module.run_inbox(str(inbox), database_url=sqlite_url)
    assert started == [2]
    assert sorted(b["status"] for b in batches) == ["posted"] * 9
    assert sum(b["claims_accepted"] for b in batches) == 12
    assert not list(inbox.rglob("*.csv"))
    for batch in batches:
        if batch["rejections"]:
            key = artifacts.artifact_key(batch["batch_id"])
            assert latest_artifact(key) is not None and latest_artifact(key + "-issues") is not None
    assert sum(bool(b["rejections"]) for b in batches) == 3

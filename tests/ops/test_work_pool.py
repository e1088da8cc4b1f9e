"""prefect.yaml on a real Prefect server with two process workers: the nightly deployment
spreads the inbox over both workers as `ingest-files` groups and posts every file exactly
once; a second nightly run started beside the first is cancelled by the deployment's
concurrency limit, never run in parallel on the same inbox."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa

from rma.adapters.db.runs import last_runs
from rma.adapters.db.tables import batches, claims
from rma.adapters.inbox.folders import waiting_files
from rma.config import Settings
from rma.entrypoints.cli import main
from rma.service.batch import file_sha256
from rma.service.fanout import group_files
from tests.e2e.conftest import write_reference
from tests.factories import valid_claim, write_csv, write_xlsx
from tests.ops.conftest import (
    PREFECT,
    ROOT,
    PrefectServer,
    api,
    run,
    running_prefect_server,
    started,
    temp_pg_database,
    wait_until,
)

pytestmark = [pytest.mark.ops, pytest.mark.postgres]

POOL = "rma-intake"  # as in prefect.yaml
NIGHTLY = "run-inbox/nightly"
GROUP = "ingest-files/group"
WORKERS = ("worker-a", "worker-b")
GROUP_FILES = 7


@dataclass
class Pool:
    server: PrefectServer
    claims_url: str
    site: Path

    @property
    def inbox(self) -> Path:
        return self.site / "inbox"

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.claims_url)


def _reference_data(claims_url: str, folder: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RMA_DATABASE_URL", claims_url)
        assert main(["db", "upgrade"]) == 0
        accounts, codes = write_reference(folder)
        assert main(["accounts", "import", str(accounts)]) == 0
        assert main(["codes", "import", str(codes)]) == 0


def _registered_workers(server: PrefectServer) -> set[str]:
    from prefect import get_client

    with api(server), get_client(sync_client=True) as client:
        return {w.name for w in client.read_workers_for_work_pool(POOL)}


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    """A Prefect server, the deployments of prefect.yaml (`prefect deploy --all`), two
    process workers that fan the nightly run out, and a claims database on PostgreSQL."""
    base = tmp_path_factory.mktemp("ops-pool")
    site = base / "site"
    (site / "inbox").mkdir(parents=True)
    with ExitStack() as stack:
        server = stack.enter_context(running_prefect_server(base))
        claims_url = stack.enter_context(temp_pg_database("rma_ops_claims"))
        _reference_data(claims_url, base)
        run([PREFECT, "work-pool", "create", POOL, "--type", "process"], server.env, base)
        run([PREFECT, "--no-prompt", "deploy", "--all"],
            {**server.env, "RMA_SCHEDULE_CRON": "0 2 * * *", "RMA_TIMEZONE": "Europe/Berlin"},
            ROOT)
        worker_env = {**server.env, "RMA_HOME": str(ROOT), "RMA_DATABASE_URL": claims_url,
                      "RMA_INBOX": str(site / "inbox"), "RMA_FANOUT_DEPLOYMENT": GROUP,
                      "RMA_FANOUT_GROUP_FILES": str(GROUP_FILES), "RMA_WORKERS": "2",
                      "PREFECT_WORKER_QUERY_SECONDS": "1",
                      "RMA_SETTLE_SECONDS": "0"}  # the files are written just before a run
        workers = [stack.enter_context(started(
            [PREFECT, "worker", "start", "--pool", POOL, "--type", "process", "--name", name,
             "--limit", "2"], worker_env, base, base / f"{name}.log")) for name in WORKERS]
        for worker in workers:
            wait_until("both workers registered with the pool",
                       lambda: set(WORKERS) <= _registered_workers(server), 90,
                       process=worker)
        yield Pool(server, claims_url, site)


def _wait_final(pool: Pool, ids: list[UUID], timeout: float = 240) -> dict[UUID, object]:
    from prefect import get_client

    def final():
        with api(pool.server), get_client(sync_client=True) as client:
            runs = [client.read_flow_run(i) for i in ids]
        return ({r.id: r for r in runs}
                if all(r.state is not None and r.state.is_final() for r in runs) else None)
    return wait_until("the flow runs to finish", final, timeout, every=1)


def _start_nightly(pool: Pool, n: int = 1) -> list[UUID]:
    from prefect.deployments import run_deployment

    with api(pool.server):
        return [run_deployment(NIGHTLY, timeout=0, as_subflow=False).id for _ in range(n)]


def _children(pool: Pool, parent: UUID) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with api(pool.server), get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])))


def _state_history(pool: Pool, flow_run_id: UUID) -> list[str]:
    from prefect import get_client

    with api(pool.server), get_client(sync_client=True) as client:
        return [s.type.value for s in client.read_flow_run_states(flow_run_id)]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_prefect_deploy_all_registers_the_nightly_schedule_limit_and_the_group_deployment(
        pool):
    from prefect import get_client

    with api(pool.server), get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name(NIGHTLY)
        group = client.read_deployment_by_name(GROUP)
    [schedule] = nightly.schedules  # from RMA_SCHEDULE_CRON / RMA_TIMEZONE at deploy time
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == \
        ("0 2 * * *", "Europe/Berlin", True)
    assert nightly.global_concurrency_limit.limit == 1
    assert nightly.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert (nightly.entrypoint, group.entrypoint) == ("flows/ingest.py:run_inbox",
                                                      "flows/ingest.py:ingest_many")
    assert nightly.work_pool_name == group.work_pool_name == POOL
    assert not group.schedules and group.global_concurrency_limit is None
    # workers run the flows where RMA_HOME says, resolved on each machine at run time
    assert nightly.pull_steps == [{"prefect.deployments.steps.set_working_directory":
                                   {"directory": "{{ $RMA_HOME }}"}}]


def test_the_nightly_deployment_spreads_the_inbox_over_both_workers_and_posts_each_file_once(
        pool):
    inbox = pool.inbox
    good: list[Path] = []
    for account, count in (("D-001", 10), ("D-002", 8), ("I-GOLD", 6)):
        (inbox / account).mkdir()
        for i in range(count):
            rows = [valid_claim(), valid_claim()]
            if account == "D-002" and i == 3:
                rows.append(valid_claim(recipient_email="anna(at)example"))  # rejected
            writer, suffix = (write_xlsx, "xlsx") if i % 2 else (write_csv, "csv")
            good.append(writer(inbox / account / f"f{i:02d}.{suffix}", rows))
    bad = inbox / "D-001" / "notes.txt"
    bad.write_text("please call me about the inverter\n", encoding="utf-8")
    shas = {file_sha256(p) for p in good}
    waiting = waiting_files(inbox)
    expected_groups = group_files(waiting, {w.path: w.path.stat().st_size for w in waiting},
                                  target_files=GROUP_FILES,
                                  target_bytes=Settings().fanout_group_bytes)
    assert len(waiting) == 25 and len(expected_groups) == 4

    started_at = time.monotonic()
    [parent_id] = _start_nightly(pool)
    parent = _wait_final(pool, [parent_id])[parent_id]
    elapsed = time.monotonic() - started_at
    assert parent.state.is_completed(), parent.state

    # the files travelled in the groups of rma.service.fanout.group_files, each in exactly one child
    children = _children(pool, parent_id)
    assert sorted(tuple(c.parameters["paths"]) for c in children) == sorted(
        tuple(str(w.path) for w in g) for g in expected_groups)
    assert all(c.state.is_completed() for c in children), [c.state for c in children]
    assert all(c.parameters["inbox"] == str(inbox) for c in children)
    # ... and both workers ran some of them (the worker that took a run labels it)
    assert {c.labels.get("prefect.worker.name") for c in children} == set(WORKERS), \
        [(c.name, c.labels) for c in children]

    # every batch posted exactly once: one batch row per file content, nothing else
    engine = pool.engine()
    try:
        with engine.connect() as conn:
            posted = conn.execute(sa.select(batches.c.sha256, batches.c.source)).all()
            n_claims = conn.execute(sa.select(sa.func.count()).select_from(claims)).scalar()
        runs = last_runs(engine, 5)
    finally:
        engine.dispose()
    assert sorted(sha for sha, _ in posted) == sorted(shas)
    assert {source for _, source in posted} == {str(p) for p in good}
    assert n_claims == 48

    # every good file archived once (no second copy), the bad one quarantined, inbox empty
    day = dt.datetime.now(dt.UTC).date().isoformat()
    assert _files(pool.site / "archive") == sorted(
        f"{day}/{p.parent.name}/{p.name}" for p in good)
    assert _files(pool.site / "quarantine") == ["D-001/notes.txt", "D-001/notes.txt.error.txt"]
    assert _files(inbox) == []

    # the parent summarised the night from the claims database and the quarantine notes
    [record] = [r for r in runs if r["flow_run_id"] == str(parent_id)]
    assert (record["status"], record["files"], record["batches_posted"],
            record["batches_failed"]) == ("finished", 25, 24, 1)
    assert (record["claims_accepted"], record["claims_rejected"]) == (48, 1)
    assert [f["code"] for f in record["failures"]] == ["UNSUPPORTED_FORMAT"]
    print(f"nightly fan-out of 25 files over 2 workers: {elapsed:.1f} s")


def test_a_second_nightly_run_started_beside_the_first_is_cancelled_not_run_in_parallel(pool):
    folder = pool.inbox / "D-002"
    folder.mkdir(exist_ok=True)
    paths = [write_csv(folder / f"late{i}.csv", [valid_claim()]) for i in range(3)]
    engine = pool.engine()
    try:
        runs_before = len(last_runs(engine, 100))
        first, second = _start_nightly(pool, 2)
        finished = _wait_final(pool, [first, second])
        states = {i: finished[i].state for i in (first, second)}
        assert sorted(s.type.value for s in states.values()) == ["CANCELLED", "COMPLETED"], \
            states
        [cancelled] = [finished[i] for i in (first, second)
                       if states[i].is_cancelled()]
        assert "concurrency limit" in (cancelled.state.message or "").lower()
        # it never ran (no process, no inbox access): Scheduled, Pending refused, Cancelled
        assert "RUNNING" not in _state_history(pool, cancelled.id), \
            _state_history(pool, cancelled.id)
        assert _children(pool, cancelled.id) == []
        # the inbox was processed once, by the run that went ahead
        with engine.connect() as conn:
            sources = conn.execute(sa.select(batches.c.source)
                                   .where(batches.c.source.in_([str(p) for p in paths])))
            assert sorted(s for (s,) in sources) == sorted(str(p) for p in paths)
        assert len(last_runs(engine, 100)) == runs_before + 1
    finally:
        engine.dispose()
    assert _files(pool.inbox) == []

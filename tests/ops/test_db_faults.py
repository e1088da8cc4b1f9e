"""Transient database faults on the production setup: the claims database on PostgreSQL
(pool settings from RMA_DB_*) and Prefect on a real `prefect server` backed by PostgreSQL.

A batch is one transaction, and Prefect's task retries run it again after a transient
fault (``rma.adapters.db.faults``): a claims connection killed mid-batch, a serialization failure or
a deadlock is retried and the batch posted exactly once; a fault on every attempt posts
nothing and leaves the file waiting; an error that retrying cannot mend is not retried.
Faults are real: ``pg_terminate_backend`` on the posting connection (from an admin
connection), and server errors raised with the SQLSTATE in question, at a chosen statement
inside the posting transaction (a SQLAlchemy event hook)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import flows.ingest as flows_module
from flows import files
from flows.chunked import LargeFileFailed
from flows.engines import engine_for
from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.faults import is_transient, sqlstate
from rma.adapters.db.repository import ClaimsRepository
from rma.config import DbPool, load_settings
from rma.errors import ConfigError, DatabaseNotReady, PostingConflict
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.e2e.conftest import seed_database
from tests.factories import valid_claim, write_csv
from tests.ops.conftest import api, running_prefect_server

pytestmark = [pytest.mark.ops, pytest.mark.postgres]

RAISE = "DO $$ BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '{}'; END $$"


# --------------------------------------------------------------------------- which faults


def server_error(code: str) -> sa.exc.DBAPIError:
    """The error SQLAlchemy raises when PostgreSQL answers with SQLSTATE ``code``."""
    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with pytest.raises(sa.exc.DBAPIError) as info, engine.connect() as conn:
            conn.exec_driver_sql(RAISE.format(code))
    finally:
        engine.dispose()
    return info.value


@pytest.mark.parametrize("code, transient", [
    ("40001", True),   # serialization_failure
    ("40P01", True),   # deadlock_detected
    ("55P03", True),   # lock_not_available
    ("57P01", True),   # admin_shutdown
    ("53300", True),   # too_many_connections
    ("08006", True),   # connection_failure
    ("23505", False),  # unique_violation (of the batch itself)
    ("42P01", False),  # undefined_table
    ("22001", False),  # string_data_right_truncation
    ("XX000", False),  # internal_error
])
def test_a_server_error_is_transient_by_its_sqlstate(code, transient):
    error = server_error(code)
    assert sqlstate(error) == code
    assert is_transient(error) is transient


def test_a_terminated_backend_and_a_refused_connection_are_transient():
    engine = sa.create_engine(PG_ADMIN_URL)
    admin = _pg_admin()
    try:
        with pytest.raises(sa.exc.OperationalError) as killed, engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
            conn.exec_driver_sql("SELECT 1")
        assert killed.value.connection_invalidated
        assert is_transient(killed.value)
    finally:
        engine.dispose()
        admin.dispose()
    nowhere = make_engine("postgresql://postgres@127.0.0.1:1/none", DbPool(connect_timeout=2))
    with pytest.raises(sa.exc.OperationalError) as refused:
        nowhere.connect()
    assert sqlstate(refused.value) is None and is_transient(refused.value)


def test_sqlite_busy_pool_exhaustion_and_posting_conflicts_are_transient_the_rest_not(
        tmp_path):
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE x (a)")
    holder.execute("BEGIN IMMEDIATE")
    busy = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(sa.exc.OperationalError) as locked, busy.begin() as conn:
        conn.exec_driver_sql("INSERT INTO x VALUES (1)")
    holder.rollback()
    with pytest.raises(sa.exc.OperationalError) as missing, busy.connect() as conn:
        conn.exec_driver_sql("SELECT * FROM no_such_table")
    busy.dispose()
    holder.close()
    assert is_transient(locked.value)
    assert not is_transient(missing.value)

    pool = make_engine(PG_ADMIN_URL, DbPool(size=1, max_overflow=0, timeout=1))
    with pool.connect(), pytest.raises(sa.exc.TimeoutError) as exhausted:
        pool.connect()
    pool.dispose()
    assert is_transient(exhausted.value)

    assert is_transient(PostingConflict("a code was redeemed by a concurrent posting"))
    wrapped = RuntimeError("task failed")
    wrapped.__cause__ = server_error("40P01")
    assert is_transient(wrapped)
    for error in (ValueError("bug"), DatabaseNotReady("run rma db upgrade"),
                  LargeFileFailed("retried already")):
        assert not is_transient(error)


# --------------------------------------------------------------------------- pool settings


def test_pool_and_connection_settings_come_from_the_environment(pg_url, monkeypatch):
    upgrade(pg_url)
    for name, value in {"RMA_DB_POOL_SIZE": "3", "RMA_DB_MAX_OVERFLOW": "2",
                        "RMA_DB_POOL_TIMEOUT": "7", "RMA_DB_POOL_RECYCLE": "120",
                        "RMA_DB_CONNECT_TIMEOUT": "4", "RMA_DB_KEEPALIVE_IDLE": "15"}.items():
        monkeypatch.setenv(name, value)
    engine = engine_for(pg_url, load_settings().db_pool)  # as every flow task
    pool = engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle) == (3, 2, 7, 120)
    with engine.connect() as conn:
        params = conn.connection.dbapi_connection.info.get_parameters()
    assert (params["connect_timeout"], params["keepalives"], params["keepalives_idle"]) == (
        "4", "1", "15")
    engine.dispose()
    monkeypatch.setenv("RMA_DB_POOL_SIZE", "0")
    with pytest.raises(ConfigError, match="RMA_DB_POOL_SIZE"):
        load_settings()


def test_postings_queue_at_read_committed_even_when_the_server_default_is_repeatable_read(
        pg_url):
    """At REPEATABLE READ a posting that waited for the posting lock would read a snapshot
    from before the previous posting committed and fail with 40001 every time."""
    upgrade(pg_url)
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{sa.make_url(pg_url).database}" '
                             "SET default_transaction_isolation TO 'repeatable read'"))
    admin.dispose()
    engine = make_engine(pg_url)
    holding = threading.Event()
    errors: list[BaseException] = []

    def post(n: int, hold: float) -> None:
        try:
            with posting_transaction(engine) as conn:
                holding.set()
                repo = ClaimsRepository(conn)
                claim_id = repo.allocate_claim_ids(2026, 1)[0]
                repo.insert_batch({"batch_id": f"B-{n}", "sha256": f"{n}" * 64,
                                   "source": f"f{n}", "account_id": None,
                                   "received_at": dt.datetime.now(dt.UTC),
                                   "claims_accepted": 1, "claims_rejected": 0,
                                   "status": "posted"})
                assert claim_id == f"RMA-2026-00000{n}"
                time.sleep(hold)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    first = threading.Thread(target=post, args=(1, 0.5))
    first.start()
    holding.wait(10)
    post(2, 0)
    first.join()
    with engine.connect() as conn:
        isolation = conn.exec_driver_sql("SHOW transaction_isolation").scalar_one()
        posted = conn.execute(sa.select(sa.func.count()).select_from(t.batches)).scalar_one()
    engine.dispose()
    assert isolation == "repeatable read"           # the server default is untouched
    assert errors == [] and posted == 2


# --------------------------------------------------------------------------- through Prefect


@pytest.fixture(scope="module")
def prefect_on_postgres(tmp_path_factory) -> Iterator[None]:
    """A real ``prefect server`` whose own database is PostgreSQL
    (PREFECT_API_DATABASE_CONNECTION_URL), for this module's flow runs."""
    with running_prefect_server(tmp_path_factory.mktemp("prefect")) as server:
        _restart_event_and_log_workers()  # they keep the API they started with
        with api(server):
            yield
            _restart_event_and_log_workers()  # deliver to this server before it stops


def _restart_event_and_log_workers() -> None:
    """Deliver and stop Prefect's background event and log senders of this process; the
    next flow run starts new ones for the API in force then (the session's test server may
    have started them first)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    EventsWorker.drain_all(timeout=10)
    APILogWorker.drain_all(timeout=10)


class Fault:
    """On the ``times`` first executions of a statement starting with ``statement`` inside
    a posting, do ``action(conn, cursor)``; counts every execution (= posting attempts)."""

    def __init__(self, statement: str, action: Callable[[sa.Connection, object], None],
                 times: int) -> None:
        self.statement, self.action, self.left = statement, action, times
        self.attempts = 0
        self.pids: list[int] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith(self.statement):
            self.attempts += 1
            self.pids.append(conn.connection.dbapi_connection.info.backend_pid)
            if self.left:
                self.left -= 1
                self.action(conn, cursor)
        return statement, parameters


def terminate(conn: sa.Connection, cursor: object) -> None:
    """Kill this connection's server process from another connection (as an admin, a
    failover or a crashed server would); the statement then meets a dead connection."""
    admin = _pg_admin()
    try:
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"),
                          {"pid": conn.connection.dbapi_connection.info.backend_pid})
    finally:
        admin.dispose()


def raising(code: str) -> Callable[[sa.Connection, object], None]:
    def action(conn: sa.Connection, cursor) -> None:
        cursor.execute(RAISE.format(code))  # the server answers with SQLSTATE ``code``
    return action


#: the code redemption: after the batch, its claims and SN lines were inserted
REDEEM = "UPDATE rma_codes"


@pytest.fixture
def site(pg_url, tmp_path, monkeypatch):
    """A claims database on PostgreSQL with reference data, an inbox with one file of three
    claims (one redeeming GOOD-0001), and Prefect retries without their delays."""
    seed_database(pg_url, tmp_path)
    (tmp_path / "inbox" / "D-001").mkdir(parents=True)
    path = write_csv(tmp_path / "inbox" / "D-001" / "claims.csv",
                     [valid_claim(rma_code="GOOD-0001"), valid_claim(), valid_claim()])
    quick = files.ingest_batch.with_options(retry_delay_seconds=0)
    monkeypatch.setattr(files, "ingest_batch", quick)
    yield path
    engine_for(pg_url).dispose()  # before the database is dropped


def run_with(fault: Fault, url: str, inbox: Path) -> dict:
    engine = engine_for(url)
    sa.event.listen(engine, "before_cursor_execute", fault, retval=True)
    try:
        batches = flows_module.run_inbox(str(inbox), database_url=url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", fault)
    [batch] = batches
    return batch


def task_run_counts(name: str) -> list[int]:
    """How many times Prefect ran the task runs of that name (from the server's database)."""
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=[name])))
    return [run.run_count for run in runs]


def posted(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            def rows(*columns):
                return conn.execute(sa.select(*columns)).all()
            return {
                "batches": rows(t.batches.c.sha256),
                "claims": sorted(c for (c,) in rows(t.claims.c.claim_id)),
                "serials": sorted(s for (s,) in rows(t.claim_lines.c.serial_number)),
                "redeemed": [c for (c,) in rows(t.rma_codes.c.redeemed_claim_id) if c],
                "issues": rows(t.batch_issues.c.id),
            }
    finally:
        engine.dispose()


def test_a_claims_connection_killed_mid_batch_is_retried_and_the_batch_posted_exactly_once(
        prefect_on_postgres, site, pg_url):
    fault = Fault(REDEEM, terminate, times=1)
    batch = run_with(fault, pg_url, site.parent.parent)
    assert fault.attempts == 2 and fault.pids[0] != fault.pids[1]   # a new connection
    assert task_run_counts(f"ingest {site}") == [2]                  # Prefect's retry did it
    assert batch["status"] == "posted" and batch["claims_accepted"] == 3
    year = dt.datetime.now(dt.UTC).year
    after = posted(pg_url)
    assert len(after["batches"]) == 1
    # the first attempt left nothing, not even a claim number: ids have no gap
    assert after["claims"] == batch["claim_ids"] == [f"RMA-{year}-00000{n}" for n in (1, 2, 3)]
    assert len(after["serials"]) == len(set(after["serials"])) == 3
    assert after["redeemed"] == [batch["claim_ids"][0]]
    assert not site.exists()                                         # settled: archived


def test_a_connection_killed_on_every_attempt_posts_nothing_and_the_file_waits(
        prefect_on_postgres, site, pg_url):
    fault = Fault(REDEEM, terminate, times=10)
    batch = run_with(fault, pg_url, site.parent.parent)
    assert fault.attempts == 3                                       # 1 + 2 retries
    assert batch["status"] == "failed" and batch["error"]["code"] == "PROCESSING_ERROR"
    assert posted(pg_url) == {"batches": [], "claims": [], "serials": [], "redeemed": [],
                              "issues": []}
    assert site.exists()                                             # waits for next run
    again = flows_module.run_inbox(str(site.parent.parent), database_url=pg_url)
    assert again[0]["status"] == "posted" and len(posted(pg_url)["claims"]) == 3


@pytest.mark.parametrize("code", ["40001", "40P01"], ids=["serialization", "deadlock"])
def test_a_serialization_failure_or_deadlock_is_retried_and_posted_once(
        prefect_on_postgres, site, pg_url, code):
    fault = Fault(REDEEM, raising(code), times=1)
    batch = run_with(fault, pg_url, site.parent.parent)
    assert fault.attempts == 2
    assert batch["status"] == "posted"
    after = posted(pg_url)
    assert len(after["batches"]) == 1 and len(after["claims"]) == 3
    assert after["redeemed"] == [batch["claim_ids"][0]]


def test_an_error_that_retrying_cannot_mend_fails_at_once_and_the_file_waits(
        prefect_on_postgres, site, pg_url):
    fault = Fault(REDEEM, raising("23514"), times=10)                # check_violation
    batch = run_with(fault, pg_url, site.parent.parent)
    assert fault.attempts == 1
    assert batch["status"] == "failed" and "CheckViolation" in batch["error"]["message"]
    assert posted(pg_url)["batches"] == [] and site.exists()

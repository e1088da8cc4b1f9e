"""Shared fixtures: throw-away claims databases on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# Prefect reads its settings once, at import: give the test session its own home, quiet logs
# and no telemetry heartbeat (which trips "database is locked" on the ephemeral SQLite API).
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="rma-prefect-home-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Tests write a drop-folder file an instant before the run that takes it: no settle time
# (tests of settling set their own; child processes inherit this).
os.environ.setdefault("RMA_SETTLE_SECONDS", "0")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from rma.entrypoints.cli import main  # noqa: E402
from tests.e2e.conftest import Cli, write_reference  # noqa: E402

# the aiosmtpd fixture (``smtp_server``) for every tier that sends mail
pytest_plugins = ["tests.smtpserver"]

PG_ADMIN_URL = os.environ.get(
    "RMA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'claims.db'}"


@contextmanager
def temp_pg_database(prefix: str = "rma_test") -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL, psycopg), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    with temp_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


# ------------------------------------------------------------------ end-to-end fixtures
# Here, not in tests/e2e/conftest.py, so every tier (e2e, hostile, faults, ops) shares one
# Prefect test server per session.

@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect API for the whole session (the harness migrates a temp database once)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A working folder with its own claims database, migrated, with reference data."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMA_DATABASE_URL", db_url)
    monkeypatch.setenv("RMA_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    assert main(["db", "upgrade"]) == 0
    accounts, codes = write_reference(tmp_path)
    assert main(["accounts", "import", str(accounts)]) == 0
    assert main(["codes", "import", str(codes)]) == 0
    return tmp_path


@pytest.fixture
def cli(prefect_api: str, capsys: pytest.CaptureFixture[str], workdir: Path) -> Cli:
    return Cli(capsys)



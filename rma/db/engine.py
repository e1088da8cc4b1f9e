"""Engines, migrations and the posting transaction.

SQLite: a posting transaction starts with ``BEGIN IMMEDIATE`` (the pysqlite recipe from the
SQLAlchemy docs), so it holds the write lock from its first statement and two postings never
interleave; other transactions start with a plain ``BEGIN`` so readers (``claims list``,
the duplicate-file check) never queue behind a posting. PostgreSQL: the posting
transaction takes a transaction-level advisory lock, which serialises postings across
processes; row locks and the unique constraints remain the last line of defence. It runs
at READ COMMITTED whatever the server's default: the lookups after the lock must see the
postings committed while it waited (at REPEATABLE READ or SERIALIZABLE the snapshot is taken
before the lock is granted, and every posting that waited would fail with SQLSTATE 40001).

PostgreSQL connections come from a pool sized by ``DbPool`` (RMA_DB_POOL_*), checked with a
ping at checkout, with a connect timeout and TCP keepalives so that a dead server or network
is an error within seconds, not a hang. Which errors are worth retrying: ``rma.db.faults``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from rma.config import DbPool
from rma.errors import DatabaseNotReady

#: ``pg_advisory_xact_lock`` key of the posting transaction ("RMAPOST" in ASCII, fits int8).
POSTING_LOCK_KEY = 0x524D41504F5354

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` are served by psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


WRITER = "rma_writer"


def _sqlite_on_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get(WRITER, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, pool: DbPool | None = None) -> sa.Engine:
    """An engine configured for this project (see the module docstring); ``pool`` applies
    to PostgreSQL (default: ``DbPool()``; callers pass ``load_settings().db_pool``)."""
    url = normalise_url(url)
    if sa.make_url(url).get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    pool = pool or DbPool()
    connect_args: dict[str, int] = {}
    if sa.make_url(url).get_backend_name() == "postgresql":
        # libpq parameters; values given in the URL's query string take precedence
        connect_args = {"connect_timeout": pool.connect_timeout, "keepalives": 1,
                        "keepalives_idle": pool.keepalive_idle, "keepalives_interval": 10,
                        "keepalives_count": 3}
        connect_args = {k: v for k, v in connect_args.items()
                        if k not in sa.make_url(url).query}
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool.size,
                            max_overflow=pool.max_overflow, pool_timeout=pool.timeout,
                            pool_recycle=pool.recycle, connect_args=connect_args)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, *, verbose: bool = False, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` to ``revision`` (Alembic, programmatically).

    Quiet unless ``verbose``: Alembic's INFO lines are suppressed.
    """
    cfg = alembic_config(url)
    engine = make_engine(url)
    logger = logging.getLogger("alembic")
    previous = logger.level
    if not verbose:
        logger.setLevel(logging.WARNING)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        logger.setLevel(previous)
        engine.dispose()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_ready(engine: sa.Engine) -> None:
    """Raise ``DatabaseNotReady`` unless the schema exists and is at the latest revision."""
    where = engine.url.render_as_string(hide_password=True)
    with engine.connect() as conn:
        has_version = sa.inspect(conn).has_table("alembic_version")
        current = MigrationContext.configure(conn).get_current_revision() if has_version else None
    if current is None:
        raise DatabaseNotReady(
            f"the claims database at {where} has no tables yet; run `rma db upgrade`"
        )
    head = head_revision()
    if current != head:
        raise DatabaseNotReady(
            f"the claims database at {where} is at revision {current}, not {head}; "
            "run `rma db upgrade`"
        )


@contextmanager
def posting_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction per batch, serialised against every other posting.

    Commits when the block ends normally, rolls back on any exception.
    """
    options: dict[str, object] = {WRITER: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "READ COMMITTED"
    with engine.connect() as conn, conn.execution_options(**options).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTING_LOCK_KEY})
        yield conn

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
is an error within seconds, not a hang. Which errors are worth retrying: ``rma.adapters.db.faults``.

Only ``upgrade`` creates a SQLite database file: every other engine opens the file with
``mode=rw`` (SQLite would otherwise create an empty database at a mistyped path, and the
command would then report missing tables instead of the typo). A database whose revision this
code does not know was migrated by a newer program: nothing here touches it, upgrade included.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from rma.config import DbPool
from rma.errors import (
    ConfigError,
    DatabaseMissing,
    DatabaseNotReady,
    DatabaseTooNew,
    DatabaseUnavailable,
)

#: ``pg_advisory_xact_lock`` key of the posting transaction ("RMAPOST" in ASCII, fits int8).
POSTING_LOCK_KEY = 0x524D41504F5354

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` are served by psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
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


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases, in-memory ones and URLs
    already in SQLite's ``file:`` URI form (their ``mode`` is the caller's choice)."""
    parsed = sa.make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(os.path.abspath(parsed.database))


def _open_existing_only(_dialect: Any, _record: Any, cargs: list[Any],
                        cparams: dict[str, Any]) -> None:
    """``do_connect``: open the SQLite file read-write but never create it."""
    path = cargs[0]
    if not os.path.exists(path):
        raise DatabaseMissing(f"no claims database at {path}; run `rma db upgrade` first "
                              "(or correct RMA_DATABASE_URL)")
    # mode=rw also holds if the file goes away between this check and the open
    cargs[0] = f"file:{quote(path)}?mode=rw"
    cparams["uri"] = True


def make_engine(url: str, pool: DbPool | None = None, *, create: bool = False) -> sa.Engine:
    """An engine configured for this project (see the module docstring); ``pool`` applies
    to PostgreSQL (default: ``DbPool()``; callers pass ``load_settings().db_pool``).
    A SQLite file is opened only if it exists, unless ``create`` (migrations)."""
    url = normalise_url(url)
    if sa.make_url(url).get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        if not create and sqlite_file(url) is not None:
            sa.event.listen(engine, "do_connect", _open_existing_only)
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


def known_revisions() -> set[str]:
    """Every revision of the packaged migrations."""
    return {script.revision for script in
            ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _where(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _connect(engine: sa.Engine) -> sa.Connection:
    """A connection, or ``DatabaseUnavailable`` in one line when none can be made (the
    driver's error stays the cause, so ``rma.adapters.db.faults`` still sees a transient fault)."""
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise DatabaseUnavailable(
            f"the claims database at {_where(engine)} cannot be reached: {reason}") from exc


def _current_heads(conn: sa.Connection) -> tuple[str, ...]:
    if not sa.inspect(conn).has_table("alembic_version"):
        return ()
    return tuple(MigrationContext.configure(conn).get_current_heads())


def _refuse_unknown(heads: tuple[str, ...], where: str) -> None:
    """``DatabaseTooNew`` when the database is at a revision these migrations do not have."""
    unknown = [h for h in heads if h not in known_revisions()]
    if unknown:
        raise DatabaseTooNew(
            f"the claims database at {where} is at revision {', '.join(unknown)}, newer than "
            f"this program knows (latest {head_revision()}): upgrade the program, not the "
            "database")


def upgrade(url: str, *, verbose: bool = False, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` to ``revision`` (Alembic, programmatically).

    Quiet unless ``verbose``: Alembic's INFO lines are suppressed. A database at a revision
    this code does not know is left alone (``DatabaseTooNew``).
    """
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise ConfigError(f"cannot create the claims database {path}: the folder "
                          f"{path.parent} does not exist (check RMA_DATABASE_URL)")
    cfg = alembic_config(url)
    engine = make_engine(url, create=True)
    logger = logging.getLogger("alembic")
    previous = logger.level
    if not verbose:
        logger.setLevel(logging.WARNING)
    try:
        with _connect(engine) as conn, conn.begin():
            _refuse_unknown(_current_heads(conn), _where(engine))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        logger.setLevel(previous)
        engine.dispose()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_ready(engine: sa.Engine) -> None:
    """Raise ``DatabaseNotReady`` unless the schema exists and is at the latest revision
    (``DatabaseMissing``, ``DatabaseTooNew`` for what `rma db upgrade` cannot or must not
    fix), ``DatabaseUnavailable`` when the database cannot be reached."""
    where = _where(engine)
    with _connect(engine) as conn:
        heads = _current_heads(conn)
    if not heads:
        raise DatabaseNotReady(
            f"the claims database at {where} has no tables yet; run `rma db upgrade`"
        )
    _refuse_unknown(heads, where)
    head = head_revision()
    if heads != (head,):
        raise DatabaseNotReady(
            f"the claims database at {where} is at revision {', '.join(heads)}, not {head}; "
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

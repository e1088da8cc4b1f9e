"""One inbox run at a time: a lock the operating system or the database releases by itself
when the run ends or its process dies (kill -9 included), so a crashed run never blocks the
next night.

PostgreSQL: a session-level advisory lock, keyed by the inbox, held on a connection of its
own for the whole run; it works across machines sharing the inbox. SQLite (one machine): an
exclusive ``flock`` on a lock file beside the database file, ``<db>.run-inbox-<key>.lock``
(never in the inbox, where a sync tool might remove it).
The Prefect deployment's concurrency limit keeps scheduled runs apart; this lock also keeps
a manual ``rma run-inbox`` from running beside them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from rma.errors import RunBusy


def lock_key(inbox: Path) -> int:
    """A signed 64-bit advisory-lock key for the inbox's resolved path."""
    digest = hashlib.sha256(f"rma-run-inbox:{inbox.resolve()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file(engine: sa.Engine, inbox: Path) -> Path:
    """Where the SQLite flavour of the lock lives: beside the database file (an in-memory
    database has none: then beside the inbox)."""
    database = engine.url.database
    base = Path(database) if database and database != ":memory:" else inbox.resolve().parent / "rma"
    return base.with_name(f"{base.name}.run-inbox-{lock_key(inbox) & 0xFFFFFFFF:08x}.lock")


def _busy(inbox: Path, holder: str) -> RunBusy:
    return RunBusy(f"another run is processing the inbox {inbox} ({holder}); this run did "
                   "nothing. Let it finish, or check `rma status`.")


@contextmanager
def inbox_lock(engine: sa.Engine, inbox: Path) -> Iterator[None]:
    """Hold the inbox's run lock for the block, or raise ``RunBusy`` at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = lock_key(inbox)
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if not got:
                raise _busy(inbox, "PostgreSQL advisory lock held")
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    fd = os.open(lock_file(engine, inbox), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(inbox, f"held by process {_holder(fd)}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode().strip() or "unknown"
    except OSError:
        return "unknown"

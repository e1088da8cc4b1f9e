"""Which database errors are transient: worth running the batch again, a moment later.

A batch is one transaction, so a failed attempt leaves no trace and running it again is
safe; the question is only whether trying again can help. It can when the connection or the
server went away (a restart, a failover, a terminated backend, a network drop), when the
server gave up on this transaction for another's sake (serialization failure ``40001``,
deadlock ``40P01``, lock not available ``55P03``), when it is short of resources (class
``53``, e.g. too many connections), when the pool had no connection free in time, when
SQLite was busy, or when a concurrent posting took a code, an SN or the file first
(``PostingConflict``: the next attempt decides again and sees it taken). It cannot for a
missing schema, a constraint the batch itself breaks, a bad query or a bug: those fail at
once, and the file waits for the next run.

Prefect's task retries do the retrying (``flows/tasks.py`` and ``flows/chunked.py`` pass
``retry_condition``); nothing here sleeps or loops.
"""

from __future__ import annotations

import sqlalchemy as sa

from rma.errors import PostingConflict

#: SQLSTATE classes: connection exception, insufficient resources, operator intervention
#: (admin shutdown, crash shutdown, cannot connect now, query canceled), system error.
TRANSIENT_CLASSES = frozenset({"08", "53", "57", "58"})
#: single SQLSTATEs: serialization failure, deadlock, statement completion unknown, lock
#: not available.
TRANSIENT_STATES = frozenset({"40001", "40P01", "40003", "55P03"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE the server sent with the error, if any (psycopg)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(exc, "sqlstate", None)


def is_transient(exc: BaseException | None) -> bool:
    """True when running the batch again may succeed (see the module docstring)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if _transient_here(exc):
            return True
        exc = exc.__cause__
    return False


def _transient_here(exc: BaseException) -> bool:
    if isinstance(exc, PostingConflict | sa.exc.TimeoutError | sa.exc.DisconnectionError):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    if state:
        return state[:2] in TRANSIENT_CLASSES or state in TRANSIENT_STATES
    message = str(exc.orig).lower()
    if any(text in message for text in _SQLITE_BUSY):
        return True
    # No SQLSTATE from a client/server driver: the server was never reached or the
    # connection broke (refused, reset, timed out). SQLite's other OperationalErrors (no
    # such table, disk I/O error, cannot open) do not heal by themselves.
    return (isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
            and exc.orig.__class__.__module__.split(".")[0] != "sqlite3")


def retry_condition(task: object, task_run: object, state: object) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed attempt only for a transient fault."""
    try:
        exc = state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    except BaseException as error:  # noqa: BLE001 - a state whose result cannot be read
        exc = error
    return isinstance(exc, BaseException) and is_transient(exc)

"""One engine (and connection pool) per database URL per process, shared by the tasks of
every flow that runs in it."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from rma.adapters.db.engine import ensure_ready, make_engine
from rma.config import DbPool, load_settings

_engines_made: list[sa.Engine] = []


def engine_for(url: str, pool: DbPool | None = None) -> sa.Engine:
    """The process's engine for ``url`` with the run's ``pool`` settings (the flows pass
    them; without, they are read from the environment), checked to be at this code's
    revision once. Equal settings share one engine."""
    return _engine(url, pool if pool is not None else load_settings().db_pool)


@cache
def _engine(url: str, pool: DbPool) -> sa.Engine:
    engine = make_engine(url, pool)
    ensure_ready(engine)
    _engines_made.append(engine)
    return engine


def forget_engines() -> None:
    """Close the engines of this process (a database that was replaced, e.g. by ``rma demo``
    run twice in one process, must not be reached through an old connection)."""
    for engine in _engines_made:
        engine.dispose()
    _engines_made.clear()
    _engine.cache_clear()

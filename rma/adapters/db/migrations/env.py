"""Alembic environment: run programmatically by ``rma.adapters.db.engine.upgrade``.

The caller passes an open connection in ``config.attributes["connection"]``; without one, an
engine is made from ``sqlalchemy.url`` with ``rma.adapters.db.engine.make_engine`` (so SQLite
file paths
and ``postgres://`` URLs work the same as in the application). No logging setup here: the
caller decides how loud Alembic is.

A new revision, after changing rma/adapters/db/tables.py::

    from alembic import command
    from rma.adapters.db.engine import alembic_config
    command.revision(alembic_config("sqlite:///scratch.db"), message="...", autogenerate=True)

(run it against a scratch database upgraded to head; review the generated file.)
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from rma.adapters.db.column_types import ISODate, UTCDateTime
from rma.adapters.db.engine import make_engine
from rma.adapters.db.tables import metadata

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's TypeDecorators as their plain database types in new revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, ISODate):
        return "sa.Date()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
               dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic.ini names no sqlalchemy.url")
    engine = make_engine(url, create=True)
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

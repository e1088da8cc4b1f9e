"""Bulk inserts and upserts: one insert path per dialect, for posting and the reference imports.

Rows are dicts of plain Python values (``None`` for null; NaN/NaT are also read as null for
the date and timestamp columns), or a DataFrame (what posting hands over). Either way they
become one list of values per column (``columns(frame)``: the values ``records(frame)`` holds,
built column by column; a frame in slices of ``FRAME_SLICE`` rows) and then take their
dialect's one path:

* SQLite: the INSERT that SQLAlchemy compiles, each column's bind processing run once per
  distinct value, the tuples straight to the driver's ``executemany``; SQLAlchemy's own
  executemany only where a column has a Python-side default the statement must compute.
* PostgreSQL: ``COPY`` from ``COPY_THRESHOLD`` rows on (several times faster than
  executemany), SQLAlchemy's executemany below it.

Unique violations of ``CONFLICT_CONSTRAINTS`` become ``PostingConflict``. Upserts (the
reference imports) are ``INSERT ... ON CONFLICT DO UPDATE`` in executemany chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from rma.adapters.db.column_types import is_missing
from rma.errors import PostingConflict

INSERT_CHUNK = 10_000
#: Rows of a frame turned into Python values (and bound) at a time.
FRAME_SLICE = 50_000
#: From this many rows on, PostgreSQL inserts use COPY instead of executemany.
COPY_THRESHOLD = 1_000

#: Unique constraints whose violation means "another posting got there first": the caller
#: rolls back and runs the batch's decision again (then sees the SN/ref/file as taken).
CONFLICT_CONSTRAINTS: dict[str, str] = {
    "uq_claim_lines_open_serial": "claim_lines.serial_number",
    "uq_claims_account_id_claim_ref": "claims.account_id, claims.claim_ref",
    "uq_claims_account_id_claim_ref_key": "claims.account_id, claims.claim_ref_key",
    "uq_batches_sha256": "batches.sha256",
}

Rows = Sequence[dict[str, Any]] | pd.DataFrame
Columns = dict[str, list[Any]]


def is_conflict(exc: BaseException) -> bool:
    """True for an IntegrityError raised by one of ``CONFLICT_CONSTRAINTS`` (both dialects)."""
    if not isinstance(exc, sa.exc.IntegrityError):
        return False
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:  # psycopg
        return name in CONFLICT_CONSTRAINTS
    message = str(orig)  # sqlite3: "UNIQUE constraint failed: claims.account_id, claims.claim_ref"
    if not message.startswith("UNIQUE constraint failed: "):
        return False
    return message.removeprefix("UNIQUE constraint failed: ") in CONFLICT_CONSTRAINTS.values()


@contextmanager
def conflicts(table: sa.Table) -> Iterator[None]:
    """Unique violations of ``CONFLICT_CONSTRAINTS`` raised inside become PostingConflict."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if is_conflict(exc):
            raise PostingConflict(f"{table.name}: {exc.orig}") from exc
        raise


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``); PostgreSQL and SQLite only."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts of plain values, NaN/NaT/NA as ``None`` (vectorised)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict("records")]


def _native(value: Any) -> Any:
    """A numpy scalar as the Python value ``DataFrame.to_dict`` gives for it."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def columns(frame: pd.DataFrame) -> Columns:
    """The frame's columns as lists of plain values, NaN/NaT/NA as ``None``.

    Value for value what ``records(frame)`` holds (numpy scalars boxed to Python, timestamps as
    ``pd.Timestamp``), built one column at a time instead of one cell at a time.
    """
    out: Columns = {}
    for name in frame.columns:
        series = frame[name]
        if series.dtype.kind == "M":  # box each distinct timestamp once (often one for all)
            codes, uniques = pd.factorize(series)  # NaT -> -1, the appended None
            boxed = [*uniques.to_numpy(dtype=object).tolist(), None]
            values = [boxed[code] for code in codes.tolist()]
        else:
            values = series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
        kinds = set(map(type, values)) if series.dtype == object else set()
        if any(issubclass(k, np.generic) for k in kinds):
            values = [_native(v) for v in values]  # as DataFrame.to_dict does
        out[str(name)] = values
    return out


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Rows) -> None:
    """Insert ``rows`` (dicts or a DataFrame) on the dialect's path (module docstring)."""
    if not len(rows):
        return
    copy = conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD
    with conflicts(table):
        for data in _column_slices(rows):
            _insert_columns(conn, table, data, copy)


def upsert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                overrides: Callable[[Any], dict[str, Any]] | None = None) -> None:
    """INSERT ... ON CONFLICT (pk) DO UPDATE every given column, in executemany chunks.

    ``overrides(insert_stmt)`` may replace some SET expressions (it sees ``.excluded``).
    """
    if not rows:
        return
    pk = table.primary_key.columns.values()[0]
    ins = dialect_insert(conn, table)
    values = {c: ins.excluded[c] for c in rows[0] if c != pk.name}
    if overrides is not None:
        values.update(overrides(ins))
    stmt = ins.on_conflict_do_update(index_elements=[pk], set_=values)
    for chunk in chunked(rows, INSERT_CHUNK):
        conn.execute(stmt, list(chunk))


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _column_slices(rows: Rows) -> Iterator[Columns]:
    """A frame in slices of ``FRAME_SLICE`` rows: only one slice at a time exists as Python
    values (a 900k-claim batch as lists at once: another ~400 MB). Dict rows are already
    Python values: their columns come in one piece, missing keys as None (executemany needs
    the same keys in every row)."""
    if isinstance(rows, pd.DataFrame):
        for start in range(0, len(rows), FRAME_SLICE):
            yield columns(rows.iloc[start:start + FRAME_SLICE])
        return
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    yield {n: [r.get(n) for r in rows] for n in names}


def _insert_columns(conn: sa.Connection, table: sa.Table, data: Columns, copy: bool) -> None:
    names = list(data)
    cols = list(data.values())
    if conn.dialect.name == "sqlite" and _driver_insert(conn, table, names, cols):
        return
    if copy:
        _copy_rows(conn, table, names, cols)
        return
    stmt = sa.insert(table)
    for start in range(0, len(cols[0]), INSERT_CHUNK):
        conn.execute(stmt, [
            dict(zip(names, row, strict=True))
            for row in zip(*(c[start:start + INSERT_CHUNK] for c in cols), strict=True)
        ])


def _processed(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """``[process(v) for v in values]``, computed once per distinct value (by type and value:
    columns repeat a few dates or one timestamp many times)."""
    if process is None:
        return values
    done: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    append = out.append
    for v in values:
        key = (type(v), v)
        try:
            append(done[key])
        except KeyError:
            append(done.setdefault(key, process(v)))
        except TypeError:  # unhashable
            append(process(v))
    return out


def _driver_insert(conn: sa.Connection, table: sa.Table, names: list[str],
                   cols: list[list[Any]]) -> bool:
    """SQLite: the INSERT that SQLAlchemy compiles for ``names``, with every value bound by
    the column type's own processor (TypeDecorator and dialect), run by the driver's
    ``executemany`` through ``exec_driver_sql`` in chunks of ``INSERT_CHUNK`` tuples.

    False (nothing done) when the statement would need parameters other than ``names``
    (Python-side column defaults): the caller then takes SQLAlchemy's path.
    """
    dialect = conn.dialect
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=names)
    if list(compiled.positiontup or ()) != names:
        return False
    sql = compiled.string
    try:
        bound = [_processed(values, table.c[name].type.dialect_impl(dialect)
                            .bind_processor(dialect))
                 for name, values in zip(names, cols, strict=True)]
    except Exception as exc:  # as SQLAlchemy reports a failing bind processor
        raise sa.exc.StatementError(f"({type(exc).__module__}.{type(exc).__name__}) {exc}",
                                    sql, None, exc) from exc
    for start in range(0, len(bound[0]), INSERT_CHUNK):
        stop = start + INSERT_CHUNK
        conn.exec_driver_sql(sql, list(zip(*(c[start:stop] for c in bound), strict=True)))
    return True


def _copy_rows(conn: sa.Connection, table: sa.Table, names: list[str],
               cols: list[list[Any]]) -> None:
    """``COPY table (names) FROM STDIN`` on the connection's own transaction (psycopg 3),
    from one list of values per name.

    Values pass through the columns' TypeDecorators as they would in an INSERT; NaN/NaT/NA
    become NULL. Driver integrity errors are re-raised as SQLAlchemy's IntegrityError.
    """
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    sql = (f"COPY {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(quote(n) for n in names)}) FROM STDIN")
    decorated = []
    for name, values in zip(names, cols, strict=True):
        column_type = table.c[name].type
        if isinstance(column_type, TypeDecorator):
            decorator: TypeDecorator[Any] = column_type

            def bind(v: Any, decorator: TypeDecorator[Any] = decorator) -> Any:
                return None if is_missing(v) else decorator.process_bind_param(v, dialect)

            values = _processed(values, bind)
        else:
            values = [None if is_missing(v) else v for v in values]
        decorated.append(values)
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("COPY needs a psycopg 3 connection")
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in zip(*decorated, strict=True):
                copy.write_row(row)
    except psycopg.errors.IntegrityError as exc:
        raise sa.exc.IntegrityError(sql, None, exc) from exc

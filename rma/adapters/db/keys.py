"""Set-based lookups: key lists as one parameter per chunk, result rows as typed frames.

Key lists go to SQLite as one JSON array parameter, ``IN (SELECT value FROM
json_each(:keys))``, and to PostgreSQL as one array parameter ``= ANY(:keys)``, per
``ARRAY_CHUNK`` keys (both several times faster than long ``IN (...)`` lists of bound
parameters), so a lookup is one statement per chunk, never one per row.

Frames come back with fixed columns and dtypes, also when empty: text columns are
``object`` holding ``str`` or ``None``, timestamps are ``datetime64[us, UTC]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from rma.adapters.db.bulk import chunked

ARRAY_CHUNK = 50_000

TEXT = "object"
TIMESTAMP = "datetime64[us, UTC]"


def in_chunks(conn: sa.Connection, column: sa.ColumnElement[Any],
              values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """``column IN values`` as one condition per chunk (none at all for no values)."""
    keys = distinct(values)
    if conn.dialect.name == "postgresql":
        for chunk in chunked(keys, ARRAY_CHUNK):
            array = sa.bindparam("keys", list(chunk), type_=postgresql.ARRAY(sa.Text),
                                 unique=True)
            yield column == sa.any_(array)
    else:
        # SQLite: the keys as one JSON array parameter, unpacked by json_each (no limit on
        # bound parameters, no statement with thousands of them to compile)
        for chunk in chunked(keys, ARRAY_CHUNK):
            listed = sa.func.json_each(sa.bindparam("keys", json.dumps(list(chunk)),
                                                    unique=True)).table_valued("value")
            yield column.in_(sa.select(listed.c.value))


def select_in(conn: sa.Connection, columns: list[Any], key: sa.ColumnElement[Any],
              values: Iterable[Any], *where: Any) -> list[sa.Row[Any]]:
    """``SELECT columns WHERE key IN values AND where...``, one statement per chunk."""
    rows: list[sa.Row[Any]] = []
    for condition in in_chunks(conn, key, values):
        rows.extend(conn.execute(sa.select(*columns).where(condition, *where)).all())
    return rows


def distinct(values: Iterable[Any]) -> list[str]:
    """Unique non-blank strings, sorted (stable statements, deterministic chunks)."""
    values = values if isinstance(values, list) else list(values)
    if all(type(v) is str for v in values):  # the usual case: lists of keys from lookups
        return sorted(set(values) - {""})
    series = pd.Series(values, dtype=object)
    texts = series[series.notna()].astype(str)
    return sorted(set(texts[texts != ""]))


def typed_frame(rows: Sequence[Sequence[Any]], spec: dict[str, str]) -> pd.DataFrame:
    """A frame with exactly ``spec``'s columns and dtypes, built column by column."""
    data = {}
    for i, (name, dtype) in enumerate(spec.items()):
        values = [r[i] for r in rows]
        if dtype == TIMESTAMP:
            data[name] = pd.Series(pd.to_datetime(values, utc=True), dtype=TIMESTAMP)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(spec))

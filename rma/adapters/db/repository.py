"""Set-based reads and writes of the claims database, for the decision and posting steps.

Every method issues one statement per kind per batch, never one per row: key lists go to
SQLite as one JSON array parameter, ``IN (SELECT value FROM json_each(:keys))``, and to
PostgreSQL as one array parameter ``= ANY(:keys)``, per ``ARRAY_CHUNK`` keys (both several
times faster than long ``IN (...)`` lists of bound parameters). Large
inserts go to PostgreSQL through ``COPY`` (about 3x faster than executemany).

Frames come back with fixed columns and dtypes, also when empty: text columns are
``object`` holding ``str`` or ``None``, timestamps are ``datetime64[us, UTC]``, dates
are ``object`` holding ``datetime.date`` or ``None``.

Rows handed to the ``insert_*`` methods are dicts of plain Python values (``None`` for null;
NaN/NaT are also read as null for the date and timestamp columns). ``records(frame)`` turns a
DataFrame into such dicts, vectorised. The ``insert_*`` methods also take the DataFrame itself
(what posting does): it is then converted column by column (``columns(frame)``, the same values
``records`` gives), each column's bind processing runs once per distinct value, and on SQLite
the tuples go straight to the driver's ``executemany`` with the statement SQLAlchemy compiles,
so the stored values are exactly those of the dict path at a fraction of its cost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas.core.dtypes.cast import maybe_box_native
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from rma.adapters.db.codes import code_digest, same_code
from rma.adapters.db.tables import (
    CLAIM_DATA_COLUMNS,
    OPEN_PREDICATE,
    accounts,
    batch_issues,
    batches,
    claim_id_counters,
    claim_lines,
    claims,
    code_attempts,
    is_missing,
    mail_messages,
    rma_codes,
)
from rma.domain.rules.claims import claim_ref_keys
from rma.domain.vocabulary.columns import CS_FIELDS
from rma.domain.vocabulary.reasons import Reason

ARRAY_CHUNK = 50_000
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

TEXT = "object"
TIMESTAMP = "datetime64[us, UTC]"

ACCOUNT_FRAME = {"account_id": TEXT, "name": TEXT, "kind": TEXT, "partner_level": TEXT,
                 "active": "bool", "emails": TEXT}
CODE_FRAME = {"code_key": TEXT, "code": TEXT, "account_id": TEXT, "serial_numbers": TEXT,
              "issued_at": TIMESTAMP, "expires_at": TIMESTAMP, "status": TEXT,
              **{f: TEXT for f in CS_FIELDS}}
OPEN_SERIAL_FRAME = {"serial_number": TEXT, "claim_id": TEXT}
CLAIM_REF_FRAME = {"account_id": TEXT, "claim_ref": TEXT, "claim_id": TEXT}


class PostingConflict(Exception):
    """A concurrent posting took a code, an SN, a claim_ref or the file first.

    The transaction is unusable: roll it back and process the batch again from the decision.
    """


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
    return clean.to_dict("records")


def columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """The frame's columns as lists of plain values, NaN/NaT/NA as ``None``.

    Value for value what ``records(frame)`` holds (numpy scalars boxed to Python, timestamps as
    ``pd.Timestamp``), built one column at a time instead of one cell at a time.
    """
    out: dict[str, list[Any]] = {}
    for name in frame.columns:
        series = frame[name]
        if series.dtype.kind == "M":  # box each distinct timestamp once (often one for all)
            codes, uniques = pd.factorize(series)  # NaT -> -1, the appended None
            boxed = np.append(uniques.to_numpy(dtype=object), None)
            values = boxed[codes].tolist()
        else:
            values = series.to_numpy(dtype=object, na_value=None).tolist()
        kinds = set(map(type, values)) if series.dtype == object else set()
        if any(issubclass(k, np.generic) for k in kinds):
            values = [maybe_box_native(v) for v in values]  # as DataFrame.to_dict does
        out[str(name)] = values
    return out


Rows = Sequence[dict[str, Any]] | pd.DataFrame


def in_chunks(conn: sa.Connection, column: sa.ColumnElement[Any],
              values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """``column IN values`` as one condition per chunk (none at all for no values)."""
    keys = _distinct(values)
    if conn.dialect.name == "postgresql":
        for chunk in _chunks(keys, ARRAY_CHUNK):
            array = sa.bindparam("keys", list(chunk), type_=postgresql.ARRAY(sa.Text),
                                 unique=True)
            yield column == sa.any_(array)
    else:
        # SQLite: the keys as one JSON array parameter, unpacked by json_each (no limit on
        # bound parameters, no statement with thousands of them to compile)
        for chunk in _chunks(keys, ARRAY_CHUNK):
            listed = sa.func.json_each(sa.bindparam("keys", json.dumps(list(chunk)),
                                                    unique=True)).table_valued("value")
            yield column.in_(sa.select(listed.c.value))


def _distinct(values: Iterable[Any]) -> list[str]:
    """Unique non-blank strings, sorted (stable statements, deterministic chunks)."""
    values = values if isinstance(values, list) else list(values)
    if all(type(v) is str for v in values):  # the usual case: lists of keys from lookups
        return sorted(set(values) - {""})
    series = pd.Series(values, dtype=object)
    texts = series[series.notna()].astype(str)
    return sorted(set(texts[texts != ""]))


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _frame(rows: Sequence[Sequence[Any]], spec: dict[str, str]) -> pd.DataFrame:
    """A frame with exactly ``spec``'s columns and dtypes, built column by column."""
    data = {}
    for i, (name, dtype) in enumerate(spec.items()):
        values = [r[i] for r in rows]
        if dtype == TIMESTAMP:
            data[name] = pd.Series(pd.to_datetime(values, utc=True), dtype=TIMESTAMP)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(spec))


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class ClaimsRepository:
    """Queries and writes on one Connection (the caller owns the transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ reads

    def _select_in(self, columns: list[Any], key: sa.Column, values: Iterable[Any],
                   *where: Any) -> list[sa.Row]:
        rows: list[sa.Row] = []
        for condition in in_chunks(self.conn, key, values):
            stmt = sa.select(*columns).where(condition, *where)
            rows.extend(self.conn.execute(stmt).all())
        return rows

    def find_batch_by_sha(self, sha256: str) -> str | None:
        stmt = sa.select(batches.c.batch_id).where(batches.c.sha256 == sha256)
        return self.conn.execute(stmt).scalar_one_or_none()

    def find_message(self, message_id: str, sha256: str, content_sha256: str = "",
                     since: datetime | None = None) -> str | None:
        """The Message-ID under which this e-mail was taken in: the same Message-ID, the same
        bytes, or (given ``content_sha256`` and ``since``) the same content as a message that
        was answered (``processed``) at or after ``since``. One query on indexed columns.

        Only answered messages count for the content: one from an unknown sender got no reply
        and posted nothing, so the same content sent again (say once Customer Service has
        registered the address) is read. An exact match is named before a content match, and
        of content matches the latest.
        """
        exact = (mail_messages.c.message_id == message_id) | (mail_messages.c.sha256 == sha256)
        condition = exact
        if content_sha256 and since is not None:
            condition = exact | ((mail_messages.c.content_sha256 == content_sha256)
                                 & (mail_messages.c.status == "processed")
                                 & (mail_messages.c.received_at >= since))
        stmt = (sa.select(mail_messages.c.message_id).where(condition)
                .order_by(sa.case((exact, 0), else_=1), mail_messages.c.received_at.desc())
                .limit(1))
        return self.conn.execute(stmt).scalar_one_or_none()

    def insert_message(self, record: dict[str, Any]) -> None:
        self.conn.execute(sa.insert(mail_messages), [record])

    def accounts(self, account_ids: Iterable[str]) -> pd.DataFrame:
        """account_id, name, kind, partner_level, active, emails of the known accounts."""
        cols = [accounts.c[name] for name in ACCOUNT_FRAME]
        return _frame(self._select_in(cols, accounts.c.account_id, account_ids), ACCOUNT_FRAME)

    def report_recipients(self, account_ids: Iterable[str]) -> dict[str, tuple[str, list[str]]]:
        """Name and registered addresses of the active accounts among ``account_ids`` that
        take their drop-folder results by mail (``report_mail``) and registered an address."""
        cols = [accounts.c.account_id, accounts.c.name, accounts.c.emails]
        found = {}
        for condition in in_chunks(self.conn, accounts.c.account_id, list(account_ids)):
            stmt = sa.select(*cols).where(condition, accounts.c.active.is_(True),
                                          accounts.c.report_mail.is_(True))
            for row in self.conn.execute(stmt):
                addresses = [a for a in row.emails.split(";") if a.strip()]
                if addresses:
                    found[row.account_id] = (row.name, addresses)
        return found

    def account_by_email(self, address: str) -> str | None:
        """The active account that registered ``address`` (case-insensitive).

        None when no active account has it, and also when more than one has (an ambiguous
        sender must not be able to file on behalf of an account it might not belong to).
        """
        address = (address or "").strip().lower()
        if not address:
            return None
        stmt = sa.select(accounts.c.account_id, accounts.c.emails).where(
            accounts.c.active.is_(True),
            accounts.c.emails.contains(address, autoescape=True),
        )
        found = [r.account_id for r in self.conn.execute(stmt)
                 if address in r.emails.split(";")]
        return found[0] if len(found) == 1 else None

    def codes(self, code_keys: Iterable[str]) -> pd.DataFrame:
        """The codes with these keys (normalised: see ``rma.adapters.db.codes.normalise_code``).

        Submitted codes are looked up by digest and confirmed in constant time, so neither the
        database nor Python compares a guess with a real code character by character."""
        given = {code_digest(key): key for key in code_keys}
        cols = [rma_codes.c[name] for name in CODE_FRAME]
        rows = [row for row in self._select_in([*cols, rma_codes.c.code_digest],
                                               rma_codes.c.code_digest, given)
                if same_code(row.code_key, given[row.code_digest])]
        return _frame([row[:len(cols)] for row in rows], CODE_FRAME)

    def open_serials(self, serial_numbers: Iterable[str]) -> pd.DataFrame:
        """serial_number, claim_id for the SNs that already have an open claim."""
        cols = [claim_lines.c.serial_number, claim_lines.c.claim_id]
        # The literal predicate matches the partial index's WHERE, so SQLite can use it.
        rows = self._select_in(cols, claim_lines.c.serial_number, serial_numbers,
                               sa.text(f"claim_lines.{OPEN_PREDICATE}"))
        return _frame(rows, OPEN_SERIAL_FRAME)

    def posted_claim_refs(self, account_ids: Iterable[str],
                          claim_ref_keys: Iterable[str]) -> pd.DataFrame:
        """Posted claims whose account is in ``account_ids`` and whose ``claim_ref_key`` is in
        ``claim_ref_keys`` (account_id, claim_ref as posted, claim_id).

        The two are filtered independently (a batch has one or a few accounts): the decision
        matches exact pairs.
        """
        keys = _distinct(claim_ref_keys)
        cols = [claims.c.account_id, claims.c.claim_ref, claims.c.claim_id]
        rows: list[sa.Row] = []
        for account_condition in in_chunks(self.conn, claims.c.account_id, account_ids):
            rows.extend(self._select_in(cols, claims.c.claim_ref_key, keys, account_condition))
        return _frame(rows, CLAIM_REF_FRAME)

    def invalid_attempts(self, account_ids: Iterable[str], since: datetime) -> dict[str, int]:
        """CODE_INVALID attempts per account since ``max(since, code_lock_reset_at)``: what
        counts towards the limit; whether the account is locked is ``code_locked``.

        Every requested account is in the result (0 when it has none).
        """
        ids = _distinct(account_ids)
        counts = dict.fromkeys(ids, 0)
        ca, a = code_attempts, accounts
        n = sa.func.count().label("n")
        for condition in in_chunks(self.conn, ca.c.account_id, ids):
            stmt = (
                sa.select(ca.c.account_id, n)
                .select_from(ca.outerjoin(a, a.c.account_id == ca.c.account_id))
                .where(
                    condition,
                    ca.c.outcome == str(Reason.CODE_INVALID),
                    ca.c.attempted_at >= since,
                    sa.or_(a.c.code_lock_reset_at.is_(None),
                           ca.c.attempted_at >= a.c.code_lock_reset_at),
                )
                .group_by(ca.c.account_id)
            )
            for account_id, count in self.conn.execute(stmt):
                counts[account_id] = int(count)
        return counts

    def code_locked(self, account_ids: Iterable[str]) -> frozenset[str]:
        """The accounts among ``account_ids`` that are locked out of RMA codes (until
        `rma codes unlock`, however old their attempts)."""
        rows = self._select_in([accounts.c.account_id], accounts.c.account_id, account_ids,
                               accounts.c.code_locked_at.is_not(None))
        return frozenset(r.account_id for r in rows)

    # ----------------------------------------------------------------- writes

    def lock_codes(self, account_ids: Iterable[str], at: datetime) -> None:
        """Lock these accounts out of RMA codes as of ``at``, in the caller's transaction (the
        posting whose attempts reached the limit); an account already locked keeps its time."""
        for condition in in_chunks(self.conn, accounts.c.account_id, account_ids):
            self.conn.execute(sa.update(accounts)
                              .where(condition, accounts.c.code_locked_at.is_(None))
                              .values(code_locked_at=at))

    def allocate_claim_ids(self, year: int, n: int) -> list[str]:
        """``n`` consecutive ids ``RMA-{year}-{k:06d}`` from the counters table, one statement.

        The upsert locks the year's counter row until the transaction ends, so concurrent
        postings never share a number; a rolled-back posting gives its numbers back.
        """
        if n <= 0:
            return []
        ins = dialect_insert(self.conn, claim_id_counters).values(year=year, last=n)
        stmt = ins.on_conflict_do_update(
            index_elements=[claim_id_counters.c.year],
            set_={"last": claim_id_counters.c.last + ins.excluded.last},
        ).returning(claim_id_counters.c.last)
        last = self.conn.execute(stmt).scalar_one()
        return [f"RMA-{year}-{k:06d}" for k in range(last - n + 1, last + 1)]

    def _insert(self, table: sa.Table, rows: Rows) -> None:
        """Core executemany in chunks (COPY for large sets on PostgreSQL); a DataFrame goes
        column-wise (on SQLite straight to the driver, see the module docstring).

        Unique violations of ``CONFLICT_CONSTRAINTS`` become PostingConflict.
        """
        if isinstance(rows, pd.DataFrame):
            self._insert_frame(table, rows)
            return
        if not rows:
            return
        rows = _uniform(rows)
        with _conflicts(table):
            if self.conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
                names = list(rows[0])
                _copy_rows(self.conn, table, names, [[r[n] for r in rows] for n in names])
            else:
                stmt = sa.insert(table)
                for chunk in _chunks(rows, INSERT_CHUNK):
                    self.conn.execute(stmt, list(chunk))

    def _insert_frame(self, table: sa.Table, frame: pd.DataFrame) -> None:
        """The frame in slices of ``FRAME_SLICE`` rows: only one slice at a time exists as
        Python values (a 900k-claim batch as lists at once: another ~400 MB)."""
        copy = self.conn.dialect.name == "postgresql" and len(frame) >= COPY_THRESHOLD
        with _conflicts(table):
            for start in range(0, len(frame), FRAME_SLICE):
                self._insert_values(table, columns(frame.iloc[start:start + FRAME_SLICE]), copy)

    def _insert_values(self, table: sa.Table, data: dict[str, list[Any]], copy: bool) -> None:
        names = list(data)
        cols = list(data.values())
        if self.conn.dialect.name == "sqlite" and _driver_insert(self.conn, table, names, cols):
            return
        if copy:
            _copy_rows(self.conn, table, names, cols)
            return
        stmt = sa.insert(table)
        for start in range(0, len(cols[0]), INSERT_CHUNK):
            self.conn.execute(stmt, [
                dict(zip(names, row, strict=True))
                for row in zip(*(c[start:start + INSERT_CHUNK] for c in cols), strict=True)
            ])

    def insert_batch(self, record: dict[str, Any]) -> None:
        self._insert(batches, [record])

    def insert_claims(self, rows: Rows) -> None:
        """Claims; ``claim_ref_key`` is derived from ``claim_ref`` here, for every writer."""
        self._insert(claims, _with_ref_keys(rows))

    def insert_claim_lines(self, rows: Rows) -> None:
        """Rows of claim_id, serial_number, sheet_row (is_open defaults to true)."""
        self._insert(claim_lines, rows)

    def insert_issues(self, rows: Rows) -> None:
        self._insert(batch_issues, rows)

    def insert_attempts(self, rows: Rows) -> None:
        """Rows of account_id, code_key, attempted_at, outcome (a reason code)."""
        self._insert(code_attempts, rows)

    def redeem_codes(self, redemptions: Sequence[tuple[str, str]], at: datetime) -> None:
        """Mark codes redeemed by claims: ``[(code_key, claim_id), ...]``, one executemany.

        Only codes still ``issued`` are updated (row-locked on PostgreSQL until commit). If
        fewer rows changed than asked, another posting redeemed one first: PostingConflict.
        Both drivers report the summed rowcount of an executemany (checked in the tests).
        """
        if not redemptions:
            return
        keys = [key for key, _ in redemptions]
        if len(set(keys)) != len(keys):
            # A decision bug, not a race: retrying would fail the same way forever.
            raise ValueError("one RMA code is redeemed twice in the same batch")
        stmt = (
            sa.update(rma_codes)
            .where(rma_codes.c.code_key == sa.bindparam("k"), rma_codes.c.status == "issued")
            .values(status="redeemed", redeemed_at=at, redeemed_claim_id=sa.bindparam("cid"))
        )
        params = [{"k": key, "cid": claim_id} for key, claim_id in redemptions]
        result = self.conn.execute(stmt, params)
        if result.rowcount != len(params):
            raise PostingConflict(
                f"{len(params) - result.rowcount} of {len(params)} RMA codes were no longer "
                "issued (redeemed by a concurrent posting?)"
            )

    # ------------------------------------------------------------------ listing

    def list_claims(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Claims as JSON-ready dicts (SPEC §7), in claim_id order; two queries, not N+1."""
        claim_cols = ["claim_id", "account_id", "claim_ref", "status", "batch_id",
                      "submitted_at", "rma_code", *CLAIM_DATA_COLUMNS]
        stmt = sa.select(*[claims.c[c] for c in claim_cols]).order_by(claims.c.claim_id)
        lines = (
            sa.select(claim_lines.c.claim_id, claim_lines.c.serial_number)
            .join(claims, claims.c.claim_id == claim_lines.c.claim_id)
            .order_by(claim_lines.c.claim_id, claim_lines.c.sheet_row, claim_lines.c.id)
        )
        if account_id is not None:
            stmt = stmt.where(claims.c.account_id == account_id)
            lines = lines.where(claims.c.account_id == account_id)
        serials: dict[str, list[str]] = {}
        for claim_id, serial in self.conn.execute(lines):
            serials.setdefault(claim_id, []).append(serial)
        out = []
        for row in self.conn.execute(stmt).mappings():
            item = {c: _iso(row[c]) for c in claim_cols[:7]}
            item["serial_numbers"] = serials.get(row["claim_id"], [])
            item.update({c: _iso(row[c]) for c in CLAIM_DATA_COLUMNS})
            out.append(item)
        return out


def _with_ref_keys(rows: Rows) -> Rows:
    if isinstance(rows, pd.DataFrame):
        if not len(rows):
            return rows
        return rows.assign(claim_ref_key=claim_ref_keys(rows["claim_ref"]))
    refs = claim_ref_keys(pd.Series([r.get("claim_ref") for r in rows], dtype=object))
    return [{**r, "claim_ref_key": key} for r, key in zip(rows, refs, strict=True)]


@contextmanager
def _conflicts(table: sa.Table) -> Iterator[None]:
    """Unique violations of ``CONFLICT_CONSTRAINTS`` raised inside become PostingConflict."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if is_conflict(exc):
            raise PostingConflict(f"{table.name}: {exc.orig}") from exc
        raise


def _processed(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """``[process(v) for v in values]``, computed once per distinct value (by type and value:
    columns repeat a few dates or one timestamp many times)."""
    if process is None:
        return values
    done: dict[tuple[type, Any], Any] = {}
    out = []
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
    n = len(bound[0])
    for start in range(0, n, INSERT_CHUNK):
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
    import psycopg

    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    sql = (f"COPY {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(quote(n) for n in names)}) FROM STDIN")
    decorated = []
    for name, values in zip(names, cols, strict=True):
        d = table.c[name].type
        if isinstance(d, TypeDecorator):
            values = _processed(values, lambda v, d=d: None if is_missing(v)
                                else d.process_bind_param(v, dialect))
        else:
            values = [None if is_missing(v) else v for v in values]
        decorated.append(values)
    raw = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in zip(*decorated, strict=True):
                copy.write_row(row)
    except psycopg.errors.IntegrityError as exc:
        raise sa.exc.IntegrityError(sql, None, exc) from exc


def _uniform(rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """Executemany needs the same keys in every row: fill missing ones with None."""
    first = rows[0].keys()
    if all(r.keys() == first for r in rows):
        return rows
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    return [{k: r.get(k) for k in keys} for r in rows]

"""Set-based reads and writes of the claims database, for the decision and posting steps (the
mail intake's own records are ``mail_records``).

Every lookup issues one statement per kind per batch, never one per row (``keys.in_chunks``);
frames come back with fixed columns and dtypes, also when empty (``keys.typed_frame``; dates
are ``object`` holding ``datetime.date`` or ``None``). Every insert takes the dialect's bulk
path (``bulk.insert_rows``): rows are dicts of plain Python values or the DataFrame itself
(what posting hands over), and unique violations of ``bulk.CONFLICT_CONSTRAINTS`` become
``PostingConflict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rma.adapters.db.bulk import Rows, dialect_insert, insert_rows
from rma.adapters.db.codes import code_digest, same_code
from rma.adapters.db.keys import TEXT, TIMESTAMP, distinct, in_chunks, select_in, typed_frame
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
    rma_codes,
)
from rma.domain.rules.claims import claim_ref_keys
from rma.domain.vocabulary.columns import CS_FIELDS
from rma.domain.vocabulary.reasons import Reason
from rma.errors import PostingConflict

ACCOUNT_FRAME = {"account_id": TEXT, "name": TEXT, "kind": TEXT, "partner_level": TEXT,
                 "active": "bool", "emails": TEXT}
CODE_FRAME = {"code_key": TEXT, "code": TEXT, "account_id": TEXT, "serial_numbers": TEXT,
              "issued_at": TIMESTAMP, "expires_at": TIMESTAMP, "status": TEXT,
              **{f: TEXT for f in CS_FIELDS}}
OPEN_SERIAL_FRAME = {"serial_number": TEXT, "claim_id": TEXT}
CLAIM_REF_FRAME = {"account_id": TEXT, "claim_ref": TEXT, "claim_id": TEXT}


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class ClaimsRepository:
    """Queries and writes on one Connection (the caller owns the transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ reads

    def find_batch_by_sha(self, sha256: str) -> str | None:
        stmt = sa.select(batches.c.batch_id).where(batches.c.sha256 == sha256)
        return self.conn.execute(stmt).scalar_one_or_none()

    def accounts(self, account_ids: Iterable[str]) -> pd.DataFrame:
        """account_id, name, kind, partner_level, active, emails of the known accounts."""
        cols = [accounts.c[name] for name in ACCOUNT_FRAME]
        rows = select_in(self.conn, cols, accounts.c.account_id, account_ids)
        return typed_frame(rows, ACCOUNT_FRAME)

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
        rows = [row for row in select_in(self.conn, [*cols, rma_codes.c.code_digest],
                                         rma_codes.c.code_digest, given)
                if same_code(row.code_key, given[row.code_digest])]
        return typed_frame([row[:len(cols)] for row in rows], CODE_FRAME)

    def open_serials(self, serial_numbers: Iterable[str]) -> pd.DataFrame:
        """serial_number, claim_id for the SNs that already have an open claim."""
        cols = [claim_lines.c.serial_number, claim_lines.c.claim_id]
        # The literal predicate matches the partial index's WHERE, so SQLite can use it.
        rows = select_in(self.conn, cols, claim_lines.c.serial_number, serial_numbers,
                         sa.text(f"claim_lines.{OPEN_PREDICATE}"))
        return typed_frame(rows, OPEN_SERIAL_FRAME)

    def posted_claim_refs(self, account_ids: Iterable[str],
                          claim_ref_keys: Iterable[str]) -> pd.DataFrame:
        """Posted claims whose account is in ``account_ids`` and whose ``claim_ref_key`` is in
        ``claim_ref_keys`` (account_id, claim_ref as posted, claim_id).

        The two are filtered independently (a batch has one or a few accounts): the decision
        matches exact pairs.
        """
        keys = distinct(claim_ref_keys)
        cols = [claims.c.account_id, claims.c.claim_ref, claims.c.claim_id]
        rows: list[sa.Row] = []
        for account_condition in in_chunks(self.conn, claims.c.account_id, account_ids):
            rows.extend(select_in(self.conn, cols, claims.c.claim_ref_key, keys,
                                  account_condition))
        return typed_frame(rows, CLAIM_REF_FRAME)

    def invalid_attempts(self, account_ids: Iterable[str], since: datetime) -> dict[str, int]:
        """CODE_INVALID attempts per account since ``max(since, code_lock_reset_at)``: what
        counts towards the limit; whether the account is locked is ``code_locked``.

        Every requested account is in the result (0 when it has none).
        """
        ids = distinct(account_ids)
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
        rows = select_in(self.conn, [accounts.c.account_id], accounts.c.account_id, account_ids,
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

    def insert_batch(self, record: dict[str, Any]) -> None:
        insert_rows(self.conn, batches, [record])

    def insert_claims(self, rows: Rows) -> None:
        """Claims; ``claim_ref_key`` is derived from ``claim_ref`` here, for every writer."""
        insert_rows(self.conn, claims, _with_ref_keys(rows))

    def insert_claim_lines(self, rows: Rows) -> None:
        """Rows of claim_id, serial_number, sheet_row (is_open defaults to true)."""
        insert_rows(self.conn, claim_lines, rows)

    def insert_issues(self, rows: Rows) -> None:
        insert_rows(self.conn, batch_issues, rows)

    def insert_attempts(self, rows: Rows) -> None:
        """Rows of account_id, code_key, attempted_at, outcome (a reason code)."""
        insert_rows(self.conn, code_attempts, rows)

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

    def list_claims(self, account_id: str | None = None, *, serial_number: str | None = None,
                    claim_ref: str | None = None, status: str | None = None
                    ) -> list[dict[str, Any]]:
        """Claims as JSON-ready dicts (SPEC §7), in claim_id order; two queries, not N+1.
        Optionally only the claims with an SN line of ``serial_number``, of ``claim_ref`` or
        of ``status`` (each compared as stored)."""
        claim_cols = ["claim_id", "account_id", "claim_ref", "status", "batch_id",
                      "submitted_at", "rma_code", *CLAIM_DATA_COLUMNS]
        stmt = sa.select(*[claims.c[c] for c in claim_cols]).order_by(claims.c.claim_id)
        lines = (
            sa.select(claim_lines.c.claim_id, claim_lines.c.serial_number)
            .join(claims, claims.c.claim_id == claim_lines.c.claim_id)
            .order_by(claim_lines.c.claim_id, claim_lines.c.sheet_row, claim_lines.c.id)
        )
        conditions = claim_conditions(account_id, serial_number, claim_ref, status)
        stmt, lines = stmt.where(*conditions), lines.where(*conditions)
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


def claim_conditions(account_id: str | None, serial_number: str | None, claim_ref: str | None,
                     status: str | None) -> list[sa.ColumnElement[bool]]:
    """The claims of a list or search: the account's (any account's: None), with this SN,
    claim ref or status where given."""
    conditions: list[sa.ColumnElement[bool]] = []
    if account_id is not None:
        conditions.append(claims.c.account_id == account_id)
    if claim_ref is not None:
        conditions.append(claims.c.claim_ref == claim_ref)
    if status is not None:
        conditions.append(claims.c.status == status)
    if serial_number is not None:
        conditions.append(claims.c.claim_id.in_(
            sa.select(claim_lines.c.claim_id).where(claim_lines.c.serial_number == serial_number)))
    return conditions

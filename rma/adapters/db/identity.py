"""Who may use the portal and the API (SPEC §9), kept in the claims database so that every
process of ``rma web`` (and the CLI) sees the same: users, one-time sign-in links, sessions,
API tokens and rate-limit counters.

Secrets are never stored: a sign-in link, a session and an API token are random strings
(``secrets``) of which only the SHA-256 is kept (``secret_digest``). They carry 256 bits, so a
fast hash is enough (there is nothing to brute-force), and a look-up by digest tells a timing
observer nothing about a guess. Every function works on the caller's Connection; the caller
owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.bulk import dialect_insert
from rma.adapters.db.column_types import UTCDateTime
from rma.adapters.db.engine import WRITER
from rma.adapters.db.tables import ID_LEN, SHORT, accounts, metadata

ROLES = ("partner", "staff")
#: RFC 5321: an address is at most 254 characters in a path
EMAIL_LEN = 254
TOKEN_NAME_LEN = 100
DIGEST_LEN = 64

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(ID_LEN), sa.ForeignKey("accounts.account_id"),
              nullable=False, index=True),
    #: lower-case; one address is one user (a sign-in link goes to one account only)
    sa.Column("email", sa.String(EMAIL_LEN), nullable=False, unique=True),
    sa.Column("role", sa.String(SHORT), nullable=False, server_default="partner"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_signed_in_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("role IN ('partner', 'staff')", name="role"),
)

signin_links = sa.Table(
    "signin_links",
    metadata,
    sa.Column("token_digest", sa.String(DIGEST_LEN), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False,
              index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    #: set when the link is used: it works once
    sa.Column("used_at", UTCDateTime, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_digest", sa.String(DIGEST_LEN), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False,
              index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    #: set by signing out
    sa.Column("ended_at", UTCDateTime, nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(ID_LEN), sa.ForeignKey("accounts.account_id"),
              nullable=False),
    sa.Column("name", sa.String(TOKEN_NAME_LEN), nullable=False),
    sa.Column("token_digest", sa.String(DIGEST_LEN), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    #: a revoked token is kept (who had access, until when) but opens nothing
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)
#: one live token per account and name; a revoked one frees its name
ACTIVE_TOKEN_NAME_INDEX = sa.Index(
    "uq_api_tokens_account_id_name_active", api_tokens.c.account_id, api_tokens.c.name,
    unique=True, postgresql_where=sa.text("revoked_at IS NULL"),
    sqlite_where=sa.text("revoked_at IS NULL"))

#: Fixed-window counters (SPEC §9's rate limits on sign-in, code look-ups and uploads, shared
#: by every process): one row per bucket and key, ``hits`` in the window that starts at
#: ``window_start``; a new window starts the row again (nothing is ever deleted: the
#: pipeline's database role has no DELETE, docs/security.md).
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("bucket", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(EMAIL_LEN), primary_key=True),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
)


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A short write transaction. On SQLite it takes the write lock at its start (as a
    posting does), so that a read followed by a write never fails as a lock upgrade; on
    PostgreSQL it is a plain transaction: sign-ins and counters never wait for a posting's
    lock."""
    with engine.connect() as conn, conn.execution_options(**{WRITER: True}).begin():
        yield conn


def secret_digest(kind: str, secret: str) -> str:
    """What the database keeps of a secret of this ``kind`` (``link``, ``session``,
    ``token``): a digest per kind, so that a secret of one kind never opens another."""
    return hashlib.sha256(f"rma-{kind}:{secret}".encode()).hexdigest()


@dataclass(frozen=True)
class User:
    user_id: int
    account_id: str
    email: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "account_id": self.account_id, "email": self.email,
                "role": self.role}


def _user(row: Any) -> User:
    return User(row.user_id, row.account_id, row.email, row.role)


_USER_COLUMNS = (users.c.user_id, users.c.account_id, users.c.email, users.c.role)


def account_info(conn: sa.Connection, account_id: str) -> tuple[str, bool] | None:
    """The account's name and whether it is active; None for an unknown account."""
    row = conn.execute(sa.select(accounts.c.name, accounts.c.active)
                       .where(accounts.c.account_id == account_id)).first()
    return None if row is None else (row.name, bool(row.active))


def user_by_email(conn: sa.Connection, email: str) -> User | None:
    row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.email == email)).first()
    return None if row is None else _user(row)


def insert_user(conn: sa.Connection, account_id: str, email: str, role: str,
                now: datetime) -> User:
    user_id = conn.execute(sa.insert(users).values(
        account_id=account_id, email=email, role=role, created_at=now)
        .returning(users.c.user_id)).scalar_one()
    return User(user_id, account_id, email, role)


def set_role(conn: sa.Connection, user_id: int, role: str) -> None:
    conn.execute(sa.update(users).where(users.c.user_id == user_id).values(role=role))


def insert_signin_link(conn: sa.Connection, user_id: int, token: str, now: datetime,
                       lifetime: timedelta) -> datetime:
    """Store a new sign-in link for the user; returns when it expires."""
    expires = now + lifetime
    conn.execute(sa.insert(signin_links).values(
        token_digest=secret_digest("link", token), user_id=user_id, created_at=now,
        expires_at=expires))
    return expires


def use_signin_link(conn: sa.Connection, token: str, now: datetime) -> User | None:
    """The user of a link that is unused and not expired, marking it used (one statement:
    two requests with the same link cannot both succeed); None for any other link."""
    link = signin_links
    used = conn.execute(
        sa.update(link)
        .where(link.c.token_digest == secret_digest("link", token), link.c.used_at.is_(None),
               link.c.expires_at > now)
        .values(used_at=now).returning(link.c.user_id)).scalar_one_or_none()
    if used is None:
        return None
    conn.execute(sa.update(users).where(users.c.user_id == used).values(last_signed_in_at=now))
    row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.user_id == used)).one()
    return _user(row)


def insert_session(conn: sa.Connection, user_id: int, token: str, now: datetime,
                   lifetime: timedelta) -> datetime:
    expires = now + lifetime
    conn.execute(sa.insert(sessions).values(
        token_digest=secret_digest("session", token), user_id=user_id, created_at=now,
        expires_at=expires))
    return expires


def session_user(conn: sa.Connection, token: str, now: datetime) -> User | None:
    """The user of a live session (not ended, not expired, the account still active)."""
    row = conn.execute(
        sa.select(*_USER_COLUMNS)
        .join(sessions, sessions.c.user_id == users.c.user_id)
        .join(accounts, accounts.c.account_id == users.c.account_id)
        .where(sessions.c.token_digest == secret_digest("session", token),
               sessions.c.ended_at.is_(None), sessions.c.expires_at > now,
               accounts.c.active.is_(True))).first()
    return None if row is None else _user(row)


def end_session(conn: sa.Connection, token: str, now: datetime) -> None:
    conn.execute(sa.update(sessions)
                 .where(sessions.c.token_digest == secret_digest("session", token),
                        sessions.c.ended_at.is_(None))
                 .values(ended_at=now))


def insert_api_token(conn: sa.Connection, account_id: str, name: str, token: str,
                     now: datetime) -> None:
    conn.execute(sa.insert(api_tokens).values(
        account_id=account_id, name=name, token_digest=secret_digest("token", token),
        created_at=now))


def active_token_exists(conn: sa.Connection, account_id: str, name: str) -> bool:
    return conn.execute(sa.select(api_tokens.c.token_id).where(
        api_tokens.c.account_id == account_id, api_tokens.c.name == name,
        api_tokens.c.revoked_at.is_(None))).first() is not None


def revoke_api_token(conn: sa.Connection, account_id: str, name: str, now: datetime) -> bool:
    """Revoke the account's live token of this name; False when there is none."""
    result = conn.execute(sa.update(api_tokens).where(
        api_tokens.c.account_id == account_id, api_tokens.c.name == name,
        api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount == 1


def token_account(conn: sa.Connection, token: str) -> str | None:
    """The active account of a live (not revoked) API token; None for any other."""
    return conn.execute(
        sa.select(api_tokens.c.account_id)
        .join(accounts, accounts.c.account_id == api_tokens.c.account_id)
        .where(api_tokens.c.token_digest == secret_digest("token", token),
               api_tokens.c.revoked_at.is_(None), accounts.c.active.is_(True))
    ).scalar_one_or_none()


def count_hit(conn: sa.Connection, bucket: str, key: str, window_start: datetime) -> int:
    """Count one hit in the fixed window starting at ``window_start`` and return the
    window's hits so far: one atomic upsert. A later window starts the count again; a hit
    stamped with an earlier one (a worker whose clock is behind) counts in the stored one."""
    r = rate_limits
    ins = dialect_insert(conn, r).values(bucket=bucket, key=key, window_start=window_start,
                                         hits=1)
    newer = ins.excluded.window_start > r.c.window_start
    stmt = ins.on_conflict_do_update(
        index_elements=[r.c.bucket, r.c.key],
        set_={"hits": sa.case((newer, 1), else_=r.c.hits + 1),
              "window_start": sa.case((newer, ins.excluded.window_start),
                                      else_=r.c.window_start)}).returning(r.c.hits)
    return int(conn.execute(stmt).scalar_one())

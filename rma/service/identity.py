"""Who uses the portal and the API (SPEC §9): users and their one-time sign-in links,
sessions, CSRF tokens, API tokens and rate limits. The account a request acts for always
comes from here (a session's user, a token's account), never from what the request sends.

Secrets are made with ``secrets`` (256 bits) and only their digests are stored
(``rma.adapters.db.identity``). A sign-in link works once, within its lifetime; a session ends
when it expires or its user signs out; an API token until it is revoked. A user, session or
token of an account that is no longer active opens nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from rma.adapters.db import identity as store
from rma.adapters.db.identity import ROLES, TOKEN_NAME_LEN, User
from rma.adapters.db.reference_cells import parse_emails
from rma.adapters.mail.outbox import write_to_outbox
from rma.adapters.mail.sending import send_pending
from rma.adapters.mail.signin import build_signin_mail
from rma.config import Settings
from rma.config.declare import Rate
from rma.errors import ConfigError, RmaError, RowError

__all__ = ["Invitation", "SignedIn", "User", "add_user", "create_token", "csrf_token",
           "rate_limited", "revoke_token", "send_signin_link", "session_user", "sign_in",
           "sign_out", "token_account"]

#: what an API token starts with: tells it apart in logs and secret scanners
TOKEN_PREFIX = "rma_"
#: the page that takes a sign-in link (``<portal>/signin/<token>``)
SIGNIN_PATH = "/signin/"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def _secret() -> str:
    return secrets.token_urlsafe(32)


def normalise_email(address: str) -> str:
    """One address, lower-case; ``ConfigError`` (wrong usage) for anything else."""
    try:
        parsed = parse_emails(address)
    except RowError as exc:
        raise ConfigError(f"--email {exc}") from None
    if not parsed or ";" in parsed:
        raise ConfigError(f"--email must be one e-mail address, got {address!r}")
    if len(parsed) > store.EMAIL_LEN:
        raise ConfigError(f"--email is longer than {store.EMAIL_LEN} characters")
    return parsed


@dataclass(frozen=True)
class Invitation:
    """A user and the one-time sign-in link made for it (the link is shown once)."""

    user: User
    created: bool
    url: str
    expires_at: dt.datetime
    mail: Path
    mail_sent: bool

    def to_json(self) -> dict[str, object]:
        return {"user": self.user.to_json(), "created": self.created, "signin_url": self.url,
                "expires_at": self.expires_at.isoformat(), "mail": str(self.mail),
                "mail_sent": self.mail_sent}


def add_user(engine: sa.Engine, settings: Settings, account_id: str, email: str,
             role: str | None = None, now: dt.datetime | None = None) -> Invitation:
    """Register ``email`` as a user of the account (partner unless ``role``; an existing
    user of the account keeps its role unless one is given), make a one-time sign-in link
    valid for RMA_INVITE_LINK_HOURS and queue it as a mail to that address in the outbox
    (sent at once when RMA_SMTP_URL is set). An address is a user of one account only."""
    now = _now(now)
    email = normalise_email(email)
    if role is not None and role not in ROLES:
        raise ConfigError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    token = _secret()
    with store.writing(engine) as conn:
        account = store.account_info(conn, account_id)
        if account is None:
            raise RmaError(f"unknown account {account_id!r}; no user added")
        name, active = account
        if not active:
            raise RmaError(f"account {account_id!r} is not active; no user added")
        user = store.user_by_email(conn, email)
        created = user is None
        if user is None:
            user = store.insert_user(conn, account_id, email, role or "partner", now)
        elif user.account_id != account_id:
            raise RmaError(f"{email} is already a user of account {user.account_id}; an "
                           "address signs in for one account only")
        elif role is not None and role != user.role:
            store.set_role(conn, user.user_id, role)
            user = User(user.user_id, user.account_id, user.email, role)
        expires = store.insert_signin_link(
            conn, user.user_id, token, now, dt.timedelta(hours=settings.portal.invite_link_hours))
    url = signin_url(settings, token)
    mail, sent = _mail_link(settings, email, name, url, expires, now)
    return Invitation(user, created, url, expires, mail, sent)


def send_signin_link(engine: sa.Engine, settings: Settings, email: str,
                     now: dt.datetime | None = None) -> bool:
    """The sign-in page's "send me a link": a link valid for RMA_SIGNIN_LINK_MINUTES, mailed
    to a registered user of an active account. False for any other address, which gets no
    mail; the page answers both the same, so it tells nobody which addresses are users (the
    caller applies RMA_RATE_SIGNIN first)."""
    now = _now(now)
    try:
        email = normalise_email(email)
    except ConfigError:
        return False
    token = _secret()
    with store.writing(engine) as conn:
        user = store.user_by_email(conn, email)
        account = store.account_info(conn, user.account_id) if user else None
        if user is None or account is None or not account[1]:
            return False
        expires = store.insert_signin_link(
            conn, user.user_id, token, now,
            dt.timedelta(minutes=settings.portal.signin_link_minutes))
    _mail_link(settings, email, account[0], signin_url(settings, token), expires, now)
    return True


def signin_url(settings: Settings, token: str) -> str:
    return settings.portal.link_base + SIGNIN_PATH + token


def _mail_link(settings: Settings, to: str, account_name: str, url: str,
               expires: dt.datetime, now: dt.datetime) -> tuple[Path, bool]:
    """Queue the link in the outbox, and send what waits there when SMTP is configured (a
    sign-in link that waits for the nightly run is of no use). A failed send leaves it
    waiting for the next run, as a reply would."""
    outbox = settings.beside_inbox("outbox")
    path = write_to_outbox(build_signin_mail(to=to, account_name=account_name, url=url,
                                             expires_at=expires,
                                             from_address=settings.mail_from, now=now), outbox)
    if not settings.smtp_url:
        return path, False
    report = send_pending(outbox, settings.smtp_url)
    return path, any(sent.name.startswith(path.name) for sent in report.sent)


@dataclass(frozen=True)
class SignedIn:
    """A new session: its secret (for the cookie, never stored) and its user."""

    token: str
    user: User
    expires_at: dt.datetime


def sign_in(engine: sa.Engine, settings: Settings, link_token: str,
            now: dt.datetime | None = None) -> SignedIn | None:
    """Use a sign-in link: a new session for its user, or None for a link that is unknown,
    used, expired, or whose account is no longer active (the link is used up either way)."""
    now = _now(now)
    session = _secret()
    with store.writing(engine) as conn:
        user = store.use_signin_link(conn, link_token, now)
        if user is None:
            return None
        account = store.account_info(conn, user.account_id)
        if account is None or not account[1]:
            return None
        expires = store.insert_session(conn, user.user_id, session, now,
                                       dt.timedelta(hours=settings.portal.session_hours))
    return SignedIn(session, user, expires)


def session_user(engine: sa.Engine, token: str, now: dt.datetime | None = None) -> User | None:
    """The user of a live session, or None."""
    if not token:
        return None
    with engine.connect() as conn:
        return store.session_user(conn, token, _now(now))


def sign_out(engine: sa.Engine, token: str, now: dt.datetime | None = None) -> None:
    with store.writing(engine) as conn:
        store.end_session(conn, token, _now(now))


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session's forms: derived from the session's secret, which only
    the signed-in browser holds (an HttpOnly cookie), so nothing more is stored and another
    site cannot compute it."""
    return hashlib.sha256(f"rma-csrf:{session_token}".encode()).hexdigest()


def csrf_valid(session_token: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token).encode(), (given or "").encode())


def create_token(engine: sa.Engine, account_id: str, name: str,
                 now: dt.datetime | None = None) -> str:
    """A new API token for the account under ``name``, returned once (only its digest is
    kept). A name is taken while a token of it is live."""
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_LEN:
        raise ConfigError(f"--name must be 1 to {TOKEN_NAME_LEN} characters")
    token = TOKEN_PREFIX + _secret()
    with store.writing(engine) as conn:
        account = store.account_info(conn, account_id)
        if account is None:
            raise RmaError(f"unknown account {account_id!r}; no token created")
        if not account[1]:
            raise RmaError(f"account {account_id!r} is not active; no token created")
        if store.active_token_exists(conn, account_id, name):
            raise RmaError(f"account {account_id} already has a token named {name!r}; revoke "
                           "it first or choose another name")
        store.insert_api_token(conn, account_id, name, token, _now(now))
    return token


def revoke_token(engine: sa.Engine, account_id: str, name: str,
                 now: dt.datetime | None = None) -> None:
    with store.writing(engine) as conn:
        if not store.revoke_api_token(conn, account_id, name.strip(), _now(now)):
            raise RmaError(f"account {account_id!r} has no live token named {name!r}")


def token_account(engine: sa.Engine, token: str) -> str | None:
    """The account an API token acts for, or None (unknown, revoked, account inactive)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as conn:
        return store.token_account(conn, token)


def rate_limited(engine: sa.Engine, bucket: str, key: str, rate: Rate,
                 now: dt.datetime | None = None) -> int | None:
    """Count one hit of ``key`` in ``bucket`` (``signin``, ``codes``, ``uploads``); None while
    within ``rate``, else the seconds until its fixed window ends (for Retry-After). Kept in
    the claims database: every process of the portal counts in the same windows."""
    now = _now(now)
    epoch = int(now.timestamp())
    start = epoch - epoch % rate.seconds
    with store.writing(engine) as conn:
        hits = store.count_hit(conn, bucket, key[: store.EMAIL_LEN],
                               dt.datetime.fromtimestamp(start, dt.UTC))
    return None if hits <= rate.count else start + rate.seconds - epoch

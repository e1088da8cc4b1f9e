"""The e-mail that carries a one-time sign-in link to the portal (SPEC §9). It goes through
the outbox like every reply (``rma.adapters.mail.outbox``): written first, then sent."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

SUBJECT = "Your sign-in link to the RMA claims portal"


def build_signin_mail(*, to: str, account_name: str, url: str, expires_at: dt.datetime,
                      from_address: str, now: dt.datetime | None = None) -> EmailMessage:
    """A plain-text message with the link; it says how long the link works and that it
    works once. Marked ``Auto-Submitted: auto-generated`` (RFC 3834), as the other mails."""
    now = now or dt.datetime.now(dt.UTC)
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = to
    msg["Subject"] = SUBJECT
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    until = expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    msg.set_content(
        f"Hello,\n\nthis address may sign in to the RMA claims portal for {account_name}.\n"
        f"Open this link to sign in:\n\n    {url}\n\n"
        f"The link works once, until {until}. If you did not expect it, ignore this mail:\n"
        "nobody can sign in without the link.\n")
    return msg

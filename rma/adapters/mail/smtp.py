"""Where replies go out: an SMTP server named by one URL (``RMA_SMTP_URL``).

    smtp://[user[:password]@]host[:port][?starttls=true|false]   plain SMTP, port 25 by default
    smtps://[user[:password]@]host[:port]                        implicit TLS, port 465 by default

User and password are percent-decoded (``%40`` for ``@``). Errors never echo the password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from rma.errors import ConfigError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        """Parse an ``smtp://`` or ``smtps://`` URL; a bad one raises ConfigError."""
        if not isinstance(url, str) or not url.strip():
            raise ConfigError("RMA_SMTP_URL is empty")
        try:
            parts = urlsplit(url.strip())
            scheme = parts.scheme.lower()
            host = parts.hostname
            port_value = parts.port
        except ValueError as exc:
            raise ConfigError(f"RMA_SMTP_URL is not a valid SMTP URL ({_redacted(url)})") from exc
        if scheme not in ("smtp", "smtps"):
            raise ConfigError(
                f"RMA_SMTP_URL must start with smtp:// or smtps:// ({_redacted(url)})"
            )
        if not host:
            raise ConfigError(f"RMA_SMTP_URL names no host ({_redacted(url)})")
        if parts.path not in ("", "/") or parts.fragment:
            raise ConfigError(f"RMA_SMTP_URL has an unexpected path ({_redacted(url)})")
        implicit_tls = scheme == "smtps"
        port = port_value if port_value is not None else (465 if implicit_tls else 25)
        if not 0 < port < 65536:
            raise ConfigError(f"RMA_SMTP_URL has an invalid port ({_redacted(url)})")
        starttls = False
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(query) - {"starttls"}
        if unknown:
            raise ConfigError(
                f"RMA_SMTP_URL has unknown option(s) {', '.join(sorted(unknown))} "
                f"({_redacted(url)})"
            )
        if "starttls" in query:
            raw = query["starttls"][-1].strip().lower()
            if raw in _TRUE:
                starttls = True
            elif raw in _FALSE:
                starttls = False
            else:
                raise ConfigError(
                    f"RMA_SMTP_URL: starttls must be true or false ({_redacted(url)})"
                )
            if implicit_tls and starttls:
                raise ConfigError(
                    f"RMA_SMTP_URL: smtps:// already uses TLS; drop starttls ({_redacted(url)})"
                )
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is not None and user is None:
            raise ConfigError(f"RMA_SMTP_URL gives a password without a user ({_redacted(url)})")
        return cls(host=host, port=port, implicit_tls=implicit_tls, starttls=starttls,
                   user=user, password=password)

    def describe(self) -> str:
        """Where mail goes, for logs: never the password."""
        who = f"{self.user}@" if self.user else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        tls = "?starttls=true" if self.starttls else ""
        return f"{scheme}://{who}{self.host}:{self.port}{tls}"


def _redacted(url: str) -> str:
    """The URL with any password replaced, safe for a message."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
    except ValueError:
        return "<unparseable URL>"
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    text = f"{parts.scheme}://{netloc}"
    return text.replace("\r", "").replace("\n", "")


def open_connection(target: SmtpTarget, timeout: float = 30) -> smtplib.SMTP:
    """Connect, secure (implicit TLS or STARTTLS) and log in as the target asks.

    Raises ``smtplib.SMTPException`` or ``OSError`` when the server cannot be used.
    """
    context = ssl.create_default_context()
    conn: smtplib.SMTP
    if target.implicit_tls:
        conn = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(target.host, target.port, timeout=timeout)
    try:
        conn.ehlo()
        if target.starttls:
            conn.starttls(context=context)
            conn.ehlo()
        if target.user:
            conn.login(target.user, target.password or "")
    except BaseException:
        conn.close()
        raise
    return conn

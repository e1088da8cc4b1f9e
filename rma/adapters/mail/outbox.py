"""The outbox: replies are written to ``outbox/`` first and sent from there.

Writing and sending are separate steps, so a reply is never lost when the SMTP server is down
or not configured: it simply waits in ``outbox/`` for the next run.

    outbox/<timestamp>-<message-id>.eml       waiting to be sent
    outbox/<name>.eml.sending                 being sent right now
    outbox/sent/YYYY-MM-DD/<name>.eml         sent (the date of sending, UTC)
    outbox/unsure/<name>.eml.sending          a send was interrupted: a person decides

Never twice, at the price of "maybe never": before a message is handed to the server it is
renamed to ``.sending``; after the server accepted it, it moves to ``sent/``. When the server
refuses it or the connection fails, it is renamed back to ``.eml`` and goes out on the next
run. A ``.sending`` file found when a run starts means a run died between those steps (the
process was killed, the machine went down): the server may or may not have accepted the
message. Resending could deliver a second copy, not resending could lose it; we do not guess.
Such files are moved to ``outbox/unsure/`` and reported, and a person checks the mail log and
either deletes the file or renames it back to ``.eml`` in ``outbox/``. (A connection dropped
while the server was answering the final ``.`` of a message is reported as a failure and
retried: the one window where a second copy is possible, and an unlikely one.)

One run at a time: ``send_pending`` holds an exclusive lock on ``outbox/.send.lock`` for the
run, so a second, overlapping run does not mistake the first one's ``.sending`` file for a
crash; it sends nothing and says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import smtplib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from rma.adapters.mail.smtp import SmtpTarget, open_connection
from rma.adapters.names import free_name

try:  # POSIX; elsewhere runs are not guarded against overlapping
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

SENDING = ".sending"
EML = ".eml"
#: the server refused one message (the connection itself is fine)
_REFUSED = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused,
            smtplib.SMTPNotSupportedError, ValueError)
LOCK_NAME = ".send.lock"


@dataclass
class SendReport:
    """What one ``send_pending`` run did."""

    sent: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped_no_smtp: int = 0
    #: interrupted sends found at the start, moved to ``outbox/unsure/`` for a person
    unsure: list[Path] = field(default_factory=list)
    #: why nothing could be sent at all (server down, another run busy), else None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unsure and self.error is None

    def line(self) -> str:
        text = f"outbox: {len(self.sent)} sent, {len(self.failed)} failed"
        if self.skipped_no_smtp:
            text += f", {self.skipped_no_smtp} waiting (no SMTP server configured)"
        if self.unsure:
            text += f", {len(self.unsure)} interrupted send(s) moved to unsure/ for a person"
        if self.error:
            text += f" — {self.error}"
        return text


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write the message as ``<outbox>/<timestamp>-<message-id>.eml``, atomically."""
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{_safe(str(message.get('Message-ID', '')))}"
    data = message.as_bytes(policy=message.policy.clone(linesep="\n"))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=outbox)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        target = free_name(outbox / f"{name}{EML}", EML)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def pending(outbox: Path) -> list[Path]:
    """The ``.eml`` files waiting directly in ``outbox/``, oldest first."""
    outbox = Path(outbox)
    if not outbox.is_dir():
        return []
    files = [p for p in outbox.iterdir() if p.suffix == ".eml" and p.is_file()
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.name, p.stat().st_mtime))


def send_pending(outbox: Path, smtp_url: str | None, timeout: float = 30) -> SendReport:
    """Send what waits in the outbox over one SMTP connection; see the module docstring.

    A bad ``smtp_url`` raises ``ConfigError``; server trouble never raises, it is reported.
    """
    outbox = Path(outbox)
    report = SendReport()
    target = SmtpTarget.from_url(smtp_url) if smtp_url is not None else None
    if not outbox.is_dir():
        return report
    with _run_lock(outbox) as locked:
        if not locked:
            report.error = "another run is sending from this outbox; nothing sent"
            return report
        report.unsure = _park_interrupted(outbox)
        waiting = pending(outbox)
        if target is None:
            report.skipped_no_smtp = len(waiting)
            return report
        if not waiting:
            return report
        try:
            conn = open_connection(target, timeout=timeout)
        except (OSError, smtplib.SMTPException) as exc:
            report.error = f"cannot use the SMTP server {target.describe()}: {_why(exc)}"
            report.failed = [(path, report.error) for path in waiting]
            return report
        try:
            _send_all(conn, waiting, outbox, report)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
            with contextlib.suppress(OSError):
                conn.close()
    return report


def _send_all(conn: smtplib.SMTP, waiting: list[Path], outbox: Path, report: SendReport
              ) -> None:
    for n, path in enumerate(waiting):
        sending = path.with_name(path.name + SENDING)
        try:
            os.rename(path, sending)
        except FileNotFoundError:
            continue  # removed meanwhile
        try:
            sender, recipients, data = _envelope(sending.read_bytes())
            conn.sendmail(sender, recipients, data)
        except _REFUSED as exc:
            if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421:
                _connection_lost(exc, sending, path, waiting[n + 1:], report)
                return
            # The server said no to this message: it waits for the next run.
            os.rename(sending, path)
            report.failed.append((path, _why(exc)))
            continue
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            _connection_lost(exc, sending, path, waiting[n + 1:], report)
            return
        report.sent.append(_move_to_sent(sending, path.name, outbox))


def _connection_lost(exc: BaseException, sending: Path, path: Path, rest: list[Path],
                     report: SendReport) -> None:
    """The connection is gone: this message and the rest wait for the next run."""
    os.rename(sending, path)
    reason = _why(exc)
    report.failed.append((path, reason))
    report.failed += [(p, f"not tried: {reason}") for p in rest]
    report.error = f"the SMTP connection failed: {reason}"


def _envelope(raw: bytes) -> tuple[str, list[str], bytes]:
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    sender = parseaddr(str(headers.get("From", "")))[1]
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
    recipients = [addr for _, addr in getaddresses(fields) if addr]
    if not recipients:
        raise ValueError("the message names no recipient")
    if headers.get("Bcc") is not None:
        raise ValueError("the message carries a Bcc header; refusing to send it as is")
    # SMTP wants CRLF line ends; the files on disk use LF.
    data = re.sub(rb"\r?\n", b"\r\n", raw)
    return sender, recipients, data


def _move_to_sent(sending: Path, name: str, outbox: Path) -> Path:
    day = outbox / "sent" / dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    target = free_name(day / name, EML)
    os.replace(sending, target)
    return target


def _park_interrupted(outbox: Path) -> list[Path]:
    parked = []
    for path in sorted(outbox.glob(f"*{SENDING}")):
        if not path.is_file():
            continue
        unsure = outbox / "unsure"
        unsure.mkdir(exist_ok=True)
        target = free_name(unsure / path.name, EML + SENDING)
        os.replace(path, target)
        parked.append(target)
    return parked


@contextlib.contextmanager
def _run_lock(outbox: Path) -> Iterator[bool]:
    if fcntl is None:  # pragma: no cover
        yield True
        return
    with open(outbox / LOCK_NAME, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _safe(message_id: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip().strip("<>")).strip("._")
    return text[:100] or "message"


def _why(exc: BaseException) -> str:
    """One line about an SMTP or network error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg)
                          in exc.recipients.items())
        return f"recipient refused ({codes})"[:300]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:300]
    text = str(exc) or type(exc).__name__
    return " ".join(f"{type(exc).__name__}: {text}".split())[:300]


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())

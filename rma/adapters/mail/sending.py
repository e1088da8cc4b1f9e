"""One send run: what waits in ``outbox/`` goes out over one SMTP connection.

The folder, its never-twice rule and the send lock are in ``rma.adapters.mail.outbox``; what
each refusal means is in ``rma.adapters.mail.refusals``. A second, overlapping run sends
nothing and says so in its ``SendReport``.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from rma.adapters.mail.outbox import (
    SENDING,
    move_to_sent,
    park_interrupted,
    pending,
    run_lock,
    set_aside,
)
from rma.adapters.mail.refusals import REFUSALS, error_line, refusal_kind, refused_step
from rma.adapters.mail.smtp import SmtpTarget, open_connection


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
    #: refused for good by the server (5xx), moved to ``outbox/refused/``, with the reason
    refused: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.unsure and not self.refused
                and self.error is None)

    def line(self) -> str:
        text = f"outbox: {len(self.sent)} sent, {len(self.failed)} failed"
        if self.refused:
            text += f", {len(self.refused)} refused permanently, moved to outbox/refused/"
        if self.skipped_no_smtp:
            text += f", {self.skipped_no_smtp} waiting (no SMTP server configured)"
        if self.unsure:
            text += f", {len(self.unsure)} interrupted send(s) moved to unsure/ for a person"
        if self.error:
            text += f" — {self.error}"
        return text


def send_pending(outbox: Path, smtp_url: str | None, timeout: float = 30) -> SendReport:
    """Send what waits in the outbox over one SMTP connection; see the module docstring.

    A bad ``smtp_url`` raises ``ConfigError``; server trouble never raises, it is reported.
    """
    outbox = Path(outbox)
    report = SendReport()
    target = SmtpTarget.from_url(smtp_url) if smtp_url is not None else None
    if not outbox.is_dir():
        return report
    with run_lock(outbox) as locked:
        if not locked:
            report.error = "another run is sending from this outbox; nothing sent"
            return report
        report.unsure = park_interrupted(outbox)
        waiting = pending(outbox)
        if target is None:
            report.skipped_no_smtp = len(waiting)
            return report
        if not waiting:
            return report
        try:
            conn = open_connection(target, timeout=timeout)
        except (OSError, smtplib.SMTPException) as exc:
            report.error = f"cannot use the SMTP server {target.describe()}: {error_line(exc)}"
            report.failed = [(path, report.error) for path in waiting]
            return report
        try:
            _send_all(conn, target, waiting, outbox, report)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
            with contextlib.suppress(OSError):
                conn.close()
    return report


def _send_all(conn: smtplib.SMTP, target: SmtpTarget, waiting: list[Path], outbox: Path,
              report: SendReport) -> None:
    for n, path in enumerate(waiting):
        sending = path.with_name(path.name + SENDING)
        try:
            os.rename(path, sending)
        except FileNotFoundError:
            continue  # removed meanwhile
        try:
            sender, recipients, data = _envelope(sending.read_bytes())
            conn.sendmail(sender, recipients, data)
        except REFUSALS as exc:
            kind, advice = refusal_kind(exc)
            if kind == "lost":
                _connection_lost(exc, sending, path, waiting[n + 1:], report)
                return
            if kind == "config":
                _configuration_fault(exc, advice, target, sending, path, waiting[n + 1:],
                                     report)
                return
            if kind == "refused":
                reason = f"{refused_step(exc)}: {error_line(exc)}"
                report.refused.append((set_aside(sending, path.name, outbox,
                                                 target.describe(), reason, advice), reason))
                continue
            # A temporary refusal (4xx): the message waits for the next run.
            os.rename(sending, path)
            report.failed.append((path, error_line(exc)))
            continue
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            _connection_lost(exc, sending, path, waiting[n + 1:], report)
            return
        report.sent.append(move_to_sent(sending, path.name, outbox))


def _connection_lost(exc: BaseException, sending: Path, path: Path, rest: list[Path],
                     report: SendReport) -> None:
    """The connection is gone: this message and the rest wait for the next run."""
    os.rename(sending, path)
    reason = error_line(exc)
    report.failed.append((path, reason))
    report.failed += [(p, f"not tried: {reason}") for p in rest]
    report.error = f"the SMTP connection failed: {reason}"


def _configuration_fault(exc: BaseException, advice: str, target: SmtpTarget, sending: Path,
                         path: Path, rest: list[Path], report: SendReport) -> None:
    """The server refuses every message of ours the same way: all wait, a person fixes it."""
    os.rename(sending, path)
    reason = f"{refused_step(exc)}: {error_line(exc)}"
    report.failed.append((path, reason))
    report.failed += [(p, f"not tried: {reason}") for p in rest]
    report.error = (f"the SMTP server {target.describe()} refused {reason}: {advice}; the "
                    "replies wait in outbox/")


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

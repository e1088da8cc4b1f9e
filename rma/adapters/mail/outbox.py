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

What a refusal means, by the reply code and the step of the transaction it answers:

    outbox/refused/<name>.eml                 refused for good: a person decides
    outbox/refused/<name>.eml.error.txt       when, which server, the code and text, what to do

* **4xx** (451 greylisting, 452 mailbox full for now ...): temporary. The message goes back
  into ``outbox/`` and the next run tries again. A refusal of all recipients in which any
  code is 4xx counts as temporary too: one more try costs little, losing a reply more.
* **421** at any step: the server is closing the connection. This message and the rest wait
  for the next run (``report.error``), as for a connection that drops.
* **5xx to RCPT TO** (every recipient refused, all with 5xx: 550 5.1.1 no such mailbox, 553
  bad address, 501 address syntax ...) and **5xx to DATA** or after the final ``.`` (554
  transaction failed, content refused as spam, 552 too large ...): this reply will never be
  taken as it is. Retrying it every night would knock at the server for ever, so it is moved
  to ``outbox/refused/`` with its ``.error.txt`` and reported in ``report.refused``. A 552 to
  MAIL FROM is the size the client announced (``SIZE=``): the same, the reply is too large.
* **5xx about our session or configuration, not this message**: the same answer would come
  for every reply, and setting each aside would empty the outbox into ``refused/`` with the
  wrong advice. The message and the rest wait in ``outbox/``, the run stops sending and
  ``report.error`` says what to fix. These are: 530, 534, 535, 538 and enhanced codes 5.7.8,
  5.7.9, 5.7.11 (authentication or TLS required or failed: the user, password or TLS of
  ``RMA_SMTP_URL``); 500, 502, 503, 504 (the server does not understand our commands: the
  URL does not name a fitting SMTP port); a 5xx to RCPT TO that says "relay" (554/550 5.7.1
  relaying denied: the server does not take mail for other domains from us, i.e. we are not
  logged in or use the wrong server); and any other 5xx to MAIL FROM (the sender is always
  ``RMA_MAIL_FROM``: 550/553 sender refused, SPF/DMARC policy). Refusals before the first
  message (554 in the greeting, 535 at login) are raised by ``open_connection`` and are the
  same kind of fault: nothing is sent, ``report.error`` names the server.
* A recipient refused while others of the same message are accepted (a report mail to an
  account's several registered addresses) is not an error: the message went out to the
  others and moves to ``sent/``; the refused address is not recorded here.
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
REFUSED_DIR = "refused"
ERROR_NOTE = ".error.txt"
#: codes about the session (authentication, TLS, protocol), never about one message
_SESSION_CODES = frozenset({500, 502, 503, 504, 530, 534, 535, 538})
_SESSION_ENHANCED = frozenset({"5.7.8", "5.7.9", "5.7.11"})
_ENHANCED = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")


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
        except _REFUSED as exc:
            kind, advice = _refusal_kind(exc)
            if kind == "lost":
                _connection_lost(exc, sending, path, waiting[n + 1:], report)
                return
            if kind == "config":
                _configuration_fault(exc, advice, target, sending, path, waiting[n + 1:],
                                     report)
                return
            if kind == "refused":
                reason = f"{_step(exc)}: {_why(exc)}"
                report.refused.append(
                    (_set_aside(sending, path.name, outbox, target, reason, advice), reason))
                continue
            # A temporary refusal (4xx): the message waits for the next run.
            os.rename(sending, path)
            report.failed.append((path, _why(exc)))
            continue
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            _connection_lost(exc, sending, path, waiting[n + 1:], report)
            return
        report.sent.append(_move_to_sent(sending, path.name, outbox))


def _refusal_kind(exc: BaseException) -> tuple[str, str]:
    """``lost``, ``config``, ``refused`` or ``retry``, with what a person should do (for
    ``config`` and ``refused``); the rules are in the module docstring."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [(code, _text(msg)) for code, msg in exc.recipients.values()]
    elif isinstance(exc, smtplib.SMTPResponseException):
        answers = [(exc.smtp_code, _text(exc.smtp_error))]
    else:
        return "retry", ""  # no recipient, Bcc, SMTPUTF8 unsupported: as before
    codes = [code for code, _ in answers]
    if 421 in codes:
        return "lost", ""
    for code, text in answers:
        if code in _SESSION_CODES or _enhanced(text) in _SESSION_ENHANCED:
            return "config", _SESSION_ADVICE
    if not codes or not all(500 <= code < 600 for code in codes):
        return "retry", ""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        if any("relay" in text.lower() for _, text in answers):
            return "config", _RELAY_ADVICE
        return "refused", _ADDRESS_ADVICE
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code == 552 or _enhanced(_text(exc.smtp_error)) == "5.3.4":
            return "refused", _CONTENT_ADVICE  # the SIZE= we announced: too large
        return "config", _SENDER_ADVICE.format(sender=_text(exc.sender))
    if isinstance(exc, smtplib.SMTPDataError):
        return "refused", _CONTENT_ADVICE
    return "retry", ""


_SESSION_ADVICE = ("check the user, password and TLS (smtps:// or ?starttls=true) in "
                   "RMA_SMTP_URL, and that it names the server's submission port")
_RELAY_ADVICE = ("the server does not relay this mail for us: set the user and password "
                 "of an account allowed to send in RMA_SMTP_URL, or name the server meant "
                 "for outgoing mail")
_SENDER_ADVICE = ("the server does not accept {sender} as sender: set RMA_MAIL_FROM to an "
                  "address this server (and this login) may send from")
_ADDRESS_ADVICE = ("check the address with the partner; if it is wrong, correct the "
                   "account's registered address (the emails column of the accounts file, "
                   "then `rma accounts import FILE`) and the To: line of this .eml; then "
                   "move the .eml back into outbox/ to send it again (or delete it and "
                   "this note)")
_CONTENT_ADVICE = ("the server refused the content of this reply (its size or a content "
                   "filter): ask the mail server's administrator what it objects to; then "
                   "move the .eml back into outbox/ to send it again (or delete it and "
                   "this note)")


def _enhanced(text: str) -> str | None:
    """The enhanced status code (RFC 3463) a reply text starts with, e.g. ``5.1.1``."""
    match = _ENHANCED.match(text)
    return match.group(1) if match else None


def _step(exc: BaseException) -> str:
    """The step of the SMTP transaction a refusal answered."""
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "MAIL FROM"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "RCPT TO"
    return "DATA"


def _set_aside(sending: Path, name: str, outbox: Path, target: SmtpTarget, reason: str,
               advice: str) -> Path:
    """Move a message the server refused for good to ``outbox/refused/``, with a note."""
    folder = outbox / REFUSED_DIR
    folder.mkdir(exist_ok=True)
    refused = free_name(folder / name, EML)
    os.replace(sending, refused)  # first: the message is out of the send queue whatever next
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    note = (f"{when} {target.describe()} refused this reply permanently at {reason}\n"
            f"To do: {advice}.\n")
    with contextlib.suppress(OSError):  # no note (disk full): the report still names it
        refused.with_name(refused.name + ERROR_NOTE).write_text(note, encoding="utf-8")
    return refused


def refused_replies(outbox: Path) -> list[dict[str, str]]:
    """The replies in ``outbox/refused/``, each with the two lines of its note."""
    folder = Path(outbox) / REFUSED_DIR
    if not folder.is_dir():
        return []
    items = []
    for path in sorted(p for p in folder.iterdir() if p.suffix == EML and p.is_file()):
        note = path.with_name(path.name + ERROR_NOTE)
        lines = note.read_text(encoding="utf-8", errors="replace").splitlines() \
            if note.is_file() else []
        items.append({"path": str(path), "reason": lines[0] if lines else "",
                      "action": lines[1].removeprefix("To do: ") if len(lines) > 1 else ""})
    return items


def _connection_lost(exc: BaseException, sending: Path, path: Path, rest: list[Path],
                     report: SendReport) -> None:
    """The connection is gone: this message and the rest wait for the next run."""
    os.rename(sending, path)
    reason = _why(exc)
    report.failed.append((path, reason))
    report.failed += [(p, f"not tried: {reason}") for p in rest]
    report.error = f"the SMTP connection failed: {reason}"


def _configuration_fault(exc: BaseException, advice: str, target: SmtpTarget, sending: Path,
                         path: Path, rest: list[Path], report: SendReport) -> None:
    """The server refuses every message of ours the same way: all wait, a person fixes it."""
    os.rename(sending, path)
    reason = f"{_step(exc)}: {_why(exc)}"
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

"""What an SMTP server's refusal of one reply means, by the reply code and the step it answers.

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

import re
import smtplib

#: the server refused one message (the connection itself is fine)
REFUSALS = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused,
            smtplib.SMTPNotSupportedError, ValueError)
#: codes about the session (authentication, TLS, protocol), never about one message
_SESSION_CODES = frozenset({500, 502, 503, 504, 530, 534, 535, 538})
_SESSION_ENHANCED = frozenset({"5.7.8", "5.7.9", "5.7.11"})
_ENHANCED = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")

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


def refusal_kind(exc: BaseException) -> tuple[str, str]:
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


def refused_step(exc: BaseException) -> str:
    """The step of the SMTP transaction a refusal answered."""
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "MAIL FROM"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "RCPT TO"
    return "DATA"


def error_line(exc: BaseException) -> str:
    """One line about an SMTP or network error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg)
                          in exc.recipients.items())
        return f"recipient refused ({codes})"[:300]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:300]
    text = str(exc) or type(exc).__name__
    return " ".join(f"{type(exc).__name__}: {text}".split())[:300]


def _enhanced(text: str) -> str | None:
    """The enhanced status code (RFC 3463) a reply text starts with, e.g. ``5.1.1``."""
    match = _ENHANCED.match(text)
    return match.group(1) if match else None


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())

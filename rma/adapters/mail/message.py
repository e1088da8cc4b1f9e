"""One raw e-mail (RFC 5322 bytes) read into what the intake needs: sender, ids, body, files.

Untrusted input, read defensively:

* Text is decoded with the declared charset; when that is unknown or the bytes do not fit,
  UTF-8 and then cp1252 (with replacement characters) are tried. Decoding never fails.
* The body is the first inline ``text/plain`` part without a file name (a blank one does not
  count); failing that the first inline ``text/html`` part, converted to text (block elements
  and ``<br>`` become line breaks, ``<blockquote>`` content becomes ``> `` quoted lines,
  scripts and styles are dropped, entities unescaped).
* Attachments are the parts that have a file name or ``Content-Disposition: attachment``,
  found in nested multiparts too. Their names are made safe (a basename, never a path).
  A part larger than ``max_attachment_bytes`` is not kept; its name is listed in
  ``oversized``.
* A forwarded message (a ``message/rfc822`` part): its own attachments are ignored. Its
  body is appended to ``body`` (under a "Forwarded message" line with its From/Date/
  Subject/To, which the form reader skips) only when the outer body holds no form labels;
  otherwise the forwarded message is listed as an attachment (so the reply can name it as
  ignored).
* Broken MIME degrades where something can still be read: a multipart whose boundary is
  missing or wrong is re-split on the first ``--boundary`` line found in it, or else read as
  plain text; a badly encoded payload is decoded as far as it goes. What is not an e-mail
  at all (empty input, no header) raises ``BatchError("UNREADABLE_FILE", ...)``, and so
  does any failure of the parser itself: no traceback reaches the caller.
* ``sender`` is the single From address, lower-cased. It is ``""`` (an unknown sender, never
  a guessed account) and ``sender_problem`` says why when the From header cannot be trusted
  to name one mailbox: none or several From headers, several addresses or a group, a header
  the parser marked defective (``claims@registered.example <evil@attacker.example>`` unquoted
  parses as the first address with a defect, while DMARC checks the second), or a display
  name that is itself another address (``"claims@registered.example" <evil@...>``: mail
  clients show the name, the account would be the other address).
* ``content_sha256`` (``content_hash``) is a digest of what the submitter sent, not of how it
  travelled: a re-delivered copy under a new Message-ID, Date or Received header has the same
  one (``rma.service.mail`` answers it once).
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from rma.adapters.mail.forms import has_form_labels
from rma.adapters.names import safe_filename
from rma.adapters.readers.messages import display_text
from rma.errors import BatchError

_MAX_DEPTH = 20
_MSGID = re.compile(r"<[^<>\s]+>")
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_BOUNDARY_LINE = re.compile(r"^--([^\s]{1,200}?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Attachment:
    filename: str  # a safe basename, never a path
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailMessage:
    message_id: str
    sender: str
    subject: str
    date: datetime | None
    references: list[str]
    authentication_results: str | None
    body: str
    attachments: list[Attachment]
    sha256: str
    oversized: list[str] = field(default_factory=list)
    sender_problem: str = ""  # why ``sender`` is "" (a From header that names no one mailbox)
    content_sha256: str = ""  # ``content_hash`` of what was sent (the same for a re-delivery)


#: Bump when what ``content_hash`` covers changes: old and new digests then never match, so
#: a re-delivery across the change is processed once more rather than missed silently.
CONTENT_HASH_VERSION = "rma-mail-content-1"


def content_hash(sender: str, subject: str, body: str, attachments: list[Attachment],
                 oversized: Sequence[str] = ()) -> str:
    """SHA-256 of what the submitter sent: the sender address (case and surrounding space
    ignored), the subject with its white space collapsed, the body text as parsed, and each
    attachment's file name and the SHA-256 of its bytes, in order (an attachment over the size
    limit by its name only: its bytes were not kept).

    Transport headers (Message-ID, Date, Received, Return-Path, DKIM signatures …) and the MIME
    layout (boundaries, transfer encodings, line endings) are left out: a mail system that
    delivers a message again changes those, never what was written. The parts are encoded as
    one JSON array (ASCII, so no text can fail to encode), which keeps their boundaries
    unambiguous: a body ending in a file name is not the same as that file attached.
    """
    parts = [CONTENT_HASH_VERSION, sender.strip().lower(), _one_line(subject), body,
             [[a.filename, hashlib.sha256(a.data).hexdigest()] for a in attachments],
             list(oversized)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode("ascii")).hexdigest()


def parse_message(raw: bytes, *, max_attachment_bytes: int = 25 * 1024 * 1024,
                  name: str = "message") -> MailMessage:
    """Read one e-mail; raises ``BatchError(UNREADABLE_FILE)`` for what is no e-mail at all."""
    raw = bytes(raw)
    sha256 = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise BatchError("UNREADABLE_FILE", f"{name}: the message could not be read (it is empty)")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        if not list(msg.raw_items()):
            raise BatchError("UNREADABLE_FILE",
                             f"{name}: the message could not be read (no mail header found)")
        reader = _Reader(max_attachment_bytes)
        body = reader.read(msg)
        message_id = _message_id(msg) or f"<{sha256}@rma.invalid>"
        sender, sender_problem = _sender(msg)
        subject = _one_line(_header(msg, "Subject") or "")
        return MailMessage(
            message_id=message_id,
            sender=sender,
            subject=subject,
            date=_date(msg),
            references=_references(msg),
            authentication_results=_joined(msg, "Authentication-Results"),
            body=body,
            attachments=reader.attachments,
            sha256=sha256,
            oversized=reader.oversized,
            sender_problem=sender_problem,
            content_sha256=content_hash(sender, subject, body, reader.attachments,
                                        reader.oversized),
        )
    except BatchError:
        raise
    except Exception as exc:  # untrusted bytes: the parser's own failures are a batch error
        raise BatchError("UNREADABLE_FILE",
                         f"{name}: the message could not be read ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from exc


# ---------------------------------------------------------------------------- structure


class _Reader:
    """Walks the MIME tree once: picks the body, collects attachments."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max = max_attachment_bytes
        self.attachments: list[Attachment] = []
        self.oversized: list[str] = []
        self._count = 0

    def read(self, msg: Message) -> str:
        leaves: list[Message] = []
        _leaves(_repair(msg), leaves, 0)
        body_part = _choose_body(leaves)
        body = _text_of(body_part) if body_part is not None else ""
        forwarded: list[Message] = []
        for part in leaves:
            if part is body_part:
                continue
            if part.get_content_type() == "message/rfc822":
                forwarded.append(part)
            elif _is_attachment(part):
                self._add(part)
        if forwarded and not has_form_labels(body):
            texts = [body.rstrip()] if body.strip() else []
            texts += [_forwarded_text(part, 1) for part in forwarded]
            body = "\n\n".join(texts) + "\n"
        else:
            for part in forwarded:
                self._add(part, default=f"forwarded-message-{self._count + 1}.eml")
        return body

    def _add(self, part: Message, default: str | None = None) -> None:
        self._count += 1
        raw_name = _filename(part)
        filename = safe_filename(raw_name or default or "", self._count)
        data = _payload_bytes(part)
        if len(data) > self.max:
            self.oversized.append(filename)
            return
        self.attachments.append(Attachment(filename, part.get_content_type(), data))


def _repair(msg: Message) -> Message:
    """A multipart without a usable boundary: re-split it on the first boundary line in it."""
    if msg.get_content_maintype() != "multipart" or msg.is_multipart():
        return msg
    payload = msg.get_payload()
    if not isinstance(payload, str):
        return msg
    found = _BOUNDARY_LINE.search(payload)
    if found is None:
        return msg
    boundary = found.group(1)
    if boundary.endswith("--"):
        boundary = boundary[:-2]
    rebuilt = (f'Content-Type: {msg.get_content_type()}; boundary="{boundary}"\n\n'
               .encode() + payload.encode("ascii", "surrogateescape"))
    fixed = email.message_from_bytes(rebuilt, policy=policy.default)
    return fixed if fixed.is_multipart() else msg


def _leaves(part: Message, out: list[Message], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if part.is_multipart() and part.get_content_maintype() != "message":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _leaves(_repair(sub), out, depth + 1)
        return
    out.append(part)


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or bool(_filename(part))


def _choose_body(leaves: list[Message]) -> Message | None:
    candidates = [p for p in leaves
                  if p.get_content_maintype() == "text"
                  and p.get_content_disposition() != "attachment" and not _filename(p)]
    for part in candidates:
        if part.get_content_subtype() == "plain" and _text_of(part).strip():
            return part
    for part in candidates:
        if part.get_content_subtype() == "html":
            return part
    for part in candidates:
        if part.get_content_subtype() == "plain":
            return part
    # a multipart that could not be repaired: its raw text is the best there is
    for part in leaves:
        if part.get_content_maintype() == "multipart" and not _filename(part):
            return part
    return None


def _forwarded_text(part: Message, depth: int) -> str:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return _text_of(part)
    leaves: list[Message] = []
    _leaves(_repair(inner), leaves, depth)
    body_part = _choose_body(leaves)
    body = _text_of(body_part) if body_part is not None else ""
    if depth < 3:
        for sub in leaves:
            if sub is not body_part and sub.get_content_type() == "message/rfc822" \
                    and not has_form_labels(body):
                body = body.rstrip() + "\n\n" + _forwarded_text(sub, depth + 1)
    lines = ["---------- Forwarded message ---------"]
    for label in ("From", "Date", "Subject", "To", "Cc"):
        value = _header(inner, label)
        if value:
            lines.append(f"{label}: {_one_line(value)}")
    return "\n".join(lines) + "\n\n" + body


# ---------------------------------------------------------------------------- content


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        payload = part.get_payload()
        if part.get_content_type() == "message/rfc822" and isinstance(payload, list) \
                and payload and isinstance(payload[0], Message):
            part = payload[0]  # the forwarded message itself, without the wrapping part
        try:
            return part.as_bytes(policy=policy.default)
        except Exception:  # a broken inner message is kept as far as it goes
            return b""
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def decode_text(data: bytes, charset: str | None) -> str:
    """Declared charset, else UTF-8, else cp1252 with replacement: never raises."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeError, ValueError):
            continue
    return data.decode("cp1252", errors="replace")


def _text_of(part: Message) -> str:
    data = _payload_bytes(part) if part.get_content_maintype() != "multipart" else \
        str(part.get_payload()).encode("utf-8", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_text(data, charset)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message) -> str:
    try:
        return (part.get_filename() or "").strip()
    except Exception:  # an unparsable parameter is no name
        return ""


# ---------------------------------------------------------------------------- headers


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
        return None if value is None else str(value)
    except Exception:  # fall back on the raw, hand-decoded value
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _decode_raw(str(raw))
        return None


def _decode_raw(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw


def _raw_values(msg: Message, name: str) -> list[str]:
    return [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message_id(msg: Message) -> str:
    values = _raw_values(msg, "Message-ID")
    if not values:
        return ""
    found = _MSGID.search(values[0])
    if found:
        return found.group(0)[:998]
    text = "".join(values[0].split())
    return f"<{text[:996]}>" if text else ""


def _sender(msg: Message) -> tuple[str, str]:
    """The one From mailbox, lower-cased, or ``""`` and the reason it cannot be trusted."""
    raw = _raw_values(msg, "From")
    if not raw:
        return "", "the message has no From header"
    if len(raw) > 1:
        return "", f"the message has {len(raw)} From headers"
    value = raw[0]
    with contextlib.suppress(UnicodeError):
        # RFC 6532 allows UTF-8 in headers; the bytes parser marks every such byte a defect
        value = value.encode("ascii", "surrogateescape").decode("utf-8")
    shown = display_text(value, 120)
    try:
        header = policy.default.header_fetch_parse("From", value)  # unfolds, then parses
        defects = list(header.defects)
        groups = list(header.groups)
    except Exception:  # the header parser gave up: nothing in it is trusted
        return "", f"the From header {shown!r} could not be read"
    if defects:
        return "", f"the From header {shown!r} is malformed"
    mailboxes = [a for g in groups for a in g.addresses]
    if len(mailboxes) != 1:
        return "", f"the From header names {len(mailboxes)} addresses"
    if any(g.display_name is not None for g in groups):
        return "", "the From header is a group"
    address = mailboxes[0].addr_spec.strip().lower()
    if "@" not in address:
        return "", "the From address has no domain"
    # NFKC: a full-width ＠ in the name looks like an address to the reader all the same
    named = {a.lower() for a in _ADDRESS_LIKE.findall(
        unicodedata.normalize("NFKC", mailboxes[0].display_name or ""))}
    if named - {address}:
        return "", (f"the From header {shown!r} shows another address "
                    "as its display name")
    return address, ""


def _date(msg: Message) -> datetime | None:
    values = _raw_values(msg, "Date")
    if not values:
        return None
    try:
        return parsedate_to_datetime(values[0].strip())
    except (TypeError, ValueError, IndexError):
        return None


def _references(msg: Message) -> list[str]:
    ids: list[str] = []
    for name in ("References", "In-Reply-To"):
        for raw in _raw_values(msg, name):
            for found in _MSGID.findall(raw):
                if found not in ids:
                    ids.append(found)
    return ids


def _joined(msg: Message, name: str) -> str | None:
    values = [_one_line(_decode_raw(v)) for v in _raw_values(msg, name)]
    return "\n".join(values) if values else None


# ---------------------------------------------------------------------------- HTML


_BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
          "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
          "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
          "tbody", "thead", "tfoot", "tr", "ul", "title"}
_SKIP = {"script", "style", "head", "template", "noscript"}
_CELL = {"td", "th"}


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._buffer: list[str] = []
        self._has_text = False  # whether the buffer holds more than whitespace
        self._depth_at_start = 0
        self.quote = 0
        self.skip = 0
        self.pre = 0
        self._cells = 0

    def _flush(self) -> None:
        text = "".join(self._buffer)
        self._buffer = []
        self._has_text = False
        self._cells = 0
        if self.pre:
            for line in text.split("\n"):
                self.lines.append((self._depth_at_start, line.rstrip()))
        else:
            self.lines.append((self._depth_at_start, " ".join(text.split())))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self._flush()
            if tag == "blockquote":
                self.quote += 1
            if tag == "pre":
                self.pre += 1
        elif tag in _CELL:
            if self._cells:
                self._buffer.append(" \t ")
            self._cells += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self._flush()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        # a flag, not a look at the joined buffer: that would be quadratic in the number of
        # inline elements of one block
        if not self._has_text:
            self._depth_at_start = self.quote
        data = data.replace("\xa0", " ")
        self._buffer.append(data)
        self._has_text = self._has_text or bool(data.strip())

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        for depth, line in self.lines:
            if not line.strip():
                continue  # empty blocks; blank lines mean nothing to the form reader
            out.append("> " * depth + line)
        return "\n".join(out).strip("\n") + ("\n" if out else "")


def html_to_text(html: str) -> str:
    """HTML as plain text: blocks and ``<br>`` are line breaks, blockquotes ``> `` quotes."""
    parser = _HtmlText()
    with contextlib.suppress(Exception):  # broken HTML: keep the text read so far
        parser.feed(html)
        parser.close()
    return parser.text()


__all__ = ["CONTENT_HASH_VERSION", "Attachment", "MailMessage", "content_hash", "decode_text",
           "html_to_text", "parse_message", "safe_filename"]

"""What one MIME part holds: its bytes, its text, its file name; the attachment kept from it.

Untrusted input, read defensively:

* Text is decoded with the declared charset; when that is unknown or the bytes do not fit,
  UTF-8 and then cp1252 (with replacement characters) are tried. Decoding never fails. An
  HTML part is converted to text (``rma.adapters.mail.htmltext``).
* A badly encoded payload is decoded as far as it goes; a broken forwarded message is kept
  as far as it can be written back.
* File names are made safe (``rma.adapters.names.safe_filename``): a basename, never a
  path, bounded in length.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import Message

from rma.adapters.mail.htmltext import html_to_text


@dataclass(frozen=True)
class Attachment:
    filename: str  # a safe basename, never a path
    content_type: str
    data: bytes


def part_bytes(part: Message) -> bytes:
    """The decoded payload; a forwarded message as the bytes of the message itself."""
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


def part_text(part: Message) -> str:
    """The part as text with ``\\n`` line ends; HTML converted, a multipart's raw text."""
    data = part_bytes(part) if part.get_content_maintype() != "multipart" else \
        str(part.get_payload()).encode("utf-8", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_text(data, charset)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def part_filename(part: Message) -> str:
    """The file name the part declares, stripped; ``""`` when none (or none readable)."""
    try:
        return (part.get_filename() or "").strip()
    except Exception:  # an unparsable parameter is no name
        return ""

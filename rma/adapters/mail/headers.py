"""The headers of a received e-mail: Message-ID, date, threading ids and the one sender.

Untrusted input, read defensively: a header the parser cannot read is taken from its raw,
hand-decoded value, and what still cannot be read is ``None`` or empty, never an exception.

``read_sender`` gives the single From address, lower-cased. It is ``""`` (an unknown sender,
never a guessed account), with the reason, when the From header cannot be trusted to name one
mailbox: none or several From headers, several addresses or a group, a header the parser
marked defective (``claims@registered.example <evil@attacker.example>`` unquoted parses as the
first address with a defect, while DMARC checks the second), or a display name that is itself
another address (``"claims@registered.example" <evil@...>``: mail clients show the name, the
account would be the other address).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime

from rma.adapters.readers.messages import display_text

_MSGID = re.compile(r"<[^<>\s]+>")
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")


def header_value(msg: Message, name: str) -> str | None:
    """The first ``name`` header as text, decoded; ``None`` when there is none."""
    try:
        value = msg.get(name)
        return None if value is None else str(value)
    except Exception:  # fall back on the raw, hand-decoded value
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _decode_raw(str(raw))
        return None


def collapse_space(text: str) -> str:
    """Every run of white space as one space, none at the ends: a header value on one line."""
    return " ".join(text.split())


def read_message_id(msg: Message) -> str:
    """The Message-ID as ``<...>``, or ``""`` when the message has none."""
    values = _raw_values(msg, "Message-ID")
    if not values:
        return ""
    found = _MSGID.search(values[0])
    if found:
        return found.group(0)[:998]
    text = "".join(values[0].split())
    return f"<{text[:996]}>" if text else ""


def read_sender(msg: Message) -> tuple[str, str]:
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


def read_date(msg: Message) -> datetime | None:
    """The Date header as a datetime; ``None`` when missing or unreadable."""
    values = _raw_values(msg, "Date")
    if not values:
        return None
    try:
        return parsedate_to_datetime(values[0].strip())
    except (TypeError, ValueError, IndexError):
        return None


def read_references(msg: Message) -> list[str]:
    """The Message-IDs of References and In-Reply-To, in order, each once."""
    ids: list[str] = []
    for name in ("References", "In-Reply-To"):
        for raw in _raw_values(msg, name):
            for found in _MSGID.findall(raw):
                if found not in ids:
                    ids.append(found)
    return ids


def joined_values(msg: Message, name: str) -> str | None:
    """Every ``name`` header, decoded, one per line; ``None`` when there is none."""
    values = [collapse_space(_decode_raw(v)) for v in _raw_values(msg, name)]
    return "\n".join(values) if values else None


def _decode_raw(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw


def _raw_values(msg: Message, name: str) -> list[str]:
    return [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]

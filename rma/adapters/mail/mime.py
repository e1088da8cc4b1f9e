"""The MIME tree of a received e-mail, walked once: which part is the body, which are files.

* The body is the first inline ``text/plain`` part without a file name (a blank one does not
  count); failing that the first inline ``text/html`` part, converted to text.
* Attachments are the parts that have a file name or ``Content-Disposition: attachment``,
  found in nested multiparts too. A part larger than ``max_attachment_bytes`` is not kept;
  its name is listed in ``oversized``.
* A forwarded message (a ``message/rfc822`` part): its own attachments are ignored. Its
  body is appended to the body (under a "Forwarded message" line with its From/Date/
  Subject/To, which the form reader skips) only when the outer body holds no form labels;
  otherwise the forwarded message is listed as an attachment (so the reply can name it as
  ignored).
* Broken MIME degrades where something can still be read: a multipart whose boundary is
  missing or wrong is re-split on the first ``--boundary`` line found in it, or else read as
  plain text.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.message import Message

from rma.adapters.mail.forms import has_form_labels
from rma.adapters.mail.headers import collapse_space, header_value
from rma.adapters.mail.parts import (
    Attachment,
    part_bytes,
    part_filename,
    part_text,
)
from rma.adapters.names import safe_filename

_MAX_DEPTH = 20
_BOUNDARY_LINE = re.compile(r"^--([^\s]{1,200}?)\s*$", re.MULTILINE)


class MimeReader:
    """Walks the MIME tree once: picks the body, collects attachments."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max = max_attachment_bytes
        self.attachments: list[Attachment] = []
        self.oversized: list[str] = []
        self._count = 0

    def read(self, msg: Message) -> str:
        """The body text; the attachments and oversized names are collected on the way."""
        leaves: list[Message] = []
        _leaves(_repair(msg), leaves, 0)
        body_part = _choose_body(leaves)
        body = part_text(body_part) if body_part is not None else ""
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
        raw_name = part_filename(part)
        filename = safe_filename(raw_name or default or "", self._count)
        data = part_bytes(part)
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
    return part.get_content_disposition() == "attachment" or bool(part_filename(part))


def _choose_body(leaves: list[Message]) -> Message | None:
    candidates = [p for p in leaves
                  if p.get_content_maintype() == "text"
                  and p.get_content_disposition() != "attachment" and not part_filename(p)]
    for part in candidates:
        if part.get_content_subtype() == "plain" and part_text(part).strip():
            return part
    for part in candidates:
        if part.get_content_subtype() == "html":
            return part
    for part in candidates:
        if part.get_content_subtype() == "plain":
            return part
    # a multipart that could not be repaired: its raw text is the best there is
    for part in leaves:
        if part.get_content_maintype() == "multipart" and not part_filename(part):
            return part
    return None


def _forwarded_text(part: Message, depth: int) -> str:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return part_text(part)
    leaves: list[Message] = []
    _leaves(_repair(inner), leaves, depth)
    body_part = _choose_body(leaves)
    body = part_text(body_part) if body_part is not None else ""
    if depth < 3:
        for sub in leaves:
            if sub is not body_part and sub.get_content_type() == "message/rfc822" \
                    and not has_form_labels(body):
                body = body.rstrip() + "\n\n" + _forwarded_text(sub, depth + 1)
    lines = ["---------- Forwarded message ---------"]
    for label in ("From", "Date", "Subject", "To", "Cc"):
        value = header_value(inner, label)
        if value:
            lines.append(f"{label}: {collapse_space(value)}")
    return "\n".join(lines) + "\n\n" + body

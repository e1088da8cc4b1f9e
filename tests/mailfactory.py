"""Builders of real RFC 5322 messages for tests (``email.message.EmailMessage``, policy.default).

``mail()`` builds a well-formed message; the ``*_body`` helpers build body texts (forms,
replies, forwards); ``forwarded_mail()`` attaches a whole message as ``message/rfc822``;
``raw_mail()`` and the ``broken_*`` / ``*_encoded_mail`` helpers write bytes by hand for what
the ``email`` package would not produce (foreign charsets, broken MIME).
"""

from __future__ import annotations

import email
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_DATE = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def form_body(*claims: Mapping[str, object]) -> str:
    """``Label: value`` lines, claims separated by ``---``; None values are left out.

    A value with line breaks continues on indented lines.
    """
    blocks = []
    for claim in claims:
        lines = []
        for label, value in claim.items():
            if value is None:
                continue
            first, *rest = str(value).split("\n")
            lines.append(f"{label}: {first}")
            lines.extend(f"  {more}" for more in rest)
        blocks.append("\n".join(lines))
    return "\n---\n".join(blocks) + "\n"


def mail(*, sender: str = "claims@dist.example", to: str = "rma@maker.example",
         subject: str = "Claims", body: str | None = None, html: str | None = None,
         attachments: Iterable[tuple[str, bytes, str]] = (), message_id: str | None = None,
         charset: str | None = None, extra_headers: Mapping[str, str] | None = None,
         date: datetime | None = DEFAULT_DATE) -> bytes:
    """A real message. ``message_id=None`` gives a fresh id, ``""`` leaves the header out.

    With both ``body`` and ``html`` the text is multipart/alternative; ``attachments`` are
    ``(filename, data, "maintype/subtype")``.
    """
    msg = EmailMessage(policy=policy.default)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is None:
        message_id = make_msgid(domain="dist.example")
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    text_args = {"charset": charset} if charset else {}
    if body is not None:
        msg.set_content(body, **text_args)
        if html is not None:
            msg.add_alternative(html, subtype="html", **text_args)
    elif html is not None:
        msg.set_content(html, subtype="html", **text_args)
    else:
        msg.set_content("", **text_args)
    for filename, data, content_type in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(bytes(data), maintype=maintype, subtype=subtype or "octet-stream",
                           filename=filename)
    return msg.as_bytes()


def forwarded_mail(inner: bytes, *, sender: str = "claims@dist.example",
                   body: str = "FYI, see the forwarded message.\n", subject: str = "Fwd: Claims",
                   filename: str | None = None, **kwargs: object) -> bytes:
    """A message that forwards ``inner`` as an attached ``message/rfc822`` part."""
    outer = email.message_from_bytes(mail(sender=sender, subject=subject, body=body,
                                          **kwargs),  # type: ignore[arg-type]
                                     policy=policy.default)
    forwarded = email.message_from_bytes(inner, policy=policy.default)
    outer.add_attachment(forwarded, **({"filename": filename} if filename else {}))
    return outer.as_bytes()


def forwarded_body(inner_text: str, *, intro: str = "Please handle these.\n",
                   original_sender: str = "Customer <customer@example.com>",
                   subject: str = "Claims") -> str:
    """A body with an inline Gmail-style "Forwarded message" block."""
    return (f"{intro}\n---------- Forwarded message ---------\n"
            f"From: {original_sender}\nDate: Mon, 3 Nov 2026 at 10:15\n"
            f"Subject: {subject}\nTo: <claims@dist.example>\n\n{inner_text}")


def quote(text: str) -> str:
    """``text`` as ``> `` quoted lines."""
    return "".join(f"> {line}\n" if line else ">\n" for line in text.rstrip("\n").split("\n"))


def reply_body(fresh: str, quoted: str, *, top_posting: bool = True,
               who: str = "RMA Service <rma@maker.example>") -> str:
    """A reply: fresh text above (or below) an attribution line and the quoted earlier text."""
    history = f"On Mon, 3 Nov 2026 at 10:15, {who} wrote:\n{quote(quoted)}"
    return f"{fresh}\n{history}" if top_posting else f"{history}\n{fresh}"


def outlook_reply_body(fresh: str, original: str) -> str:
    """An Outlook-style reply: the earlier message unquoted below "-----Original Message-----"."""
    return (f"{fresh}\n-----Original Message-----\nFrom: RMA Service <rma@maker.example>\n"
            f"Sent: Monday, November 3, 2026 10:15 AM\nTo: claims@dist.example\n"
            f"Subject: RE: Claims\n\n{original}")


def raw_mail(headers: Iterable[tuple[str, str]], body: bytes, *, linesep: bytes = b"\r\n"
             ) -> bytes:
    """Hand-written message bytes: headers as given (not encoded), then ``body`` verbatim."""
    head = linesep.join(f"{name}: {value}".encode("ascii", "surrogateescape")
                        for name, value in headers)
    return head + linesep + linesep + body


def latin1_encoded_mail(body: str, *, charset: str = "iso-8859-1",
                        sender: str = "=?iso-8859-1?q?J=FCrgen_M=FCller?= <JM@Dist.Example>",
                        subject: str = "=?iso-8859-1?q?Reklamation_M=FCller_=E4=F6=FC?=",
                        message_id: str = "<latin1@dist.example>") -> bytes:
    """A single-part 8bit text message in a non-UTF-8 charset, with RFC 2047 headers."""
    return raw_mail([("From", sender), ("To", "rma@maker.example"), ("Subject", subject),
                     ("Date", "Tue, 04 Nov 2026 08:00:00 +0100"), ("Message-ID", message_id),
                     ("MIME-Version", "1.0"),
                     ("Content-Type", f"text/plain; charset={charset}"),
                     ("Content-Transfer-Encoding", "8bit")],
                    body.replace("\n", "\r\n").encode(charset))


def broken_no_boundary_mail(form: str) -> bytes:
    """multipart/mixed without a boundary parameter; the parts are still delimited."""
    return raw_mail([("From", "claims@dist.example"), ("Subject", "broken"),
                     ("Message-ID", "<nob@dist.example>"), ("MIME-Version", "1.0"),
                     ("Content-Type", "multipart/mixed")],
                    b"--frontier\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    + form.replace("\n", "\r\n").encode() + b"\r\n--frontier--\r\n")


def broken_wrong_boundary_mail(form: str) -> bytes:
    """multipart/mixed whose declared boundary never occurs."""
    return raw_mail([("From", "claims@dist.example"), ("Subject", "broken"),
                     ("Message-ID", "<wrongb@dist.example>"), ("MIME-Version", "1.0"),
                     ("Content-Type", 'multipart/mixed; boundary="declared"')],
                    b"--actual\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    + form.replace("\n", "\r\n").encode()
                    + b"\r\n--actual\r\nContent-Type: text/csv\r\n"
                      b"Content-Disposition: attachment; filename=claims.csv\r\n\r\n"
                      b"serial_number\r\nSN1234567\r\n--actual--\r\n")


def broken_unparsable_text_mail() -> bytes:
    """An unknown charset and a base64 body that is not base64."""
    return raw_mail([("From", "claims@dist.example"), ("Subject", "=?x-bogus?q?garbage?="),
                     ("Message-ID", "<bad64@dist.example>"), ("MIME-Version", "1.0"),
                     ("Content-Type", "text/plain; charset=x-no-such-charset"),
                     ("Content-Transfer-Encoding", "base64")],
                    b"!!!! this is %% not base64 \xff\xfe\r\n")


def garbage_bytes() -> bytes:
    """Not an e-mail at all."""
    return b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00 binary junk \x01\x02\x03"

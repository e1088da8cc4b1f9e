"""The reply to an e-mailed batch (SPEC §6): a plain-words summary and the rejection reports.

One reply per message, to the sender, whatever the batches' outcome. It is marked
``Auto-Submitted: auto-replied`` (RFC 3834) so that well-behaved responders do not answer it
and no mail loop starts. Only the subject is taken from the submitter's message into a
header (stripped of CR/LF and control characters); the Message-IDs used for threading are
accepted only in the strict ``<left@right>`` shape, anything else is dropped. The words of
the summary are ``rma.adapters.mail.wording``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from rma.adapters.mail.wording import (
    DROP_FOLDER_INTRO,
    MAIL_INTRO,
    batch_names,
    batch_section,
    one_line,
    reply_body,
)
from rma.domain.vocabulary.results import BatchResult

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
MAX_SUBJECT = 200
MAX_REFERENCES = 20
_PREFIX = re.compile(r"^\s*(?:re|aw|antw|sv|vs)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
_MSGID = re.compile(r"^<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>$")


def build_reply(*, to: str, original_subject: str, original_message_id: str,
                original_references: Sequence[str], results: list[BatchResult],
                from_address: str, ignored_attachments: Sequence[str] = (),
                now: dt.datetime | None = None, portal_url: str | None = None
                ) -> EmailMessage:
    """The reply to one e-mail: summary per batch in the body, one report per rejected batch;
    with ``portal_url`` (RMA_PORTAL_URL) each batch's section links to its review page."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    msg = EmailMessage()
    msg["From"] = one_line(from_address)
    msg["To"] = one_line(to)
    msg["Subject"] = reply_subject(original_subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=_domain(from_address))
    parent = _msgid(original_message_id)
    if parent:
        msg["In-Reply-To"] = parent
    refs = _references(original_references, parent)
    if refs:
        msg["References"] = " ".join(refs)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"

    _add_summary(msg, results, MAIL_INTRO, ignored_attachments, dropped=False,
                 portal_url=portal_url)
    return msg


def build_drop_folder_mail(*, to: Sequence[str], account_name: str,
                           results: list[BatchResult], from_address: str,
                           now: dt.datetime | None = None, portal_url: str | None = None
                           ) -> EmailMessage:
    """What became of the files an account dropped in its folder during one run: the same
    summary as an e-mail reply, one report attached per batch with rejections. A new message
    (not a reply), marked ``Auto-Submitted: auto-generated`` (RFC 3834); ``portal_url`` as
    for ``build_reply``."""
    now = now or dt.datetime.now(dt.UTC)
    msg = EmailMessage()
    msg["From"] = one_line(from_address)
    msg["To"] = ", ".join(one_line(address) for address in to)
    files = len(results)
    msg["Subject"] = one_line(f"RMA claims: {files} file{'s' if files != 1 else ''} "
                              f"processed for {account_name}")[:MAX_SUBJECT]
    msg["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    msg["Message-ID"] = make_msgid(domain=_domain(from_address))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    _add_summary(msg, results, DROP_FOLDER_INTRO, (), dropped=True, portal_url=portal_url)
    return msg


def _add_summary(msg: EmailMessage, results: list[BatchResult], intro: str,
                 ignored_attachments: Sequence[str], dropped: bool,
                 portal_url: str | None = None) -> None:
    """The body (a section per batch) and one report attached per batch with rejections."""
    attachments: list[tuple[str, bytes]] = []
    sections: list[str] = []
    for result, (label, stem) in zip(results, batch_names(results, dropped), strict=True):
        attachment = _report_attachment(result, stem)
        if attachment is not None:
            attachments.append(attachment)
        sections.append(batch_section(result, label, attachment[0] if attachment else None,
                                      portal_url))
    rejected = any(r.status == "posted" and r.rejections for r in results)
    msg.set_content(reply_body(sections, ignored_attachments, rejected, intro),
                    cte="quoted-printable")
    for filename, data in attachments:
        msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1],
                           filename=filename)


def _report_attachment(result: BatchResult, stem: str) -> tuple[str, bytes] | None:
    if result.status != "posted" or not result.rejections:
        return None
    path = (result.reports or {}).get("xlsx")
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return f"{stem}-rejections.xlsx", data


# -- headers -----------------------------------------------------------------------------------

def reply_subject(original: str | None) -> str:
    """``Re: <subject>`` with one ``Re:`` however many Re:/RE:/AW: the original carried."""
    text = one_line(original or "")
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = text.strip()[:MAX_SUBJECT] or "your claims"
    return f"Re: {text}"


def _domain(address: str) -> str:
    domain = parseaddr(one_line(address))[1].rpartition("@")[2]
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain)
    return domain or "localhost"


def _msgid(value: str | None) -> str | None:
    text = one_line(value or "")
    if text and not text.startswith("<"):
        text = f"<{text}>"
    return text if _MSGID.match(text) else None


def _references(original: Iterable[str], parent: str | None) -> list[str]:
    out: list[str] = []
    for raw in [*(original or ()), *([parent] if parent else [])]:
        for token in one_line(raw or "").split():
            ref = _msgid(token)
            if ref and ref not in out:
                out.append(ref)
    if len(out) > MAX_REFERENCES:  # keep the first (thread root) and the latest ones
        out = [out[0], *out[-(MAX_REFERENCES - 1):]]
    return out

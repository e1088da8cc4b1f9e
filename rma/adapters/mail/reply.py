"""The reply to an e-mailed batch (SPEC §6): a plain-words summary and the rejection reports.

One reply per message, to the sender, whatever the batches' outcome. It is marked
``Auto-Submitted: auto-replied`` (RFC 3834) so that well-behaved responders do not answer it
and no mail loop starts. Only the subject is taken from the submitter's message into a
header (stripped of CR/LF and control characters); the Message-IDs used for threading are
accepted only in the strict ``<left@right>`` shape, anything else is dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from rma.domain.vocabulary.columns import LABELS
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.results import BatchResult

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
MAX_CLAIM_IDS = 50
MAX_ISSUE_ROWS = 200
MAX_SUBJECT = 200
MAX_REFERENCES = 20
_PREFIX = re.compile(r"^\s*(?:re|aw|antw|sv|vs)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MSGID = re.compile(r"^<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>$")
_CLAIM_SUFFIXES = {".xlsx", ".xlsm", ".csv", ".xls", ".ods"}


def build_reply(*, to: str, original_subject: str, original_message_id: str,
                original_references: Sequence[str], results: list[BatchResult],
                from_address: str, ignored_attachments: Sequence[str] = (),
                now: dt.datetime | None = None) -> EmailMessage:
    """The reply to one e-mail: summary per batch in the body, one report per rejected batch."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    msg = EmailMessage()
    msg["From"] = _one_line(from_address)
    msg["To"] = _one_line(to)
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

    _add_summary(msg, results, MAIL_INTRO, ignored_attachments, dropped=False)
    return msg


def build_drop_folder_mail(*, to: Sequence[str], account_name: str,
                           results: list[BatchResult], from_address: str,
                           now: dt.datetime | None = None) -> EmailMessage:
    """What became of the files an account dropped in its folder during one run: the same
    summary as an e-mail reply, one report attached per batch with rejections. A new message
    (not a reply), marked ``Auto-Submitted: auto-generated`` (RFC 3834)."""
    now = now or dt.datetime.now(dt.UTC)
    msg = EmailMessage()
    msg["From"] = _one_line(from_address)
    msg["To"] = ", ".join(_one_line(address) for address in to)
    files = len(results)
    msg["Subject"] = _one_line(f"RMA claims: {files} file{'s' if files != 1 else ''} "
                               f"processed for {account_name}")[:MAX_SUBJECT]
    msg["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    msg["Message-ID"] = make_msgid(domain=_domain(from_address))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    _add_summary(msg, results, DROP_FOLDER_INTRO, (), dropped=True)
    return msg


def _add_summary(msg: EmailMessage, results: list[BatchResult], intro: str,
                 ignored_attachments: Sequence[str], dropped: bool) -> None:
    """The body (a section per batch) and one report attached per batch with rejections."""
    attachments: list[tuple[str, bytes]] = []
    sections: list[str] = []
    for result, (label, stem) in zip(results, _unique_names(results, dropped), strict=True):
        attachment = _report_attachment(result, stem)
        if attachment is not None:
            attachments.append(attachment)
        sections.append(_section(result, label, attachment[0] if attachment else None))
    rejected = any(r.status == "posted" and r.rejections for r in results)
    msg.set_content(_body(sections, ignored_attachments, rejected, intro),
                    cte="quoted-printable")
    for filename, data in attachments:
        msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1],
                           filename=filename)


def batch_summary_text(result: BatchResult) -> str:
    """The plain-words summary of one drop-folder batch, for the account's return folder."""
    section = _section(result, _label_and_stem(result.source, dropped=True)[0], None)
    report = (result.reports or {}).get("xlsx") if result.status == "posted" else None
    if report:
        section += (f"\n\nThe report {Path(report).name} beside this summary shows your rows "
                    "with the problems marked.")
    return section + "\n"


# -- headers -----------------------------------------------------------------------------------

def reply_subject(original: str | None) -> str:
    """``Re: <subject>`` with one ``Re:`` however many Re:/RE:/AW: the original carried."""
    text = _one_line(original or "")
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = text.strip()[:MAX_SUBJECT] or "your claims"
    return f"Re: {text}"


def _one_line(text: str) -> str:
    """No CR, LF or other control characters: what reaches a header stays one header."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", str(text))).strip()


def _domain(address: str) -> str:
    domain = parseaddr(_one_line(address))[1].rpartition("@")[2]
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain)
    return domain or "localhost"


def _msgid(value: str | None) -> str | None:
    text = _one_line(value or "")
    if text and not text.startswith("<"):
        text = f"<{text}>"
    return text if _MSGID.match(text) else None


def _references(original: Iterable[str], parent: str | None) -> list[str]:
    out: list[str] = []
    for raw in [*(original or ()), *([parent] if parent else [])]:
        for token in _one_line(raw or "").split():
            ref = _msgid(token)
            if ref and ref not in out:
                out.append(ref)
    if len(out) > MAX_REFERENCES:  # keep the first (thread root) and the latest ones
        out = [out[0], *out[-(MAX_REFERENCES - 1):]]
    return out


# -- naming the batches ------------------------------------------------------------------------

def _label_and_stem(source: str, dropped: bool = False) -> tuple[str, str]:
    """How the body names a batch, and the stem of its report attachment (``dropped``: a
    file from a drop folder, named by its file name whatever its type)."""
    text = _one_line(source)
    if text.endswith("(form)") and not dropped:
        return "your e-mail form", "e-mail-form"
    name = re.split(r"[\\/]", text)[-1].strip()
    if not dropped and (not name or Path(name).suffix.lower() not in _CLAIM_SUFFIXES):
        return "your e-mail", "e-mail"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._-")[:60] or "claims"
    return name[:120], stem


def _unique_names(results: list[BatchResult], dropped: bool) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    out = []
    for result in results:
        label, stem = _label_and_stem(result.source, dropped)
        count = seen.get(stem.lower(), 0) + 1
        seen[stem.lower()] = count
        out.append((label, stem if count == 1 else f"{stem}-{count}"))
    return out


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


# -- body --------------------------------------------------------------------------------------

MAIL_INTRO = "thank you for your e-mail. This is what became of the claims in it."
DROP_FOLDER_INTRO = "this is what became of the claim files you uploaded to your drop folder."


def _body(sections: list[str], ignored: Sequence[str], rejected: bool,
          intro: str = MAIL_INTRO) -> str:
    parts = ["Hello,", "", intro, ""]
    for section in sections:
        parts += [section, ""]
    if ignored:
        names = ", ".join(_clean(name, 120) for name in ignored)
        parts += [f"Not a claim spreadsheet, ignored: {names}", ""]
    if rejected:
        parts.append("Please correct the rejected claims and send only those again; accepted "
                     "claims need no further action.")
    parts += ["This is an automatic reply; for questions please contact Customer Service.", ""]
    return "\n".join(parts)


def _section(result: BatchResult, label: str, attachment: str | None) -> str:
    kind = "form" if label == "your e-mail form" else "file"
    title = f"== {'Y' + label[1:] if label.startswith('your ') else label} =="
    lines = [title]
    if result.status == "duplicate":
        first = _clean(result.batch_id or "", 40) or "an earlier batch"
        lines.append(f"This {kind} was already processed as batch {first}; nothing was posted "
                     "again.")
        return "\n".join(lines)
    if result.status == "failed":
        message = _clean((result.error or {}).get("message") or "", 500)
        lines.append(f"This {kind} could not be processed: {message or 'unknown error.'}")
        lines.append("Nothing was posted.")
        return "\n".join(lines)
    lines.append(f"{_count(result.claims_accepted)} accepted, "
                 f"{_count(result.claims_rejected)} rejected.")
    if result.batch_id:
        lines.append(f"Batch: {_clean(result.batch_id, 40)}")
    if result.claim_ids:
        shown = ", ".join(_clean(c, 40) for c in result.claim_ids[:MAX_CLAIM_IDS])
        more = len(result.claim_ids) - MAX_CLAIM_IDS
        lines.append(f"Accepted claim IDs: {shown}" + (f" and {more} more" if more > 0 else ""))
    if result.rejections:
        lines += ["", "Rejected:"]
        lines += _rejection_lines(result.rejections)
    ignored_listed = any(w.get("code") == Reason.IGNORED_ATTACHMENT for w in result.warnings)
    warnings = [w for w in result.warnings if w.get("code") != Reason.IGNORED_ATTACHMENT
                ] if ignored_listed else result.warnings
    if warnings:
        lines.append("")
        lines += _warning_lines(warnings)
    if attachment:
        lines += ["", f"The attached {attachment} shows your rows with the problems marked."]
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n} claim" if n == 1 else f"{n} claims"


def _rejection_lines(rejections: list[dict[str, Any]]) -> list[str]:
    groups: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for item in rejections:
        groups.setdefault((_clean(item.get("sheet"), 40), _row(item.get("row"))), []
                          ).append(item)
    several_sheets = len({sheet for sheet, _ in groups}) > 1
    lines: list[str] = []
    for n, ((sheet, row), items) in enumerate(groups.items()):
        if n == MAX_ISSUE_ROWS:
            lines.append(f"... and {len(groups) - n} more rows; see the attached report.")
            break
        where = f"Row {row}" if row else "The file"
        if several_sheets and sheet:
            where = f"Sheet {sheet}, {where[:1].lower()}{where[1:]}"
        about = [f"claim {ref}" for ref in _distinct(items, "claim_ref")]
        about += [f"SN {sn}" for sn in _distinct(items, "serial_number")]
        head = f"{where} ({', '.join(about)})" if about else where
        issues = _distinct_issues(items)
        if len(issues) == 1:
            lines.append(f"{head}: {issues[0]}")
        else:
            lines.append(f"{head}:")
            lines += [f"  - {issue}" for issue in issues]
    return lines


def _warning_lines(warnings: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for n, item in enumerate(warnings):
        if n == MAX_ISSUE_ROWS:
            lines.append(f"... and {len(warnings) - n} more notes.")
            break
        row = _row(item.get("row"))
        where = f"Row {row}: " if row else ""
        lines.append(f"Note: {where}{_issue(item)}")
    return lines


def _issue(item: dict[str, Any]) -> str:
    column = _clean(item.get("column"), 60)
    label = LABELS.get(column, column)
    message = _clean(item.get("message"), 500)
    return f"{label}: {message}" if label else message


def _distinct_issues(items: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for item in items:
        issue = _issue(item)
        if issue not in out:
            out.append(issue)
    return out


def _distinct(items: list[dict[str, Any]], key: str) -> list[str]:
    out: list[str] = []
    for item in items:
        value = _clean(item.get(key), 64)
        if value and value not in out:
            out.append(value)
    return out[:5]


def _row(value: Any) -> int | None:
    try:
        row = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return row if row > 0 else None


def _clean(value: Any, limit: int) -> str:
    """A value echoed into the body: text, one line, no control characters, bounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = _one_line(str(value))
    if text.lower() in ("nan", "none", "<na>", "nat"):
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"

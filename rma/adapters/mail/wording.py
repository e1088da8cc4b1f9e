"""What became of each batch, in plain words: the text of a reply and of a drop-folder summary.

A section per batch: accepted and rejected counts, the batch and claim IDs, the rejected rows
with their problems, the notes. Every value echoed from the submitter's file is made one line
without control characters and bounded in length; long lists are cut with "and N more".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rma.domain.vocabulary.columns import LABELS
from rma.domain.vocabulary.reasons import Reason
from rma.domain.vocabulary.results import BatchResult

MAX_CLAIM_IDS = 50
MAX_ISSUE_ROWS = 200
MAIL_INTRO = "thank you for your e-mail. This is what became of the claims in it."
DROP_FOLDER_INTRO = "this is what became of the claim files you uploaded to your drop folder."
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CLAIM_SUFFIXES = {".xlsx", ".xlsm", ".csv", ".xls", ".ods"}


def one_line(text: str) -> str:
    """No CR, LF or other control characters: what reaches a header stays one header."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", str(text))).strip()


def review_link(portal_url: str | None, batch_id: str | None) -> str | None:
    """The address of a batch's review page in the portal (SPEC §9), when RMA_PORTAL_URL is
    set and the batch has an id; None otherwise."""
    if not portal_url or not batch_id:
        return None
    return f"{portal_url.rstrip('/')}/batches/{quote(batch_id, safe='')}"


def batch_summary_text(result: BatchResult, portal_url: str | None = None) -> str:
    """The plain-words summary of one drop-folder batch, for the account's return folder;
    with ``portal_url`` (RMA_PORTAL_URL) it carries the link to the batch's review page."""
    section = batch_section(result, _label_and_stem(result.source, dropped=True)[0], None,
                            portal_url)
    report = (result.reports or {}).get("xlsx") if result.status == "posted" else None
    if report:
        section += (f"\n\nThe report {Path(report).name} beside this summary shows your rows "
                    "with the problems marked.")
    return section + "\n"


# -- naming the batches ------------------------------------------------------------------------

def batch_names(results: list[BatchResult], dropped: bool) -> list[tuple[str, str]]:
    """Per batch, how the body names it and the stem of its report attachment, unique in one
    message (a second ``claims`` becomes ``claims-2``)."""
    seen: dict[str, int] = {}
    out = []
    for result in results:
        label, stem = _label_and_stem(result.source, dropped)
        count = seen.get(stem.lower(), 0) + 1
        seen[stem.lower()] = count
        out.append((label, stem if count == 1 else f"{stem}-{count}"))
    return out


def _label_and_stem(source: str, dropped: bool = False) -> tuple[str, str]:
    """How the body names a batch, and the stem of its report attachment (``dropped``: a
    file from a drop folder, named by its file name whatever its type)."""
    text = one_line(source)
    if text.endswith("(form)") and not dropped:
        return "your e-mail form", "e-mail-form"
    name = re.split(r"[\\/]", text)[-1].strip()
    if not dropped and (not name or Path(name).suffix.lower() not in _CLAIM_SUFFIXES):
        return "your e-mail", "e-mail"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._-")[:60] or "claims"
    return name[:120], stem


# -- body --------------------------------------------------------------------------------------

def reply_body(sections: list[str], ignored: Sequence[str], rejected: bool, intro: str) -> str:
    """The whole text: greeting, the sections, the ignored attachments, what to do next."""
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


def batch_section(result: BatchResult, label: str, attachment: str | None,
                  portal_url: str | None = None) -> str:
    """One batch's section, titled by ``label``; ``attachment`` names its attached report;
    with ``portal_url`` (RMA_PORTAL_URL) the link to the batch's review page."""
    kind = "form" if label == "your e-mail form" else "file"
    title = f"== {'Y' + label[1:] if label.startswith('your ') else label} =="
    lines = [title]
    if result.status == "duplicate":
        first = _clean(result.batch_id or "", 40) or "an earlier batch"
        lines.append(f"This {kind} was already processed as batch {first}; nothing was posted "
                     "again.")
        link = review_link(portal_url, result.batch_id)
        if link:
            lines.append(f"Review it online: {link}")
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
    link = review_link(portal_url, result.batch_id)
    if link:
        lines.append(f"Review it online: {link}")
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
    text = one_line(str(value))
    if text.lower() in ("nan", "none", "<na>", "nat"):
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""What a drop-folder submitter gets back: the reports and a short summary in the account's
return folder (``returns/<account_id>/``, which the SFTP side syncs back), and, when SMTP is
configured, one mail per account and run to its registered addresses with the same summary
and ``rejections.xlsx`` attached (the reply machinery of e-mail batches; an account opts out
with ``report_mail = false`` in the accounts registry).

Only batches that are settled are handed back: posted, duplicate, or refused for their content
(quarantined). A file that failed for another reason (the database was down) stays waiting and
is told about when a later run settles it.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.inbox.moves import QUARANTINE_CODES
from rma.adapters.mail.outbox import write_to_outbox
from rma.adapters.mail.reply import build_drop_folder_mail
from rma.adapters.mail.wording import batch_summary_text
from rma.adapters.names import bounded_name, free_name
from rma.config import Settings
from rma.domain.vocabulary.results import BatchResult

log = logging.getLogger("rma.service.returns")

SUMMARY_SUFFIX = ".summary.txt"


@dataclass
class HandBack:
    """Where the results of one run's drop-folder batches went."""

    files: list[Path] = field(default_factory=list)
    mails: list[Path] = field(default_factory=list)


def is_settled(result: BatchResult) -> bool:
    """Posted, duplicate, or refused for what the file holds: the submitter is told now."""
    if result.status in ("posted", "duplicate"):
        return True
    return result.status == "failed" and (result.error or {}).get("code") in QUARANTINE_CODES


def hand_back(results: Sequence[BatchResult], returns_root: Path, outbox: Path,
              engine: sa.Engine, settings: Settings,
              now: dt.datetime | None = None) -> HandBack:
    """Reports and summaries to each account's return folder; mails to the outbox."""
    done = HandBack()
    by_account: dict[str, list[BatchResult]] = {}
    for result in results:
        if result.account_id and is_settled(result):
            by_account.setdefault(result.account_id, []).append(result)
    for account_id, batches in by_account.items():
        folder = returns_root / account_id
        folder.mkdir(parents=True, exist_ok=True)
        for result in batches:
            done.files += _return_files(result, folder, settings.portal.url)
    if settings.smtp_url and by_account:
        with engine.connect() as conn:
            recipients = ClaimsRepository(conn).report_recipients(list(by_account))
        for account_id, (name, addresses) in recipients.items():
            mail = build_drop_folder_mail(to=addresses, account_name=name,
                                          results=by_account[account_id],
                                          from_address=settings.mail_from, now=now,
                                          portal_url=settings.portal.url)
            done.mails.append(write_to_outbox(mail, outbox))
    return done


def _return_files(result: BatchResult, folder: Path, portal_url: str | None = None
                  ) -> list[Path]:
    """The batch's reports (copies: reports/ keeps the operations' own) and its summary (with
    the link to the batch's review page when RMA_PORTAL_URL is set)."""
    written = []
    reports = (result.reports or {}) if result.status == "posted" else {}
    for path in reports.values():
        written.append(Path(shutil.copyfile(path, free_name(folder / Path(path).name))))
    xlsx = reports.get("xlsx")
    # beside its report, or the file's name (cut to fit, rma.adapters.names) and the batch that
    # tells two uploads of one name apart
    name = Path(xlsx).name.removesuffix(".rejections.xlsx") + SUMMARY_SUFFIX if xlsx else \
        bounded_name(Path(result.source).name,
                     f".{result.batch_id or result.status}{SUMMARY_SUFFIX}")
    summary = free_name(folder / name, SUMMARY_SUFFIX)
    summary.write_text(batch_summary_text(result, portal_url), encoding="utf-8")
    written.append(summary)
    return written

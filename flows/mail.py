"""The mail part of the nightly run: a task per waiting e-mail, each message archived or
quarantined once done, then the outbox sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, unmapped
from prefect.artifacts import create_markdown_artifact

from flows.tasks import ingest_mail, send_replies
from rma.adapters.inbox import moves
from rma.adapters.inbox.maildir import WaitingMail
from rma.adapters.reports.runs import mail_summary
from rma.config import Settings
from rma.domain.vocabulary.printable import shown
from rma.domain.vocabulary.results import NotTaken
from rma.service import progress, stopping
from rma.service.mail import MessageOutcome
from rma.service.run import failed_message, message_words


def run_mail(root: Path, url: str, reports: str, today: dt.date,
             waiting: list[WaitingMail], settings: Settings) -> list[MessageOutcome]:
    """A task per message, then the outbox. A run asked to stop takes no more messages and
    leaves the replies in the outbox for the next run."""
    if stopping.requested():
        return []
    outbox = settings.beside_inbox("outbox", root)
    sources = [m.source for m in waiting]
    futures = ingest_mail.map(sources, unmapped(url), unmapped(reports), unmapped(str(outbox)),
                              unmapped(settings))
    taken = [(item, o) for item, o in zip(waiting, _mail_outcomes(list(futures), sources),
                                          strict=True) if o is not None]
    outcomes = [o for _, o in taken]
    for item, outcome in taken:
        try:
            moves.settle_mail(item, outcome.status, outcome.error,
                              settings.beside_inbox("archive", root),
                              settings.beside_inbox("quarantine", root), today)
        except OSError as exc:
            get_run_logger().warning("%s could not be moved: %s", shown(item.source),
                                     shown(exc))
    if stopping.requested():
        return outcomes
    delivery = send_replies(str(outbox), settings.smtp_url)
    if waiting or delivery["sent"] or delivery["failed"] or delivery["refused"]:
        create_markdown_artifact(key="run-inbox-mail", markdown=mail_summary(
            [o.to_json() for o in outcomes], delivery))
    for o in outcomes:
        get_run_logger().info(o.line())
    return outcomes


def _mail_outcomes(futures: list, sources: list[str]) -> list[MessageOutcome | None]:
    """Each message's outcome, None for one not taken (the run was asked to stop)."""
    outcomes: list[MessageOutcome | None] = []  # counted in the run's progress with the files
    for future, source in zip(futures, sources, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, NotTaken):
            outcomes.append(None)
            continue
        if isinstance(outcome, BaseException):
            outcome = failed_message(source, outcome)
        outcomes.append(outcome)
        progress.done(source, message_words(outcome))
    return outcomes

"""The markdown summaries of a run for operations (Prefect artifacts): files, then mail.

Every value that came from a submitter (file names, senders) is escaped for a markdown table
cell (``escape_markdown``): a file called ``a|b.csv`` must not add a column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rma.adapters.reports.escape import escape_markdown as md
from rma.domain.vocabulary.results import BatchResult


def run_summary(results: Sequence[BatchResult]) -> str:
    """The files of a run: counts, then a line per file."""
    posted = [r for r in results if r.status == "posted"]
    lines = [
        "# Claim intake run",
        "",
        f"* files: **{len(results)}**, posted **{len(posted)}**, duplicates "
        f"**{sum(r.status == 'duplicate' for r in results)}**, failed "
        f"**{sum(r.status == 'failed' for r in results)}**",
        f"* claims accepted **{sum(r.claims_accepted for r in posted)}**, rejected "
        f"**{sum(r.claims_rejected for r in posted)}**",
        "",
        "| file | account | status | accepted | rejected | report / error |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        detail = (r.error or {}).get("code", "") if r.status != "posted" else \
            r.reports.get("xlsx", "")
        lines.append(f"| {md(Path(r.source).name)} | {md(r.account_id or '')} | {r.status} | "
                     f"{r.claims_accepted} | {r.claims_rejected} | {md(detail)} |")
    return "\n".join(lines)


def mail_summary(outcomes: Sequence[Mapping[str, Any]], delivery: Mapping[str, Any]) -> str:
    """The mail of a run: ``outcomes`` as their JSON (``MessageOutcome.to_json``), then what
    the outbox sent (``delivery``: sent, failed, waiting_without_smtp, unsure, refused, error)."""
    lines = ["# E-mail intake", "",
             f"* messages: **{len(outcomes)}**; replies sent **{delivery['sent']}**, "
             f"send failures **{len(delivery['failed'])}**, waiting without SMTP "
             f"**{delivery['waiting_without_smtp']}**, interrupted sends moved to "
             f"outbox/unsure/ **{len(delivery['unsure'])}**, refused permanently (moved to "
             f"outbox/refused/) **{len(delivery.get('refused', []))}**"
             + (f"; SMTP: {md(delivery['error'])}" if delivery["error"] else ""), "",
             "| message | sender | account | outcome | batches | reply |",
             "|---|---|---|---|---|---|"]
    for o in outcomes:
        status = o["status"] if not o["error"] else f"{o['status']} ({o['error']['code']})"
        reply = Path(o["reply"]).name if o["reply"] else ""
        lines.append(f"| {md(Path(o['source']).name)} | {md(o['sender'])} | "
                     f"{md(o['account_id'] or '')} | {status} | {len(o['batches'])} | "
                     f"{md(reply)} |")
    return "\n".join(lines)

"""Review links (SPEC §9): with RMA_PORTAL_URL set, the reply to an e-mailed batch and the
reports of a drop-folder batch (its summary in the return folder, the Summary sheet of
rejections.xlsx) carry the link to the batch's review page; without it, none of them does."""

from __future__ import annotations

import email
import json
import mailbox
from email import policy
from pathlib import Path

import openpyxl
import pytest

from tests.factories import valid_claim, write_xlsx
from tests.mailfactory import form_body, mail

pytestmark = pytest.mark.prefect

DIST = "claims@dist.example"   # registered to D-001 in tests/e2e/conftest.py
PORTAL = "https://portal.example/"


def _summary_sheet_values(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [str(v) for row in book["Summary"].iter_rows(values_only=True)
                for v in row if v is not None]
    finally:
        book.close()


@pytest.mark.parametrize("portal", [PORTAL, None], ids=["with-portal-url", "without"])
def test_replies_and_drop_folder_reports_link_to_the_review_page_only_with_a_portal_url(
        cli, workdir, monkeypatch, portal):
    if portal:
        monkeypatch.setenv("RMA_PORTAL_URL", portal)
    else:
        monkeypatch.delenv("RMA_PORTAL_URL", raising=False)
    inbox = workdir / "inbox"
    (inbox / "D-001").mkdir()
    write_xlsx(inbox / "D-001" / "links.xlsx", [
        valid_claim(claim_ref="L-1"), valid_claim(claim_ref="L-2", recipient_email="x(at)y")])
    fields = {k: str(v) for k, v in valid_claim(claim_ref="LM-1").items() if v is not None}
    box = mailbox.Maildir(inbox / "mail", create=True)
    box.add(mailbox.MaildirMessage(mail(sender=DIST, subject="claims", body=form_body(fields))))

    run = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    batches = {b["source"]: b for b in document["batches"]} if "batches" in document else {}
    dropped = next(b for source, b in batches.items() if source.endswith("links.xlsx"))
    mailed = next(b for source, b in batches.items() if not source.endswith("links.xlsx"))

    returns = workdir / "returns" / "D-001"
    [summary] = returns.glob("*.summary.txt")
    [report] = returns.glob("*.rejections.xlsx")
    [reply] = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
               for p in (workdir / "outbox").glob("*.eml")]
    body = reply.get_body(("plain",)).get_content()
    texts = {"summary": summary.read_text(encoding="utf-8"),
             "report": "\n".join(_summary_sheet_values(report)), "reply": body}
    links = {"summary": dropped, "report": dropped, "reply": mailed}
    for where, text in texts.items():
        link = f"https://portal.example/batches/{links[where]['batch_id']}"
        if portal:
            assert link in text, (where, text)
        else:
            assert "/batches/" not in text and "Review" not in text, (where, text)

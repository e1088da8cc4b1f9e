"""A message body over RMA_MAX_BODY_BYTES is not read (issue 12, item 6): the form is a failed
TOO_LARGE batch, nothing is posted, and the registered sender gets a reply that names the size
and the limit and asks for an attached spreadsheet."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from tests.factories import valid_claim, write_xlsx
from tests.hostile.conftest import posted_rows
from tests.hostile.harness import run_hostile
from tests.mailfactory import XLSX_TYPE, form_body, mail

LIMIT = 50_000


def _claim() -> dict[str, str]:
    return {k: str(v) for k, v in valid_claim().items() if v is not None}


def test_a_body_over_the_limit_is_not_read_and_the_sender_is_told_why(hostile):
    body = form_body(_claim()) + "".join(f"SN: SN{i:08d}\n" for i in range(10_000))
    size = len(body.encode())
    assert size > LIMIT
    sheet = write_xlsx(hostile.folder / "claims.xlsx", [valid_claim()]).read_bytes()
    path = hostile.folder / "big.eml"
    path.write_bytes(mail(sender="claims@dist.example", body=body,
                          attachments=[("claims.xlsx", sheet, XLSX_TYPE)]))
    outcome = run_hostile(path, hostile.url, hostile.reports, kind="mail",
                          env={"RMA_MAX_BODY_BYTES": str(LIMIT)})
    assert outcome.error is None, outcome.error
    result = outcome.result
    assert result is not None and result["status"] == "processed", outcome.describe()
    form, attached = result["batches"]
    assert (form["status"], form["error"]["code"]) == ("failed", "TOO_LARGE"), form
    message = form["error"]["message"]
    assert f"{size:,}" in message and f"{LIMIT:,}" in message and "\n" not in message
    assert attached["status"] == "posted" and attached["claims_accepted"] == 1  # still read
    assert posted_rows(hostile.url)["claims"] == 1  # only the attached sheet's claim

    reply = email.message_from_bytes(Path(result["reply"]).read_bytes(), policy=policy.default)
    assert reply["To"] == "claims@dist.example"
    text = " ".join(reply.get_body(("plain",)).get_content().split())
    assert "body is too large" in text and f"{size:,}" in text and f"{LIMIT:,}" in text
    assert "attached spreadsheet" in text


def test_a_body_under_the_limit_is_read(hostile):
    path = hostile.folder / "small.eml"
    path.write_bytes(mail(sender="claims@dist.example", body=form_body(_claim())))
    outcome = run_hostile(path, hostile.url, hostile.reports, kind="mail",
                          env={"RMA_MAX_BODY_BYTES": str(LIMIT)})
    [form] = outcome.result["batches"]
    assert form["status"] == "posted" and form["claims_accepted"] == 1, outcome.describe()
